"""``Muon``: momentum orthogonalised by Newton-Schulz iterations for 2-D weights, AdamW for the rest
(Jordan et al., 2024)."""

from __future__ import annotations

import re

import numpy

from ..backend.device import xp_of
from .base import Optimizer


class Muon(Optimizer):
    """Muon, as Keras 3 defines it.

    A 2-D weight (not an embedding unless ``exclude_embeddings=False``, not
    matching ``exclude_layers``) gets ``m += g + (momentum - 1) * m``; the step
    direction ``g + momentum * m`` (Nesterov) or ``m`` is orthogonalised by
    ``ns_steps`` quintic Newton-Schulz iterations (coefficients ``muon_a/b/c``) and
    scaled by ``lr * sqrt(max(rows, cols)) * rms_rate``. Every other weight gets
    AdamW at ``lr * adam_lr_ratio``. Decoupled weight decay: ``weight_decay`` for
    the Muon weights, ``adam_weight_decay`` for the others.

    Args: as Keras's ``keras.optimizers.Muon`` (same names and defaults).
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.775,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
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
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable) -> bool:
        if len(variable.shape) != 2:
            return True
        path = str(getattr(variable, "path", "") or getattr(variable, "name", ""))
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums, self.adam_velocities = [], []
        for var in var_list:
            self.momentums.append(self.add_variable_from_reference(var, name="momentum"))
            adam = self._should_use_adamw(var)
            self.adam_velocities.append(self.add_variable_from_reference(var, name="velocity") if adam else None)

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self.momentums[i].data, self.adam_velocities[i]
        if v is not None:
            self._adamw_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v.data)
        else:
            self._muon_step(gradient, variable, learning_rate, m)

    def _muon_step(self, gradient, variable, lr, m):
        dt = variable.dtype.type
        m += gradient + m * dt(self.momentum - 1)
        direction = gradient + dt(self.momentum) * m if self.nesterov else m
        update = self._orthogonalize(direction, self.ns_steps) * dt(lr)
        if self.rms_rate is not None:
            update = update * dt(numpy.sqrt(max(update.shape[0], update.shape[1])) * self.rms_rate)
        variable.data -= update.astype(variable.dtype, copy=False)

    def _adamw_step(self, gradient, variable, lr, m, v):
        xp = variable.device.xp
        dt = variable.dtype.type
        t = dt(self._local_step())
        alpha = dt(lr) * xp.sqrt(dt(1) - dt(self.adam_beta_2) ** t) / (dt(1) - dt(self.adam_beta_1) ** t)
        m += (gradient - m) * dt(1 - self.adam_beta_1)
        v += (gradient * gradient - v) * dt(1 - self.adam_beta_2)
        variable.data -= m * alpha / (xp.sqrt(v) + dt(self.epsilon))

    def _orthogonalize(self, x, steps):
        """The quintic Newton-Schulz iteration towards the nearest semi-orthogonal matrix (Keras's coefficients)."""
        xp = xp_of(x)
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = xp.swapaxes(x, -1, -2)
        x = x / (xp.sqrt((x * x).sum(axis=(-2, -1), keepdims=True)) + x.dtype.type(1e-7))
        for _ in range(steps):
            gram = x @ xp.swapaxes(x, -1, -2)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return xp.swapaxes(x, -1, -2) if tall else x

    def _apply_weight_decay(self, variables, learning_rate) -> None:
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(variable) else self.weight_decay
            if decay is None:
                continue
            dt = variable.dtype.type
            variable.data -= variable.data * dt(decay) * dt(learning_rate)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a,
                "muon_b": self.muon_b,
                "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum,
                "ns_steps": self.ns_steps,
                "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate,
            }
        )
        return config
