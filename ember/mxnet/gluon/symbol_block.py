"""``HybridBlock.export`` and ``SymbolBlock.imports``: one model as two files for deployment.

``export(path, epoch)`` writes ``path-symbol.json`` and ``path-%04d.params``. The ``.params`` file is MXNet's
(``arg:<name>`` / ``aux:<name>`` keys, the full parameter names), so real MXNet can read the weights. The
``-symbol.json`` is MXNet's own symbol graph (symbol_writer.py: one MXNet operator per ``gluon.nn`` layer), so
real MXNet's ``SymbolBlock.imports`` runs it; for a tree with a layer that writer cannot express (recurrent
layers, ``Lambda``) it is Ember's format instead: ``{"format": "ember-gluon-block", "block": tree}`` where each
node names a ``gluon.nn`` class, its constructor arguments and its prefix. Only blocks built from ``gluon.nn`` /
``gluon.rnn`` layers and (Hybrid)Sequential containers export; a custom Block raises a clear error.
``SymbolBlock.imports(symbol_file, input_names, param_file)`` rebuilds the block and loads the weights; given
real MXNet's ``-symbol.json`` instead, it runs that graph with Ember's ops (mxnet_symbol.py).
"""

from __future__ import annotations

import json

import numpy as np

from ..ndarray_format import read_ndarray_file, write_ndarray_file
from .block import Block, HybridBlock

FORMAT = "ember-gluon-block"
_AUX = ("running_mean", "running_var")


def _jsonable(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if hasattr(value, "dumps"):  # an initializer: not needed once the weights are saved
        return None
    raise TypeError(f"export: argument {value!r} of {where} cannot be written to JSON")


def _describe(block: Block) -> dict:
    from . import nn, rnn

    cls = type(block)
    module = (
        "nn" if getattr(nn, cls.__name__, None) is cls else "rnn" if getattr(rnn, cls.__name__, None) is cls else None
    )
    if module is None:
        raise TypeError(
            f"export: {cls.__name__} is a custom block; Ember's export supports blocks built from gluon.nn and "
            "gluon.rnn layers and (Hybrid)Sequential (save_parameters works for any block)"
        )
    args, kwargs = getattr(block, "_init_args", ((), {}))
    kwargs = {k: _jsonable(v, cls.__name__) for k, v in kwargs.items() if k not in ("prefix", "params")}
    return {
        "type": cls.__name__,
        "module": module,
        "args": _jsonable(list(args), cls.__name__),
        "kwargs": kwargs,
        "prefix": block.prefix,
        "shapes": {k: list(p.shape) for k, p in block.params.items()},
        "children": [_describe(c) for c in block._children.values()],
    }


def export_block(block: Block, path: str, epoch: int = 0):
    """Write ``path-symbol.json`` and ``path-%04d.params``; returns both file names.

    The symbol file is MXNet's own graph (symbol_writer.py) when every layer has an MXNet operator there, else
    Ember's description of the block tree.
    """
    from .symbol_writer import NotExpressibleError, symbol_json

    tree = _describe(block)
    for p in block.collect_params().values():
        p._check("export()")
    sym_file, param_file = f"{path}-symbol.json", f"{path}-{epoch:04d}.params"
    try:
        text = symbol_json(block)
    except NotExpressibleError:
        text = json.dumps({"format": FORMAT, "block": tree}, indent=1)
    with open(sym_file, "w") as f:
        f.write(text)
    arrays = {}
    for name, p in block.collect_params().items():
        kind = "aux" if name.endswith(_AUX) else "arg"
        arrays[f"{kind}:{name}"] = p.data().asnumpy()
    write_ndarray_file(param_file, arrays)
    return sym_file, param_file


def _build(node):
    from . import nn, rnn

    cls = getattr(rnn if node.get("module") == "rnn" else nn, node["type"])
    block = cls(*node["args"], prefix=node["prefix"], **node["kwargs"])
    for key, shape in node["shapes"].items():
        if key in block.params:
            block.params[key].shape = tuple(shape)
    for child in node["children"]:
        block.register_child(_build(child))
    return block


class SymbolBlock(HybridBlock):
    """A block rebuilt from exported files (``SymbolBlock.imports``)."""

    def __init__(self, outputs=None, inputs=None, params=None):
        super().__init__(prefix="")
        if outputs is not None and not isinstance(outputs, Block):
            raise NotImplementedError("SymbolBlock(outputs, inputs): Ember has no symbols; use SymbolBlock.imports")
        self._inner = outputs
        if outputs is not None:
            self.register_child(outputs, "net")

    def forward(self, *args):
        return self._inner(*args)

    def _collect_params_with_prefix(self, prefix=""):
        return self._inner._collect_params_with_prefix(prefix)

    @staticmethod
    def imports(symbol_file, input_names=None, param_file=None, ctx=None, allow_missing=False, ignore_extra=False):
        """Rebuild the block written by ``export`` and load its weights from ``param_file``."""
        with open(symbol_file) as f:
            spec = json.load(f)
        if isinstance(spec, dict) and "nodes" in spec and "heads" in spec:  # real MXNet's symbol graph
            from .mxnet_symbol import MXNetGraph

            net = SymbolBlock(MXNetGraph(spec, input_names if input_names is not None else "data"))
            if param_file is not None:
                net._load_named(param_file, ctx, allow_missing, ignore_extra)
            return net
        if not isinstance(spec, dict) or spec.get("format") != FORMAT:
            raise ValueError(
                f"SymbolBlock.imports({symbol_file!r}): not an Ember export (MXNet's own symbol graphs are not "
                "supported; load MXNet's weights into a Gluon network built in code with load_parameters)"
            )
        net = SymbolBlock(_build(spec["block"]))
        if param_file is not None:
            net._load_named(param_file, ctx, allow_missing, ignore_extra)
        return net

    def _load_named(self, param_file, ctx, allow_missing, ignore_extra):
        """Load ``arg:``/``aux:`` entries by full parameter name."""
        loaded = read_ndarray_file(param_file)
        loaded = {k.split(":", 1)[-1]: v for k, v in loaded.items()}
        params = self.collect_params()
        for name, p in params.items():
            if name in loaded:
                p.set_data(loaded[name])
                if ctx is not None:
                    p.reset_ctx(ctx)
            elif not allow_missing:
                raise KeyError(f"SymbolBlock.imports: {param_file!r} has no value for {name!r}")
        extra = set(loaded) - set(params)
        if extra and not ignore_extra:
            raise KeyError(f"SymbolBlock.imports: unknown parameters in {param_file!r}: {sorted(extra)}")
