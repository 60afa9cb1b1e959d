"""Gluon's ``Parameter`` (a weight with deferred shape and MXNet's grad_req) and ``ParameterDict``."""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from .. import initializer as init_mod
from ..context import as_context
from ..ndarray import NDArray, _nd, array
from ..ndarray_format import read_ndarray_file, write_ndarray_file


class DeferredInitializationError(RuntimeError):
    """A parameter's shape is not known yet: run a forward pass first (Dense's in_units, Conv's channels)."""


class Parameter:
    """A weight: ``data()`` (an NDArray that requires grad), ``grad()``, ``set_data``; shape may hold 0s until the
    first forward pass fills them in (deferred initialization)."""

    def __init__(
        self,
        name,
        grad_req="write",
        shape=None,
        dtype="float32",
        lr_mult=1.0,
        wd_mult=1.0,
        init=None,
        allow_deferred_init=False,
        differentiable=True,
        **kwargs,
    ):
        self.name = name
        self._shape = None if shape is None else ((int(shape),) if np.isscalar(shape) else tuple(shape))
        self.dtype = np.dtype(dtype).name
        self.lr_mult, self.wd_mult = lr_mult, wd_mult
        self.init = init
        self.grad_req = grad_req if differentiable else "null"
        self._data: NDArray | None = None
        self._deferred = None  # (initializer, ctx) waiting for the shape

    def __repr__(self):
        return f"Parameter {self.name} (shape={self.shape}, dtype={self.dtype})"

    @property
    def shape(self):
        return self._shape

    @shape.setter
    def shape(self, new_shape):
        new_shape = tuple(int(s) for s in new_shape)
        if self._shape is not None:
            if len(new_shape) != len(self._shape) or any(o not in (0, n) for o, n in zip(self._shape, new_shape)):
                raise ValueError(
                    f"Parameter {self.name!r}: shape {new_shape} does not match the declared {self._shape}"
                )
        self._shape = new_shape

    def _shape_known(self):
        return self._shape is not None and all(s > 0 for s in self._shape)

    def initialize(self, init=None, ctx=None, default_init=None, force_reinit=False):
        """Fill the weight: its own initializer first, else ``init``, else ``default_init`` (Uniform(0.07))."""
        if self._data is not None and not force_reinit:
            return
        chosen = self.init if self.init is not None else (init if init is not None else default_init)
        chosen = init_mod.create(chosen) or init_mod.Uniform()
        if not self._shape_known():
            self._deferred = (chosen, ctx)
            return
        self._init_now(chosen, ctx)

    def _init_now(self, initializer, ctx=None):
        values = np.zeros(self._shape, dtype=self.dtype)
        initializer(self.name, values)
        self._set(values, ctx)
        self._deferred = None

    def _finish_deferred_init(self):
        """Called by a layer once it has set the full shape."""
        if self._deferred is not None and self._data is None:
            self._init_now(*self._deferred)

    def _set(self, values, ctx=None):
        data = array(values, dtype=self.dtype)
        ctx = as_context(ctx)
        if ctx.device_type != "cpu":
            data = data.as_in_context(ctx)
        if self.grad_req != "null":
            data.attach_grad(self.grad_req)
        self._data = data

    def _check(self, what):
        if self._data is None:
            if self._deferred is not None:
                raise DeferredInitializationError(
                    f"Parameter {self.name!r} has not been initialized yet: its shape {self._shape} is inferred from "
                    f"the first forward pass; run one before calling {what}"
                )
            raise RuntimeError(
                f"Parameter {self.name!r} has not been initialized; call net.initialize() "
                f"(or collect_params().initialize()) before {what}"
            )

    def data(self, ctx=None) -> NDArray:
        """The weight (an NDArray; gradients flow into it inside ``autograd.record()``)."""
        self._check("data()")
        return self._data

    def list_data(self):
        return [self.data()]

    def grad(self, ctx=None) -> NDArray:
        """The gradient written by the last backward (zeros before one)."""
        self._check("grad()")
        if self.grad_req == "null":
            raise RuntimeError(f"Parameter {self.name!r}: grad_req is 'null', it has no gradient")
        return self._data.grad

    def list_grad(self):
        return [self.grad()]

    def list_ctx(self):
        return [self._data.context] if self._data is not None else []

    def set_data(self, data):
        """Replace the values (shape must match; sets the shape of a deferred parameter)."""
        values = np.asarray(data.asnumpy() if hasattr(data, "asnumpy") else data, dtype=self.dtype)
        self.shape = values.shape
        if self._data is None:
            ctx = self._deferred[1] if self._deferred else None
            self._set(values, ctx)
            self._deferred = None
        else:
            self._data.data[...] = values

    def zero_grad(self):
        if self._data is not None and self._data.grad is not None:
            self._data.grad.data[...] = 0

    def reset_ctx(self, ctx):
        if self._data is not None:
            self._set(self._data.asnumpy(), ctx)

    def cast(self, dtype):
        self.dtype = np.dtype(dtype).name
        if self._data is not None:
            self._set(self._data.asnumpy().astype(self.dtype))

    def var(self):
        raise NotImplementedError("Parameter.var(): Ember has no symbolic API; use data()")


class Constant(Parameter):
    """A parameter that is not trained (grad_req 'null')."""

    def __init__(self, name, value):
        value = np.asarray(value.asnumpy() if hasattr(value, "asnumpy") else value, dtype="float32")
        super().__init__(name, grad_req="null", shape=value.shape, init=init_mod.Constant(value))


class ParameterDict(OrderedDict):
    """Parameters by full name (``'dense0_weight'``), with ``initialize``, ``zero_grad``, ``save``/``load``."""

    def __init__(self, prefix="", shared=None):
        super().__init__()
        self.prefix = prefix
        self._shared = shared

    def __repr__(self):
        lines = "\n".join(f"  {p!r}" for p in self.values())
        return f"{self.prefix or 'ParameterDict'} (\n{lines}\n)"

    def get(self, name, **kwargs):
        """The parameter ``prefix + name``, created with ``kwargs`` when missing."""
        full = self.prefix + name
        if full in self:
            return self[full]
        if self._shared is not None and full in self._shared:
            self[full] = self._shared[full]
            return self[full]
        param = Parameter(full, **kwargs)
        self[full] = param
        return param

    def get_constant(self, name, value=None):
        full = self.prefix + name
        if full not in self:
            self[full] = Constant(full, value)
        return self[full]

    def update(self, other):
        for k, v in other.items():
            if k in self and self[k] is not v:
                raise ValueError(f"ParameterDict.update: two different parameters are named {k!r}")
            self[k] = v

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialize every parameter (``init`` for those without their own initializer; default Uniform())."""
        init = init_mod.create(init) or init_mod.Uniform()
        for p in self.values():
            p.initialize(None, ctx, init, force_reinit)

    def zero_grad(self):
        for p in self.values():
            p.zero_grad()

    def reset_ctx(self, ctx):
        for p in self.values():
            p.reset_ctx(ctx)

    def setattr(self, name, value):
        """Set an attribute on every parameter (``grad_req``, ``lr_mult``, ``wd_mult``)."""
        for p in self.values():
            setattr(p, name, value)
            if name == "grad_req" and p._data is not None:
                p._data.attach_grad(value)

    def list_ctx(self):
        return sorted({c for p in self.values() for c in p.list_ctx()}, key=repr)

    def select(self, pattern):
        out = ParameterDict(self.prefix)
        for k, v in self.items():
            if re.match(pattern, k):
                out[k] = v
        return out

    def save(self, filename, strip_prefix=""):
        """Write the values in MXNet's format, keyed by full name less ``strip_prefix``."""
        out = {}
        for name, p in self.items():
            if strip_prefix and not name.startswith(strip_prefix):
                raise ValueError(f"ParameterDict.save: {name!r} does not start with strip_prefix {strip_prefix!r}")
            out[name[len(strip_prefix) :]] = p.data().asnumpy()
        write_ndarray_file(filename, out)

    def load(self, filename, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix=""):
        """Read values written by ``save`` (or MXNet's ``arg:``/``aux:`` keyed files)."""
        loaded = read_ndarray_file(filename)
        if not isinstance(loaded, dict):
            raise ValueError(f"ParameterDict.load({filename!r}): the file holds a list, not named parameters")
        loaded = {restore_prefix + k.split(":", 1)[-1]: v for k, v in loaded.items()}
        for name, p in self.items():
            if name not in loaded:
                if not allow_missing:
                    raise KeyError(f"ParameterDict.load({filename!r}): no value for parameter {name!r}")
                continue
            p.set_data(loaded[name])
        extra = set(loaded) - set(self)
        if extra and not ignore_extra:
            raise KeyError(f"ParameterDict.load({filename!r}): unknown parameters {sorted(extra)} in the file")


__all__ = ["Parameter", "Constant", "ParameterDict", "DeferredInitializationError", "_nd"]
