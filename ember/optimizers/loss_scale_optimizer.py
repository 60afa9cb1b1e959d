"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer (Keras 3's mixed-precision helper).

``compile()`` wraps the optimizer in one under a ``mixed_float16`` policy (``auto_scale_loss=True``), and the
training step multiplies the loss by ``optimizer.scale_loss`` before ``backward()`` (docs/mixed_precision.md).
"""

from __future__ import annotations

import numpy

from ..backend.device import device_of_array
from ..engine.sparse_grad import RowSparseGrad
from ..engine.tensor import Tensor
from .base import Optimizer

_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling, as ``keras.optimizers.LossScaleOptimizer``.

    ``scale_loss(loss)`` multiplies the loss by ``dynamic_scale`` (``fit``'s
    step does this before ``backward()``, as Keras's does). ``apply(grads)``: if
    any gradient is not finite, the step is skipped (the variables and the inner
    optimizer's state and iterations are left alone), the scale halves and the
    count of good steps restarts; otherwise the gradients are divided by
    ``dynamic_scale`` and the inner optimizer updates the variables, and after
    ``dynamic_growth_steps`` finite steps in a row the scale doubles. As in
    Keras, ``apply`` divides by the scale whether or not the loss went through
    ``scale_loss``: a custom loop calls ``scale_loss`` itself.

    Args:
        inner_optimizer: the optimizer that updates the variables.
        initial_scale: the first scale (2**15).
        dynamic_growth_steps: finite steps before the scale doubles (2000).
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set `loss_scale_factor` "
                "directly on the `inner_optimizer`."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                f"LossScaleOptimizer: `inner_optimizer` must be an Optimizer, got {type(inner_optimizer).__name__}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        if self.built:
            return
        self.step_counter = self.add_variable((), dtype="int32", name="step_counter")
        self.dynamic_scale = self.add_variable(
            (), dtype="float32", initializer=self.initial_scale, name="dynamic_scale"
        )
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self) -> list:
        return self._variables[:] + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """``loss * dynamic_scale`` (the initial scale before the first ``apply``).

        The scale is a float32 tensor, so a float16 loss is scaled in float32 as Keras's float32 scale
        variable makes it; the gradient that reaches the float16 loss is the scale in float16.
        """
        if isinstance(loss, Tensor):
            return loss * Tensor._wrap(loss.device.xp.asarray(self._scale(), dtype="float32"))
        return loss * self._scale()

    def _scale(self) -> float:
        return float(self.dynamic_scale.data.item()) if self.built else float(self.initial_scale)

    @staticmethod
    def check_finite(grads) -> bool:
        """Whether every entry of every gradient is finite."""
        for g in grads:
            if g is None:
                continue
            a = g.values if isinstance(g, RowSparseGrad) else (g.data if isinstance(g, Tensor) else g)
            if not bool(device_of_array(a).xp.isfinite(a).all()):
                return False
        return True

    def apply(self, grads, trainable_variables=None) -> None:
        grads = list(grads)
        if not self.built:
            self.build(trainable_variables if trainable_variables is not None else [])
        if not self.check_finite(grads):
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] *= 0.5
            return
        scale = self._scale()
        grads = [None if g is None else _divided(g, scale) for g in grads]
        self.inner_optimizer.apply(grads, trainable_variables)
        if self.step_counter.data.item() == self.dynamic_growth_steps - 1:
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] *= 2.0
        else:
            self.step_counter.data[...] += 1

    def finalize_variable_values(self, var_list) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        from .serialization import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .serialization import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)


def _divided(grad, scale):
    """``grad / scale`` in the gradient's dtype; a half-precision gradient is divided in float32 (2**16 is inf in
    float16)."""
    if isinstance(grad, RowSparseGrad):
        return RowSparseGrad(grad.indices, _divided_array(grad.values, scale), grad.shape)
    if isinstance(grad, Tensor):
        return Tensor._wrap(_divided_array(grad.data, scale))
    return grad / scale


def _divided_array(a, scale):
    if a.dtype.itemsize < 4:
        return (a.astype("float32") / numpy.float32(scale)).astype(a.dtype)
    return a / a.dtype.type(scale)
