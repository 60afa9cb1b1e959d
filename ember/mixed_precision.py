"""``ember.mixed_precision`` (Keras's ``keras.mixed_precision``): the global dtype policy under Keras's older names.

``set_global_policy("mixed_float16")`` makes layers created afterwards compute
in float16 over float32 variables, and ``compile`` wrap the optimizer in a
:class:`LossScaleOptimizer` (docs/mixed_precision.md). bfloat16 policies are
refused: NumPy, Ember's engine, has no bfloat16 dtype.

    >>> from ember import mixed_precision
    >>> mixed_precision.set_global_policy("mixed_float16")
    >>> mixed_precision.global_policy()
    <DTypePolicy "mixed_float16">
    >>> mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from .dtype_policies import DTypePolicy
from .dtype_policies import dtype_policy as dtype_policy
from .dtype_policies import set_dtype_policy as _set_dtype_policy
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


def set_dtype_policy(policy) -> None:
    """Set the global policy from a name (``"mixed_float16"``, ``"float64"``) or a :class:`DTypePolicy`.

    Raises:
        NotImplementedError: for "mixed_bfloat16" and "bfloat16" (see the module doc).
        TypeError: for something that is neither a name nor a policy.
        ValueError: for a name that is no float policy.
    """
    if not isinstance(policy, (str, DTypePolicy)):
        raise TypeError(
            "set_dtype_policy: expected a policy name such as 'mixed_float16' or a DTypePolicy, "
            f"got {type(policy).__name__}"
        )
    _set_dtype_policy(policy)


# Keras 2's names for the same functions
global_policy = dtype_policy
set_global_policy = set_dtype_policy
