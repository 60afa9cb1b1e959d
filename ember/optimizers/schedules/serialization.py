"""``serialize`` / ``deserialize`` for learning-rate schedules, in Keras 3's dict format."""

from __future__ import annotations

from .cosine_decay import CosineDecay
from .cosine_decay_restarts import CosineDecayRestarts
from .exponential_decay import ExponentialDecay
from .inverse_time_decay import InverseTimeDecay
from .learning_rate_schedule import LearningRateSchedule
from .piecewise_constant_decay import PiecewiseConstantDecay
from .polynomial_decay import PolynomialDecay

_BUILT_IN = {
    cls.__name__: cls
    for cls in (
        CosineDecay,
        CosineDecayRestarts,
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
    )
}


def serialize(learning_rate_schedule) -> dict:
    """The schedule as ``{"module", "class_name", "config", "registered_name"}`` (Keras 3's layout)."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(
            "schedules.serialize: expected a LearningRateSchedule, "
            f"got {type(learning_rate_schedule).__name__}: {learning_rate_schedule!r}"
        )
    cls = type(learning_rate_schedule)
    built_in = _BUILT_IN.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if built_in else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if built_in else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """Rebuild a schedule from ``serialize``'s dict (or Keras's; ``custom_objects`` maps extra names)."""
    if isinstance(config, LearningRateSchedule):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"schedules.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    custom_objects = custom_objects or {}
    name = config["class_name"]
    cls = custom_objects.get(name) or custom_objects.get(config.get("registered_name") or "") or _BUILT_IN.get(name)
    if cls is None:
        raise ValueError(
            f"schedules.deserialize: unknown schedule {name!r}; expected one of {sorted(_BUILT_IN)} "
            "or a class passed in custom_objects"
        )
    return cls.from_config(dict(config.get("config", {})))
