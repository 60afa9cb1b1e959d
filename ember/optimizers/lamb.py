"""``Lamb``: Adam's step rescaled per variable by a trust ratio (You et al., 2019, "Large Batch
Optimization for Deep Learning")."""

from __future__ import annotations

from .base import Optimizer


class Lamb(Optimizer):
    """LAMB, as Keras 3 defines it.

    At step ``t``: Adam's moments ``m``, ``v`` and bias-corrected step
    ``u = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)``; then
    ``w -= lr * r * u`` with the trust ratio ``r = ||w|| / ||u||`` (1 when either norm is 0).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: the moments' decays (0.9, 0.999).
        epsilon: added to the denominator (1e-7).
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
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        t = dt(self._local_step())
        m, v = self._momentums[i].data, self._velocities[i].data
        m += (gradient - m) * dt(1 - self.beta_1)
        v += (gradient * gradient - v) * dt(1 - self.beta_2)
        m_hat = m / (dt(1) - dt(self.beta_1) ** t)
        update = m_hat / (xp.sqrt(v / (dt(1) - dt(self.beta_2) ** t)) + dt(self.epsilon))
        w_norm = xp.sqrt((variable.data * variable.data).sum())
        u_norm = xp.sqrt((update * update).sum())
        ratio = (w_norm / u_norm).astype(variable.dtype) if (w_norm > 0 and u_norm > 0) else dt(1)
        variable.data -= ratio * dt(learning_rate) * update

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
