"""``ScheduleFreeAdamW``: AdamW without a learning-rate schedule (Defazio et al., 2024, "The Road Less
Scheduled")."""

from __future__ import annotations

from .base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW, as Keras 3 defines it.

    The optimizer keeps ``z`` (its "momentum" slot, starting at the weights) and
    a second moment ``v``; the model's weights are ``y``, the interpolation Keras
    evaluates gradients at. At step ``t`` (after an optional linear warm-up of the rate):
    ``v += (g**2 - v) * (1 - beta_2)``; ``z -= lr * g / (sqrt(v / (1 - beta_2**t)) + epsilon)``;
    ``x = (y - (1 - beta_1) * z) / beta_1`` (with ``z`` as it is after its update, as Keras's
    torch backend reads it); ``x = (1 - 1/t) * x + z / t``; ``y = (1 - beta_1) * z + beta_1 * x``.

    Args:
        learning_rate: float, schedule or callable (default 0.0025).
        beta_1: the interpolation between the averaged and the current point (0.9).
        beta_2: the second moment's decay (0.999).
        epsilon: added to the denominator (1e-8).
        warmup_steps: steps over which the rate rises linearly from 0 (0: none).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
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
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        for momentum, var in zip(self._momentums, var_list):
            momentum.data[...] = var.data

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        t = dt(self._local_step())
        lr = dt(learning_rate)
        if self.warmup_steps > 0:
            lr = lr * min(t / dt(self.warmup_steps), dt(1))
        beta_1, beta_2 = dt(self.beta_1), dt(self.beta_2)
        z, v = self._momentums[i].data, self._velocities[i].data
        v += (gradient * gradient - v) * (dt(1) - beta_2)
        denominator = xp.sqrt(v / (dt(1) - beta_2**t)) + dt(self.epsilon)
        z -= lr * gradient / denominator
        weight = dt(1) / t
        x = (variable.data - (dt(1) - beta_1) * z) / beta_1
        x = (dt(1) - weight) * x + weight * z
        variable.data[...] = (dt(1) - beta_1) * z + beta_1 * x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
        )
        return config
