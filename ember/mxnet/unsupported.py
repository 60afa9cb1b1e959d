"""``mx.sym`` / ``mx.symbol`` and ``mx.mod`` / ``mx.module``: named, so a program using them fails with a clear
error at the first attribute it reads, not with an AttributeError on ``mx``.

Ember has no symbolic graph API and no Module API: Gluon's imperative blocks with ``hybridize()`` cover what
they did (a traced graph per input signature), ``SymbolBlock.imports`` runs MXNet's exported symbol files, and
``gluon.Trainer`` trains. Porting a Module program means rewriting its ``mx.sym`` network as Gluon blocks.
"""

from __future__ import annotations

import types

_ADVICE = {
    "sym": "build the network from gluon.nn blocks (hybridize() for a traced graph), or load an exported "
    "symbol file with gluon.SymbolBlock.imports(symbol_json, ['data'], params_file)",
    "mod": "write the network as gluon blocks and train it with gluon.Trainer (docs/gluon.md shows the mapping)",
}


class UnsupportedAPI(types.ModuleType):
    """A stand-in module whose every attribute raises NotImplementedError naming the API and what to use."""

    def __init__(self, name, advice):
        super().__init__(f"ember.mxnet.{name}")
        self._api, self._advice = name, advice

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise NotImplementedError(
            f"mx.{self._api}.{attr}: Ember runs MXNet's Gluon and NDArray APIs, not the symbolic mx.sym / "
            f"Module mx.mod APIs; {self._advice}"
        )


symbol = UnsupportedAPI("sym", _ADVICE["sym"])
module = UnsupportedAPI("mod", _ADVICE["mod"])
