"""``Nadam``: Adam with Nesterov momentum (Dozat's momentum schedule)."""

from __future__ import annotations

from .base import Optimizer, _host_variable


class Nadam(Optimizer):
    """Nadam, as Keras 3 defines it.

    At step ``t``: ``mu_t = beta_1 * (1 - 0.5 * 0.96**t)``, the running product
    ``prod_t = prod_{t-1} * mu_t`` (a state Variable), ``m`` and ``v`` as in Adam,
    ``m_hat = mu_{t+1} * m / (1 - prod_t * mu_{t+1}) + (1 - mu_t) * g / (1 - prod_t)``,
    ``v_hat = v / (1 - beta_2**t)``, ``w -= lr * m_hat / (sqrt(v_hat) + epsilon)``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the second moment (default 0.999).
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
        var_list = list(var_list)
        dtype = var_list[0].dtype if var_list else "float32"
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        self._u_product = _host_variable(1.0, dtype, "u_product", f"{self.name}/u_product")
        self._track(self._u_product)

    def _mu(self, dt, step):
        return dt(self.beta_1) * (dt(1) - dt(0.5) * dt(0.96) ** dt(step))

    def _update_step_begin(self, variables, learning_rate):
        # One product update per optimizer step, shared by every variable.
        dt = self._u_product.dtype.type
        step = self._local_step()
        self._u_t = self._mu(dt, step)
        self._u_t_1 = self._mu(dt, step + 1)
        self._u_product.data[...] = self._u_product.data * self._u_t
        self._beta_2_power = dt(self.beta_2) ** dt(step)

    def update_step(self, gradient, variable, learning_rate):
        xp = variable.device.xp
        dt = variable.dtype.type
        i = self._get_variable_index(variable)
        one = dt(1)
        u_t, u_t_1 = dt(self._u_t), dt(self._u_t_1)
        u_product_t = dt(self._u_product.data)
        u_product_t_1 = u_product_t * u_t_1

        m = self._momentums[i].data
        v = self._velocities[i].data
        tmp = self._buffer(variable, 0)
        m *= dt(self.beta_1)
        m += xp.multiply(gradient, dt(1 - self.beta_1), out=tmp)
        v *= dt(self.beta_2)
        xp.multiply(gradient, gradient, out=tmp)
        tmp *= dt(1 - self.beta_2)
        v += tmp

        m_hat = xp.multiply(m, u_t_1, out=self._buffer(variable, 1))
        m_hat /= one - u_product_t_1
        xp.multiply(gradient, one - u_t, out=tmp)
        tmp /= one - u_product_t
        m_hat += tmp
        denominator = xp.divide(v, one - dt(self._beta_2_power), out=tmp)
        xp.sqrt(denominator, out=denominator)
        denominator += dt(self.epsilon)
        m_hat *= dt(learning_rate)
        m_hat /= denominator
        variable.data -= m_hat

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
