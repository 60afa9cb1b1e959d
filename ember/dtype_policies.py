"""``keras.dtype_policies`` on Ember: ``DTypePolicy``, the dtypes a layer computes in and keeps its variables in.

A policy is named after one dtype (``"float32"``, ``"float64"``, ``"float16"``,
``"int32"``: compute and variables in that dtype) or is a mixed policy:
``"mixed_float16"`` computes in float16 over float32 variables (see
docs/mixed_precision.md: a layer casts its float inputs and reads its float
variables in float16 during ``call``; ``compile`` adds loss scaling).

bfloat16: NumPy, Ember's engine, has no bfloat16 dtype, so ``"bfloat16"`` and
``"mixed_bfloat16"`` are refused with a ``NotImplementedError`` that says so.

The global policy (``keras.config.set_dtype_policy``) lives here too: a mixed
policy is kept as is (until ``clear_session()``, as in Keras); a plain float
policy sets ``floatx`` (Ember's long-standing behaviour), and ``dtype_policy()``
then reads ``floatx``.
"""

from __future__ import annotations

import numpy

from .backend.config import floatx
from .backend.keras_api import register_clear_session_hook

__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "get", "serialize"]

# mixed policy name -> (compute dtype, variable dtype)
_MIXED = {"mixed_float16": ("float16", "float32")}
_NO_BFLOAT16 = (
    "Ember computes on NumPy, which has no bfloat16 dtype (and neither has CuPy 14), so bfloat16 policies cannot "
    "run; use 'mixed_float16' for half-precision compute over float32 variables, or 'float32'"
)
# the global mixed policy set by set_dtype_policy; None: the policy named after floatx()
_GLOBAL = [None]


def _forget_global_policy() -> None:
    """``clear_session()`` drops a global mixed policy, as Keras's does."""
    _GLOBAL[0] = None


register_clear_session_hook(_forget_global_policy)


def _parse(name):
    """``(compute_dtype, variable_dtype)`` for a policy name."""
    if not isinstance(name, str):
        raise TypeError(
            f"'name' must be a string, such as 'mixed_float16'. Received: name={name} (of type {type(name)})"
        )
    if name in _MIXED:
        return _MIXED[name]
    if name in ("bfloat16", "mixed_bfloat16"):
        raise NotImplementedError(f"DTypePolicy({name!r}): {_NO_BFLOAT16}")
    try:
        dtype = str(numpy.dtype(name))
    except TypeError:
        raise ValueError(
            f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include 'mixed_float16' "
            "and the name of any float dtype such as 'float32'."
        ) from None
    return dtype, dtype


class DTypePolicy:
    """A layer's dtype policy, as ``keras.DTypePolicy``.

    Args:
        name: ``"mixed_float16"`` or a dtype name; default the global policy's name
            (``ember.config.dtype_policy()``).

    Attributes:
        name: the policy name.
        compute_dtype: the dtype of a layer's inputs, computations and outputs ("float16" for mixed_float16).
        variable_dtype: the dtype of a layer's variables ("float32" for mixed_float16).
        quantization_mode: None (Ember has no quantized layers).
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = _parse(name)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def quantization_mode(self):
        return None

    @property
    def is_mixed(self) -> bool:
        """Whether compute and variable dtypes differ (Ember's helper; Keras compares the two)."""
        return self._compute_dtype != self._variable_dtype

    def convert_input(self, x, autocast, dtype):
        """``x`` cast to ``dtype`` when ``autocast`` and it is a float tensor of another dtype (Keras's rule)."""
        from .ops import cast

        x_dtype = getattr(x, "dtype", None)
        if autocast and x_dtype is not None and numpy.dtype(x_dtype).kind == "f" and str(x_dtype) != dtype:
            return cast(x, dtype)
        return x

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(("DTypePolicy", self.name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


class FloatDTypePolicy(DTypePolicy):
    """Keras's older name for a float policy (a subclass of :class:`DTypePolicy`, as in Keras)."""


def dtype_policy() -> DTypePolicy:
    """The global policy: the mixed one set by :func:`set_dtype_policy`, else the one named after ``floatx()``."""
    return _GLOBAL[0] if _GLOBAL[0] is not None else DTypePolicy(floatx())


def set_dtype_policy(policy) -> None:
    """Set the global policy from a name (``"mixed_float16"``, ``"float64"``) or a :class:`DTypePolicy`.

    Layers created afterwards without a ``dtype`` take it. A plain float policy also sets ``floatx``.

    Raises:
        NotImplementedError: for "bfloat16" / "mixed_bfloat16" (no bfloat16 in NumPy).
        ValueError: for a name that is no float policy.
    """
    from .backend import config as backend_config

    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a policy (such as 'mixed_float16') or a "
                f"`DTypePolicy` instance. Received: policy={policy} (of type {type(policy)})"
            )
        policy = DTypePolicy(policy)
    if policy.is_mixed:
        _GLOBAL[0] = policy
        return
    if policy.compute_dtype not in ("float16", "float32", "float64"):
        raise ValueError(
            f"set_dtype_policy: expected 'mixed_float16', 'float16', 'float32' or 'float64', got {policy.name!r}"
        )
    backend_config.set_floatx(policy.compute_dtype)
    _GLOBAL[0] = None


def get(identifier):
    """A policy from a policy, a name or a serialized dict; None gives the global policy (as Keras)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    raise ValueError(
        f"Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. Received: {identifier}"
    )


def serialize(policy) -> dict:
    """Keras's ``{"module", "class_name", "config", "registered_name"}`` form."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The policy of :func:`serialize`'s dict (Keras's ``FloatDTypePolicy`` class name is read too)."""
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"dtype_policies.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    if config.get("class_name", "DTypePolicy") not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(
            f"dtype_policies.deserialize: Ember knows the DTypePolicy class only, got {config.get('class_name')!r}"
        )
    return DTypePolicy(**config["config"])
