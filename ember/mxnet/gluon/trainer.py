"""``gluon.Trainer``: applies an MXNet optimizer to a set of Parameters after each backward."""

from __future__ import annotations

from .. import optimizer as opt
from .parameter import Parameter, ParameterDict


class Trainer:
    """``Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})``; ``step(batch_size)`` scales the
    gradients by ``1 / batch_size`` (MXNet's ``rescale_grad``) and updates every parameter with a gradient."""

    def __init__(
        self,
        params,
        optimizer,
        optimizer_params=None,
        kvstore="device",
        compression_params=None,
        update_on_kvstore=None,
    ):
        if isinstance(params, (dict, ParameterDict)):
            params = list(params.values())
        if not isinstance(params, (list, tuple)) or not all(isinstance(p, Parameter) for p in params):
            raise TypeError("Trainer: params must be a ParameterDict (net.collect_params()) or a list of Parameters")
        self._params = [p for p in params]
        optimizer_params = dict(optimizer_params or {})
        self._scale = float(optimizer_params.get("rescale_grad", 1.0))
        self._optimizer = opt.create(optimizer, **optimizer_params)

    @property
    def optimizer(self):
        return self._optimizer

    @property
    def learning_rate(self):
        return self._optimizer.learning_rate

    def set_learning_rate(self, lr):
        self._optimizer.set_learning_rate(lr)

    def step(self, batch_size, ignore_stale_grad=False):
        """``allreduce_grads()`` then ``update(batch_size)``."""
        self.allreduce_grads()
        self.update(batch_size, ignore_stale_grad)

    def allreduce_grads(self):
        """Sums gradients across devices; Ember holds one copy per parameter, so nothing to do."""

    def update(self, batch_size, ignore_stale_grad=False):
        """One optimizer step with ``rescale_grad = scale / batch_size``."""
        self._optimizer.rescale_grad = self._scale / batch_size
        for i, p in enumerate(self._params):
            if p.grad_req == "null" or p._data is None:
                continue
            grad = p._data.grad
            if grad is None:
                continue
            self._optimizer.update(i, p._data.data, grad.data, p.lr_mult, p.wd_mult)

    def zero_grad(self):
        for p in self._params:
            p.zero_grad()

    def save_states(self, fname):
        raise NotImplementedError("Trainer.save_states: not built in Ember yet (weights: net.save_parameters)")

    def load_states(self, fname):
        raise NotImplementedError("Trainer.load_states: not built in Ember yet (weights: net.load_parameters)")
