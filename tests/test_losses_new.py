"""Focal crossentropies, Dice, Tversky, Circle, the generalized crossentropy and CTC against real Keras 3
(torch backend): values with sample weights, reductions, config, gradients."""

import os

import numpy as np
import pytest

import ember
from tests.oracles import check_gradients

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for the losses")


RNG = np.random.default_rng(0)


def _probabilities(shape):
    p = RNG.uniform(0.02, 0.98, size=shape).astype("float32")
    return p


def _onehot(n, k):
    return np.eye(k, dtype="float32")[RNG.integers(0, k, n)]


CASES = [
    (
        "BinaryFocalCrossentropy",
        {},
        lambda: ((RNG.uniform(size=(8, 3)) > 0.5).astype("float32"), _probabilities((8, 3))),
    ),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.1},
        lambda: ((RNG.uniform(size=(8, 3)) > 0.5).astype("float32"), _probabilities((8, 3))),
    ),
    (
        "BinaryFocalCrossentropy",
        {"from_logits": True},
        lambda: ((RNG.uniform(size=(8, 3)) > 0.5).astype("float32"), RNG.normal(size=(8, 3)).astype("float32")),
    ),
    ("CategoricalFocalCrossentropy", {}, lambda: (_onehot(8, 4), _probabilities((8, 4)))),
    (
        "CategoricalFocalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0, "alpha": 0.5},
        lambda: (_onehot(8, 4), RNG.normal(size=(8, 4)).astype("float32")),
    ),
    ("Dice", {}, lambda: ((RNG.uniform(size=(8, 5)) > 0.5).astype("float32"), _probabilities((8, 5)))),
    (
        "Dice",
        {"axis": [1, 2]},
        lambda: ((RNG.uniform(size=(8, 4, 4)) > 0.5).astype("float32"), _probabilities((8, 4, 4))),
    ),
    (
        "Tversky",
        {"alpha": 0.7, "beta": 0.3},
        lambda: ((RNG.uniform(size=(8, 5)) > 0.5).astype("float32"), _probabilities((8, 5))),
    ),
    ("Tversky", {"axis": 1}, lambda: ((RNG.uniform(size=(8, 5)) > 0.5).astype("float32"), _probabilities((8, 5)))),
    (
        "CategoricalGeneralizedCrossEntropy",
        {"q": 0.7},
        lambda: (RNG.integers(0, 4, 8), _probabilities((8, 4))),
    ),
]


@pytest.mark.parametrize("name,kwargs,make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_losses_match_keras(name, kwargs, make, reduction):
    keras = _keras()
    y_true, y_pred = make()
    weights = RNG.uniform(0.2, 2.0, size=len(y_true)).astype("float32")
    k = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    e = getattr(ember.losses, name)(reduction=reduction, **kwargs)
    for sw in (None, weights):
        if sw is not None and ("axis" not in kwargs and name in ("Dice", "Tversky")):
            continue  # one value for the whole batch: no per-sample weights to apply
        expected = np.asarray(k(y_true, y_pred, sample_weight=sw))
        got = e(y_true, y_pred, sample_weight=sw).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    config = e.get_config()
    assert set(config) == set(k.get_config())
    assert type(e).from_config(config).get_config() == config
    assert isinstance(ember.losses.get(name), getattr(ember.losses, name))


@pytest.mark.parametrize(
    "fn,kwargs,make",
    [
        (
            "binary_focal_crossentropy",
            {"apply_class_balancing": True},
            lambda: ((RNG.uniform(size=(4, 3)) > 0.5) * 1.0, RNG.uniform(0.1, 0.9, (4, 3))),
        ),
        (
            "categorical_focal_crossentropy",
            {"from_logits": True},
            lambda: (np.eye(3)[[0, 2, 1, 1]], RNG.normal(size=(4, 3))),
        ),
        ("dice", {"axis": 1}, lambda: ((RNG.uniform(size=(4, 3)) > 0.5) * 1.0, RNG.uniform(0.1, 0.9, (4, 3)))),
        (
            "tversky",
            {"alpha": 0.3, "beta": 0.7, "axis": 1},
            lambda: ((RNG.uniform(size=(4, 3)) > 0.5) * 1.0, RNG.uniform(0.1, 0.9, (4, 3))),
        ),
    ],
)
def test_loss_gradients_match_finite_differences(fn, kwargs, make):
    from tests.oracles import Const

    y_true, y_pred = make()
    check_gradients(lambda t, p: getattr(ember.losses, fn)(t, p, **kwargs), Const(y_true), y_pred)


def test_circle_matches_keras():
    keras = _keras()
    emb = RNG.normal(size=(10, 6)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = RNG.integers(0, 3, 10)
    for kwargs in ({}, {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}):
        expected = np.asarray(keras.losses.Circle(**kwargs)(labels, emb))
        got = ember.losses.Circle(**kwargs)(labels, emb).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    x = ember.tensor(emb, requires_grad=True)
    ember.losses.Circle(gamma=10.0)(labels, x).backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_ctc_matches_keras():
    keras = _keras()
    logits = RNG.normal(size=(3, 12, 6)).astype("float32")
    labels = np.array([[1, 2, 3, 0], [4, 4, 0, 0], [5, 1, 2, 2]], dtype="int32")
    expected = np.asarray(keras.losses.CTC()(labels, logits))
    np.testing.assert_allclose(ember.losses.CTC()(labels, logits).numpy(), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size, max_length"):
        ember.losses.ctc(labels[0], logits)


def test_generalized_crossentropy_refuses_a_bad_q():
    with pytest.raises(ValueError, match="q must be"):
        ember.losses.CategoricalGeneralizedCrossEntropy(q=1.0)


def test_focal_loss_trains_a_model_as_keras():
    keras = _keras()
    x = RNG.normal(size=(16, 4)).astype("float32")
    y = (RNG.uniform(size=(16, 1)) > 0.5).astype("float32")
    results = []
    for k in (keras, ember):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(1, activation="sigmoid")])
        model.set_weights([np.full((4, 1), 0.2, "float32"), np.zeros(1, "float32")])
        model.compile(k.optimizers.SGD(0.5), loss=k.losses.BinaryFocalCrossentropy(apply_class_balancing=True))
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for a, b in zip(results[1], results[0]):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
