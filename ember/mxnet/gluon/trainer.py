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
        """Write the optimizer's slots and step counts in MXNet's NDArray file format with Ember's keys
        (``state/<param>/<slot>``, ``count/<param>``). MXNet pickles its own states file, so files from
        MXNet's ``save_states`` do not load here, nor these there."""
        import numpy as np

        from ..ndarray_format import write_ndarray_file

        opt_ = self._optimizer
        out = {"num_update": np.array([opt_.num_update], np.int64)}
        for i, state in opt_.states.items():
            out[f"count/{i}"] = np.array([opt_._counts.get(i, 0)], np.int64)
            slots = state if isinstance(state, tuple) else (() if state is None else (state,))
            for j, slot in enumerate(slots):
                out[f"state/{i}/{j}"] = slot
            out[f"nslots/{i}"] = np.array([len(slots)], np.int64)
        write_ndarray_file(fname, out)

    def load_states(self, fname):
        """Restore what ``save_states`` wrote (same parameters in the same order, same optimizer)."""
        from ..ndarray_format import read_ndarray_file

        data = read_ndarray_file(fname)
        if not isinstance(data, dict) or "num_update" not in data:
            raise ValueError(f"Trainer.load_states({fname!r}): not a file written by Ember's Trainer.save_states")
        opt_ = self._optimizer
        opt_.num_update = int(data["num_update"][0])
        opt_._counts, opt_.states = {}, {}
        for key, value in data.items():
            if key.startswith("nslots/"):
                i = int(key.split("/")[1])
                opt_._counts[i] = int(data[f"count/{i}"][0])
                slots = tuple(data[f"state/{i}/{j}"].copy() for j in range(int(value[0])))
                if len(slots) == 0:
                    opt_.states[i] = None
                elif len(slots) == 1 and not isinstance(opt_.create_state(slots[0]), tuple):
                    opt_.states[i] = slots[0]
                else:
                    opt_.states[i] = slots
