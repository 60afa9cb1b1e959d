"""Per-sample losses: Keras 3 (torch backend) numerics, finite differences, and PyTorch for the fused ones."""

import os

import numpy as np
import pytest
from oracles import Const, check_against_torch, check_gradients, noncontiguous

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def _F():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for these tests").nn.functional


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines the loss semantics")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


# ---- input generators: values kept away from each loss's kinks so finite differences are valid ------------------


def _away(x, points, gap=0.05):
    for k in points:
        x = np.where(np.abs(x - k) < gap, k + 2 * gap, x)
    return x


def _generic(rng, st, sp):
    return rng.standard_normal(st), rng.standard_normal(sp)


def _mape(rng, st, sp):
    t = _away(rng.standard_normal(st) * 2, (0.0,), gap=0.2)
    p = rng.standard_normal(sp) * 2
    return t, p


def _msle(rng, st, sp):
    # mostly positive, some negative (clamped to epsilon), none near epsilon
    return _away(rng.standard_normal(st) + 1.0, (0.0,), 0.1), _away(rng.standard_normal(sp) + 1.0, (0.0,), 0.1)


def _huber(rng, st, sp):
    t = rng.standard_normal(st)
    p = rng.standard_normal(sp) * 2
    return t, p


def _positive(rng, st, sp):
    return rng.uniform(0.0, 2.0, st), rng.uniform(0.2, 3.0, sp)


def _kl(rng, st, sp):
    # values inside (eps, 1) and a few outside [eps, 1] (clipped), away from the clip bounds
    t = _away(rng.uniform(-0.3, 1.3, st), (0.0, 1.0))
    p = _away(rng.uniform(-0.3, 1.3, sp), (0.0, 1.0))
    return t, p


def _hinge_signed(rng, st, sp):
    t = np.where(rng.standard_normal(st) > 0, 1.0, -1.0)
    p = rng.standard_normal(sp) * 2
    return t, p


def _hinge_binary(rng, st, sp):
    t = (rng.standard_normal(st) > 0).astype(np.float64)
    p = rng.standard_normal(sp) * 2
    return t, p


def _probs(rng, st, sp):
    return rng.dirichlet(np.ones(st[-1]), st[:-1]) if st[-1] else np.zeros(st), rng.uniform(0.05, 1.0, sp)


# name -> (ember function, keras name, kwargs, generator, Keras aligns ranks)
ELEMENTWISE = {
    "mean_squared_error": (ember.mean_squared_error, {}, _generic, True),
    "mean_absolute_error": (ember.mean_absolute_error, {}, _generic, True),
    "mean_absolute_percentage_error": (ember.mean_absolute_percentage_error, {}, _mape, True),
    "mean_squared_logarithmic_error": (ember.mean_squared_logarithmic_error, {}, _msle, True),
    "huber": (ember.huber, {}, _huber, True),
    "huber_delta": (ember.huber, {"delta": 0.5}, _huber, True),
    "log_cosh": (ember.log_cosh, {}, _huber, True),
    "poisson": (ember.poisson, {}, _positive, False),
    "kl_divergence": (ember.kl_divergence, {}, _kl, False),
    "hinge": (ember.hinge, {}, _hinge_signed, False),
    "hinge_binary": (ember.hinge, {}, _hinge_binary, False),
    "squared_hinge": (ember.squared_hinge, {}, _hinge_signed, False),
    "squared_hinge_binary": (ember.squared_hinge, {}, _hinge_binary, False),
    "categorical_hinge": (ember.categorical_hinge, {}, _generic, False),
    "cosine_similarity": (ember.cosine_similarity, {}, _generic, True),
    "cosine_similarity_axis0": (ember.cosine_similarity, {"axis": 0}, _generic, True),
}


def _keras_fn(keras, name, kwargs):
    base = name.replace("_binary", "").replace("_delta", "").replace("_axis0", "")
    fn = getattr(keras.losses, base)
    return lambda t, p: fn(t, p, **kwargs)


SAME_RANK = [((4, 5), (4, 5)), ((2, 3, 4), (2, 3, 4)), ((1, 5), (4, 5)), ((4, 5), (5,)), ((0, 5), (0, 5))]
ALIGNED = [((4, 1), (4,)), ((4,), (4, 1)), ((2, 3, 1), (2, 3)), ((2, 3), (2, 3, 1))]


def _cases(name):
    cases = list(SAME_RANK)
    if ELEMENTWISE[name][3]:
        cases += ALIGNED
    if name == "categorical_hinge":
        cases.remove(((0, 5), (0, 5)))  # Keras refuses the max of an empty batch; see test_empty_batch
    if name == "cosine_similarity_axis0":
        cases = [c for c in cases if len(c[0]) == len(c[1]) and c[0][0] == c[1][0] and c[0][0] > 0]
    return cases


CASES = [(name, st, sp) for name in sorted(ELEMENTWISE) for st, sp in _cases(name)]


@pytest.mark.parametrize("name,st,sp", CASES)
def test_loss_matches_keras(name, st, sp, keras, rng):
    fn, kwargs, gen, _ = ELEMENTWISE[name]
    t, p = gen(rng, st, sp)
    if "binary" in name:
        t = Const(t.astype(np.float32))  # Keras's 0/1 -> -1/1 test is not differentiable in t
    check_against_torch(lambda a, b: fn(a, b, **kwargs), _keras_fn(keras, name, kwargs), t, noncontiguous(p))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_loss_gradients_finite_differences(name, rng):
    fn, kwargs, gen, aligned = ELEMENTWISE[name]
    shapes = [((3, 4), (3, 4)), ((1, 4), (2, 4))] + ([((3, 1), (3,))] if aligned else [])
    for st, sp in shapes:
        t, p = gen(rng, st, sp)
        # random normal values land within the 1e-6 difference step of a kink (|t - p| = 0 for
        # mean_absolute_error, |error| = delta for huber) with negligible probability; hinge margins are
        # kept away from 0 explicitly because the labels are +-1
        if "hinge" in name and name != "categorical_hinge":
            tt = np.where(t == 0, -1.0, t)  # the labels as the loss sees them; keep margins away from 0
            p = np.where(np.abs(1 - tt * p) < 0.05, p + 0.2, p)
        if "binary" in name:
            t = Const(t)
        check_gradients(lambda a, b, fn=fn: fn(a, b, **kwargs), t, p)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_empty_batch(name):
    fn, kwargs, _, _ = ELEMENTWISE[name]
    if name == "cosine_similarity_axis0":
        return
    p = ember.tensor(np.zeros((0, 5)), requires_grad=True)
    out = fn(np.zeros((0, 5)), p, **kwargs)
    assert out.shape == (0,)
    out.sum().backward()
    assert p.grad.shape == (0, 5)


def test_keras_alignment_gives_keras_shapes(keras, rng):
    import torch

    for st, sp in ALIGNED + SAME_RANK:
        t, p = rng.standard_normal(st), rng.standard_normal(sp)
        ours = ember.mean_squared_error(t, p)
        theirs = keras.losses.mean_squared_error(torch.tensor(t), torch.tensor(p))
        assert ours.shape == tuple(theirs.shape), (st, sp)


def test_mape_and_msle_epsilon_branches(keras):
    # y_true == 0 exercises MAPE's max(|y_true|, eps); negative values exercise MSLE's max(., eps)
    t = np.array([[0.0, 1.0, -2.0], [3.0, 0.0, 0.5]], dtype=np.float32)
    p = np.array([[0.1, -1.0, -2.5], [2.0, 0.3, -0.4]], dtype=np.float32)
    for name in ("mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        check_against_torch(getattr(ember, name), getattr(keras.losses, name), t, p)


def test_categorical_hinge_ties_split_like_keras(keras):
    # one-hot targets with all-negative predictions: (1 - t) * p ties at 0 in several places
    t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    p = np.array([[0.5, 0.5, -1.0], [-0.2, -0.1, -0.2]], dtype=np.float32)
    check_against_torch(ember.categorical_hinge, keras.losses.categorical_hinge, t, p)


def test_cosine_similarity_zero_vector_is_finite(keras):
    t = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    p = np.array([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]], dtype=np.float32)
    tt, pt = ember.tensor(t, requires_grad=True), ember.tensor(p, requires_grad=True)
    out = ember.cosine_similarity(tt, pt)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0])
    out.sum().backward()
    assert np.isfinite(tt.grad.numpy()).all() and np.isfinite(pt.grad.numpy()).all()


# ---- crossentropies ----------------------------------------------------------------------------------------------

CE_SHAPES = [((4, 5), -1), ((2, 3, 4), -1), ((2, 3, 4), 1), ((5,), -1), ((0, 3), -1)]


def _soft_targets(rng, shape, axis):
    t = rng.uniform(0.0, 1.0, shape)
    return t / t.sum(axis=axis, keepdims=True) if t.size else t


@pytest.mark.parametrize("shape,axis", CE_SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_categorical_crossentropy_matches_keras(shape, axis, from_logits, label_smoothing, keras, rng):
    t = _soft_targets(rng, shape, axis)
    p = rng.standard_normal(shape) * 2 if from_logits else rng.uniform(0.01, 1.0, shape)
    kw = {"from_logits": from_logits, "label_smoothing": label_smoothing, "axis": axis}
    check_against_torch(
        lambda a, b: ember.categorical_crossentropy(a, b, **kw),
        lambda a, b: keras.losses.categorical_crossentropy(a, b, **kw),
        t,
        noncontiguous(p),
    )


def test_categorical_crossentropy_clips_like_keras(keras):
    # a prediction of exactly 0 and one of ~1 hit the clip bounds of the normalised probabilities
    t = np.array([[0.0, 1.0, 0.0], [0.3, 0.3, 0.4]], dtype=np.float32)
    p = np.array([[0.0, 1.0, 0.0], [1e-9, 2.0, 0.5]], dtype=np.float32)
    check_against_torch(ember.categorical_crossentropy, keras.losses.categorical_crossentropy, t, p)


@pytest.mark.parametrize("shape", [(4, 5), (3, 1), (0, 6)])
def test_categorical_crossentropy_from_logits_against_torch(shape, rng):
    F = _F()
    t = _soft_targets(rng, shape, -1)
    x = rng.standard_normal(shape) * 3
    check_against_torch(
        lambda a, b: ember.categorical_crossentropy(a, b, from_logits=True),
        lambda a, b: F.cross_entropy(b, a, reduction="none"),
        t,
        x,
    )


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("axis", [-1, 0])
def test_categorical_crossentropy_gradients_finite_differences(from_logits, axis, rng):
    t = _soft_targets(rng, (3, 4), axis)
    p = rng.standard_normal((3, 4)) if from_logits else rng.uniform(0.1, 1.0, (3, 4))
    for ls in (0.0, 0.2):
        check_gradients(
            lambda a, b, ls=ls: ember.categorical_crossentropy(
                a, b, from_logits=from_logits, label_smoothing=ls, axis=axis
            ),
            t,
            p,
        )


def test_crossentropy_from_logits_is_stable_for_huge_logits(rng):
    F = _F()
    x = np.array([[1000.0, -1000.0, 0.0], [-800.0, -900.0, -1000.0]], dtype=np.float32)
    t = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=np.float32)
    check_against_torch(
        lambda a, b: ember.categorical_crossentropy(a, b, from_logits=True),
        lambda a, b: F.cross_entropy(b, a, reduction="none"),
        t,
        x,
    )
    labels = np.array([1, 2])
    check_against_torch(
        lambda b: ember.sparse_categorical_crossentropy(Const(labels).array, b, from_logits=True),
        lambda b: F.cross_entropy(b, __import__("torch").from_numpy(labels), reduction="none"),
        x,
    )
    check_against_torch(
        lambda a, b: ember.binary_crossentropy(a, b, from_logits=True),
        lambda a, b: F.binary_cross_entropy_with_logits(b, a, reduction="none").mean(-1),
        t,
        x,
    )


SPARSE_CASES = [
    ((4, 5), (4,), -1),
    ((4, 5), (4, 1), -1),
    ((2, 3, 4), (2, 3), -1),
    ((2, 3, 4), (2, 4), 1),
    ((5,), (), -1),
]


@pytest.mark.parametrize("pshape,lshape,axis", SPARSE_CASES + [((0, 5), (0,), -1)])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ignore_class", [None, 2])
def test_sparse_categorical_crossentropy_matches_keras(pshape, lshape, axis, from_logits, ignore_class, keras, rng):
    n = pshape[axis]
    labels = rng.integers(0, n, lshape)
    p = rng.standard_normal(pshape) * 2 if from_logits else rng.uniform(0.01, 1.0, pshape)
    kw = {"from_logits": from_logits, "ignore_class": ignore_class, "axis": axis}
    check_against_torch(
        lambda a, b: ember.sparse_categorical_crossentropy(a, b, **kw),
        lambda a, b: keras.losses.sparse_categorical_crossentropy(a, b, **kw),
        Const(labels),
        noncontiguous(p),
    )


@pytest.mark.parametrize("pshape,lshape,axis", [((4, 5), (4,), -1), ((2, 3, 4), (2, 3), -1), ((2, 3, 4), (2, 4), 1)])
@pytest.mark.parametrize("ignore_index", [None, 1])
def test_sparse_categorical_crossentropy_against_torch(pshape, lshape, axis, ignore_index, rng):
    import torch

    F = _F()
    labels = rng.integers(0, pshape[axis], lshape)
    x = rng.standard_normal(pshape) * 3

    def reference(b):
        kw = {"reduction": "none"} | ({"ignore_index": ignore_index} if ignore_index is not None else {})
        return F.cross_entropy(b.movedim(axis, 1), torch.from_numpy(labels), **kw)

    check_against_torch(
        lambda b: ember.sparse_categorical_crossentropy(
            labels, b, from_logits=True, ignore_class=ignore_index, axis=axis
        ),
        reference,
        x,
    )


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("ignore_class", [None, 0])
def test_sparse_categorical_crossentropy_gradients_finite_differences(from_logits, ignore_class, rng):
    labels = np.array([[0, 2, 1], [3, 0, 2]])
    p = rng.standard_normal((2, 3, 4)) if from_logits else rng.uniform(0.1, 1.0, (2, 3, 4))
    check_gradients(
        lambda a, b: ember.sparse_categorical_crossentropy(a, b, from_logits=from_logits, ignore_class=ignore_class),
        Const(labels),
        p,
    )


def test_sparse_categorical_crossentropy_accepts_float_labels(rng):
    p = rng.standard_normal((3, 4))
    a = ember.sparse_categorical_crossentropy(np.array([0.0, 3.0, 1.0]), p, from_logits=True)
    b = ember.sparse_categorical_crossentropy(np.array([0, 3, 1]), p, from_logits=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


BCE_SHAPES = [((4, 5), -1), ((2, 3, 4), 1), ((6,), -1), ((0, 3), -1), ((3, 1), -1)]


@pytest.mark.parametrize("shape,axis", BCE_SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_binary_crossentropy_matches_keras(shape, axis, from_logits, label_smoothing, keras, rng):
    t = rng.uniform(0.0, 1.0, shape)
    p = rng.standard_normal(shape) * 3 if from_logits else rng.uniform(0.0, 1.0, shape)
    kw = {"from_logits": from_logits, "label_smoothing": label_smoothing, "axis": axis}
    check_against_torch(
        lambda a, b: ember.binary_crossentropy(a, b, **kw),
        lambda a, b: keras.losses.binary_crossentropy(a, b, **kw),
        t,
        noncontiguous(p),
    )


def test_binary_crossentropy_clips_like_keras(keras):
    t = np.array([[0.0, 1.0, 1.0, 0.3]], dtype=np.float32)
    p = np.array([[0.0, 1.0, 0.0, 1e-9]], dtype=np.float32)
    check_against_torch(ember.binary_crossentropy, keras.losses.binary_crossentropy, t, p)


@pytest.mark.parametrize("shape", [(4, 5), (7,), (0, 2)])
def test_binary_crossentropy_from_logits_against_torch(shape, rng):
    F = _F()
    t = rng.uniform(0.0, 1.0, shape)
    x = rng.standard_normal(shape) * 4
    check_against_torch(
        lambda a, b: ember.binary_crossentropy(a, b, from_logits=True),
        lambda a, b: F.binary_cross_entropy_with_logits(b, a, reduction="none").mean(-1),
        t,
        noncontiguous(x),
    )


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradients_finite_differences(from_logits, rng):
    t = rng.uniform(0.0, 1.0, (3, 4))
    p = rng.standard_normal((3, 4)) if from_logits else rng.uniform(0.05, 0.95, (3, 4))
    for ls, axis in ((0.0, -1), (0.3, 0)):
        check_gradients(
            lambda a, b, ls=ls, axis=axis: ember.binary_crossentropy(
                a, b, from_logits=from_logits, label_smoothing=ls, axis=axis
            ),
            t,
            p,
        )


# ---- dtypes, signatures and errors -------------------------------------------------------------------------------


def test_y_true_is_cast_to_y_pred_dtype(rng):
    p = ember.tensor(rng.uniform(0.1, 1.0, (3, 4)).astype(np.float32), requires_grad=True)
    t64 = ember.tensor(rng.uniform(0.0, 1.0, (3, 4)), dtype="float64")
    for fn in (ember.mean_squared_error, ember.binary_crossentropy, ember.categorical_crossentropy, ember.hinge):
        assert fn(t64, p).dtype == np.float32
    ints = np.array([[0, 1, 0, 1]] * 3)
    assert ember.binary_crossentropy(ints, p).dtype == np.float32
    assert ember.mean_absolute_error(ember.tensor(ints), p).dtype == np.float32


def test_signatures_match_keras(keras):
    import inspect

    names = [n for n in ember.ops.loss.__all__]
    for name in names:
        ours = [(q.name, q.default) for q in inspect.signature(getattr(ember, name)).parameters.values()]
        theirs = [(q.name, q.default) for q in inspect.signature(getattr(keras.losses, name)).parameters.values()]
        assert ours == theirs, name


def test_shape_errors_name_the_op_and_shapes():
    a, b = ember.tensor(np.zeros((3, 4))), ember.tensor(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"categorical_crossentropy: .*\(3, 4\) and \(3, 5\)"):
        ember.categorical_crossentropy(a, b)
    with pytest.raises(ValueError, match=r"binary_crossentropy: .*\(3, 4\) and \(3, 5\)"):
        ember.binary_crossentropy(a, b)
    with pytest.raises(ValueError, match=r"mean_squared_error: shapes \(3, 4\) and \(3, 5\)"):
        ember.mean_squared_error(a, b)
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes"):
        ember.cosine_similarity(a, b)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: y_true must have .*\(3,\)"):
        ember.sparse_categorical_crossentropy(np.zeros((4,), dtype=int), a)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: labels must be in \[0, 4\)"):
        ember.sparse_categorical_crossentropy(np.array([0, 4, 1]), a)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: labels must be in \[0, 4\)"):
        ember.sparse_categorical_crossentropy(np.array([0, -1, 1]), a)
    with pytest.raises(ValueError, match=r"categorical_hinge: expected a non-empty class axis"):
        ember.categorical_hinge(np.zeros((3, 0)), np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"categorical_crossentropy: axis 2 is out of range"):
        ember.categorical_crossentropy(a, a, axis=2)


def test_argument_errors():
    a = ember.tensor(np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="huber: delta must be >= 0"):
        ember.huber(a, a, delta=-1.0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        ember.categorical_crossentropy(a, a, label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        ember.binary_crossentropy(a, a, label_smoothing=-0.1)
    with pytest.raises(ValueError, match="axis must be an int"):
        ember.categorical_crossentropy(a, a, axis=True)


def test_ignored_labels_get_no_loss_and_no_gradient(rng):
    p = ember.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    loss = ember.sparse_categorical_crossentropy(np.array([1, -1, 2, -1]), p, from_logits=True, ignore_class=-1)
    np.testing.assert_array_equal(loss.numpy()[[1, 3]], 0.0)
    loss.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy()[[1, 3]], 0.0)
    assert np.all(p.grad.numpy()[[0, 2]] != 0)


LOSS_CALLS = [
    (name, kw)
    for name in ember.ops.loss.__all__
    for kw in (
        [{"from_logits": False}, {"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1}]
        if name in ("categorical_crossentropy", "binary_crossentropy")
        else [{"from_logits": False}, {"from_logits": True, "ignore_class": 1}]
        if name == "sparse_categorical_crossentropy"
        else [{}]
    )
]


@pytest.mark.parametrize("name,kw", LOSS_CALLS, ids=str)
def test_float32_stays_float32_through_backward(name, kw, rng):
    # the engine would cast a float64 gradient back, but computing it in float64 costs time
    p = ember.tensor(rng.uniform(0.1, 1.0, (3, 4)).astype(np.float32), requires_grad=True)
    if name == "sparse_categorical_crossentropy":
        t = np.array([0, 1, 3])
    else:
        t = ember.tensor(rng.uniform(0.0, 1.0, (3, 4)).astype(np.float32), requires_grad=True)
    out = getattr(ember, name)(t, p, **kw)
    assert out.dtype == np.float32
    grads = out.grad_fn.backward(out.grad_fn.xp.ones(out.shape, dtype=np.float32))
    assert all(g is None or g.dtype == np.float32 for g in grads)


def _reference_cce_and_softmax(z, t, axis, gw, gl):
    """Softmax then categorical crossentropy on probabilities, and both gradients, as the ops' general forms
    (``sum`` methods, ``clip`` and the two-sided mask) compute them in NumPy."""
    axes = (axis % z.ndim,)
    y = z - z.max(axis=axes, keepdims=True)
    np.exp(y, out=y)
    y /= y.sum(axis=axes, keepdims=True)
    eps = ember.config.epsilon()
    s = y.sum(axis=axis, keepdims=True)
    q = y / s
    log_q = np.log(np.clip(q, eps, 1 - eps))
    loss = -(t * log_q).sum(axis=axis)
    w = -t / np.clip(q, eps, 1 - eps) * ((q >= eps) & (q <= 1 - eps))
    g = np.expand_dims(gl, axis)
    gp = g * (w - (w * q).sum(axis=axis, keepdims=True)) / s + gw
    gz = gp * y
    gz -= y * gz.sum(axis=axes, keepdims=True)
    return y, loss, gz


@pytest.mark.parametrize("shape, axis", [((128, 10), -1), ((4, 5, 6), 1), ((7, 3), 0)])
def test_softmax_and_crossentropy_numpy_forms_give_the_general_bits(shape, axis, rng):
    # the NumPy forms (ufunc reductions, the clip as maximum/minimum, the mask as clipped == q) against the general
    # ones, bit for bit, with probabilities at and beyond the clip's edges (1 and ~0 after the softmax)
    z = (rng.standard_normal(shape) * 4).astype(np.float32)
    z.reshape(-1)[:2] = [40.0, -40.0]
    t = rng.random(shape).astype(np.float32)
    gw = rng.standard_normal(shape).astype(np.float32)
    gl = rng.standard_normal(np.sum(np.zeros(shape), axis=axis).shape).astype(np.float32)
    zt, tt = ember.tensor(z, requires_grad=True), ember.tensor(t)
    y = ember.softmax(zt, axis=axis)
    loss = ember.ops.categorical_crossentropy(tt, y, axis=axis)
    ((loss * ember.tensor(gl)).sum() + (y * ember.tensor(gw)).sum()).backward()
    ry, rloss, rgz = _reference_cce_and_softmax(z, t, axis, gw, gl)
    for got, want in ((y.numpy(), ry), (loss.numpy(), rloss), (zt.grad.numpy(), rgz)):
        np.testing.assert_array_equal(got.view(np.uint32), want.astype(np.float32).view(np.uint32))
