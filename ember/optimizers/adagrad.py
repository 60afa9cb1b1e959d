"""``Adagrad``: per-coordinate rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from .base import Optimizer


class Adagrad(Optimizer):
    """Adagrad, as Keras 3 defines it.

    ``acc += g**2`` (``acc`` starts at ``initial_accumulator_value``),
    ``w -= lr * g / sqrt(acc + epsilon)``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        initial_accumulator_value: the accumulators' starting value (default 0.1).
        epsilon: added inside the square root (default 1e-7).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        acc = self._accumulators[self._get_variable_index(variable)].data
        tmp = xp.multiply(gradient, gradient, out=self._buffer(variable, 0))
        acc += tmp
        denominator = xp.add(acc, dt(self.epsilon), out=self._buffer(variable, 1))
        xp.sqrt(denominator, out=denominator)
        step = xp.multiply(gradient, dt(learning_rate), out=tmp)
        step /= denominator
        variable.data -= step

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config
