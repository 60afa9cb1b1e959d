"""``OrbaxCheckpoint``: Keras's checkpoints through Orbax (a JAX library); not available in Ember."""

from __future__ import annotations

from .callback import Callback


class OrbaxCheckpoint(Callback):
    """Keras saves checkpoints with Google's Orbax library (JAX); Ember does not.

    Creating one raises NotImplementedError: use ``ModelCheckpoint`` (``.keras``
    or ``.weights.h5`` files) or ``BackupAndRestore`` (resumable training).
    """

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "OrbaxCheckpoint writes checkpoints with Orbax, a JAX library Ember does not use; use "
            "ember.callbacks.ModelCheckpoint (.keras / .weights.h5) or BackupAndRestore (resume training) instead"
        )
