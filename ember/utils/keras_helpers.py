"""Small ``keras.utils`` helpers: ``Config``, ``pack_x_y_sample_weight``, ``get_source_inputs``,
``is_keras_tensor``, ``standardize_dtype`` and the ``legacy`` serialization namespace."""

from __future__ import annotations

import json
import types

__all__ = ["Config", "get_source_inputs", "is_keras_tensor", "legacy", "pack_x_y_sample_weight", "standardize_dtype"]


class Config:
    """A dict-like container of named values, readable and writable as attributes; ``freeze()`` makes it final.

    ``Config(learning_rate=0.1)``, then ``config.momentum = 0.9`` or ``config["seed"] = 1``; ``to_json()``.
    """

    __reserved = ("_config", "_frozen")

    def __init__(self, **kwargs):
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self):
        """Refuse every later change."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    def _check(self, name):
        if self._frozen:
            raise AttributeError(f"Config: cannot set {name!r}, the config is frozen (call unfreeze() first)")

    def __setattr__(self, name, value):
        self._check(name)
        if name in self.__reserved:
            raise AttributeError(f"Config: {name!r} is a reserved name")
        self._config[name] = value

    def __getattr__(self, name):
        config = object.__getattribute__(self, "_config")
        if name in config:
            return config[name]
        raise AttributeError(f"Config has no attribute {name!r}; it holds {sorted(config)}")

    def __delattr__(self, name):
        self._check(name)
        del self._config[name]

    def __setitem__(self, key, value):
        self._check(key)
        self._config[key] = value

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._check(key)
        del self._config[key]

    def __contains__(self, key):
        return key in self._config

    def __iter__(self):
        return iter(self._config)

    def __len__(self):
        return len(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, key, default=None):
        return self._config.get(key, default)

    def update(self, *args, **kwargs):
        self._check("update")
        self._config.update(*args, **kwargs)

    def pop(self, *args):
        self._check("pop")
        return self._config.pop(*args)

    def as_dict(self):
        return dict(self._config)

    def to_json(self):
        return json.dumps(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch format ``fit`` takes: ``x`` (a 1-tuple if x is itself a tuple), ``(x, y)`` or ``(x, y, sw)``."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of a functional model (``ember.Input(...)`` and what layers make of it)."""
    from ..layers.symbolic import SymbolicTensor

    return isinstance(x, SymbolicTensor)


def get_source_inputs(tensor):
    """The ``Input`` tensors a symbolic ``tensor`` was computed from (a list, in the order first found)."""
    from ..layers.symbolic import SymbolicTensor

    if not isinstance(tensor, SymbolicTensor):
        raise ValueError(
            f"get_source_inputs: expected a symbolic tensor (from ember.Input), got {type(tensor).__name__}"
        )
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = t.node
        parents = [p for p in node.flat_inputs if isinstance(p, SymbolicTensor)] if node is not None else []
        if not parents:
            found.append(t)
        else:
            stack.extend(reversed(parents))
    return found


def standardize_dtype(dtype):
    """A dtype (NumPy, Ember, Python type, string) as Keras's canonical string name."""
    from ..backend.keras_api import standardize_dtype as _standardize

    return _standardize(dtype)


def _legacy_namespace():
    from .serialization import deserialize_keras_object, serialize_keras_object

    return types.SimpleNamespace(
        deserialize_keras_object=deserialize_keras_object, serialize_keras_object=serialize_keras_object
    )


class _Legacy(types.ModuleType):
    """``keras.utils.legacy``: the serialization functions under their legacy names."""

    def __getattr__(self, name):
        return getattr(_legacy_namespace(), name)

    def __dir__(self):
        return ["deserialize_keras_object", "serialize_keras_object"]


legacy = _Legacy("ember.utils.legacy", "The legacy serialization functions (Keras's keras.utils.legacy).")
