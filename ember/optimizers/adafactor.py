"""``Adafactor``: Adam-like steps with a factored second moment (Shazeer & Stern, 2018)."""

from __future__ import annotations

from .base import Optimizer


class Adafactor(Optimizer):
    """Adafactor, as Keras 3 defines it.

    For a variable of rank >= 2 the second moment is kept as row and column
    means of ``g**2 + epsilon_1`` (``r``: the variable's shape without its last
    axis, ``c``: without its second-to-last) and rebuilt as
    ``v = (r / mean(r)) outer c``; a vector keeps a full ``v``. With decay
    ``beta_2_t = 1 - t**beta_2_decay``, the step is
    ``u = g / sqrt(v)``, clipped to RMS ``clip_threshold``, times
    ``max(epsilon_2, rms(w)) * min(lr, 1 / sqrt(t))``.

    Args:
        learning_rate: float, schedule or callable (default 0.001); with
            ``relative_step`` (default) a float rate is also capped at ``1 / sqrt(t)``.
        beta_2_decay: the exponent of the second moment's decay (-0.8).
        epsilon_1: added to the squared gradients (1e-30).
        epsilon_2: the smallest RMS of a variable the step scales by (1e-3).
        clip_threshold: the largest RMS of a step before scaling (1.0).
        relative_step: cap the learning rate at ``1 / sqrt(t)``.
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
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
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # per variable, as Keras (and its saved files): r, c, v; a vector's r and c are unused int32 scalars
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            name = getattr(var, "name", "variable")
            if len(var.shape) < 2:
                self._r.append(self.add_variable((), dtype="int32", name=name))
                self._c.append(self.add_variable((), dtype="int32", name=name))
            else:
                self._r.append(self.add_variable(var.shape[:-1], dtype=var.dtype, name=name))
                self._c.append(self.add_variable((*var.shape[:-2], var.shape[-1]), dtype=var.dtype, name=name))
            self._v.append(self.add_variable_from_reference(var, name="velocity"))

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        t = dt(self._local_step())
        lr = dt(learning_rate)
        if self.relative_step and not callable(self._learning_rate):
            lr = min(lr, dt(1) / xp.sqrt(t))
        rho = min(lr, dt(1) / xp.sqrt(t))
        alpha = max(dt(self.epsilon_2), xp.sqrt(xp.mean(variable.data * variable.data))) * rho
        g2 = gradient * gradient + dt(self.epsilon_1)
        beta_2_t = dt(1) - t ** dt(self.beta_2_decay)
        v = self._v[i].data
        if variable.ndim >= 2:
            r, c = self._r[i].data, self._c[i].data
            r[...] = beta_2_t * r + (dt(1) - beta_2_t) * g2.mean(axis=-1)
            c[...] = beta_2_t * c + (dt(1) - beta_2_t) * g2.mean(axis=-2)
            v[...] = xp.expand_dims(r / r.mean(axis=-1, keepdims=True), -1) * xp.expand_dims(c, -2)
        else:
            v[...] = beta_2_t * v + (dt(1) - beta_2_t) * g2
        u = gradient / xp.sqrt(v)
        u = u / max(dt(1), xp.sqrt(xp.mean(u * u)) / dt(self.clip_threshold))
        variable.data -= (alpha * u).astype(variable.dtype, copy=False)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config
