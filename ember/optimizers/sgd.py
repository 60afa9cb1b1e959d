"""``SGD``: gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from ..engine.sparse_grad import RowSparseGrad
from . import kernels
from .base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, as Keras 3 defines it.

    Without momentum: ``w -= lr * g``. With momentum:
    ``m = momentum * m - lr * g``, then ``w += m``, or with ``nesterov``
    ``w += momentum * m - lr * g``.

    Plain SGD (``momentum=0``) updates only the touched rows of a variable when
    its gradient is a ``RowSparseGrad`` (an embedding's); the result equals the
    dense update exactly.

    Args:
        learning_rate: float, schedule or callable (default 0.01).
        momentum: float in [0, 1] (default 0.0).
        nesterov: use Nesterov momentum (default False).
        **kwargs: the base options (``weight_decay``, ``clipnorm``, ``clipvalue``,
            ``global_clipnorm``, ``use_ema``, ``name``, ...); see :class:`Optimizer`.
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        if isinstance(momentum, int) and not isinstance(momentum, bool):
            momentum = float(momentum)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError(f"SGD: `momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def _wants_sparse(self, variable) -> bool:
        return self.momentum == 0

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        lr = dt(learning_rate)
        w = variable.data
        if isinstance(gradient, RowSparseGrad):
            rows = gradient.coalesce()  # each row once, so the scatter equals the dense update
            w[rows.indices] -= rows.values * lr
            return
        m = self.momentums[self._get_variable_index(variable)].data if self.momentum != 0 else None

        def scratch(k):
            return self._buffer(variable, k)

        kernels.sgd(w, gradient, m, self.nesterov, lr, dt(self.momentum), scratch)

    def _flat_slot_lists(self):
        return [self.momentums] if self.momentum != 0 else []

    def _flat_update_step(self, group, learning_rate):
        dt = group.dtype.type
        m = group.slots[0] if self.momentum != 0 else None
        kernels.sgd(group.w, group.g, m, self.nesterov, dt(learning_rate), dt(self.momentum), group.scratch)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
