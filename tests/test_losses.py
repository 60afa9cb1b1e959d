"""ember.losses against Keras 3 (torch backend): classes, reductions, sample weights, masks, gradients, lookup."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="the oracle for these tests is Keras 3")
torch = pytest.importorskip("torch", reason="Keras 3 runs on its torch backend here")

import ember  # noqa: E402
import ember.losses as L  # noqa: E402, N812

RTOL, ATOL = 1e-5, 1e-6
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]


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


def _data(name, rng, shape=(6, 4)):
    """(y_true, y_pred) suited to the loss ``name``."""
    n, c = shape[0], shape[-1]
    if name in ("CategoricalCrossentropy", "KLDivergence", "CategoricalHinge"):
        y_true = np.eye(c, dtype=np.float32)[rng.integers(0, c, size=shape[:-1])]
        y_pred = rng.uniform(0.05, 1.0, size=shape).astype(np.float32)
        y_pred /= y_pred.sum(-1, keepdims=True)
    elif name == "SparseCategoricalCrossentropy":
        y_true = rng.integers(0, c, size=shape[:-1]).astype(np.int64)
        y_pred = rng.uniform(0.05, 1.0, size=shape).astype(np.float32)
        y_pred /= y_pred.sum(-1, keepdims=True)
    elif name == "BinaryCrossentropy":
        y_true = rng.integers(0, 2, size=shape).astype(np.float32)
        y_pred = rng.uniform(0.02, 0.98, size=shape).astype(np.float32)
    elif name in ("Hinge", "SquaredHinge"):
        y_true = rng.choice([-1.0, 1.0], size=shape).astype(np.float32)
        y_pred = rng.normal(size=shape).astype(np.float32)
    elif name in ("Poisson", "MeanSquaredLogarithmicError"):
        y_true = rng.uniform(0.0, 3.0, size=shape).astype(np.float32)
        y_pred = rng.uniform(0.1, 3.0, size=shape).astype(np.float32)
    else:
        y_true = rng.normal(size=shape).astype(np.float32)
        y_pred = rng.normal(size=shape).astype(np.float32)
    del n
    return y_true, y_pred


CLASSES = [
    ("MeanSquaredError", {}),
    ("MeanAbsoluteError", {}),
    ("MeanAbsolutePercentageError", {}),
    ("MeanSquaredLogarithmicError", {}),
    ("Huber", {"delta": 0.7}),
    ("LogCosh", {}),
    ("CosineSimilarity", {}),
    ("KLDivergence", {}),
    ("Poisson", {}),
    ("Hinge", {}),
    ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
    ("CategoricalCrossentropy", {}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}),
    ("SparseCategoricalCrossentropy", {}),
    ("BinaryCrossentropy", {}),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}),
]


def _pair(name, kwargs, reduction="sum_over_batch_size"):
    return (
        getattr(L, name)(reduction=reduction, **kwargs),
        getattr(keras.losses, name)(reduction=reduction, **kwargs),
    )


@pytest.mark.parametrize("name,kwargs", CLASSES, ids=lambda v: str(v))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_matches_keras_each_reduction(name, kwargs, reduction):
    rng = np.random.default_rng(0)
    y_true, y_pred = _data(name, rng)
    ours, theirs = _pair(name, kwargs, reduction)
    _close(ours(y_true, y_pred), theirs(y_true, y_pred))
    sw = rng.uniform(0.0, 2.0, size=(6,)).astype(np.float32)
    _close(ours(y_true, y_pred, sample_weight=sw), theirs(y_true, y_pred, sample_weight=sw))


@pytest.mark.parametrize("name,kwargs", CLASSES, ids=lambda v: str(v))
def test_sample_weight_shapes(name, kwargs):
    rng = np.random.default_rng(1)
    y_true, y_pred = _data(name, rng, shape=(5, 3, 4))
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        ours, theirs = _pair(name, kwargs, reduction)
        for sw in (
            2.5,
            rng.uniform(0, 2, size=(5, 1)).astype(np.float32),
            rng.uniform(0, 2, size=(5, 3)).astype(np.float32),
        ):
            _close(ours(y_true, y_pred, sample_weight=sw), theirs(y_true, y_pred, sample_weight=sw))


@pytest.mark.parametrize("name", ["CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_from_logits(name, smoothing):
    rng = np.random.default_rng(2)
    y_true, _ = _data(name, rng, shape=(7, 5))
    logits = rng.normal(scale=3.0, size=(7, 5)).astype(np.float32)
    kwargs = {"from_logits": True}
    if name != "SparseCategoricalCrossentropy":
        kwargs["label_smoothing"] = smoothing
    ours, theirs = _pair(name, kwargs)
    sw = rng.uniform(0, 1, size=(7,)).astype(np.float32)
    _close(ours(y_true, logits), theirs(y_true, logits))
    _close(ours(y_true, logits, sample_weight=sw), theirs(y_true, logits, sample_weight=sw))


def test_binary_crossentropy_column_outputs_and_rank_alignment():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, size=(8,)).astype(np.float32)
    y_pred = rng.uniform(0.05, 0.95, size=(8, 1)).astype(np.float32)
    for args in ((y_true, y_pred), (y_true[:, None], y_pred), (y_true, y_pred[:, 0])):
        _close(L.BinaryCrossentropy()(*args), keras.losses.BinaryCrossentropy()(*args))
    # sparse labels given as a column
    labels = rng.integers(0, 3, size=(8, 1))
    probs = rng.dirichlet(np.ones(3), size=8).astype(np.float32)
    _close(
        L.SparseCategoricalCrossentropy()(labels, probs), keras.losses.SparseCategoricalCrossentropy()(labels, probs)
    )


def test_ignore_class_averages_over_kept_entries():
    rng = np.random.default_rng(4)
    labels = np.array([[0, 1, 255, 2], [255, 2, 1, 0]])
    logits = rng.normal(size=(2, 4, 3)).astype(np.float32)
    # Keras multiplies the mask into the weights in place, so only full-shape weights work there
    sw = rng.uniform(0, 1, size=(2, 4)).astype(np.float32)
    for reduction in ("sum_over_batch_size", "sum", None):
        ours = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255, reduction=reduction)
        theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255, reduction=reduction)
        _close(ours(labels, logits), theirs(labels, logits))
        _close(ours(labels, logits, sample_weight=sw), theirs(labels, logits, sample_weight=sw))


def test_mask_on_y_pred():
    rng = np.random.default_rng(5)
    y_true = rng.normal(size=(3, 5, 2)).astype(np.float32)
    y_pred = rng.normal(size=(3, 5, 2)).astype(np.float32)
    mask = rng.integers(0, 2, size=(3, 5)).astype(bool)
    mask[0, 0] = True
    ours_pred = ember.tensor(y_pred)
    ours_pred._keras_mask = ember.tensor(mask)
    theirs_pred = torch.tensor(y_pred)
    theirs_pred._keras_mask = torch.tensor(mask)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
        ours = L.MeanSquaredError(reduction=reduction)
        theirs = keras.losses.MeanSquaredError(reduction=reduction)
        _close(ours(y_true, ours_pred), theirs(y_true, theirs_pred))
        sw = rng.uniform(0, 1, size=(3, 5)).astype(np.float32)
        _close(ours(y_true, ours_pred, sample_weight=sw), theirs(y_true, theirs_pred, sample_weight=sw))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
        ("CategoricalCrossentropy", {}),
        ("SparseCategoricalCrossentropy", {"from_logits": True}),
        ("BinaryCrossentropy", {}),
        ("BinaryCrossentropy", {"from_logits": True}),
        ("MeanSquaredError", {}),
        ("Huber", {"delta": 0.5}),
        ("CosineSimilarity", {}),
    ],
    ids=str,
)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_gradient_wrt_y_pred_matches_torch_autograd(name, kwargs, reduction):
    rng = np.random.default_rng(6)
    y_true, y_pred = _data(name, rng, shape=(6, 4))
    if kwargs.get("from_logits"):
        y_pred = rng.normal(scale=2.0, size=y_pred.shape).astype(np.float32)
    sw = rng.uniform(0.1, 2.0, size=(6,)).astype(np.float32)
    ours, theirs = _pair(name, kwargs, reduction)
    p = ember.tensor(y_pred, requires_grad=True)
    ours(y_true, p, sample_weight=sw).backward()
    tp = torch.tensor(y_pred, requires_grad=True)
    theirs(torch.tensor(y_true), tp, sample_weight=torch.tensor(sw)).backward()
    _close(p.grad, tp.grad)


def test_subclass_and_wrapper():
    from keras.src.losses.losses import LossFunctionWrapper as KerasWrapper

    class Cubed(L.Loss):
        def call(self, y_true, y_pred):
            return ember.mean((y_pred - y_true) ** 3, axis=-1)

    class KCubed(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean((y_pred - y_true) ** 3, axis=-1)

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    _close(Cubed(reduction="sum")(a, b), KCubed(reduction="sum")(a, b))
    w = L.LossFunctionWrapper(L.huber, delta=0.3, reduction="sum")
    kw = KerasWrapper(keras.losses.huber, delta=0.3, reduction="sum")
    _close(w(a, b), kw(a, b))
    assert w.get_config() == kw.get_config()
    again = L.LossFunctionWrapper.from_config(w.get_config())
    assert again.fn is L.huber and again._fn_kwargs == {"delta": 0.3}


@pytest.mark.parametrize("name,kwargs", CLASSES, ids=lambda v: str(v))
def test_config_and_names_match_keras(name, kwargs):
    ours, theirs = _pair(name, kwargs)
    assert ours.name == theirs.name
    config = ours.get_config()
    expected = theirs.get_config()
    extra = {"Huber": {"delta"}, "CosineSimilarity": {"axis"}, "SparseCategoricalCrossentropy": {"axis"}}
    assert set(config) - set(expected) == extra.get(name, set())
    assert {k: config[k] for k in expected} == expected
    clone = type(ours).from_config(config)
    assert clone.get_config() == config
    # Keras accepts Ember's configs
    assert type(theirs).from_config(config).get_config() == expected
    s = L.serialize(ours)
    assert s == {**keras.losses.serialize(theirs), "config": config}
    assert L.deserialize(s).get_config() == config


def test_get_resolves_names_like_keras():
    names = [
        "mse", "MSE", "mae", "mape", "msle", "kld", "KLD", "bce", "BCE",
        "mean_squared_error", "categorical_crossentropy", "sparse_categorical_crossentropy",
        "binary_crossentropy", "huber", "log_cosh", "poisson", "hinge", "squared_hinge",
        "categorical_hinge", "cosine_similarity", "kl_divergence", "mean_absolute_percentage_error",
        "MeanSquaredError", "CategoricalCrossentropy", "Huber", "BinaryCrossentropy",
    ]  # fmt: skip
    for name in names:
        ours, theirs = L.get(name), keras.losses.get(name)
        if isinstance(theirs, keras.losses.Loss):
            assert type(ours).__name__ == type(theirs).__name__, name
            assert ours.get_config() == {
                **theirs.get_config(),
                **{k: v for k, v in ours.get_config().items() if k not in theirs.get_config()},
            }
        else:
            assert callable(ours) and ours.__name__ == theirs.__name__, name
    assert L.get(None) is None
    inst = L.Huber(delta=3.0)
    assert L.get(inst) is inst
    assert isinstance(L.get(L.Poisson), L.Poisson)
    got = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert got.from_logits is True
    with pytest.raises(ValueError, match="crossentropy"):
        L.get("crossentropy")
    with pytest.raises(ValueError, match="Could not interpret"):
        L.get("no_such_loss")
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="average")


def test_resolve_crossentropy_like_keras_compile():
    from keras.src.trainers.compile_utils import get_loss

    for t_shape, p_shape in [((8, 1), (8, 1)), ((8,), (8, 1)), ((8, 5), (8, 5)), ((8,), (8, 5)), ((8, 1), (8, 5))]:
        theirs = get_loss("crossentropy", np.zeros(t_shape), np.zeros(p_shape))
        assert L.resolve_crossentropy(t_shape, p_shape).__name__ == theirs.fn.__name__


def test_sample_weight_shape_error_is_explained():
    # Keras fails here too (torch cannot broadcast (5, 3) with (5,)); Ember says why
    with pytest.raises(RuntimeError):
        keras.losses.MeanSquaredError()(np.zeros((5, 3, 4)), np.zeros((5, 3, 4)), sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="sample_weight of shape"):
        L.MeanSquaredError()(np.zeros((5, 3, 4)), np.zeros((5, 3, 4)), sample_weight=np.ones(5))
