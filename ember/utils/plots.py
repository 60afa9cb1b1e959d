"""Training pictures: learning curves, k-fold score boxes, confusion matrices and ROC curves.

Each function draws with matplotlib (the ``viz`` extra), imported only when a
function is called and always with the non-interactive ``Agg`` canvas, so the
functions work on servers without a display. Each returns the matplotlib
``Figure`` and, given ``to_file``, saves it there (PNG for a ``.png`` name).
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_history", "plot_kfold", "plot_roc"]

_TRAIN, _VAL = "b", "g"  # the seeds' colours: training blue, validation green


def _new_figure(figsize):
    """A fresh matplotlib Figure (pyplot's global state untouched), or a clear ImportError."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "ember.utils plotting needs matplotlib: `pip install matplotlib` (or `pip install ember[viz]`)"
        ) from err
    return Figure(figsize=figsize)


def _sklearn_metrics(where):
    try:
        from sklearn import metrics
    except ImportError as err:
        raise ImportError(f"{where} needs scikit-learn: `pip install scikit-learn`") from err
    return metrics


def _save(fig, to_file):
    if to_file is not None:
        to_file = os.fspath(to_file)
        if os.path.dirname(to_file):
            os.makedirs(os.path.dirname(to_file), exist_ok=True)
        fig.savefig(to_file, dpi=100, bbox_inches="tight")
    return fig


def _read_csv_log(path):
    """A CSVLogger file as {key: [float per epoch]} (``NA`` and empty cells become NaN)."""
    with open(path, newline="", encoding="utf-8") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        rows = list(csv.DictReader(f, delimiter=delimiter))
    if not rows:
        raise ValueError(f"plot_history: {path!r} has no rows; expected a CSVLogger file with a header and epochs")
    history = {}
    for key in rows[0]:
        if key is None or key == "epoch":
            continue
        values = []
        for row in rows:
            cell = (row.get(key) or "").strip()
            try:
                values.append(float(cell))
            except ValueError:
                values.append(math.nan)
        history[key] = values
    return history


def _as_history(history):
    if isinstance(history, (str, os.PathLike)):
        return _read_csv_log(os.fspath(history))
    if hasattr(history, "history") and isinstance(history.history, dict):
        return history.history
    if isinstance(history, dict):
        return history
    raise TypeError(
        f"plot_history: expected a History (from fit), its .history dict, or a CSVLogger file path, "
        f"got {type(history).__name__}"
    )


def _title(name):
    if name == "loss":
        return "Training & Validation Loss"
    return f"Training & Validation {name.replace('_', ' ').title()}"


def plot_history(history, to_file=None, metrics=None):
    """Training and validation curves of a ``fit`` run, one panel per quantity.

    Draws ``loss`` first and then every other recorded metric, each against the epoch number
    (1, 2, ...), with the training values in blue and the ``val_`` values in green, as the seeds
    draw them by hand.

    Args:
        history: the ``History`` that ``fit`` returns, its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], ...}``), or the path of a CSVLogger file.
        to_file: where to save the figure (PNG for ``.png``); None saves nothing.
        metrics: the names to draw (without ``val_``), e.g. ``["loss", "accuracy"]``; None draws all.

    Returns:
        The matplotlib ``Figure``.
    """
    logs = _as_history(history)
    names = [k for k in logs if not k.startswith("val_") and k != "epoch"]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]  # validation-only keys
    names.sort(key=lambda k: (k != "loss", list(logs).index(k) if k in logs else len(logs)))
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise ValueError(f"plot_history: metrics {unknown} are not in the history; it has {names}")
        names = metrics
    if not names:
        raise ValueError(f"plot_history: the history is empty (keys: {sorted(logs)}); expected loss or metrics")
    fig = _new_figure(figsize=(6.4, 3.2 * len(names)))
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        for key, style, label in ((name, _TRAIN, "Training"), ("val_" + name, _VAL, "Validation")):
            if key in logs:
                values = np.asarray(logs[key], dtype=float).reshape(-1)
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", markersize=3, label=label)
        ax.set_title(_title(name))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(name)
        ax.legend()
    fig.tight_layout()
    return _save(fig, to_file)


def plot_kfold(scores, histories=None, to_file=None):
    """Cross-validation results: a box plot of the fold scores, and each fold's curves if given.

    As seed 000 draws them: the curves of every fold on top (loss, then accuracy; training red,
    validation green), and the box plot of the scores with their mean and standard deviation.

    Args:
        scores: one score per fold (e.g. the accuracy of ``evaluate`` on the held-out fold).
        histories: optional, one ``History`` (or dict, or CSV path) per fold.
        to_file: where to save the figure; None saves nothing.

    Returns:
        The matplotlib ``Figure``.
    """
    scores = np.asarray(scores, dtype=float).reshape(-1)
    if scores.size == 0:
        raise ValueError("plot_kfold: expected one score per fold, got none")
    logs = [_as_history(h) for h in (histories or [])]
    curves = []
    if logs:
        first = logs[0]
        curves = ["loss"] if "loss" in first else []
        curves += [k for k in first if k not in ("loss", "epoch") and not k.startswith("val_")][:1]
    rows = len(curves) + 1
    fig = _new_figure(figsize=(6.4, 3.0 * rows))
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, curves):
        for i, log in enumerate(logs):
            for key, color, label in ((name, "red", "train"), ("val_" + name, "green", "test")):
                if key in log:
                    values = np.asarray(log[key], dtype=float).reshape(-1)
                    ax.plot(np.arange(1, len(values) + 1), values, color=color, label=label if i == 0 else None)
        ax.set_title(f"{name} per fold ({len(logs)} folds)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("Epoch")
        ax.legend()
    box = axes[-1]
    box.boxplot(scores)
    box.set_title(f"Fold scores: mean={scores.mean():.4f} std={scores.std():.4f}, n={scores.size}")
    box.set_xticks([1], ["folds"])
    box.set_ylabel("score")
    fig.tight_layout()
    return _save(fig, to_file)


def _class_indices(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows or probabilities
        return y.argmax(axis=1)
    if y.ndim > 1:
        y = y.reshape(-1)
    return y


def plot_confusion_matrix(y_true, y_pred, labels=None, normalize=None, to_file=None):
    """The confusion matrix of a classifier as a colour grid with its counts written in.

    Args:
        y_true: true classes, shape (n,), or one-hot rows (n, classes).
        y_pred: predicted classes (n,), or per-class probabilities / one-hot rows (n, classes)
            (their argmax is taken).
        labels: names to show for the classes, in class order; default the class values.
        normalize: None (counts), "true" (each row sums to 1), "pred" (each column) or "all",
            as in scikit-learn.
        to_file: where to save the figure; None saves nothing.

    Returns:
        The matplotlib ``Figure``.
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"plot_confusion_matrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    t = _class_indices(y_true)
    p = _class_indices(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"plot_confusion_matrix: y_true has {t.shape[0]} samples and y_pred {p.shape[0]}")
    metrics = _sklearn_metrics("plot_confusion_matrix")
    classes = np.unique(np.concatenate([t, p]))
    if labels is not None:
        labels = list(labels)
        if len(labels) < len(classes):
            raise ValueError(
                f"plot_confusion_matrix: {len(labels)} labels given for {len(classes)} classes {classes.tolist()}"
            )
        if np.issubdtype(classes.dtype, np.integer) and classes.min() >= 0 and classes.max() < len(labels):
            classes = np.arange(len(labels))
    matrix = metrics.confusion_matrix(t, p, labels=classes, normalize=normalize)
    names = labels if labels is not None else [str(c) for c in classes]
    size = max(4.0, 0.6 * len(classes) + 2.5)
    fig = _new_figure(figsize=(size, size))
    ax = fig.subplots()
    display = metrics.ConfusionMatrixDisplay(matrix, display_labels=names)
    display.plot(ax=ax, cmap="Blues", colorbar=True, values_format=".2f" if normalize else "d")
    ax.set_title("Confusion matrix" + (f" (normalized over {normalize})" if normalize else ""))
    fig.tight_layout()
    return _save(fig, to_file)


def plot_roc(y_true, y_score, to_file=None):
    """ROC curves with their areas: one for a binary problem, one per class (one-vs-rest) otherwise.

    Args:
        y_true: true classes (n,) (0/1 for binary), or one-hot rows (n, classes).
        y_score: scores of the positive class (n,) or (n, 1) for binary; per-class scores
            (n, classes) for several classes (e.g. softmax outputs).
        to_file: where to save the figure; None saves nothing.

    Returns:
        The matplotlib ``Figure``.
    """
    metrics = _sklearn_metrics("plot_roc")
    score = np.asarray(y_score, dtype=float)
    if score.ndim == 2 and score.shape[1] == 1:
        score = score[:, 0]
    truth = np.asarray(y_true)
    if score.ndim == 1:
        truth = truth.reshape(-1)
        if truth.shape[0] != score.shape[0]:
            raise ValueError(f"plot_roc: y_true has {truth.shape[0]} samples and y_score {score.shape[0]}")
        curves = [("positive class", truth, score)]
    elif score.ndim == 2:
        n_classes = score.shape[1]
        if truth.ndim == 2:
            if truth.shape != score.shape:
                raise ValueError(f"plot_roc: one-hot y_true has shape {truth.shape}, y_score {score.shape}")
            onehot = truth
        else:
            truth = truth.reshape(-1).astype(int)
            if truth.shape[0] != score.shape[0]:
                raise ValueError(f"plot_roc: y_true has {truth.shape[0]} samples and y_score {score.shape[0]}")
            onehot = np.eye(n_classes)[truth]
        curves = [(f"class {k}", onehot[:, k], score[:, k]) for k in range(n_classes) if 0 < onehot[:, k].sum()]
    else:
        raise ValueError(f"plot_roc: y_score must be (n,) or (n, classes), got shape {score.shape}")
    fig = _new_figure(figsize=(5.5, 5.0))
    ax = fig.subplots()
    for name, t, s in curves:
        fpr, tpr, _ = metrics.roc_curve(t, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC = {metrics.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _save(fig, to_file)
