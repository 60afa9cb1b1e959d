"""``Adam``: adaptive moment estimation (with optional AMSGrad)."""

from __future__ import annotations

import numpy  # host-side scalar bias corrections

from ..engine.sparse_grad import RowSparseGrad
from . import kernels
from .base import Optimizer


class Adam(Optimizer):
    """Adam, as Keras 3 defines it (epsilon outside the square root, "epsilon hat").

    At step ``t`` (1-based): ``m = beta_1 * m + (1 - beta_1) * g``,
    ``v = beta_2 * v + (1 - beta_2) * g**2`` (with ``amsgrad``, ``v_hat = max(v_hat, v)``
    is used instead of ``v``), ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
    ``w -= alpha * m / (sqrt(v) + epsilon)``.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay of the first moment (default 0.9).
        beta_2: decay of the second moment (default 0.999).
        epsilon: added to the denominator (default 1e-7).
        amsgrad: use the running maximum of the second moment (default False).
        **kwargs: the base options; see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def _update_step_begin(self, variables, learning_rate):
        self._constants = {}

    def _step_constants(self, dt, learning_rate):
        """This step's scalars in the variable's dtype (computed once per step and dtype)."""
        constants = self._constants.get(dt)
        if constants is None:
            t = dt(self._local_step())
            one = dt(1)
            alpha = dt(learning_rate) * numpy.sqrt(one - dt(self.beta_2) ** t) / (one - dt(self.beta_1) ** t)
            constants = self._constants[dt] = (
                alpha,
                dt(self.beta_1),
                dt(1 - self.beta_1),
                dt(self.beta_2),
                dt(1 - self.beta_2),
                dt(self.epsilon),
            )
        return constants

    def _wants_sparse(self, variable) -> bool:
        # An embedding's row-sparse gradient: the moments still decay everywhere (as with the dense gradient,
        # whose other rows are zeros), but the gradient terms touch only the rows the batch looked up.
        return True

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        constants = self._step_constants(variable.dtype.type, learning_rate)
        m = self._momentums[i].data
        v = self._velocities[i].data
        v_hat = self._velocity_hats[i].data if self.amsgrad else None

        def scratch(k):
            return self._buffer(variable, k)

        if isinstance(gradient, RowSparseGrad):
            # repeats summed in the order the dense gradient sums them; adding the zero rows is exact, so skip it
            lazy = gradient.coalesce_lazily()  # each part of the update sums its own rows (counting, no sort)
            if lazy is not None:
                rows, values, position, fill = lazy
                kernels.adam_rows(variable.data, m, v, v_hat, rows, values, constants, scratch, position, fill)
                return
            gradient = gradient.coalesce()
            kernels.adam_rows(variable.data, m, v, v_hat, gradient.indices, gradient.values, constants, scratch)
        else:
            kernels.adam(variable.data, gradient, m, v, v_hat, constants, scratch)

    def _flat_slot_lists(self):
        return [self._momentums, self._velocities] + ([self._velocity_hats] if self.amsgrad else [])

    def _flat_update_step(self, group, learning_rate):
        constants = self._step_constants(group.dtype.type, learning_rate)
        v_hat = group.slots[2] if self.amsgrad else None
        kernels.adam(group.w, group.g, group.slots[0], group.slots[1], v_hat, constants, group.scratch)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config
