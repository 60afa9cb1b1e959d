"""``ember.export`` (Keras's ``keras.export``): TensorFlow SavedModel export has no meaning on Ember.

Keras's ``ExportArchive`` writes a TensorFlow SavedModel (or a JAX-traced one
through TensorFlow). Ember exports a model to ONNX instead
(``ember.onnx.export(model, path)``) and saves it as ``.keras``
(``model.save(path)``); ``ember.serving`` serves a saved model over HTTP.
"""

from __future__ import annotations

__all__ = ["ExportArchive"]


class ExportArchive:
    """Keras's TensorFlow SavedModel builder; on Ember constructing one raises NotImplementedError."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "ExportArchive writes a TensorFlow SavedModel, which needs TensorFlow; Ember exports to ONNX with "
            "ember.onnx.export(model, 'model.onnx') and saves with model.save('model.keras')"
        )
