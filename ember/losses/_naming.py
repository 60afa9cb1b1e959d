"""Default object names as Keras makes them: the class name in snake case, numbered from the second one."""

from __future__ import annotations

import collections
import re
import threading

from ..backend.keras_api import register_clear_session_hook

_counts: collections.Counter = collections.Counter()
_lock = threading.Lock()


def to_snake_case(name: str) -> str:
    """``"MeanSquaredError"`` -> ``"mean_squared_error"``, ``"AUC"`` -> ``"auc"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def auto_name(class_name: str) -> str:
    """A process-unique name for an unnamed object: ``"auc"``, then ``"auc_1"``, ``"auc_2"``..."""
    prefix = to_snake_case(class_name)
    with _lock:
        _counts[prefix] += 1
        uid = _counts[prefix]
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


@register_clear_session_hook
def reset_names() -> None:
    """Forget the names handed out, so the next unnamed ``AUC`` is ``"auc"`` again (``clear_session``, as Keras)."""
    with _lock:
        _counts.clear()
