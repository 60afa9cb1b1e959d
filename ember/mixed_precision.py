"""``ember.mixed_precision`` (Keras's ``keras.mixed_precision``): the global dtype policy under Keras's older names.

Ember computes each layer in its variables' dtype, so a policy names one dtype
("float32", "float64", "float16"). Keras's mixed policies ("mixed_float16",
"mixed_bfloat16": half-precision compute over float32 variables) are refused
with NotImplementedError, and so is "bfloat16" (NumPy, Ember's engine, has no
bfloat16 arithmetic).

    >>> from ember import mixed_precision
    >>> mixed_precision.set_global_policy("float64")
    >>> mixed_precision.global_policy()
    <DTypePolicy "float64">
"""

from __future__ import annotations

from .dtype_policies import DTypePolicy
from .optimizers import LossScaleOptimizer

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]

# Keras 2's name for the same class
Policy = DTypePolicy


def dtype_policy() -> DTypePolicy:
    """The global policy: the one named after ``ember.config.floatx()``."""
    from .backend.config import floatx

    return DTypePolicy(floatx())


def set_dtype_policy(policy) -> None:
    """Set the global policy from a name (``"float64"``) or a :class:`DTypePolicy`; it sets ``floatx``.

    Raises:
        NotImplementedError: for "mixed_float16", "mixed_bfloat16" and "bfloat16" (see the module doc).
        ValueError: for a name that is no float dtype.
    """
    from . import config

    name = policy.name if isinstance(policy, DTypePolicy) else policy
    if not isinstance(name, str):
        raise TypeError(
            f"set_dtype_policy: expected a policy name such as 'float32' or a DTypePolicy, got {type(policy).__name__}"
        )
    if name.startswith("mixed_") or name == "bfloat16":
        raise NotImplementedError(
            f"set_dtype_policy({name!r}): Ember's engine keeps one dtype for compute and variables and has no "
            "bfloat16 arithmetic; use 'float32' (or 'float16' / 'float64') instead"
        )
    config.set_dtype_policy(name)


# Keras 2's names for the same functions
global_policy = dtype_policy
set_global_policy = set_dtype_policy
