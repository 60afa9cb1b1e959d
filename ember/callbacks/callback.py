"""``Callback``: the base class for hooks into ``fit``, ``evaluate`` and ``predict``.

A callback is handed the model and the run's parameters, then the trainer calls
its ``on_*`` hooks at fixed points of the loop. Every hook does nothing by
default; subclasses override the ones they need. Hook names, arguments and
attributes are Keras 3's, so a callback written for Keras runs unchanged.
"""

from __future__ import annotations


def _default(method):
    """Mark a hook as the do-nothing default (so a dispatcher can tell it was not overridden)."""
    method._is_default = True
    return method


def is_default(method) -> bool:
    """Whether ``method`` is a base-class hook that was not overridden."""
    return getattr(method, "_is_default", False)


class Callback:
    """Base class for objects that act at the stages of training, evaluation and prediction.

    Subclass it and override the hooks you need; pass instances to
    ``model.fit(callbacks=[...])``, ``evaluate`` or ``predict``. In a hand-written
    loop, wrap them in a :class:`~ember.callbacks.CallbackList` and call its hooks.

    Attributes:
        params: dict of the run's parameters, set by the trainer through
            :meth:`set_params`: ``{'verbose': int, 'epochs': int, 'steps': int or None}``.
        model: the model being trained, set through :meth:`set_model`.

    Every ``logs`` argument is a dict of Python floats keyed by metric name
    (``'loss'``, ``'accuracy'``, and ``'val_'``-prefixed names at epoch end when
    there is validation data), or ``None``.

    Example:
        >>> class Stopper(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if logs["loss"] < 0.1:
        ...             self.model.stop_training = True
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        """Store the run's parameters (a dict) as ``self.params``."""
        self.params = params

    def set_model(self, model):
        """Store the model this callback acts on (read back as ``self.model``)."""
        self._model = model

    @property
    def model(self):
        """The model set by :meth:`set_model` (``None`` before)."""
        return self._model

    # Legacy aliases (Keras 2 names) -------------------------------------------------

    @_default
    def on_batch_begin(self, batch, logs=None):
        """Legacy name of :meth:`on_train_batch_begin`, which calls it by default."""

    @_default
    def on_batch_end(self, batch, logs=None):
        """Legacy name of :meth:`on_train_batch_end`, which calls it by default."""

    # Epochs (training only) ---------------------------------------------------------

    @_default
    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of ``fit``.

        Args:
            epoch: int, the epoch's index (0-based).
            logs: dict, currently empty.
        """

    @_default
    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of ``fit``.

        Args:
            epoch: int, the epoch's index (0-based).
            logs: dict of the epoch's metrics, e.g. ``{'loss': 0.2, 'accuracy': 0.9,
                'val_loss': 0.3, 'val_accuracy': 0.88}``. Callbacks may add keys
                (``'learning_rate'``) that callbacks later in the list then see.
        """

    # Batches ------------------------------------------------------------------------

    @_default
    def on_train_batch_begin(self, batch, logs=None):
        """Called before a training batch of ``fit``; calls :meth:`on_batch_begin` by default.

        Args:
            batch: int, the batch's index within the epoch.
            logs: dict, currently empty.
        """
        self.on_batch_begin(batch, logs=logs)

    @_default
    def on_train_batch_end(self, batch, logs=None):
        """Called after a training batch of ``fit``; calls :meth:`on_batch_end` by default.

        Args:
            batch: int, the batch's index within the epoch.
            logs: dict of the metrics aggregated over the epoch so far.
        """
        self.on_batch_end(batch, logs=logs)

    @_default
    def on_test_batch_begin(self, batch, logs=None):
        """Called before a batch of ``evaluate`` (and of validation inside ``fit``).

        Args:
            batch: int, the batch's index.
            logs: dict, currently empty.
        """

    @_default
    def on_test_batch_end(self, batch, logs=None):
        """Called after a batch of ``evaluate`` (and of validation inside ``fit``).

        Args:
            batch: int, the batch's index.
            logs: dict of the metrics aggregated so far.
        """

    @_default
    def on_predict_batch_begin(self, batch, logs=None):
        """Called before a batch of ``predict``.

        Args:
            batch: int, the batch's index.
            logs: dict, currently empty.
        """

    @_default
    def on_predict_batch_end(self, batch, logs=None):
        """Called after a batch of ``predict``.

        Args:
            batch: int, the batch's index.
            logs: dict, may hold the batch's ``'outputs'``.
        """

    # Whole runs ---------------------------------------------------------------------

    @_default
    def on_train_begin(self, logs=None):
        """Called once at the start of ``fit``.

        Args:
            logs: dict, currently empty.
        """

    @_default
    def on_train_end(self, logs=None):
        """Called once at the end of ``fit``.

        Args:
            logs: dict, the logs of the last epoch.
        """

    @_default
    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` (and of each validation run inside ``fit``).

        Args:
            logs: dict, currently empty.
        """

    @_default
    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` (and of each validation run inside ``fit``).

        Args:
            logs: dict of the evaluation's metrics.
        """

    @_default
    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``.

        Args:
            logs: dict, currently empty.
        """

    @_default
    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``.

        Args:
            logs: dict, currently empty.
        """
