"""ember.metrics against Keras 3 (torch backend): accumulation over batches, weights, reset, AUC, Precision/Recall."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="the oracle for these tests is Keras 3")
torch = pytest.importorskip("torch", reason="Keras 3 runs on its torch backend here")

import ember  # noqa: E402
import ember.metrics as M  # noqa: E402, N812

RTOL, ATOL = 1e-5, 1e-6


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, ember.Tensor):
        return x.numpy()
    return np.asarray(x)


def _close(a, b, rtol=RTOL, atol=ATOL):
    a, b = _np(a), _np(b)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale)


def _run_both(ours, theirs, batches):
    """Feed the same batches to both metrics, checking the result after each, then reset and feed one again."""
    for args, kwargs in batches:
        ours.update_state(*args, **kwargs)
        theirs.update_state(*args, **kwargs)
        _close(ours.result(), theirs.result())
    ours.reset_state()
    theirs.reset_state()
    _close(ours.result(), theirs.result())
    args, kwargs = batches[-1]
    ours.update_state(*args, **kwargs)
    theirs.update_state(*args, **kwargs)
    _close(ours.result(), theirs.result())


def _batches(make, n=3, weights=True, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y_true, y_pred = make(rng)
        kwargs = {}
        if weights and i % 2 == 1:
            kwargs["sample_weight"] = rng.uniform(0, 2, size=(len(y_pred),)).astype(np.float32)
        out.append(((y_true, y_pred), kwargs))
    return out


def _onehot(rng, n=16, c=5):
    return np.eye(c, dtype=np.float32)[rng.integers(0, c, size=n)], rng.dirichlet(np.ones(c), size=n).astype(np.float32)


def _sparse(rng, n=16, c=5):
    return rng.integers(0, c, size=(n,)), rng.dirichlet(np.ones(c), size=n).astype(np.float32)


def _binary(rng, n=16):
    return rng.integers(0, 2, size=(n, 1)).astype(np.float32), rng.uniform(size=(n, 1)).astype(np.float32)


def _regression(rng, n=12, d=3):
    return rng.normal(size=(n, d)).astype(np.float32), rng.normal(size=(n, d)).astype(np.float32)


def _positive(rng, n=12, d=3):
    return rng.uniform(0, 3, size=(n, d)).astype(np.float32), rng.uniform(0.1, 3, size=(n, d)).astype(np.float32)


CASES = [
    ("Accuracy", {}, lambda r: (r.integers(0, 3, size=(12, 1)), r.integers(0, 3, size=(12, 1)).astype(np.float32))),
    ("BinaryAccuracy", {}, _binary),
    ("BinaryAccuracy", {"threshold": 0.3}, _binary),
    ("CategoricalAccuracy", {}, _onehot),
    ("SparseCategoricalAccuracy", {}, _sparse),
    ("SparseCategoricalAccuracy", {}, lambda r: (r.integers(0, 5, size=(16, 1)), _sparse(r)[1])),
    ("TopKCategoricalAccuracy", {"k": 2}, _onehot),
    ("TopKCategoricalAccuracy", {}, lambda r: _onehot(r, c=8)),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, _sparse),
    ("MeanSquaredError", {}, _regression),
    ("MeanAbsoluteError", {}, _regression),
    ("MeanAbsolutePercentageError", {}, _regression),
    ("MeanSquaredLogarithmicError", {}, _positive),
    ("RootMeanSquaredError", {}, _regression),
    ("CosineSimilarity", {}, _regression),
    ("LogCoshError", {}, _regression),
    ("CategoricalCrossentropy", {}, _onehot),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, _onehot),
    ("SparseCategoricalCrossentropy", {}, _sparse),
    ("BinaryCrossentropy", {}, _binary),
    ("BinaryCrossentropy", {"from_logits": True}, lambda r: (_binary(r)[0], r.normal(size=(16, 1)).astype("f4"))),
    ("KLDivergence", {}, _onehot),
    ("Poisson", {}, _positive),
    ("Hinge", {}, _regression),
    ("SquaredHinge", {}, _regression),
    ("CategoricalHinge", {}, _onehot),
]


@pytest.mark.parametrize("name,kwargs,make", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
def test_metric_over_batches_matches_keras(name, kwargs, make):
    ours, theirs = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    _run_both(ours, theirs, _batches(make))
    assert ours.get_config() == theirs.get_config()
    assert len(ours.variables) == len(theirs.variables)
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]


def test_functions_match_keras():
    rng = np.random.default_rng(1)
    y, p = _onehot(rng, n=10, c=6)
    labels = y.argmax(-1)
    pairs = [
        ("categorical_accuracy", (y, p), {}),
        ("sparse_categorical_accuracy", (labels, p), {}),
        ("sparse_categorical_accuracy", (labels[:, None], p), {}),
        ("top_k_categorical_accuracy", (y, p), {"k": 3}),
        ("sparse_top_k_categorical_accuracy", (labels, p), {"k": 2}),
        ("binary_accuracy", _binary(rng), {"threshold": 0.7}),
    ]
    for name, args, kwargs in pairs:
        ours, theirs = getattr(M, name)(*args, **kwargs), getattr(keras.metrics, name)(*args, **kwargs)
        assert ours.shape == tuple(theirs.shape), name
        _close(ours, theirs)
    # sequences: (batch, time, classes)
    y3, p3 = np.eye(4, dtype="f4")[rng.integers(0, 4, size=(3, 5))], rng.uniform(size=(3, 5, 4)).astype("f4")
    _close(M.categorical_accuracy(y3, p3), keras.metrics.categorical_accuracy(y3, p3))
    _close(M.top_k_categorical_accuracy(y3, p3, k=2), keras.metrics.top_k_categorical_accuracy(y3, p3, k=2))


def test_mean_and_sum_with_weight_shapes():
    rng = np.random.default_rng(2)
    for cls in ("Mean", "Sum"):
        ours, theirs = getattr(M, cls)(), getattr(keras.metrics, cls)()
        batches = [
            ((rng.normal(size=(4, 3)).astype("f4"),), {}),
            ((rng.normal(size=(4, 3)).astype("f4"),), {"sample_weight": rng.uniform(size=(4,)).astype("f4")}),
            ((rng.normal(size=(4, 3)).astype("f4"),), {"sample_weight": rng.uniform(size=(4, 3)).astype("f4")}),
            ((rng.normal(size=(4, 3, 2)).astype("f4"),), {"sample_weight": rng.uniform(size=(4, 3)).astype("f4")}),
            ((np.float32(2.5),), {}),
        ]
        _run_both(ours, theirs, batches)


def test_mean_metric_wrapper_of_a_loss_and_a_mask():
    rng = np.random.default_rng(3)
    ours = M.MeanMetricWrapper(ember.losses.mean_squared_error)
    theirs = keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error)
    y, p = rng.normal(size=(3, 5, 2)).astype("f4"), rng.normal(size=(3, 5, 2)).astype("f4")
    mask = rng.integers(0, 2, size=(3, 5)).astype(bool)
    ep, tp = ember.tensor(p), torch.tensor(p)
    ep._keras_mask, tp._keras_mask = ember.tensor(mask), torch.tensor(mask)
    ours.update_state(y, ep)
    theirs.update_state(y, tp)
    _close(ours.result(), theirs.result())
    sw = rng.uniform(size=(3, 5)).astype("f4")
    ours.update_state(y, ep, sample_weight=sw)
    theirs.update_state(y, tp, sample_weight=sw)
    _close(ours.result(), theirs.result())
    config = ours.get_config()
    assert config["fn"] == theirs.get_config()["fn"]
    assert M.MeanMetricWrapper.from_config(config)._fn is ember.losses.mean_squared_error


def test_inputs_with_graphs_build_no_graph():
    p = ember.tensor(np.random.default_rng(4).uniform(size=(6, 3)), requires_grad=True)
    y = np.eye(3, dtype="f4")[[0, 1, 2, 0, 1, 2]]
    m = M.CategoricalCrossentropy()
    m.update_state(y, p * 2.0)
    r = m.result()
    assert r.grad_fn is None and not r.requires_grad
    assert all(not v.requires_grad for v in m.variables)


def _auc_batches(seed, n=3, size=40, weights=True, logits=False, shape=None):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        shape_i = shape or (size,)
        y = rng.integers(0, 2, size=shape_i).astype("f4")
        # include exact threshold values and the ends, where bucketing is delicate
        p = rng.uniform(size=shape_i).astype("f4")
        flat = p.reshape(-1)
        flat[:6] = [0.0, 1.0, 0.5, 1 / 199, 0.25, 0.75]
        if logits:
            p = rng.normal(scale=2, size=shape_i).astype("f4")
        kwargs = {"sample_weight": rng.uniform(size=(shape_i[0],)).astype("f4")} if weights and i != 0 else {}
        out.append(((y, p), kwargs))
    return out


@pytest.mark.parametrize("curve", ["ROC", "PR", "PRGAIN"])
@pytest.mark.parametrize("summation_method", ["interpolation", "majoring", "minoring"])
@pytest.mark.slow
def test_auc_matches_keras(curve, summation_method):
    # default names ("auc", "auc_1", ...) come from each side's name counter: start both from a fresh session, as
    # earlier tests may have made AUCs on one side only
    ember.backend.clear_session()
    keras.backend.clear_session()
    for kwargs in ({}, {"num_thresholds": 7}, {"thresholds": [0.1, 0.3, 0.5, 0.9]}):
        ours = M.AUC(curve=curve, summation_method=summation_method, **kwargs)
        theirs = keras.metrics.AUC(curve=curve, summation_method=summation_method, **kwargs)
        _run_both(ours, theirs, _auc_batches(5))
        assert ours.get_config() == theirs.get_config()
        _close(ours.thresholds, theirs.thresholds)


def test_auc_from_logits_column_outputs_multi_label_and_label_weights():
    cases = [
        ({"from_logits": True}, {"logits": True}),
        ({}, {"shape": (30, 1)}),
        ({"label_weights": [0.2, 1.0, 0.5]}, {"shape": (30, 3)}),
        ({"multi_label": True}, {"shape": (30, 3)}),
        ({"multi_label": True, "num_labels": 3, "label_weights": [0.2, 1.0, 0.5]}, {"shape": (30, 3)}),
        ({"multi_label": True, "curve": "PR"}, {"shape": (30, 3)}),
        ({"multi_label": True, "thresholds": [0.2, 0.4, 0.8]}, {"shape": (30, 3)}),
    ]
    for kwargs, data in cases:
        ours, theirs = M.AUC(**kwargs), keras.metrics.AUC(**kwargs)
        _run_both(ours, theirs, _auc_batches(6, **data))


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
def test_precision_recall_matches_keras(cls):
    rng = np.random.default_rng(7)
    binary = _auc_batches(8, shape=(25, 1))
    multi = []
    for i in range(3):
        y = (rng.uniform(size=(20, 5)) < 0.3).astype("f4")
        p = rng.uniform(size=(20, 5)).astype("f4")
        kwargs = {"sample_weight": rng.uniform(size=(20,)).astype("f4")} if i else {}
        multi.append(((y, p), kwargs))
    settings = [
        ({}, binary),
        ({"thresholds": 0.3}, binary),
        ({"thresholds": [0.0, 0.5, 1.0]}, binary),  # evenly spaced: the bucketed path
        ({"thresholds": [0.2, 0.45, 0.9]}, binary),
        ({}, multi),
        ({"top_k": 2}, multi),
        ({"class_id": 3}, multi),
        ({"top_k": 2, "class_id": 1}, multi),
        ({"top_k": 1, "thresholds": [0.3, 0.6]}, multi),
    ]
    for kwargs, batches in settings:
        ours, theirs = getattr(M, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
        _run_both(ours, theirs, batches)
        assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("cls", ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives"])
def test_condition_counts_match_keras(cls):
    for kwargs in ({}, {"thresholds": [0.15, 0.5, 0.85]}):
        ours, theirs = getattr(M, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)
        _run_both(ours, theirs, _auc_batches(9, shape=(20, 2)))


def test_get_resolves_names_like_keras():
    names = [
        "mse", "MSE", "mae", "mape", "msle", "bce", "accuracy", "binary_accuracy", "categorical_accuracy",
        "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
        "AUC", "auc", "precision", "recall", "Precision", "mean_squared_error", "root_mean_squared_error",
        "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "kl_divergence",
        "mean", "sum", "hinge", "poisson", "cosine_similarity", "log_cosh_error",
    ]  # fmt: skip
    for name in names:
        ours, theirs = M.get(name), keras.metrics.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        assert ours.name.split("_")[0] == theirs.name.split("_")[0], name
    with pytest.raises(ValueError, match="resolve_accuracy"):
        M.get("acc")
    assert M.get(None) is None
    auc = M.AUC(num_thresholds=50)
    assert M.get(auc) is auc
    got = M.get({"class_name": "AUC", "config": {"curve": "PR", "num_thresholds": 10}})
    assert got.curve == "PR" and got.num_thresholds == 10
    s = M.serialize(M.Precision(thresholds=[0.2, 0.6], name="p"))
    assert s == keras.metrics.serialize(keras.metrics.Precision(thresholds=[0.2, 0.6], name="p"))
    assert M.deserialize(s).get_config() == M.Precision(thresholds=[0.2, 0.6], name="p").get_config()


@pytest.mark.parametrize(
    "loss,t_shape,p_shape",
    [
        ("binary_crossentropy", (32, 1), (32, 1)),
        ("binary_crossentropy", (32,), (32, 1)),
        ("categorical_crossentropy", (32, 10), (32, 10)),
        ("sparse_categorical_crossentropy", (32,), (32, 10)),
        ("sparse_categorical_crossentropy", (32, 1), (32, 10)),
        ("mse", (32, 1), (32, 1)),
        ("mse", (32, 3), (32, 3)),
    ],
)
@pytest.mark.parametrize("name", ["accuracy", "acc"])
def test_resolve_accuracy_like_keras_compile(loss, t_shape, p_shape, name):
    from keras.src.trainers.compile_utils import get_metric

    theirs = get_metric(name, np.zeros(t_shape), np.zeros(p_shape))
    ours = M.resolve_accuracy(loss, t_shape, p_shape, name=name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name == name


# ---- lean per-batch updates (the compiled training step's path): the same numbers as update_state -------------


def _lean_cases():
    r = np.random.RandomState(5)
    probs = r.rand(9, 1).astype("float32")
    probs[:3, 0] = [0.5, 0.50000006, 0.49999997]  # on and around the threshold
    labels = (r.rand(9) < 0.5).astype("float32")
    scores = r.rand(7, 4).astype("float32")
    scores[0] = [0.3, 0.3, 0.1, 0.2]  # a tie: the first arg-max wins on both paths
    return [
        (M.BinaryAccuracy, {}, labels, probs),
        (M.BinaryAccuracy, {}, labels.reshape(9, 1), probs),
        (M.BinaryAccuracy, {"threshold": 0.7}, labels.astype("int64"), probs),
        (M.BinaryAccuracy, {}, labels.astype(bool).reshape(9, 1), probs),
        (M.BinaryAccuracy, {}, np.array([0.0, 0.7, 1.0], "float32"), np.array([[0.2], [0.9], [0.8]], "float32")),
        (M.BinaryAccuracy, {}, labels, probs.ravel()),
        (M.CategoricalAccuracy, {}, np.eye(4, dtype="float32")[r.randint(0, 4, 7)], scores),
        (M.SparseCategoricalAccuracy, {}, r.randint(0, 4, 7), scores),
        (M.SparseCategoricalAccuracy, {}, r.randint(0, 4, (7, 1)).astype("float32"), scores),
        (M.SparseCategoricalAccuracy, {}, np.array([0.0, 1.5, 2.0, 3.0, 0.0, 1.0, 2.0], "float32"), scores),
    ]


@pytest.mark.parametrize("case", range(10))
def test_lean_update_gives_update_states_numbers(case):
    cls, kwargs, t, p = _lean_cases()[case]
    eager, lean = cls(**kwargs), cls(**kwargs)
    update = lean.lean_update(t, p)
    assert update is not None
    for batch in range(3):  # new data of the same shapes each batch
        tb, pb = np.roll(t, batch, axis=0), np.roll(p, 2 * batch, axis=0)
        eager.update_state(tb, pb)
        update(tb, pb)
        for a, b in zip(lean.variables, eager.variables):
            assert a.data.dtype == b.data.dtype
            np.testing.assert_array_equal(a.data, b.data)
    assert float(lean.result()) == float(eager.result())


def test_lean_update_declines_what_it_cannot_count_exactly():
    r = np.random.RandomState(6)
    multi = (r.rand(5, 3) < 0.5).astype("float32")
    assert M.BinaryAccuracy().lean_update(multi, r.rand(5, 3).astype("float32")) is None  # 3 values per sample
    seq = np.eye(4, dtype="float32")[r.randint(0, 4, (5, 2))]
    assert M.CategoricalAccuracy().lean_update(seq, r.rand(5, 2, 4).astype("float32")) is None  # (5, 2) values
    assert M.BinaryAccuracy().lean_update(multi[:, :1], np.ones((5, 1), "int32")) is None  # integer predictions
    assert M.BinaryAccuracy(dtype="float16").lean_update(multi[:, :1], multi[:, :1]) is None
    assert M.MeanAbsoluteError().lean_update(multi, multi) is None  # no hit counter: not 0/1 values
    assert M.BinaryAccuracy().lean_update(ember.tensor(multi[:, :1]), multi[:, :1]) is None  # arrays only


def test_clear_session_restarts_default_metric_and_loss_names_as_keras():
    first = [M.AUC().name, M.AUC().name, ember.losses.MeanSquaredError().name]
    ember.backend.clear_session()
    keras.backend.clear_session()
    again = [M.AUC().name, M.AUC().name]
    theirs = [keras.metrics.AUC().name, keras.metrics.AUC().name]
    assert first[1] != first[0] and again == theirs == ["auc", "auc_1"]
