"""``DTypePolicy`` and ``FloatDTypePolicy`` (``keras.dtype_policies``): a layer's variable and compute dtypes.

Ember computes each layer in one dtype, its variables' dtype, so a policy is a
plain dtype name ("float32", "float64", "bfloat16", "float16"). Keras's mixed
policies ("mixed_float16", "mixed_bfloat16": float16 computation over float32
variables) have no Ember equivalent and raise NotImplementedError.
"""

from __future__ import annotations

import numpy

from .backend.config import floatx

__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "get", "serialize"]


class DTypePolicy:
    """A dtype policy, as ``keras.DTypePolicy``.

    Args:
        name: a dtype name (default ``ember.config.floatx()``).

    Attributes:
        name, compute_dtype, variable_dtype: the dtype name (the same for all three).
        quantization_mode: None (Ember has no quantized layers).
    """

    def __init__(self, name=None):
        if name is None:
            name = floatx()
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, such as 'float32'. Received: name={name} (of type {type(name)})")
        if name.startswith("mixed_"):
            raise NotImplementedError(
                f"DTypePolicy({name!r}): mixed precision (float16 computation over float32 variables) is not "
                "supported by Ember; use a plain dtype such as 'float32'"
            )
        try:
            canonical = "bfloat16" if name == "bfloat16" else str(numpy.dtype(name))
        except TypeError:
            raise ValueError(f"Cannot convert '{name}' to a DTypePolicy: expected a dtype name") from None
        self._name = canonical

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._name

    @property
    def variable_dtype(self) -> str:
        return self._name

    @property
    def quantization_mode(self):
        return None

    def convert_input(self, x, autocast, dtype):
        """``x`` cast to ``dtype`` when ``autocast`` and it is a float tensor of another dtype."""
        from .ops import cast

        if autocast and getattr(x, "dtype", None) is not None and numpy.dtype(x.dtype).kind == "f":
            if str(x.dtype) != dtype:
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
    """Keras's name for a plain float policy (an alias of :class:`DTypePolicy`)."""


def get(identifier):
    """A policy from a policy, a dtype name or a serialized dict (None: None)."""
    if identifier is None or isinstance(identifier, DTypePolicy):
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
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"dtype_policies.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    return DTypePolicy(**config["config"])
