"""Keras 3's top-level scopes and helpers: ``name_scope``, ``StatelessScope``, ``SymbolicScope``,
``RematScope`` and ``remat``."""

from __future__ import annotations

import threading

from .engine.tensor import Tensor

__all__ = ["RematScope", "StatelessScope", "SymbolicScope", "name_scope", "remat"]

_local = threading.local()


def _stack(kind):
    stacks = getattr(_local, "stacks", None)
    if stacks is None:
        stacks = _local.stacks = {}
    return stacks.setdefault(kind, [])


class name_scope:  # noqa: N801 (Keras's spelling)
    """A named scope, as ``keras.name_scope``: nested scopes join their names with "/".

    Ember names weights by their layer (``layer/kernel``), so a scope does not
    rename anything; ``current_path()`` gives the joined names of the open scopes.

    Args:
        name: the scope's name.
        caller: the object opening it (kept for Keras compatibility).
        deduplicate: accepted for Keras compatibility.
        override_parent: a path that replaces the enclosing scopes.
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent

    def __enter__(self):
        stack = _stack("name")
        parent = self.override_parent if self.override_parent is not None else current_path()
        self._path = f"{parent}/{self.name}" if parent else self.name
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _stack("name").pop()
        return False


def current_path() -> str:
    """The path of the open name scopes ("" outside any)."""
    stack = _stack("name")
    return stack[-1]._path if stack else ""


class StatelessScope:
    """Run code against given variable values without changing the variables, as ``keras.StatelessScope``.

    Inside the scope each variable in ``state_mapping`` reads as its mapped
    value; its assignments inside the scope are kept by the scope
    (``get_current_value``) and it gets its own value back on exit. Unlike
    Keras, a variable left out of ``state_mapping`` is not isolated: an
    assignment to it inside the scope stays.

    Args:
        state_mapping: a list of ``(variable, value)`` pairs.
        collect_losses: whether ``add_loss`` calls inside are collected (``losses``).
        initialize_variables: accepted for Keras compatibility.
    """

    def __init__(self, state_mapping=None, collect_losses=False, initialize_variables=True):
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses = []
        self._mapping = []
        for variable, value in state_mapping or []:
            if not isinstance(variable, Tensor):
                raise ValueError(
                    "Invalid reference variable in StatelessScope: all keys in argument `mapping` must be Variable "
                    f"instances. Received instead: {variable}"
                )
            array = value.data if isinstance(value, Tensor) else variable.device.xp.asarray(value)
            if tuple(array.shape) != tuple(variable.shape):
                raise ValueError(
                    f"Invalid value for variable {getattr(variable, 'path', variable)} in StatelessScope: "
                    f"expected shape {tuple(variable.shape)}, received {tuple(array.shape)}"
                )
            self._mapping.append((variable, array.astype(variable.dtype, copy=False)))
        self._after = {}

    def __enter__(self):
        self._saved = [(v, v.data) for v, _ in self._mapping]
        for variable, value in self._mapping:
            variable.data = value.copy()
        self._touched = {id(v): v for v, _ in self._mapping}
        _stack("stateless").append(self)
        return self

    def get_current_value(self, variable):
        """The value ``variable`` has (inside) or had at the end (after) of this scope; None if not tracked."""
        if id(variable) in self._after:
            return Tensor._wrap(self._after[id(variable)])
        if _stack("stateless") and _stack("stateless")[-1] is self and id(variable) in self._touched:
            return Tensor._wrap(variable.data)
        return None

    def __exit__(self, *exc):
        _stack("stateless").pop()
        for variable, original in self._saved:
            self._after[id(variable)] = variable.data
            variable.data = original
        return False


def in_stateless_scope() -> bool:
    return bool(_stack("stateless"))


def get_stateless_scope():
    stack = _stack("stateless")
    return stack[-1] if stack else None


class SymbolicScope:
    """Marks code run on symbolic inputs (``keras.SymbolicScope``); ``in_symbolic_scope()`` says whether one is open."""

    def __enter__(self):
        _stack("symbolic").append(self)
        return self

    def __exit__(self, *exc):
        _stack("symbolic").pop()
        return False


def in_symbolic_scope() -> bool:
    return bool(_stack("symbolic"))


class RematScope:
    """Keras's rematerialization settings (``keras.RematScope``).

    Ember keeps every activation a backward needs, so the scope records its
    settings (``get_current_remat_mode()``) and computes exactly what it would
    compute without it; memory use is unchanged.

    Args:
        mode: "full", "activations", "larger_than", "list_of_layers" or None.
        output_size_threshold: the size above which "larger_than" applies.
        layer_names: the layers "list_of_layers" applies to.
    """

    _MODES = {"full", "activations", "larger_than", "list_of_layers", None}

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in self._MODES:
            raise ValueError(f"Invalid mode '{mode}'. Supported modes are: {self._MODES}")
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []

    def __enter__(self):
        _stack("remat").append(self)
        return self

    def __exit__(self, *exc):
        _stack("remat").pop()
        return False


def get_current_remat_mode():
    stack = _stack("remat")
    return stack[-1] if stack and stack[-1].mode is not None else None


def remat(f):
    """``keras.remat(f)``: ``f`` with its activations recomputed in the backward pass to save memory.

    Ember's engine keeps what each op's backward needs, so this returns a
    function computing exactly ``f``'s values and gradients (no memory saving).
    """
    if not callable(f):
        raise TypeError(f"remat: expected a callable, got {type(f).__name__}")

    def wrapped(*args, **kwargs):
        return f(*args, **kwargs)

    wrapped.__wrapped__ = f
    return wrapped
