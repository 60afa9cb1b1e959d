"""Looking metrics up by name: ``get``, ``serialize``, ``deserialize``, and the 'accuracy' shorthand."""

from __future__ import annotations

import inspect

from .. import losses
from ..losses._naming import to_snake_case
from ..losses.registry import binary_or_sparse_categorical
from . import accuracy_metrics as acc
from .at_threshold import PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity
from .base import Metric
from .confusion import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .correlation import ConcordanceCorrelation, PearsonCorrelation
from .f_score import F1Score, FBetaScore
from .iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .r2_score import R2Score
from .reduction import Mean, MeanMetricWrapper, Sum
from .regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
)

__all__ = ["ALL_OBJECTS_DICT", "deserialize", "get", "resolve_accuracy", "serialize"]

_CLASSES = (
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    acc.Accuracy,
    acc.BinaryAccuracy,
    acc.CategoricalAccuracy,
    acc.SparseCategoricalAccuracy,
    acc.TopKCategoricalAccuracy,
    acc.SparseTopKCategoricalAccuracy,
    F1Score,
    FBetaScore,
    R2Score,
    IoU,
    BinaryIoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
    PearsonCorrelation,
    ConcordanceCorrelation,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)

#: Every name ``get`` knows: class names, their snake_case forms, and Keras's short aliases.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)

# per-sample functions a MeanMetricWrapper may hold, by name (for configs)
_FUNCTIONS = {name: getattr(acc, name) for name in acc.__all__ if name[0].islower()}
_FUNCTIONS["cosine_similarity"] = cosine_similarity


def serialize_function(fn):
    """A function as Keras 3 records it: ``{"module": "builtins", "class_name": "function", "config": name, ...}``."""
    return losses.serialize(fn)


def deserialize_function(config, custom_objects=None):
    """The function :func:`serialize_function` recorded (metric functions first, then loss functions)."""
    name = config.get("config") if isinstance(config, dict) else config
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    return losses.deserialize(config, custom_objects)


def serialize(metric):
    """A metric as a JSON-ready dict in Keras 3's format (a function: its name, as for losses)."""
    if metric is None:
        return None
    if isinstance(metric, Metric):
        builtin = type(metric) in _CLASSES
        return {
            "module": "keras.metrics" if builtin else type(metric).__module__,
            "class_name": type(metric).__name__,
            "config": metric.get_config(),
            "registered_name": None if builtin else type(metric).__name__,
        }
    if callable(metric) and hasattr(metric, "__name__"):
        return serialize_function(metric)
    raise ValueError(f"metrics.serialize: expected a Metric instance or a metric function, got {metric!r}")


def deserialize(config, custom_objects=None):
    """A metric from what :func:`serialize` made, or from a name.

    Args:
        config: a dict with ``class_name`` and ``config``, or a string name.
        custom_objects: extra ``{name: class or function}`` to look in first.
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = (custom_objects or {}).get(config) or ALL_OBJECTS_DICT.get(config)
        if obj is None:
            raise ValueError(f"metrics.deserialize: unknown metric {config!r}")
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"metrics.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    if config["class_name"] == "function":
        return deserialize_function(config, custom_objects)
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(name)
    if cls is None:
        raise ValueError(f"metrics.deserialize: unknown metric class {name!r}")
    return cls.from_config(config.get("config") or {})


def get(identifier):
    """The metric an identifier names, as Keras 3's ``keras.metrics.get`` resolves it.

    Args:
        identifier: None; a class name (``"AUC"``) or its snake_case form
            (``"binary_accuracy"``, ``"mean_squared_error"``) or an alias
            (``"mse"``, ``"mae"``, ``"mape"``, ``"msle"``, ``"bce"``); a config
            dict; a function; a Metric class or instance.

    Returns:
        None, a Metric instance (classes are instantiated), or the function.

    ``"accuracy"`` gives :class:`Accuracy` (exact equality) here, as in Keras;
    ``model.compile(metrics=["accuracy"])`` should instead call
    :func:`resolve_accuracy`, which picks the accuracy that fits the data
    (``"acc"`` is only understood there).
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
    hint = " (use resolve_accuracy for 'acc')" if identifier == "acc" else ""
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}{hint}")


def resolve_accuracy(loss_identifier, y_true_shape, y_pred_shape, name="accuracy"):
    """The accuracy metric Keras 3's ``compile`` picks for ``metrics=["accuracy"]`` (or ``"acc"``).

    Keras 3 decides from the shapes alone: an output with a last axis of 1 is
    binary (:class:`BinaryAccuracy`); targets of lower rank than the outputs,
    or with a last axis of 1 against several classes, are sparse labels
    (:class:`SparseCategoricalAccuracy`); otherwise one-hot
    (:class:`CategoricalAccuracy`).

    Args:
        loss_identifier: the compiled loss (name, function or Loss); Keras 3's
            rule does not use it, it is accepted so a caller can pass it along.
        y_true_shape: the targets' shape, with the batch axis.
        y_pred_shape: the outputs' shape, with the batch axis.
        name: the metric's name (the string the user gave, ``"accuracy"`` or ``"acc"``).

    Returns:
        A new accuracy metric named ``name``.
    """
    del loss_identifier
    is_binary, is_sparse = binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary:
        return acc.BinaryAccuracy(name=name)
    if is_sparse:
        return acc.SparseCategoricalAccuracy(name=name)
    return acc.CategoricalAccuracy(name=name)
