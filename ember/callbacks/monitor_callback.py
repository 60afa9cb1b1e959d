"""``MonitorCallback``: the shared logic of callbacks that watch one metric for improvement.

EarlyStopping, ReduceLROnPlateau and ModelCheckpoint each follow a quantity of
the epoch logs (``monitor``) and ask whether a new value improves on a
reference by more than ``min_delta``, in the direction ``mode`` says.
"""

from __future__ import annotations

import warnings

from .callback import Callback

# Metrics that improve upward, by the names Keras gives them; used in mode='auto'
# when the model's metric objects do not say their direction themselves.
_HIGHER_IS_BETTER = (
    "accuracy",
    "acc",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "iou",
    "true_positives",
    "true_negatives",
)


def _iter_metrics(model):
    """Every metric object reachable from ``model.metrics`` (containers are opened)."""
    try:
        metrics = list(getattr(model, "metrics", None) or [])
    except Exception:  # a model that is not compiled yet may refuse
        return
    stack = metrics[::-1]
    while stack:
        m = stack.pop()
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)) and inner is not metrics:
            stack.extend(list(inner)[::-1])
        yield m


def _direction_from_name(name: str):
    if name.endswith("loss") or name.endswith("error"):
        return "down"
    for known in _HIGHER_IS_BETTER:
        if name == known or name.endswith("_" + known):
            return "up"
    return None


class MonitorCallback(Callback):
    """Base for callbacks that watch ``monitor`` and compare its values.

    Args:
        monitor: the log key to watch, e.g. ``'val_loss'``.
        mode: ``'min'``, ``'max'`` or ``'auto'`` (from the metric: losses go down,
            accuracies up). An unknown mode warns and falls back to ``'auto'``.
        baseline: the starting reference value (``self.best``), or None.
        min_delta: smallest change that counts as an improvement (its sign is ignored).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__}: mode {mode!r} is unknown (expected 'auto', 'min' or 'max'); using 'auto'.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        """Choose the comparison (less or greater) and give ``min_delta`` its sign."""
        if self.mode == "min":
            direction = "down"
        elif self.mode == "max":
            direction = "up"
        else:
            name = self.monitor.removeprefix("val_")
            direction = "down" if name == "loss" else None
            for m in _iter_metrics(self.model):
                if getattr(m, "name", None) == name and hasattr(m, "_direction"):
                    direction = "up" if m._direction == "up" else "down"
            if direction is None:
                direction = _direction_from_name(name)
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, and cannot tell whether "
                    "that metric should be maximized or minimized. Pass mode='max' to keep the highest value "
                    "or mode='min' to keep the lowest."
                )
        if direction == "down":
            self.monitor_op = _less
            self.min_delta = -abs(self.min_delta)
        else:
            self.monitor_op = _greater
            self.min_delta = abs(self.min_delta)

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        """Whether ``monitor_value`` beats ``reference_value`` by more than ``min_delta`` (None is always beaten)."""
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def _less(a, b):
    return a < b


def _greater(a, b):
    return a > b
