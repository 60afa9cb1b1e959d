"""Dropout: seeded masks, keep fraction, scaling, noise_shape, gradients (finite differences, torch, Keras)."""

import importlib
import math
import os

import numpy as np
import pytest
from oracles import check_gradients

import ember


def _mask_of(x, y):
    """The kept-and-scaled factor per element, read from an output (x has no zeros)."""
    return y.numpy() / x


def test_same_int_seed_gives_same_mask(rng):
    x = rng.standard_normal((8, 16)).astype(np.float32)
    a = ember.dropout(ember.tensor(x), 0.5, seed=42).numpy()
    b = ember.dropout(ember.tensor(x), 0.5, seed=42).numpy()
    c = ember.dropout(ember.tensor(x), 0.5, seed=43).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_global_seed_repeats_and_stream_advances(rng):
    x = ember.tensor(rng.standard_normal((8, 16)).astype(np.float32))
    ember.random.seed(7)
    first = ember.dropout(x, 0.5).numpy()
    second = ember.dropout(x, 0.5).numpy()
    ember.random.seed(7)
    np.testing.assert_array_equal(ember.dropout(x, 0.5).numpy(), first)
    np.testing.assert_array_equal(ember.dropout(x, 0.5).numpy(), second)
    assert not np.array_equal(first, second)


def test_generator_seed_is_accepted(rng):
    x = ember.tensor(rng.standard_normal((4, 5)).astype(np.float32))
    a = ember.dropout(x, 0.3, seed=ember.random.Generator(5)).numpy()
    b = ember.dropout(x, 0.3, seed=ember.random.Generator(5)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_keep_fraction_and_scale(rate):
    n = 1_000_000
    x = ember.ones((n,))
    y = ember.dropout(x, rate).numpy()
    kept = y != 0
    # kept units are scaled by 1 / (1 - rate), dropped ones are exactly 0
    np.testing.assert_allclose(y[kept], np.float32(1.0 / (1.0 - rate)), rtol=1e-6)
    # the number kept is Binomial(n, 1 - rate); allow 6 standard deviations
    # (a false failure has probability about 2e-9)
    p = 1.0 - rate
    bound = 6 * math.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - p) < bound, (kept.mean(), p, bound)


def test_output_is_inverted_dropout_of_input(rng):
    x = rng.standard_normal((6, 7)).astype(np.float32) + 5.0  # no zeros
    y = ember.dropout(ember.tensor(x), 0.25, seed=1).numpy()
    dropped = y == 0
    assert dropped.any() and (~dropped).any()
    np.testing.assert_allclose(y[~dropped], x[~dropped] / np.float32(0.75), rtol=1e-6)


def test_training_false_and_rate_zero_return_input_unchanged(rng):
    x = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    assert ember.dropout(x, 0.5, training=False) is x
    assert ember.dropout(x, 0.0) is x


def test_float64_keeps_dtype(rng):
    x = ember.tensor(rng.standard_normal((3, 4)), dtype="float64")
    assert ember.dropout(x, 0.5, seed=0).dtype == np.float64


def test_noise_shape_shares_draws_along_size_one_axes(rng):
    x = rng.standard_normal((4, 6, 5)).astype(np.float32) + 5.0
    y = ember.dropout(ember.tensor(x), 0.5, noise_shape=(None, 1, None), seed=3)
    factor = _mask_of(x, y)
    # the mask is the same at every step of axis 1
    np.testing.assert_allclose(factor, np.broadcast_to(factor[:, :1, :], factor.shape), rtol=1e-6)
    assert (factor[:, 0, :] == 0).any() and (factor[:, 0, :] != 0).any()
    # explicit sizes work like None
    z = ember.dropout(ember.tensor(x), 0.5, noise_shape=(4, 1, 5), seed=3)
    np.testing.assert_array_equal(y.numpy(), z.numpy())


def test_empty_batch(rng):
    x = ember.tensor(np.zeros((0, 3), dtype=np.float32), requires_grad=True)
    y = ember.dropout(x, 0.5)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("shape,noise_shape", [((3, 4), None), ((2, 3, 4), (None, 1, None)), ((5,), (1,))])
def test_gradient_finite_differences(shape, noise_shape, rng):
    # a fixed seed makes every forward pass of the finite differences use the same mask
    check_gradients(lambda x: ember.dropout(x, 0.4, noise_shape=noise_shape, seed=11), rng.standard_normal(shape))


def test_gradient_is_mask_times_scale(rng):
    x_np = rng.standard_normal((5, 8)).astype(np.float32) + 5.0
    x = ember.tensor(x_np, requires_grad=True)
    y = ember.dropout(x, 0.6, seed=2)
    y.sum().backward()
    # d(sum y)/dx = mask * scale = y / x wherever x != 0
    np.testing.assert_allclose(x.grad.numpy(), y.numpy() / x_np, rtol=1e-6)
    assert set(np.unique(x.grad.numpy())) <= {0.0, np.float32(1 / 0.4)}


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.7])
def test_against_torch_dropout(rate, rng):
    """Each framework draws its own mask: compare what dropout means, not one shared mask.

    Both keep a fraction 1 - rate of the elements (within 4 binomial standard deviations), scale the kept
    ones by exactly 1 / (1 - rate), and backpropagate mask * scale; on a (256, 256) input the two keep
    fractions also agree with each other.
    """
    torch = pytest.importorskip("torch", reason="PyTorch's CPU build is the oracle; pip install torch==2.13.0")
    x_np = rng.standard_normal((256, 256)).astype(np.float32) + 5.0  # no zeros: kept means y != 0
    n = x_np.size
    sigma = math.sqrt(n * rate * (1 - rate))

    x = ember.tensor(x_np, requires_grad=True)
    y = ember.dropout(x, rate, seed=9)
    y.sum().backward()
    e_keep = y.numpy() != 0
    t = torch.tensor(x_np, requires_grad=True)
    torch.manual_seed(9)
    ty = torch.nn.functional.dropout(t, rate, training=True)
    ty.sum().backward()
    t_keep = ty.detach().numpy() != 0

    for keep in (e_keep, t_keep):
        assert abs(keep.sum() - n * (1 - rate)) < 4 * sigma
    assert abs(int(e_keep.sum()) - int(t_keep.sum())) < 6 * sigma
    scale = np.float32(1.0 / (1.0 - rate))
    np.testing.assert_allclose(y.numpy()[e_keep] / x_np[e_keep], scale, rtol=1e-6)
    np.testing.assert_allclose(ty.detach().numpy()[t_keep] / x_np[t_keep], scale, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), np.where(e_keep, scale, 0), rtol=1e-6)
    np.testing.assert_allclose(t.grad.numpy(), np.where(t_keep, scale, 0), rtol=1e-6)


def test_keras_scaling_matches():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines the dropout semantics; pip install keras")
    x = np.full((200, 50), 2.0, dtype=np.float32)
    layer = keras.layers.Dropout(0.3, seed=1)
    k_out = np.asarray(keras.ops.convert_to_numpy(layer(x, training=True)))
    e_out = ember.dropout(ember.tensor(x), 0.3).numpy()
    # masks differ (different generators); the kept value and the inference pass-through agree
    np.testing.assert_allclose(np.unique(k_out[k_out != 0]), np.unique(e_out[e_out != 0]), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(keras.ops.convert_to_numpy(layer(x, training=False))), x)
    np.testing.assert_array_equal(ember.dropout(ember.tensor(x), 0.3, training=False).numpy(), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_rate_out_of_range_raises(rate):
    with pytest.raises(ValueError, match=r"dropout: rate must be in \[0, 1\)"):
        ember.dropout(ember.ones((2, 2)), rate)


def test_bad_arguments_raise():
    x = ember.ones((2, 3))
    with pytest.raises(TypeError, match="dropout: rate"):
        ember.dropout(x, "0.5")
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(2,\) must have one entry per axis"):
        ember.dropout(x, 0.5, noise_shape=(2,))
    with pytest.raises(ValueError, match=r"dropout: noise_shape \(2, 4\) does not broadcast"):
        ember.dropout(x, 0.5, noise_shape=(2, 4))
    with pytest.raises(TypeError, match="dropout: expected a float tensor"):
        ember.dropout(ember.tensor([1, 2, 3]), 0.5)


@pytest.mark.host_only("the numba kernel runs on NumPy arrays")
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.3, 0.5, 0.7])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_mask_kernel_equals_the_numpy_mask(rate, dtype, monkeypatch):
    """The one-pass mask (numba) is NumPy's (uniform >= rate) cast and scaled, cell for cell: drawn from the same
    seed, and on uniforms at the rate's rounding in the draw's dtype and its neighbours."""
    pytest.importorskip("numba")
    from ember.backend import jit

    dropout = importlib.import_module("ember.ops.dropout")
    dt = np.dtype(dtype)
    device = ember.tensor(np.zeros(1, np.float32)).device
    draw = dropout.MaskDraw(5, (6, 50), rate, dt)
    monkeypatch.setattr(dropout, "KERNEL_MIN_SIZE", 0)
    previous = jit.set_enabled(False)
    try:
        numpy_mask = draw(device)
    finally:
        jit.set_enabled(previous)
    kernel_mask = draw(device)
    assert kernel_mask.dtype == numpy_mask.dtype == dt
    np.testing.assert_array_equal(kernel_mask, numpy_mask)
    if dtype == "float16":
        return  # (float16 masks: NumPy's path, as above)
    kernel = dropout._mask_from_uniform.compiled()
    udt = np.float64 if dtype == "float64" else np.float32
    r = udt(rate)
    u = np.array([np.nextafter(r, udt(0)), r, np.nextafter(r, udt(1)), 0, 1 - np.finfo(udt).eps], dtype=udt)
    u = np.concatenate([u, np.random.default_rng(1).random(100, dtype=udt)])
    scale = dt.type(1.0 / (1.0 - rate))
    mask = np.empty(u.shape, dt)
    kernel(u, r, scale, mask)
    expected = (u >= rate).astype(dt)
    expected *= scale
    np.testing.assert_array_equal(mask, expected)
    assert mask[0] == 0 and mask[1] == scale
