"""Activations and softmax/log_softmax: finite differences, PyTorch and Keras 3 (torch backend)."""

import math
import os
import warnings

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients, noncontiguous

import ember
from ember.ops.activation import _erf, _erfc_nonneg

os.environ.setdefault("KERAS_BACKEND", "torch")


def _F():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for these tests").nn.functional


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines the activation semantics")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


# name -> (ember function, torch function, points where the function has a kink)
ACTIVATIONS = {
    "relu": (ember.relu, lambda t: _F().relu(t), (0.0,)),
    "relu6": (ember.relu6, lambda t: _F().relu6(t), (0.0, 6.0)),
    "leaky_relu": (ember.leaky_relu, lambda t: _F().leaky_relu(t, 0.2), (0.0,)),
    "elu": (ember.elu, lambda t: _F().elu(t), (0.0,)),
    "selu": (ember.selu, lambda t: _F().selu(t), (0.0,)),
    "gelu": (ember.gelu, lambda t: _F().gelu(t, approximate="none"), ()),
    "gelu_tanh": (
        lambda x: ember.gelu(x, approximate=True),
        lambda t: _F().gelu(t, approximate="tanh"),
        (),
    ),
    "sigmoid": (ember.sigmoid, lambda t: _F().sigmoid(t), ()),
    "hard_sigmoid": (ember.hard_sigmoid, lambda t: _F().hardsigmoid(t), (-3.0, 3.0)),
    "hard_silu": (ember.hard_silu, lambda t: _F().hardswish(t), (-3.0, 3.0)),
    "tanh": (ember.tanh, lambda t: _F().tanh(t), ()),
    "softplus": (ember.softplus, lambda t: _F().softplus(t), ()),
    "softsign": (ember.softsign, lambda t: _F().softsign(t), ()),
    "silu": (ember.silu, lambda t: _F().silu(t), ()),
    "mish": (ember.mish, lambda t: _F().mish(t), ()),
    "exponential": (ember.exponential, lambda t: t.exp(), ()),
    "log_sigmoid": (ember.log_sigmoid, lambda t: _F().logsigmoid(t), ()),
}

# Keras name and kwargs for each entry above
KERAS_NAMES = {
    "gelu_tanh": ("gelu", {"approximate": True}),
}

SHAPES = [(3, 4), (2, 1, 5), (1,), (), (0, 3)]


def _inputs(rng, shape, kinks, scale=3.0):
    """Random values spread over the interesting range, kept 1e-2 away from the kinks."""
    x = rng.standard_normal(shape) * scale
    for k in kinks:
        close = np.abs(x - k) < 1e-2
        x = np.where(close, k + 0.05, x)
    return x


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_against_torch(name, shape, rng):
    fn, tfn, kinks = ACTIVATIONS[name]
    x = _inputs(rng, shape, kinks, scale=4.0)
    check_against_torch(fn, tfn, noncontiguous(x))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(2, 3), (4,)])
def test_activation_gradients_finite_differences(name, shape, rng):
    fn, _, kinks = ACTIVATIONS[name]
    check_gradients(fn, _inputs(rng, shape, kinks))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_keras(name, keras, rng):
    fn, _, kinks = ACTIVATIONS[name]
    kname, kwargs = KERAS_NAMES.get(name, (name, {}))
    kfn = getattr(keras.activations, kname)
    check_against_torch(fn, lambda t: kfn(t, **kwargs), _inputs(rng, (3, 5), kinks, scale=4.0))


@pytest.mark.parametrize("name", ["hard_swish", "swish"])
def test_aliases_match_keras(name, keras, rng):
    check_against_torch(getattr(ember, name), getattr(keras.activations, name), rng.standard_normal((3, 4)) * 4)


def test_linear_is_identity(keras):
    x = ember.tensor([1.0, -2.0], requires_grad=True)
    assert ember.linear(x) is x


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "hard_sigmoid", "hard_silu"])
def test_gradient_at_kinks_matches_torch(name):
    fn, tfn, kinks = ACTIVATIONS[name]
    x = np.array(sorted(set(kinks) | {0.0, -3.0, 3.0, 6.0, -1.0, 2.5}), dtype=np.float32)
    check_against_torch(fn, tfn, x)


RELU_VARIANTS = [
    {},
    {"negative_slope": 0.1},
    {"max_value": 6.0},
    {"max_value": 2.5},
    {"threshold": 1.0},
    {"threshold": -0.5},
    {"negative_slope": 0.3, "max_value": 2.0},
    {"negative_slope": 0.3, "threshold": 1.5},
    {"negative_slope": 0.3, "max_value": 6.0, "threshold": 0.5},
    {"max_value": 3.0, "threshold": -1.0},
]


@pytest.mark.parametrize("kwargs", RELU_VARIANTS, ids=str)
def test_relu_options_match_keras(kwargs, keras, rng):
    x = _inputs(rng, (4, 6), (0.0, 6.0, 2.5, 2.0, 3.0) + tuple(kwargs.values()), scale=4.0)
    check_against_torch(lambda t: ember.relu(t, **kwargs), lambda t: keras.activations.relu(t, **kwargs), x)
    check_gradients(lambda t: ember.relu(t, **kwargs), x[:2, :3])


def test_relu_defaults_match_keras_signature(keras):
    import inspect

    ours = inspect.signature(ember.relu).parameters
    theirs = inspect.signature(keras.activations.relu).parameters
    assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]
    for name in ("leaky_relu", "elu", "gelu", "softmax", "log_softmax"):
        ours = inspect.signature(getattr(ember, name)).parameters
        theirs = inspect.signature(getattr(keras.activations, name)).parameters
        assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()], name


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.5}, {"alpha": 0.5}, {"approximate": True}], ids=str)
def test_non_default_arguments(kwargs, rng):
    x = _inputs(rng, (3, 4), (0.0,))
    F = _F()
    if "negative_slope" in kwargs:
        check_against_torch(lambda t: ember.leaky_relu(t, **kwargs), lambda t: F.leaky_relu(t, 0.5), x)
    elif "alpha" in kwargs:
        check_against_torch(lambda t: ember.elu(t, **kwargs), lambda t: F.elu(t, 0.5), x)
        check_gradients(lambda t: ember.elu(t, **kwargs), x)
    else:
        check_against_torch(lambda t: ember.gelu(t, **kwargs), lambda t: F.gelu(t, approximate="tanh"), x)


def test_erf_matches_math_erf_to_float64_precision():
    x = np.concatenate([np.linspace(-8, 8, 20001), [0.46875, -0.46875, 4.0, -4.0, 1e-300, 27.0, -40.0]])
    expected = np.array([math.erf(v) for v in x])
    # Cody's rational approximations: a few ulps of float64 everywhere
    np.testing.assert_allclose(_erf(np, x), expected, rtol=1e-15, atol=0)
    y = np.linspace(0, 26, 20001)
    np.testing.assert_allclose(_erfc_nonneg(np, y), [math.erfc(v) for v in y], rtol=2e-15, atol=0)
    special = _erf(np, np.array([np.inf, -np.inf, np.nan, 0.0]))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2]) and special[3] == 0


def test_erf_float32_path():
    y = np.linspace(0, 4, 4001)
    expected = np.array([math.erfc(v) for v in y])
    got = _erfc_nonneg(np, y.astype(np.float32))
    assert got.dtype == np.float32
    # the fit itself is within 1.2e-7; in float32 the rounding of y*y (6e-8 relative) is multiplied by
    # y^2 <= 16 inside exp, so up to ~1e-6 relative, plus a few ulps from the polynomial and exp
    np.testing.assert_allclose(got, expected, rtol=5e-6, atol=0)
    x = np.linspace(-6, 6, 6001)
    # erf = 1 - erfc: a few float32 ulps of 1 absolutely
    np.testing.assert_allclose(_erf(np, x.astype(np.float32)), [math.erf(v) for v in x], rtol=0, atol=5e-7)
    special = _erf(np, np.array([np.inf, -np.inf, np.nan], dtype=np.float32))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "silu", "mish", "elu", "selu"])
def test_large_inputs_do_not_overflow(name):
    fn, tfn, _ = ACTIVATIONS[name]
    x = np.array([-1000.0, -80.0, -30.0, 30.0, 80.0, 1000.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(ember.tensor(x))
    assert np.isfinite(out.numpy()).all()
    check_against_torch(fn, tfn, x)


def test_gelu_float32_keeps_dtype():
    assert ember.gelu(ember.tensor([1.0, -2.0])).dtype == np.float32
    assert ember.gelu(ember.tensor([1.0, -2.0], dtype="float64")).dtype == np.float64


# ---- softmax / log_softmax -------------------------------------------------------------------------------------------


SOFTMAX_CASES = [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1), ((4, 1), -1), ((0, 4), -1), ((1, 6), 1), ((5,), 0)]


@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_against_torch(name, shape, axis, rng):
    F = _F()
    tfn = F.softmax if name == "softmax" else F.log_softmax
    x = rng.standard_normal(shape) * 3
    check_against_torch(lambda t: getattr(ember, name)(t, axis=axis), lambda t: tfn(t, dim=axis), noncontiguous(x))


@pytest.mark.parametrize("shape,axis", [((2, 3), -1), ((2, 3), 0), ((2, 2, 3), (0, 2)), ((2, 3), None)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradients_finite_differences(name, shape, axis, rng):
    check_gradients(lambda t: getattr(ember, name)(t, axis=axis), rng.standard_normal(shape))


@pytest.mark.parametrize("axis", [-1, 1, (0, 2), (1, 2), None])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_matches_keras(name, axis, keras, rng):
    x = rng.standard_normal((2, 3, 4)) * 2
    kfn = getattr(keras.activations, name)
    check_against_torch(lambda t: getattr(ember, name)(t, axis=axis), lambda t: kfn(t, axis=axis), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_for_large_logits(name):
    F = _F()
    tfn = F.softmax if name == "softmax" else F.log_softmax
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(ember, name)(ember.tensor(x))
    assert np.isfinite(out.numpy()).all()
    check_against_torch(lambda t: getattr(ember, name)(t), lambda t: tfn(t, dim=-1), x)


@pytest.mark.parametrize("shape", [(128, 10), (1024, 10), (4, 16, 10), (64, 2), (32, 64), (32, 65), (3, 10), (7, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_row_maximum_is_the_reduction_bit_for_bit(shape, dtype, rng):
    # a short last axis is reduced on the transposed copy: the same maxima, so the same softmax bits
    from ember.ops.activation import _max_keepdims

    x = (rng.standard_normal(shape) * 3).astype(dtype)
    flat = x.reshape(-1, shape[-1])
    flat[1, 0] = np.nan  # a NaN row stays NaN
    flat[2] = 0.0
    flat[2, ::2] = -0.0  # zeros of both signs
    flat[0, -1] = np.inf
    expected = np.maximum.reduce(x, (x.ndim - 1,), None, None, True)
    got = _max_keepdims(x, (x.ndim - 1,))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    with np.errstate(invalid="ignore"):
        y = ember.softmax(ember.tensor(x, dtype=x.dtype)).numpy()
        z = x - expected
        np.exp(z, out=z)
        z /= np.add.reduce(z, (x.ndim - 1,), None, None, True)
    np.testing.assert_array_equal(y, z)


def test_softmax_sums_to_one_and_log_softmax_is_its_log(rng):
    x = ember.tensor(rng.standard_normal((4, 7)))
    s = ember.softmax(x).numpy()
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(ember.log_softmax(x).numpy()), s, rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_bad_axis(name):
    x = ember.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range"):
        getattr(ember, name)(x, axis=2)
    with pytest.raises(ValueError, match=f"{name}: repeated axis"):
        getattr(ember, name)(x, axis=(1, -1))


def test_relu_rejects_negative_max_value():
    with pytest.raises(ValueError, match="relu: max_value must be >= 0"):
        ember.relu(ember.tensor([1.0]), max_value=-1.0)


def test_tensor_methods_use_these_ops(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = ember.tensor(x)
    F = _F()
    import torch

    tt = torch.from_numpy(x)
    np.testing.assert_allclose(t.relu().numpy(), F.relu(tt).numpy())
    np.testing.assert_allclose(t.sigmoid().numpy(), F.sigmoid(tt).numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.tanh().numpy(), torch.tanh(tt).numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.softmax(axis=0).numpy(), F.softmax(tt, dim=0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(t.log_softmax().numpy(), F.log_softmax(tt, dim=-1).numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS) + ["softmax", "log_softmax", "relu_options"])
def test_float32_stays_float32_through_backward(name, rng):
    # the engine would cast a float64 gradient back, but computing it in float64 costs time
    if name == "relu_options":
        fn = lambda t: ember.relu(t, negative_slope=0.1, max_value=2.0, threshold=0.5)  # noqa: E731
    else:
        fn = ACTIVATIONS[name][0] if name in ACTIVATIONS else getattr(ember, name)
    x = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    (g,) = (y.grad_fn.backward(y.grad_fn.xp.ones(y.shape, dtype=np.float32)),)
    assert g.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 1), (5,), (3, 4, 2)])
def test_sigmoid_host_form_and_lean_form_give_the_generic_bits(dtype, shape):
    """Sigmoid on NumPy arrays (forward and the predict plan's lean form) takes a shorter form of the same steps:
    the same bits as the generic form, NaN, signed zeros and saturating values included; 0-d too."""
    from ember.ops.activation import Sigmoid, _sigmoid, _sigmoid_host

    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 20).astype(dtype)
    x.flat[:5] = [np.nan, -0.0, 0.0, 1e4, -1e4]
    expected = _sigmoid(np, x)
    lean = Sigmoid.lean(np, {})
    for got in (_sigmoid_host(x), lean(x), ember.sigmoid(ember.tensor(x, dtype=dtype)).numpy()):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))
    scalar = np.asarray(x.flat[-1])
    np.testing.assert_array_equal(lean(scalar), _sigmoid(np, scalar))


@pytest.mark.parametrize("axis", [-1, 0, (0, 2), None])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_lean_form_gives_the_forward_bits_also_in_place(axis, dtype):
    """The predict plan's softmax (a fresh array, or written into the logits' own buffer): the forward's bits."""
    from ember.ops.activation import Softmax

    rng = np.random.default_rng(4)
    x = (rng.standard_normal((6, 10, 3)) * 30).astype(dtype)
    x[0, :, 0] = -np.inf
    x[1, 0, 1] = np.nan
    expected = ember.ops.activation.softmax(ember.tensor(x, dtype=dtype), axis=axis).numpy()
    lean = Softmax.lean(np, {"axis": axis})
    np.testing.assert_array_equal(lean(x), expected)
    buffer = x.copy()
    got = lean(buffer, out=buffer)
    assert got is buffer
    np.testing.assert_array_equal(got, expected)
    assert Softmax.lean(object(), {"axis": axis}) is None  # other array modules: the forward runs
    empty = np.zeros((0, 4, 2), dtype)
    assert lean(empty).shape == (0, 4, 2)
