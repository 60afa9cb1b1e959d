"""``RMSprop``: divide the gradient by a running root mean square of its recent values."""

from __future__ import annotations

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

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        rho, one_minus_rho = dt(self.rho), dt(1 - self.rho)
        v = self._velocities[i].data
        tmp = xp.multiply(gradient, gradient, out=self._buffer(variable, 0))
        tmp *= one_minus_rho
        v *= rho
        v += tmp
        denominator = xp.add(v, dt(self.epsilon), out=self._buffer(variable, 1))
        if self.centered:
            a = self._average_gradients[i].data
            a *= rho
            a += xp.multiply(gradient, one_minus_rho, out=tmp)
            denominator -= xp.multiply(a, a, out=tmp)
        xp.sqrt(denominator, out=denominator)
        increment = xp.multiply(gradient, dt(learning_rate), out=tmp)
        increment /= denominator
        w = variable.data
        if self.momentum > 0:
            m = self._momentums[i].data
            m *= dt(self.momentum)
            m += increment
            w -= m
        else:
            w -= increment

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config
