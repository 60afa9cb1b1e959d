"""``get``, ``serialize`` and ``deserialize``: optimizers by name, by config dict, or as instances."""

from __future__ import annotations

from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .base import Optimizer
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .loss_scale_optimizer import LossScaleOptimizer
from .muon import Muon
from .nadam import Nadam
from .rmsprop import RMSprop
from .schedule_free_adamw import ScheduleFreeAdamW
from .sgd import SGD

_BUILT_IN = {
    cls.__name__.lower(): cls
    for cls in (
        Adadelta,
        Adafactor,
        Adagrad,
        Adam,
        Adamax,
        AdamW,
        Ftrl,
        Lamb,
        Lion,
        LossScaleOptimizer,
        Muon,
        ScheduleFreeAdamW,
        Nadam,
        RMSprop,
        SGD,
    )
}


def serialize(optimizer) -> dict:
    """The optimizer as ``{"module", "class_name", "config", "registered_name"}`` (Keras 3's layout)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got {type(optimizer).__name__}: {optimizer!r}")
    cls = type(optimizer)
    built_in = _BUILT_IN.get(cls.__name__.lower()) is cls
    return {
        "module": "keras.optimizers" if built_in else cls.__module__,
        "class_name": cls.__name__,
        "config": optimizer.get_config(),
        "registered_name": None if built_in else cls.__name__,
    }


def deserialize(config, custom_objects=None):
    """Rebuild an optimizer from ``serialize``'s dict (names of built-ins are case-insensitive)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"optimizers.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    custom_objects = custom_objects or {}
    name = config["class_name"]
    cls = (
        custom_objects.get(name)
        or custom_objects.get(config.get("registered_name") or "")
        or _BUILT_IN.get(str(name).lower())
    )
    if cls is None:
        raise ValueError(
            f"optimizers.deserialize: unknown optimizer {name!r}; expected one of "
            f"{sorted(c.__name__ for c in _BUILT_IN.values())} or a class passed in custom_objects"
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name (``"adam"``, ``"RMSprop"``), a config dict, or an instance (returned as is).

    Returns None for None; raises ValueError for anything else.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r} (expected a name, a dict or an Optimizer)"
    )
