# ruff: noqa: N802, N803, N812, A002  (MXNet's own names: F, T, N, ord)
"""Gluon's ``Block`` and ``HybridBlock``: children and parameters by attribute, MXNet's names, checkpoints.

Names follow MXNet 1.x: a block made inside a parent's ``name_scope()`` is named ``parent.prefix + hint + n``
(``sequential0_dense1_``), counted per parent; one made outside any scope gets a process-wide count
(``dense3_``). ``collect_params()`` is keyed by those full names. ``save_parameters`` keys by the structural
path (``'0.weight'``, ``'dense0.bias'``), as MXNet does, so files move between MXNet and Ember both ways.

``HybridBlock.hybridize()`` runs the block's calls through Ember's traced plans (``cached_op.py``: traced on the
first calls per input signature, replayed after, the same numbers as the eager call); ``Block.hybridize()``
passes the request on to its children, as MXNet does.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .. import autograd
from .. import nd as _F
from ..ndarray_format import read_ndarray_file, write_ndarray_file
from .parameter import Parameter, ParameterDict

_scope = threading.local()
_global_counts: dict[str, int] = {}


def _current():
    return getattr(_scope, "block", None)


def _make_prefix(hint: str, prefix, parent_counts):
    if prefix is not None:
        return prefix
    parent = _current()
    counts = parent._child_counts if parent is not None else _global_counts
    n = counts.get(hint, 0)
    counts[hint] = n + 1
    return (parent.prefix if parent is not None else "") + f"{hint}{n}_"


class _NameScope:
    def __init__(self, block):
        self.block = block

    def __enter__(self):
        self.previous = _current()
        _scope.block = self.block
        return self

    def __exit__(self, *exc):
        _scope.block = self.previous


class Block:
    """The base of every Gluon layer and model: override ``forward(self, x, ...)``."""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        object.__setattr__(obj, "_init_args", (args, kwargs))  # export() writes them
        return obj

    def __init__(self, prefix=None, params=None):
        object.__setattr__(self, "_children", OrderedDict())
        object.__setattr__(self, "_reg_params", OrderedDict())
        object.__setattr__(self, "_child_counts", {})
        self._prefix = _make_prefix(self._alias(), prefix, None)
        shared = params if isinstance(params, ParameterDict) else None
        self._params = ParameterDict(self._prefix, shared=shared)
        self._name = self._prefix[:-1] if self._prefix.endswith("_") else self._prefix

    def _alias(self) -> str:
        """The name hint (``dense``, ``conv``, ``pool``): MXNet's ``_alias``."""
        return type(self).__name__.lower()

    # ---- structure -------------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Block):
            self.register_child(value, name)
        elif isinstance(value, Parameter):
            self._reg_params[name] = value
        object.__setattr__(self, name, value)

    def register_child(self, block, name=None):
        self._children[name if name is not None else str(len(self._children))] = block
        return block

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def name(self) -> str:
        return self._name

    @property
    def params(self) -> ParameterDict:
        """This block's own parameters (not its children's)."""
        return self._params

    def name_scope(self):
        """Blocks created inside are named under this block's prefix."""
        return _NameScope(self)

    def collect_params(self, select=None) -> ParameterDict:
        """This block's and its descendants' parameters, by full name; ``select`` is a regex on the names."""
        out = ParameterDict(self._prefix)
        pattern = re.compile(select.replace(" ", "").replace(",", "|")) if select else None
        for block in self._walk():
            for name, p in block._params.items():
                if pattern is None or pattern.match(name):
                    out[name] = p
            for p in block._reg_params.values():
                if p.name not in out and (pattern is None or pattern.match(p.name)):
                    out[p.name] = p
        return out

    def _walk(self):
        yield self
        for child in self._children.values():
            yield from child._walk()

    def _collect_params_with_prefix(self, prefix=""):
        """Parameters by structural path (``'0.weight'``): MXNet's keys in ``save_parameters`` files."""
        if prefix:
            prefix += "."
        out = OrderedDict()
        attr_of = {id(p): k for k, p in self._reg_params.items()}
        for p in self._params.values():
            key = attr_of.get(id(p), p.name[len(self._prefix) :] if p.name.startswith(self._prefix) else p.name)
            out[prefix + key] = p
        for k, p in self._reg_params.items():
            out.setdefault(prefix + k, p)
        for name, child in self._children.items():
            out.update(child._collect_params_with_prefix(prefix + name))
        return out

    # ---- running ---------------------------------------------------------------------------------------------
    _hooks = None  # (pre-hooks, hooks): OrderedDicts of id -> function, made by the first register_*

    def __call__(self, *args, **kwargs):
        if self._hooks is not None:
            return self._call_hooked(lambda: self.forward(*args, **kwargs), args)
        return self.forward(*args, **kwargs)

    def _call_hooked(self, run, args):
        pre, post = self._hooks
        for hook in list(pre.values()):
            hook(self, args)
        out = run()
        for hook in list(post.values()):
            hook(self, args, out)
        return out

    def _hook_tables(self):
        if self._hooks is None:
            object.__setattr__(self, "_hooks", (OrderedDict(), OrderedDict()))
        return self._hooks

    def register_forward_pre_hook(self, hook):
        """``hook(block, inputs)`` before each call; returns a handle whose ``detach()`` removes it."""
        return _HookHandle(self._hook_tables()[0], hook)

    def register_forward_hook(self, hook):
        """``hook(block, inputs, outputs)`` after each call; returns a handle whose ``detach()`` removes it.

        A hybridized block runs its own hooks at every call; its children's run only while it is traced.
        """
        return _HookHandle(self._hook_tables()[1], hook)

    def apply(self, fn):
        """``fn(block)`` on every child (depth first), then on this block; returns this block."""
        for child in self._children.values():
            child.apply(fn)
        fn(self)
        return self

    def summary(self, *inputs):
        """Print each block's output shape and parameter count for a call on ``inputs`` (MXNet's table)."""
        from .summary import print_summary

        print_summary(self, inputs)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def initialize(self, init=None, ctx=None, verbose=False, force_reinit=False):
        """Initialize all parameters (see ``ParameterDict.initialize``)."""
        self.collect_params().initialize(init, ctx, verbose, force_reinit)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlocks inside (a plain Block itself runs eagerly, as in MXNet).

        ``static_alloc`` / ``static_shape`` are accepted: plans are kept per input signature either way.
        """
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def cast(self, dtype):
        for p in self.collect_params().values():
            p.cast(dtype)

    def zero_grad(self):
        self.collect_params().zero_grad()

    def reset_ctx(self, ctx):
        self.collect_params().reset_ctx(ctx)

    # ---- checkpoints ----------------------------------------------------------------------------------------
    def save_parameters(self, filename, deduplicate=False):
        """Write the weights in MXNet's ``.params`` format (keys: structural paths such as ``'0.weight'``)."""
        params = self._collect_params_with_prefix()
        write_ndarray_file(filename, {k: p.data().asnumpy() for k, p in params.items()})

    save_params = save_parameters

    def load_parameters(
        self, filename, ctx=None, allow_missing=False, ignore_extra=False, cast_dtype=False, dtype_source="current"
    ):
        """Read a ``.params`` file written by ``save_parameters`` here or in MXNet (or MXNet's older full-name
        files from ``collect_params().save``)."""
        loaded = read_ndarray_file(filename)
        if not isinstance(loaded, dict):
            raise ValueError(f"load_parameters({filename!r}): the file holds a list, not named parameters")
        loaded = {k.split(":", 1)[-1] if k.startswith(("arg:", "aux:")) else k: v for k, v in loaded.items()}
        params = self._collect_params_with_prefix()
        if loaded and not any("." in k for k in loaded) and not any(k in params for k in loaded):
            params = self.collect_params()  # the legacy format: full names
        for name, p in params.items():
            if name not in loaded:
                if not allow_missing:
                    raise KeyError(
                        f"load_parameters({filename!r}): parameter {name!r} is missing from the file "
                        f"(it has {sorted(loaded)[:8]}...); pass allow_missing=True to skip it"
                    )
                continue
            p.set_data(loaded[name])
            if ctx is not None:
                p.reset_ctx(ctx)
        extra = set(loaded) - set(params)
        if extra and not ignore_extra:
            raise KeyError(
                f"load_parameters({filename!r}): the file has parameters this network lacks: {sorted(extra)}; "
                "pass ignore_extra=True to skip them"
            )

    load_params = load_parameters

    def __repr__(self):
        body = "".join(f"\n  ({k}): " + repr(c).replace("\n", "\n  ") for k, c in self._children.items())
        return f"{type(self).__name__}({body}\n)" if body else f"{type(self).__name__}()"


class HybridBlock(Block):
    """A block written as ``hybrid_forward(self, F, x, *args, **params)``: ``F`` is ``mx.nd`` and each of the
    block's own parameters comes as a keyword argument holding its data.

    After ``hybridize()`` its calls (outside another hybridized block's call) run through a
    :class:`~ember.mxnet.gluon.cached_op.CachedCall`: traced on the first two calls of an input signature,
    replayed on arrays after; inside ``autograd.record()`` the call is one op of the graph.
    """

    _cached_call = None

    def __call__(self, *args, **kwargs):
        cached = self._cached_call
        if cached is not None:
            from .cached_op import inside_trace

            if not inside_trace():
                if self._hooks is not None:
                    return self._call_hooked(lambda: cached(args, kwargs), args)
                return cached(args, kwargs)
        if self._hooks is not None:
            return self._call_hooked(lambda: self.forward(*args, **kwargs), args)
        return self.forward(*args, **kwargs)

    def optimize_for(self, x, *args, backend=None, **kwargs):
        """MXNet's hybridize-and-run for a backend: here ``hybridize()`` and one call on ``x``."""
        self.hybridize(True)
        return self(x, *args)

    def infer_type(self, *args):
        """Run a call so deferred parameters take their shapes (dtypes follow the inputs in Ember)."""
        self.forward(*args)

    def hybridize(self, active=True, **kwargs):
        """Run this block's calls through Ember's traced plans (``active=False``: eagerly again).

        MXNet's options (``static_alloc``, ``static_shape``, ``inline_limit``, ...) are accepted and change
        nothing: plans are kept per input signature either way. A hybridize() call drops the plans made so far.
        """
        from .cached_op import CachedCall

        object.__setattr__(self, "_cached_call", CachedCall(self) if active else None)
        for child in self._children.values():
            child.hybridize(active, **kwargs)

    def forward(self, x, *args):
        params = {}
        for name, p in self._reg_params.items():
            self._infer_shapes(x, *args)
            params[name] = p.data()
        return self.hybrid_forward(_F, x, *args, **params)

    def _infer_shapes(self, x, *args):
        """Layers with deferred shapes set them here from the first input."""

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.hybrid_forward is not defined")

    def export(self, path, epoch=0, remove_amp_cast=True):
        """Write ``path-symbol.json`` (Ember's architecture description) and ``path-%04d.params``."""
        from .symbol_block import export_block

        return export_block(self, path, epoch)

    def infer_shape(self, *args):
        self.forward(*args)


class _HookHandle:
    """What ``register_forward_hook`` returns: ``detach()`` removes the hook (also as a context manager)."""

    def __init__(self, table, hook):
        self._table, self._id = table, id(hook)
        table[self._id] = hook

    def detach(self):
        self._table.pop(self._id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()


def _training() -> bool:
    return autograd.is_training()
