"""``Ftrl``: follow the regularized leader (McMahan et al.), with L1/L2 and shrinkage."""

from __future__ import annotations

from .base import Optimizer


class Ftrl(Optimizer):
    """FTRL-proximal, as Keras 3 defines it.

    With ``p = -learning_rate_power`` and ``l2 = l2_regularization_strength + beta / (2 * lr)``:
    ``g' = g + 2 * l2_shrinkage_regularization_strength * w``,
    ``n' = n + g**2``, ``z += g' - (n'**p - n**p) / lr * w``,
    ``w = (clip(z, -l1, l1) - z) / (n'**p / lr + 2 * l2)``, ``n = n'``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: <= 0 (default -0.5).
        initial_accumulator_value: >= 0, the accumulators' start (default 0.1).
        l1_regularization_strength: >= 0 (default 0.0).
        l2_regularization_strength: >= 0 (default 0.0).
        l2_shrinkage_regularization_strength: >= 0, an L2 penalty on the
            gradient side (magnitude penalty) (default 0.0).
        beta: the "beta" of the FTRL paper (default 0.0).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
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
        checks = {
            "initial_accumulator_value": (initial_accumulator_value, "positive or zero"),
            "l1_regularization_strength": (l1_regularization_strength, "positive or zero"),
            "l2_regularization_strength": (l2_regularization_strength, "positive or zero"),
            "l2_shrinkage_regularization_strength": (l2_shrinkage_regularization_strength, "positive or zero"),
        }
        for arg, (value, want) in checks.items():
            if value < 0.0:
                raise ValueError(f"Ftrl: `{arg}` needs to be {want}. Received: {arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError(
                f"Ftrl: `learning_rate_power` needs to be negative or zero. "
                f"Received: learning_rate_power={learning_rate_power}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"], initializer=[float(self.initial_accumulator_value), "zeros"]
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        lr = dt(learning_rate)
        power = dt(-self.learning_rate_power)
        l1 = dt(self.l1_regularization_strength)
        l2 = dt(self.l2_regularization_strength) + dt(self.beta) / (dt(2.0) * lr)
        accum = self._accumulators[i].data
        linear = self._linears[i].data
        w = variable.data

        new_accum = xp.multiply(gradient, gradient, out=self._buffer(variable, 0))
        new_accum += accum
        powered_new = xp.power(new_accum, power, out=self._buffer(variable, 1))
        tmp = xp.power(accum, power, out=self._buffer(variable, 2))
        xp.subtract(powered_new, tmp, out=tmp)
        tmp /= lr
        tmp *= w
        shrinkage = dt(2 * self.l2_shrinkage_regularization_strength)
        linear += xp.subtract(gradient + shrinkage * w, tmp, out=tmp)

        quadratic = powered_new
        quadratic /= lr
        quadratic += dt(2) * l2
        xp.clip(linear, -l1, l1, out=tmp)
        tmp -= linear
        xp.divide(tmp, quadratic, out=w)
        accum[...] = new_accum

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config
