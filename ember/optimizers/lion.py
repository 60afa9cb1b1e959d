"""``Lion``: the sign of an interpolated momentum as the step (Chen et al., 2023, "Symbolic Discovery of
Optimization Algorithms")."""

from __future__ import annotations

from .base import Optimizer


class Lion(Optimizer):
    """Lion, as Keras 3 defines it.

    At each step: ``w -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``. Use a learning rate 3-10x smaller
    than AdamW's (the sign makes every step's size ``lr``).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: the interpolation of the step's direction (in (0, 1], default 0.9).
        beta_2: the decay of the momentum (default 0.99).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to SignSGD. "
                f"Received: beta_1={beta_1}."
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        m = self._momentums[self._get_variable_index(variable)].data
        direction = m * dt(self.beta_1) + gradient * dt(1.0 - self.beta_1)
        variable.data -= dt(learning_rate) * xp.sign(direction)
        m *= dt(self.beta_2)
        m += gradient * dt(1.0 - self.beta_2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
