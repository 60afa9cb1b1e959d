"""``SwapEMAWeights``: evaluate and predict with the optimizer's moving averages of the weights."""

from __future__ import annotations

from .callback import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's exponential moving averages (``use_ema=True``).

    During ``evaluate`` and ``predict`` (and the validation inside ``fit``) the
    model runs with the averages and gets its own weights back afterwards. With
    ``swap_on_epoch=True`` the averages are swapped in at the end of each epoch
    (so callbacks such as ModelCheckpoint see them) and out at the start of the
    next; after the last epoch the model keeps them.

    (Keras 3.15's ``on_predict_end`` never swaps back; Ember restores the
    trained weights after ``predict`` as it does after ``evaluate``.)

    Args:
        swap_on_epoch: also swap at epoch boundaries.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizers(self):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:
            chosen = [opt for opt in inner if getattr(opt, "use_ema", False)]
            if not chosen:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has `use_ema=True` set. "
                    "Received a MultiOptimizer with all inner optimizers having `use_ema=False`."
                )
            return chosen
        if not getattr(optimizer, "use_ema", False) or not hasattr(optimizer, "_model_variables_moving_average"):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer (and it has been built). "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        return [optimizer]

    def _swap_variables(self):
        for optimizer in self._optimizers():
            for var, average in zip(optimizer._trainable_variables, optimizer._model_variables_moving_average):
                held = var.data.copy()
                var.data[...] = average.data
                average.data[...] = held

    def _finalize_ema_values(self):
        for optimizer in self._optimizers():
            for var, average in zip(optimizer._trainable_variables, optimizer._model_variables_moving_average):
                average.data[...] = var.data

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end
