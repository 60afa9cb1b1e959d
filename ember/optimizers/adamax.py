"""``Adamax``: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from .base import Optimizer


class Adamax(Optimizer):
    """Adamax, as Keras 3 defines it.

    At step ``t``: ``m = beta_1 * m + (1 - beta_1) * g``, ``u = max(beta_2 * u, |g|)``,
    ``w -= lr * m / ((1 - beta_1**t) * (u + epsilon))``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the infinity norm (default 0.999).
        epsilon: added to the denominator (default 1e-7).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        beta_1_power = dt(self.beta_1) ** dt(self._local_step())
        m = self._m[i].data
        u = self._u[i].data
        tmp = self._buffer(variable, 0)
        m *= dt(self.beta_1)
        m += xp.multiply(gradient, dt(1 - self.beta_1), out=tmp)
        u *= dt(self.beta_2)
        xp.maximum(u, xp.abs(gradient, out=tmp), out=u)
        denominator = xp.add(u, dt(self.epsilon), out=self._buffer(variable, 1))
        denominator *= dt(1) - beta_1_power
        step = xp.multiply(m, dt(learning_rate), out=tmp)
        step /= denominator
        variable.data -= step

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
