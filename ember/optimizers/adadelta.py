"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from . import kernels
from .base import Optimizer


class Adadelta(Optimizer):
    """Adadelta, as Keras 3 defines it.

    ``Eg = rho * Eg + (1 - rho) * g**2``,
    ``delta = -sqrt(Ed + epsilon) * g / sqrt(Eg + epsilon)``,
    ``Ed = rho * Ed + (1 - rho) * delta**2``, ``w += lr * delta``.

    Args:
        learning_rate: float, schedule or callable (default 0.001; the original
            paper and Keras 2 examples use 1.0).
        rho: decay of the running averages (default 0.95).
        epsilon: added inside the square roots (default 1e-7).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
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
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def _scalars(self, dt, learning_rate):
        return dt(self.rho), dt(1 - self.rho), dt(self.epsilon), dt(learning_rate)

    def update_step(self, grad, variable, learning_rate):
        i = self._get_variable_index(variable)

        def scratch(k):
            return self._buffer(variable, k)

        constants = self._scalars(variable.dtype.type, learning_rate)
        acc_grad, acc_delta = self._accumulated_grads[i].data, self._accumulated_delta_vars[i].data
        kernels.adadelta(variable.data, grad, acc_grad, acc_delta, *constants, scratch)

    def _flat_slot_lists(self):
        return [self._accumulated_grads, self._accumulated_delta_vars]

    def _flat_update_step(self, group, learning_rate):
        constants = self._scalars(group.dtype.type, learning_rate)
        kernels.adadelta(group.w, group.g, group.slots[0], group.slots[1], *constants, group.scratch)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
