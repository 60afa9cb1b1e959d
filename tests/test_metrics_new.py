"""F-scores, R2Score, the IoU family and the correlation metrics against real Keras 3 (torch backend):
several batches, sample weights, thresholds, averages, config."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for the metrics")


def _run(metric, batches):
    for batch in batches:
        metric.update_state(*batch[:2], sample_weight=batch[2] if len(batch) > 2 else None)
    return np.asarray(metric.result())


def _same(name, kwargs, batches):
    keras = _keras()
    expected = _run(getattr(keras.metrics, name)(**kwargs), batches)
    metric = getattr(ember.metrics, name)(**kwargs)
    got = _run(metric, batches)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # reset, then the same again; config rebuilds an equal metric
    metric.reset_state()
    np.testing.assert_allclose(_run(metric, batches), expected, rtol=1e-5, atol=1e-6)
    again = type(metric).from_config(metric.get_config())
    np.testing.assert_allclose(_run(again, batches), expected, rtol=1e-5, atol=1e-6)
    kconfig = getattr(keras.metrics, name)(**kwargs).get_config()
    assert set(metric.get_config()) == set(kconfig), set(metric.get_config()) ^ set(kconfig)


RNG = np.random.default_rng(0)


def _classification_batches(weighted, multilabel=False):
    out = []
    for _ in range(3):
        if multilabel:
            y = (RNG.uniform(size=(16, 4)) > 0.5).astype("float32")
        else:
            y = np.eye(4, dtype="float32")[RNG.integers(0, 4, 16)]
        p = RNG.uniform(size=(16, 4)).astype("float32")
        out.append((y, p, RNG.uniform(0.1, 2.0, 16).astype("float32")) if weighted else (y, p))
    return out


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_f1_score_matches_keras(average, threshold, weighted):
    batches = _classification_batches(weighted, multilabel=threshold is not None)
    _same("F1Score", {"average": average, "threshold": threshold}, batches)


@pytest.mark.parametrize("beta,average", [(0.5, None), (2.0, "macro"), (2.0, "weighted")])
def test_fbeta_score_matches_keras(beta, average):
    _same("FBetaScore", {"beta": beta, "average": average, "threshold": 0.4}, _classification_batches(True, True))


def test_fbeta_score_refuses_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        ember.metrics.FBetaScore(beta=1)
    with pytest.raises(ValueError, match="average"):
        ember.metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="2D inputs"):
        ember.metrics.F1Score().update_state(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize("aggregation", ["uniform_average", "variance_weighted_average", None])
@pytest.mark.parametrize("weights", [None, "rows", "cells"])
def test_r2_score_matches_keras(aggregation, weights):
    batches = []
    for _ in range(3):
        y = RNG.normal(size=(10, 3)).astype("float32")
        p = (y + RNG.normal(size=(10, 3)) * 0.5).astype("float32")
        w = {None: None, "rows": RNG.uniform(0.1, 2, 10), "cells": RNG.uniform(0.1, 2, (10, 3))}[weights]
        batches.append((y, p) if w is None else (y, p, w.astype("float32")))
    _same("R2Score", {"class_aggregation": aggregation}, batches)


def test_adjusted_r2_score_matches_keras():
    batches = [(RNG.normal(size=(20, 1)).astype("float32"), RNG.normal(size=(20, 1)).astype("float32"))]
    _same("R2Score", {"num_regressors": 3}, batches)


def _label_batches(n_classes, weighted, with_ignored=False):
    out = []
    for _ in range(3):
        y = RNG.integers(0, n_classes, (6, 5))
        if with_ignored:
            y[0, :2] = 255
        p = RNG.integers(0, n_classes, (6, 5))
        w = RNG.integers(0, 3, (6, 5)).astype("float32")
        out.append((y, p, w) if weighted else (y, p))
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_iou_family_matches_keras(weighted):
    batches = _label_batches(4, weighted, with_ignored=True)
    _same("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, batches)
    _same("MeanIoU", {"num_classes": 4}, batches)
    _same("MeanIoU", {"num_classes": 4, "ignore_class": 1}, batches)


def test_binary_iou_matches_keras():
    batches = [
        (RNG.integers(0, 2, 20), RNG.uniform(size=20).astype("float32"), RNG.integers(0, 3, 20).astype("float32"))
        for _ in range(3)
    ]
    for ids, threshold in (((0, 1), 0.5), ((1,), 0.3), ((0,), 0.7)):
        _same("BinaryIoU", {"target_class_ids": ids, "threshold": threshold}, batches)


def test_one_hot_iou_matches_keras():
    batches = [
        (np.eye(3, dtype="float32")[RNG.integers(0, 3, 12)], RNG.uniform(size=(12, 3)).astype("float32"))
        for _ in range(3)
    ]
    _same("OneHotIoU", {"num_classes": 3, "target_class_ids": [1, 2]}, batches)
    _same("OneHotMeanIoU", {"num_classes": 3}, batches)


@pytest.mark.parametrize("name", ["PearsonCorrelation", "ConcordanceCorrelation"])
def test_correlations_match_keras(name):
    batches = []
    for _ in range(3):
        y = RNG.normal(size=(8, 5)).astype("float32")
        batches.append((y, (y + RNG.normal(size=(8, 5))).astype("float32"), RNG.uniform(size=8).astype("float32")))
    _same(name, {}, batches)


def test_new_metrics_in_compile_and_fit():
    keras = _keras()
    x = RNG.normal(size=(32, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[RNG.integers(0, 3, 32)]
    results = []
    for k in (keras, ember):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(3, activation="softmax")])
        model.set_weights([np.full((4, 3), 0.1, "float32") * np.arange(3), np.zeros(3, "float32")])
        model.compile(
            "sgd",
            "categorical_crossentropy",
            metrics=[k.metrics.F1Score(average="macro", name="f1"), k.metrics.OneHotMeanIoU(3, name="miou")],
        )
        results.append(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True))
    for key in ("loss", "f1", "miou"):
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-5)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SensitivityAtSpecificity", {"specificity": 0.7}),
        ("SpecificityAtSensitivity", {"sensitivity": 0.6, "num_thresholds": 50}),
        ("PrecisionAtRecall", {"recall": 0.5}),
        ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 100}),
        ("PrecisionAtRecall", {"recall": 0.8, "class_id": 1}),
        ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 1}),
    ],
)
def test_rate_at_rate_metrics_match_keras(name, kwargs):
    batches = []
    for _ in range(3):
        y = (RNG.uniform(size=(20, 3)) > 0.5).astype("float32")
        p = np.clip(y * 0.3 + RNG.uniform(size=(20, 3)) * 0.7, 0, 1).astype("float32")
        batches.append((y, p, RNG.uniform(0.1, 2.0, (20, 1)).astype("float32")))
    _same(name, kwargs, batches)
