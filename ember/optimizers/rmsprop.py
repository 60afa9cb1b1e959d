"""``RMSprop``: divide the gradient by a running root mean square of its recent values."""

from __future__ import annotations

from . import kernels
from .base import Optimizer


class RMSprop(Optimizer):
    """RMSprop, as Keras 3 defines it.

    ``v = rho * v + (1 - rho) * g**2``; with ``centered`` also
    ``a = rho * a + (1 - rho) * g`` and the denominator uses ``v - a**2``;
    ``inc = lr * g / sqrt(v [- a**2] + epsilon)``; with momentum
    ``m = momentum * m + inc`` and ``w -= m``, else ``w -= inc``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay of the squared-gradient average (default 0.9).
        momentum: momentum (default 0.0).
        epsilon: added inside the square root (default 1e-7).
        centered: normalise by the variance instead of the second moment (default False).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def _scalars(self, dt, learning_rate):
        momentum = dt(self.momentum) if self.momentum > 0 else dt(0)
        return dt(self.rho), dt(1 - self.rho), dt(self.epsilon), dt(learning_rate), momentum

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        a = self._average_gradients[i].data if self.centered else None
        m = self._momentums[i].data if self.momentum > 0 else None

        def scratch(k):
            return self._buffer(variable, k)

        constants = self._scalars(variable.dtype.type, learning_rate)
        kernels.rmsprop(variable.data, gradient, self._velocities[i].data, a, m, *constants, scratch)

    def _flat_slot_lists(self):
        return (
            [self._velocities]
            + ([self._average_gradients] if self.centered else [])
            + ([self._momentums] if self.momentum > 0 else [])
        )

    def _flat_update_step(self, group, learning_rate):
        slots = iter(group.slots)
        v = next(slots)
        a = next(slots) if self.centered else None
        m = next(slots) if self.momentum > 0 else None
        constants = self._scalars(group.dtype.type, learning_rate)
        kernels.rmsprop(group.w, group.g, v, a, m, *constants, group.scratch)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config
