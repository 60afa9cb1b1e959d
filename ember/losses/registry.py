"""Looking losses up by name: ``get``, ``serialize``, ``deserialize`` and the 'crossentropy' shorthand."""

from __future__ import annotations

import inspect

from . import functions as fns
from .base import Loss
from .circle import Circle, circle
from .ctc import CTC, ctc
from .focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from .generalized_cross_entropy import CategoricalGeneralizedCrossEntropy, categorical_generalized_cross_entropy
from .hinge_losses import CategoricalHinge, Hinge, SquaredHinge
from .overlap import Dice, Tversky, dice, tversky
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)
from .wrapper import LossFunctionWrapper

__all__ = ["ALL_OBJECTS_DICT", "deserialize", "get", "resolve_crossentropy", "serialize"]

_CLASSES = (
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    CTC,
    Dice,
    Tversky,
)
_FUNCTIONS = tuple(getattr(fns, name) for name in fns.__all__) + (
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
    dice,
    tversky,
)

#: Every name ``get`` knows: class names, function names, and Keras's short aliases.
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in (*_CLASSES, *_FUNCTIONS)}
ALL_OBJECTS_DICT.update(
    {
        "bce": fns.binary_crossentropy,
        "BCE": fns.binary_crossentropy,
        "kld": fns.kl_divergence,
        "KLD": fns.kl_divergence,
        "mae": fns.mean_absolute_error,
        "MAE": fns.mean_absolute_error,
        "mse": fns.mean_squared_error,
        "MSE": fns.mean_squared_error,
        "mape": fns.mean_absolute_percentage_error,
        "MAPE": fns.mean_absolute_percentage_error,
        "msle": fns.mean_squared_logarithmic_error,
        "MSLE": fns.mean_squared_logarithmic_error,
    }
)


def serialize(loss):
    """A loss as a JSON-ready dict in Keras 3's format.

    A :class:`Loss` gives ``{"module", "class_name", "config", "registered_name"}``;
    a function gives ``{"module": "builtins", "class_name": "function",
    "config": <its name>, "registered_name": "function"}``; None gives None.
    """
    if loss is None:
        return None
    if isinstance(loss, Loss):
        builtin = type(loss) in _CLASSES
        return {
            "module": "keras.losses" if builtin else type(loss).__module__,
            "class_name": type(loss).__name__,
            "config": loss.get_config(),
            "registered_name": None if builtin else type(loss).__name__,
        }
    if inspect.isfunction(loss) or callable(loss) and hasattr(loss, "__name__"):
        return {"module": "builtins", "class_name": "function", "config": loss.__name__, "registered_name": "function"}
    raise ValueError(f"losses.serialize: expected a Loss instance or a loss function, got {loss!r}")


def _lookup(name, custom_objects, what):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[name]
    raise ValueError(f"losses.deserialize: unknown {what} {name!r}; known names: {sorted(ALL_OBJECTS_DICT)}")


def deserialize(name, custom_objects=None):
    """A loss from what :func:`serialize` made (or from a name).

    Args:
        name: a dict with ``class_name`` and ``config`` (Keras 3 or Keras 2
            style), or a string name.
        custom_objects: extra ``{name: class or function}`` to look in first.

    Returns:
        A :class:`Loss` instance, or a loss function.
    """
    if name is None:
        return None
    if isinstance(name, str):
        return _lookup(name, custom_objects, "loss")
    if not isinstance(name, dict) or "class_name" not in name:
        raise ValueError(f"losses.deserialize: expected a dict with 'class_name' and 'config' or a name, got {name!r}")
    class_name, config = name["class_name"], name.get("config", {})
    if class_name == "function":
        return _lookup(config, custom_objects, "loss function")
    cls = _lookup(class_name, custom_objects, "loss class")
    if not inspect.isclass(cls):
        return cls
    return cls.from_config(config or {})


def get(identifier):
    """The loss an identifier names, as ``model.compile(loss=...)`` takes it.

    Args:
        identifier: None; a string (a class name such as
            ``"CategoricalCrossentropy"``, a function name such as
            ``"categorical_crossentropy"``, or an alias such as ``"mse"``);
            a config dict; a loss function; a Loss class or instance.

    Returns:
        None, a loss function (for function names), or a Loss instance
        (classes are instantiated with their defaults).

    The shorthand ``"crossentropy"``/``"ce"`` depends on the data's shapes:
    see :func:`resolve_crossentropy`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    hint = " ('crossentropy'/'ce' need the data's shapes: use resolve_crossentropy)" if _is_ce(identifier) else ""
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}{hint}")


def _is_ce(identifier) -> bool:
    return isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")


def resolve_crossentropy(y_true_shape, y_pred_shape):
    """The crossentropy function Keras 3's compile picks for ``loss="crossentropy"`` (or ``"ce"``).

    A last axis of size 1 in ``y_pred`` means binary; a ``y_true`` of lower
    rank, or with a last axis of 1 against several classes, means sparse
    labels; anything else is categorical.

    Args:
        y_true_shape, y_pred_shape: the shapes of the targets and outputs.

    Returns:
        ``binary_crossentropy``, ``sparse_categorical_crossentropy`` or
        ``categorical_crossentropy``.
    """
    is_binary, is_sparse = binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary:
        return fns.binary_crossentropy
    if is_sparse:
        return fns.sparse_categorical_crossentropy
    return fns.categorical_crossentropy


def binary_or_sparse_categorical(y_true_shape, y_pred_shape):
    """Keras 3's shape test behind 'accuracy' and 'crossentropy': ``(is_binary, is_sparse_categorical)``."""
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if not y_true_shape or not y_pred_shape:
        raise ValueError(
            f"expected y_true and y_pred of rank >= 1 to choose a crossentropy/accuracy, "
            f"got shapes {y_true_shape} and {y_pred_shape}"
        )
    t_last, p_last = y_true_shape[-1], y_pred_shape[-1]
    is_binary = p_last == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (t_last == 1 and p_last > 1)
    return is_binary, is_sparse
