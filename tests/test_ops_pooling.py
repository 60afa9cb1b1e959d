"""Max and average pooling (channels-last): forward and gradients vs finite differences, PyTorch and Keras 3."""

import math
import os

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients, noncontiguous

import ember
from ember.backend import jit
from ember.ops import pooling_kernels

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")
F = torch.nn.functional


@pytest.fixture(autouse=True, params=["numpy", "jit"])
def jit_path(request, monkeypatch):
    """Every test on both max-pool paths: NumPy, and the numba kernels (on these small arrays too)."""
    if request.param == "jit":
        pytest.importorskip("numba")
        monkeypatch.setattr(pooling_kernels, "KERNEL_MIN_SIZE", 0)
    previous = jit.set_enabled(request.param == "jit")
    yield request.param
    jit.set_enabled(previous)


def _tuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


def _tf_same_pads(size, k, s):
    """TensorFlow's 'same' padding for one axis: (before, after), the odd cell after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _torch_pads(x_cf, pool, strides, padding):
    """F.pad's argument (last axis first) for TensorFlow's 'same' padding, or None for 'valid'."""
    if padding == "valid":
        return None
    n = len(pool)
    pads = [_tf_same_pads(x_cf.shape[2 + i], pool[i], strides[i]) for i in range(n)]
    return tuple(p for pair in reversed(pads) for p in pair)


def _to_cf(x):
    return x.permute(0, 2, 1) if x.ndim == 3 else x.permute(0, 3, 1, 2)


def _from_cf(y):
    return y.permute(0, 2, 1) if y.ndim == 3 else y.permute(0, 2, 3, 1)


def torch_max_pool(x, pool_size, strides, padding):
    """Padded cells are -inf, so they never win (TensorFlow/Keras 'same')."""
    n = x.ndim - 2
    pool = _tuple(pool_size, n)
    strides = pool if strides is None else _tuple(strides, n)
    xt = _to_cf(x)
    pads = _torch_pads(xt, pool, strides, padding)
    if pads is not None:
        xt = F.pad(xt, pads, value=-math.inf)
    fn = F.max_pool1d if n == 1 else F.max_pool2d
    return _from_cf(fn(xt, pool, strides))


def torch_avg_pool(x, pool_size, strides, padding):
    """Sum of the real cells of each window over their count (TensorFlow/Keras 'same')."""
    n = x.ndim - 2
    pool = _tuple(pool_size, n)
    strides = pool if strides is None else _tuple(strides, n)
    xt = _to_cf(x)
    fn = F.avg_pool1d if n == 1 else F.avg_pool2d
    pads = _torch_pads(xt, pool, strides, padding)
    if pads is None:
        return _from_cf(fn(xt, pool, strides))
    real = torch.ones_like(xt[:1, :1])
    mean_with_zeros = fn(F.pad(xt, pads), pool, strides)
    share_of_real = fn(F.pad(real, pads), pool, strides)
    return _from_cf(mean_with_zeros / share_of_real)


# (input shape, pool_size, strides, padding)
POOL2D = [
    ((2, 6, 6, 3), 2, None, "valid"),
    ((2, 7, 6, 2), 3, 2, "valid"),  # overlapping windows
    ((2, 7, 6, 2), 3, 2, "same"),  # asymmetric padding on the width
    ((1, 5, 7, 2), (2, 3), (1, 2), "same"),
    ((2, 7, 5, 2), 2, 3, "valid"),  # stride > pool: cells in no window
    ((2, 5, 5, 1), 2, None, "same"),  # padding only after
    ((2, 4, 4, 2), (1, 1), None, "valid"),
    ((0, 4, 4, 2), 2, None, "same"),  # empty batch
]

POOL1D = [
    ((2, 8, 3), 2, None, "valid"),
    ((2, 9, 2), 3, 2, "same"),
    ((2, 7, 2), (3,), (1,), "valid"),
    ((2, 7, 2), 2, 3, "same"),
    ((0, 6, 2), 2, None, "valid"),
]

OPS = {
    "max_pool2d": (ember.max_pool2d, torch_max_pool),
    "avg_pool2d": (ember.avg_pool2d, torch_avg_pool),
    "max_pool1d": (ember.max_pool1d, torch_max_pool),
    "avg_pool1d": (ember.avg_pool1d, torch_avg_pool),
}


def _distinct(rng, shape):
    """Values at least 1/size apart, so a max pool has no near-ties for finite differences."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) / max(size, 1) + 0.1


def _cases(rank):
    names = ["max_pool1d", "avg_pool1d"] if rank == 1 else ["max_pool2d", "avg_pool2d"]
    configs = POOL1D if rank == 1 else POOL2D
    return [(name,) + c for name in names for c in configs]


@pytest.mark.parametrize("name,shape,pool,strides,padding", _cases(2) + _cases(1))
def test_pool_against_torch(name, shape, pool, strides, padding, rng):
    ours, theirs = OPS[name]
    x = _distinct(rng, shape) if name.startswith("max") else rng.standard_normal(shape)
    check_against_torch(
        lambda a: ours(a, pool, strides, padding),
        lambda a: theirs(a, pool, strides, padding),
        noncontiguous(x),
    )


# the non-empty configurations of each op
FD_CASES = _cases(2)[:6] + _cases(2)[8:14] + _cases(1)[:4] + _cases(1)[5:9]


@pytest.mark.parametrize("name,shape,pool,strides,padding", FD_CASES)
def test_pool_gradients_finite_differences(name, shape, pool, strides, padding, rng):
    ours = OPS[name][0]
    check_gradients(lambda a: ours(a, pool, strides, padding), _distinct(rng, shape))


@pytest.mark.parametrize("pool,strides", [(2, None), (3, 1), ((2, 3), (2, 1))])
def test_max_pool2d_ties_send_the_gradient_to_one_cell_as_torch(pool, strides, rng):
    x = rng.integers(0, 2, size=(2, 6, 6, 2)).astype(np.float64)  # many equal maxima per window
    check_against_torch(
        lambda a: ember.max_pool2d(a, pool, strides), lambda a: torch_max_pool(a, pool, strides, "valid"), x
    )


def test_max_pool1d_ties_send_the_gradient_to_one_cell_as_torch():
    x = np.ones((1, 7, 1))
    check_against_torch(lambda a: ember.max_pool1d(a, 3, 2), lambda a: torch_max_pool(a, 3, 2, "valid"), x)


def test_same_padding_never_enters_the_result():
    # a max over negative values must not see padding zeros; an average of ones stays one at the edges
    x = -np.ones((1, 5, 5, 1), np.float32)
    np.testing.assert_array_equal(ember.max_pool2d(x, 2, padding="same").numpy(), -np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(ember.avg_pool2d(-x, 3, 2, padding="same").numpy(), np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(ember.avg_pool1d(-x[:, 0], 2, padding="same").numpy(), np.ones((1, 3, 1)))


def test_max_pool_propagates_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    x[0, 0, 1, 0] = np.nan
    out = ember.max_pool2d(x, 2).numpy()
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 1:, :]).any()


def test_pool_only_keeps_what_backward_needs_without_grad(rng):
    x = ember.tensor(rng.standard_normal((2, 4, 4, 3)))
    with ember.no_grad():
        y = ember.max_pool2d(x, 2)
    assert y.grad_fn is None and y.shape == (2, 2, 2, 3)


# ---- Keras 3 -----------------------------------------------------------------------------------


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 defines the semantics of these ops; pip install keras")


def _keras_value(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# Keras's torch backend pads asymmetric 'same' pooling by replicating edge cells; for max pooling
# that equals ignoring the padding, for average pooling it does not (TensorFlow and JAX divide by
# the count of real cells). So average pooling is compared with Keras's values only where the
# padding is symmetric or absent, and its shapes everywhere.
KERAS_CASES = [
    ((2, 6, 6, 3), 2, None, "valid", True),
    ((2, 7, 6, 2), 3, 2, "valid", True),
    ((2, 7, 7, 2), 3, 2, "same", True),  # symmetric padding (1, 1)
    ((2, 7, 6, 2), 3, 2, "same", False),  # asymmetric padding on the width
    ((1, 5, 7, 2), (2, 3), (1, 2), "same", False),
    ((2, 9, 2), 3, 2, "same", True),
    ((2, 8, 2), 3, 2, "same", False),
]


@pytest.mark.parametrize("shape,pool,strides,padding,symmetric", KERAS_CASES)
def test_pool_matches_keras(shape, pool, strides, padding, symmetric, rng):
    keras = _keras()
    x = rng.standard_normal(shape).astype(np.float32)
    rank = len(shape) - 2
    ours_max = ember.max_pool1d if rank == 1 else ember.max_pool2d
    ours_avg = ember.avg_pool1d if rank == 1 else ember.avg_pool2d
    expected = _keras_value(keras.ops.max_pool(x, pool, strides, padding))
    got = ours_max(x, pool, strides, padding).numpy()
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    expected = _keras_value(keras.ops.average_pool(x, pool, strides, padding))
    got = ours_avg(x, pool, strides, padding).numpy()
    assert got.shape == expected.shape
    if symmetric:
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_pool_layers_shapes_match_keras():
    keras = _keras()
    for padding in ("valid", "same"):
        layer = keras.layers.MaxPooling2D((3, 2), strides=(2, 1), padding=padding)
        got = ember.max_pool2d(np.zeros((2, 9, 8, 3)), (3, 2), (2, 1), padding)
        assert got.shape == tuple(layer.compute_output_shape((2, 9, 8, 3)))
        layer = keras.layers.AveragePooling1D(3, padding=padding)
        got = ember.avg_pool1d(np.zeros((2, 10, 3)), 3, padding=padding)
        assert got.shape == tuple(layer.compute_output_shape((2, 10, 3)))


# ---- errors ------------------------------------------------------------------------------------


def test_pool_errors_name_the_op_and_shapes():
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of rank 4 .*got shape \(5, 5, 3\)"):
        ember.max_pool2d(x[0], 2)
    with pytest.raises(ValueError, match=r"avg_pool1d: expected input of rank 3 \(batch, steps, channels\), got shape"):
        ember.avg_pool1d(x, 2)
    with pytest.raises(ValueError, match=r"max_pool1d: pool_size must be an int or a tuple of 1 ints"):
        ember.max_pool1d(x[..., 0], (2, 2))
    with pytest.raises(ValueError, match=r"avg_pool2d: strides must be >= 1"):
        ember.avg_pool2d(x, 2, strides=(0, 1))
    with pytest.raises(ValueError, match=r"max_pool2d: padding must be 'valid' or 'same'"):
        ember.max_pool2d(x, 2, padding="full")
    with pytest.raises(ValueError, match=r"avg_pool2d: window of size 6 .* larger than the input size 5"):
        ember.avg_pool2d(x, 6)


# ---- the numba max pool against the NumPy one ------------------------------------------------------------------


def _max_pool_both_paths(x, pool, strides, padding, monkeypatch):
    """(output, input gradient) on the NumPy path and on the kernels, for a fixed upstream gradient."""
    pytest.importorskip("numba")
    monkeypatch.setattr(pooling_kernels, "KERNEL_MIN_SIZE", 0)
    results = []
    for on in (False, True):
        previous = jit.set_enabled(on)
        try:
            xt = ember.tensor(x, requires_grad=True)
            y = ember.max_pool2d(xt, pool, strides, padding)
            g = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
            (y * ember.tensor(g)).sum().backward()
            results.append((y.numpy(), xt.grad.numpy()))
        finally:
            jit.set_enabled(previous)
    return results


@pytest.mark.parametrize("shape,pool,strides,padding", POOL2D[:-1] + [((3, 24, 24, 5), 2, None, "valid")])
@pytest.mark.parametrize("fill", ["distinct", "ties", "nan", "inf"])
def test_max_pool_kernels_give_the_numpy_bits(shape, pool, strides, padding, fill, rng, monkeypatch):
    if fill == "ties":
        x = rng.integers(0, 3, size=shape).astype(np.float32)  # many equal maxima, as after a relu
        x[x == 2] = -0.0  # and -0.0 against 0.0: numpy.maximum keeps the first
    else:
        x = rng.standard_normal(shape).astype(np.float32)
        if fill == "nan":
            x[rng.random(shape) < 0.1] = np.nan
        elif fill == "inf":
            x[rng.random(shape) < 0.3] = -np.inf
    (y0, g0), (y1, g1) = _max_pool_both_paths(x, pool, strides, padding, monkeypatch)
    np.testing.assert_array_equal(y0, y1)
    assert (np.signbit(y0) == np.signbit(y1)).all()
    np.testing.assert_array_equal(g0, g1)


def test_max_pool_kernel_backward_without_numba_after_a_kernel_forward(rng, monkeypatch):
    """Switching numba off between forward and backward takes the NumPy routing of the recorded winners."""
    pytest.importorskip("numba")
    monkeypatch.setattr(pooling_kernels, "KERNEL_MIN_SIZE", 0)
    x = rng.integers(0, 2, size=(2, 6, 7, 3)).astype(np.float64)
    for pool, strides in [(2, None), (3, 2), ((2, 3), (2, 3))]:
        grads = []
        for off_before_backward in (False, True):
            previous = jit.set_enabled(True)
            try:
                xt = ember.tensor(x, requires_grad=True)
                y = ember.max_pool2d(xt, pool, strides)
                jit.set_enabled(not off_before_backward)
                y.sum().backward()
                grads.append(xt.grad.numpy())
            finally:
                jit.set_enabled(previous)
        np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.host_only("the split over images runs on host (NumPy) arrays; the strict device keeps its arrays whole")
@pytest.mark.parametrize("pool,strides", [(2, None), (3, 2)])
def test_max_pool_kernels_split_over_images_give_the_same_bits(pool, strides, rng, monkeypatch):
    """The compiled passes run over pieces of the images in 1, 2 or 3 parts at once (the worker threads):
    output and gradient the same bits (an image count that does not divide evenly; windows that overlap)."""
    pytest.importorskip("numba")
    from ember.backend import workers
    from ember.ops import _windows

    monkeypatch.setattr(pooling_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    calls = []
    original = workers.run_parts
    monkeypatch.setattr(workers, "run_parts", lambda run, parts: calls.append(len(parts)) or original(run, parts))
    x = rng.standard_normal((5, 9, 8, 3)).astype(np.float32)
    g = rng.standard_normal((5,) + ember.max_pool2d(x, pool, strides).shape[1:]).astype(np.float32)
    results = []
    previous = jit.set_enabled(True)
    try:
        for parts in (1, 2, 3):
            del calls[:]
            with workers.forced_parts(parts):
                xt = ember.tensor(x, requires_grad=True)
                y = ember.max_pool2d(xt, pool, strides)
                y.backward(ember.tensor(g))
            assert calls == ([] if parts == 1 else [parts, parts])  # forward and backward, each split
            results.append((y.numpy(), xt.grad.numpy()))
    finally:
        jit.set_enabled(previous)
    for y, gx in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(gx, results[0][1])
