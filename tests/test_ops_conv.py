"""Convolutions (channels-last): forward and gradients vs finite differences, PyTorch and Keras 3."""

import math
import os

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients, noncontiguous

import ember

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")
F = torch.nn.functional


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _tf_same_pads(size, k, s, d):
    """TensorFlow's 'same' padding for one axis: (before, after), the odd cell after."""
    k_eff = (k - 1) * d + 1
    out = math.ceil(size / s)
    total = max((out - 1) * s + k_eff - size, 0)
    return total // 2, total - total // 2


# ---- PyTorch references (NCHW inside, NHWC outside) -------------------------------------------


def torch_conv2d(x, k, strides, padding, dilation, groups=1):
    s, d = _pair(strides), _pair(dilation)
    xt = x.permute(0, 3, 1, 2)
    if padding == "same":
        (t, b), (left, r) = (_tf_same_pads(xt.shape[2 + i], k.shape[2 + i], s[i], d[i]) for i in range(2))
        xt = F.pad(xt, (left, r, t, b))
    return F.conv2d(xt, k, stride=s, dilation=d, groups=groups).permute(0, 2, 3, 1)


def torch_conv2d_keras_kernel(x, k, strides, padding, dilation):
    return torch_conv2d(x, k.permute(3, 2, 0, 1), strides, padding, dilation)


def torch_conv1d(x, k, strides, padding, dilation):
    s, d = _pair(strides)[0], _pair(dilation)[0]
    xt = x.permute(0, 2, 1)
    if padding == "same":
        xt = F.pad(xt, _tf_same_pads(xt.shape[2], k.shape[0], s, d))
    return F.conv1d(xt, k.permute(2, 1, 0), stride=s, dilation=d).permute(0, 2, 1)


def torch_depthwise(x, k, strides, padding, dilation):
    kh, kw, c, m = k.shape
    w = k.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)  # group c holds output channels c*m .. c*m+m-1
    return torch_conv2d(x, w, strides, padding, dilation, groups=c)


def keras_transpose_size(size, k, s, d, padding, output_padding):
    """Keras's documented output size of a transposed convolution along one axis."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        extra = max(k_eff, s) - k_eff if output_padding is None else output_padding
        return (size - 1) * s + k_eff + extra
    if output_padding is None:
        return size * s
    return (size - 1) * s + k_eff % 2 + output_padding


def torch_conv2d_transpose(x, k, strides, padding, output_padding, dilation):
    """TensorFlow's definition: the input gradient of a conv2d whose input has the Keras output size.

    The full transposed convolution is cropped by the conv's 'before' padding
    (0 for 'valid'); cells past its end are zeros.
    """
    s, d = _pair(strides), _pair(dilation)
    ops = (None, None) if output_padding is None else _pair(output_padding)
    full = F.conv_transpose2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=s, dilation=d)
    for axis in range(2):
        size, kk = x.shape[1 + axis], k.shape[axis]
        out = keras_transpose_size(size, kk, s[axis], d[axis], padding, ops[axis])
        k_eff = (kk - 1) * d[axis] + 1
        crop = max((size - 1) * s[axis] + k_eff - out, 0) // 2 if padding == "same" else 0
        dim = 2 + axis
        full = full.narrow(dim, crop, min(out, full.shape[dim] - crop))
        missing = out - full.shape[dim]
        if missing > 0:
            full = F.pad(full, (0, missing) if axis == 1 else (0, 0, 0, missing))
    return full.permute(0, 2, 3, 1)


# ---- configurations ----------------------------------------------------------------------------

# (input shape, kernel shape (kh, kw, in, out), strides, padding, dilation_rate)
CONV2D = [
    ((2, 5, 6, 3), (3, 3, 3, 4), 1, "valid", 1),
    ((2, 7, 6, 3), (3, 2, 3, 4), 2, "same", 1),
    ((1, 6, 7, 2), (2, 3, 2, 3), (2, 1), "same", (1, 2)),
    ((3, 8, 7, 1), (3, 3, 1, 2), 1, "same", 2),
    ((2, 5, 5, 2), (2, 2, 2, 3), 1, "same", 1),  # even kernel: the odd padding cell goes after
    ((2, 5, 5, 2), (1, 1, 2, 3), 1, "valid", 1),  # 1x1: a plain matmul
    ((2, 6, 5, 2), (1, 1, 2, 3), 2, "same", 1),
    ((2, 7, 5, 2), (2, 2, 2, 1), 3, "valid", 1),  # stride > kernel: some cells in no window
    ((2, 4, 4, 2), (4, 4, 2, 2), 3, "same", 1),
    ((0, 5, 5, 2), (3, 3, 2, 3), 1, "same", 1),  # empty batch
    # fewer output than input channels at stride 1: the input gradient is a flipped-kernel convolution
    ((2, 6, 7, 4), (3, 3, 4, 2), 1, "same", 1),
    ((2, 7, 6, 3), (2, 3, 3, 1), 1, "same", (2, 1)),
    ((1, 6, 6, 5), (5, 5, 5, 3), 1, "valid", 1),
]

# (input shape, kernel shape (kw, in, out), strides, padding, dilation_rate)
CONV1D = [
    ((2, 7, 3), (3, 3, 4), 1, "valid", 1),
    ((2, 9, 2), (3, 2, 3), 2, "same", 1),
    ((3, 8, 2), (2, 2, 1), 1, "same", 3),
    ((2, 6, 1), (4, 1, 2), 3, "valid", 1),
    ((0, 6, 2), (3, 2, 2), 1, "same", 1),
]

# (input shape, kernel shape (kh, kw, in, depth_multiplier), strides, padding, dilation_rate)
DEPTHWISE = [
    ((2, 5, 6, 3), (3, 3, 3, 1), 1, "valid", 1),
    ((2, 7, 6, 2), (3, 2, 2, 3), 2, "same", 1),
    ((1, 6, 7, 2), (2, 2, 2, 2), (1, 2), "same", (2, 1)),
    ((0, 5, 5, 2), (3, 3, 2, 1), 1, "same", 1),
]

# (input shape, kernel shape (kh, kw, out, in), strides, padding, output_padding, dilation_rate)
TRANSPOSE = [
    ((2, 3, 4, 3), (3, 3, 5, 3), 1, "valid", None, 1),
    ((2, 3, 4, 3), (3, 3, 5, 3), 2, "same", None, 1),
    ((2, 3, 3, 2), (3, 2, 4, 2), (2, 3), "valid", None, 1),
    ((1, 3, 4, 2), (2, 2, 3, 2), 2, "same", None, 1),
    ((2, 3, 3, 2), (3, 3, 2, 2), 2, "same", 1, 1),
    ((2, 3, 3, 2), (3, 3, 2, 2), 3, "valid", (1, 2), 1),
    ((2, 3, 3, 2), (3, 3, 2, 2), 3, "same", 0, 1),
    ((2, 3, 3, 2), (2, 2, 2, 2), 1, "valid", None, 2),
    ((2, 2, 3, 2), (1, 1, 3, 2), 3, "valid", None, 1),  # stride > kernel: zero cells between
    ((0, 3, 3, 2), (3, 3, 2, 2), 2, "same", None, 1),
]


def _arrays(rng, xs, ks):
    return rng.standard_normal(xs), rng.standard_normal(ks)


# ---- conv2d ------------------------------------------------------------------------------------


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D)
def test_conv2d_against_torch(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_against_torch(
        lambda a, b: ember.conv2d(a, b, strides, padding, dilation),
        lambda a, b: torch_conv2d_keras_kernel(a, b, strides, padding, dilation),
        noncontiguous(x),
        k,
    )
    check_against_torch(
        lambda a, b: ember.conv2d(a, b, strides, padding, dilation),
        lambda a, b: torch_conv2d_keras_kernel(a, b, strides, padding, dilation),
        x,
        noncontiguous(k),
    )


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D[:5] + CONV2D[6:8])
def test_conv2d_gradients_finite_differences(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_gradients(lambda a, b: ember.conv2d(a, b, strides, padding, dilation), x, k)


def test_conv2d_only_one_input_needs_grad(rng):
    x, k = _arrays(rng, (2, 5, 5, 2), (3, 3, 2, 3))
    xt = ember.tensor(x, dtype="float64", requires_grad=True)
    ember.conv2d(xt, ember.tensor(k, dtype="float64"), 2, "same").sum().backward()
    kt = ember.tensor(k, dtype="float64", requires_grad=True)
    ember.conv2d(ember.tensor(x, dtype="float64"), kt, 2, "same").sum().backward()
    assert xt.grad.dtype == kt.grad.dtype == np.float64
    tx, tk = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    torch_conv2d_keras_kernel(tx, tk, 2, "same", 1).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kt.grad.numpy(), tk.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_accepts_uppercase_padding_and_list_arguments(rng):
    x, k = _arrays(rng, (1, 5, 5, 2), (3, 3, 2, 2))
    a = ember.conv2d(x, k, [2, 1], "SAME", [1, 1]).numpy()
    b = ember.conv2d(x, k, (2, 1), "same").numpy()
    np.testing.assert_array_equal(a, b)


# ---- conv1d ------------------------------------------------------------------------------------


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV1D)
def test_conv1d_against_torch(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_against_torch(
        lambda a, b: ember.conv1d(a, b, strides, padding, dilation),
        lambda a, b: torch_conv1d(a, b, strides, padding, dilation),
        noncontiguous(x),
        noncontiguous(k),
    )


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV1D[:4])
def test_conv1d_gradients_finite_differences(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_gradients(lambda a, b: ember.conv1d(a, b, strides, padding, dilation), x, k)


# ---- depthwise_conv2d --------------------------------------------------------------------------


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", DEPTHWISE)
def test_depthwise_conv2d_against_torch(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_against_torch(
        lambda a, b: ember.depthwise_conv2d(a, b, strides, padding, dilation),
        lambda a, b: torch_depthwise(a, b, strides, padding, dilation),
        noncontiguous(x),
        k,
    )


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", DEPTHWISE[:3])
def test_depthwise_conv2d_gradients_finite_differences(xs, ks, strides, padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_gradients(lambda a, b: ember.depthwise_conv2d(a, b, strides, padding, dilation), x, k)


# ---- conv2d_transpose --------------------------------------------------------------------------


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE)
def test_conv2d_transpose_against_torch(xs, ks, strides, padding, output_padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_against_torch(
        lambda a, b: ember.conv2d_transpose(a, b, strides, padding, output_padding, dilation),
        lambda a, b: torch_conv2d_transpose(a, b, strides, padding, output_padding, dilation),
        noncontiguous(x),
        noncontiguous(k),
    )


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE[:9])
def test_conv2d_transpose_gradients_finite_differences(xs, ks, strides, padding, output_padding, dilation, rng):
    x, k = _arrays(rng, xs, ks)
    check_gradients(lambda a, b: ember.conv2d_transpose(a, b, strides, padding, output_padding, dilation), x, k)


def test_conv2d_transpose_is_the_input_gradient_of_conv2d(rng):
    # TensorFlow's definition: <conv2d(y, k), x> == <y, conv2d_transpose(x, k)> for y of the transposed output shape
    x, k = _arrays(rng, (2, 4, 3, 3), (3, 3, 2, 3))
    x64, k64 = ember.tensor(x, dtype="float64"), ember.tensor(k, dtype="float64")
    for padding in ("valid", "same"):
        out = ember.conv2d_transpose(x64, k64, 2, padding).numpy()
        y = rng.standard_normal(out.shape)
        lhs = float((ember.conv2d(ember.tensor(y, dtype="float64"), k64, 2, padding).numpy() * x).sum())
        np.testing.assert_allclose(lhs, float((y * out).sum()), rtol=1e-12)


# ---- Keras 3 -----------------------------------------------------------------------------------


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 defines the semantics of these ops; pip install keras")


def _keras_value(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D[:5] + CONV1D[:3])
def test_conv_matches_keras(xs, ks, strides, padding, dilation, rng):
    keras = _keras()
    x, k = (a.astype(np.float32) for a in _arrays(rng, xs, ks))
    expected = _keras_value(keras.ops.conv(x, k, strides, padding, dilation_rate=dilation))
    fn = ember.conv1d if len(xs) == 3 else ember.conv2d
    got = fn(x, k, strides, padding, dilation).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", DEPTHWISE[:3])
def test_depthwise_conv2d_matches_keras(xs, ks, strides, padding, dilation, rng):
    keras = _keras()
    x, k = (a.astype(np.float32) for a in _arrays(rng, xs, ks))
    expected = _keras_value(keras.ops.depthwise_conv(x, k, strides, padding, dilation_rate=dilation))
    got = ember.depthwise_conv2d(x, k, strides, padding, dilation).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


# Keras's torch backend clamps output_padding to stride - 1, so only output_padding < stride is compared
@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE[:9])
def test_conv2d_transpose_matches_keras(xs, ks, strides, padding, output_padding, dilation, rng):
    keras = _keras()
    x, k = (a.astype(np.float32) for a in _arrays(rng, xs, ks))
    expected = _keras_value(
        keras.ops.conv_transpose(x, k, strides, padding, output_padding=output_padding, dilation_rate=dilation)
    )
    got = ember.conv2d_transpose(x, k, strides, padding, output_padding, dilation).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, 3])
def test_conv2d_transpose_layer_shapes_match_keras(padding, strides):
    keras = _keras()
    layer = keras.layers.Conv2DTranspose(4, (3, 2), strides=strides, padding=padding)
    expected = layer.compute_output_shape((2, 5, 4, 3))
    got = ember.conv2d_transpose(
        np.zeros((2, 5, 4, 3), np.float32), np.zeros((3, 2, 4, 3), np.float32), strides, padding
    )
    assert got.shape == tuple(expected)


# ---- errors ------------------------------------------------------------------------------------


def test_conv_errors_name_the_op_and_shapes():
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"conv2d: expected input of rank 4 .*got shape \(5, 5, 3\)"):
        ember.conv2d(x[0], np.zeros((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv2d: expected kernel of rank 4 .*got shape \(3, 3, 2\)"):
        ember.conv2d(x, np.zeros((3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv2d: kernel expects 4 input channels but the input has 3"):
        ember.conv2d(x, np.zeros((3, 3, 4, 2)))
    with pytest.raises(ValueError, match=r"conv1d: expected input of rank 3 \(batch, steps, channels\)"):
        ember.conv1d(x, np.zeros((3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv1d: kernel expects 2 input channels but the input has 5.*\(2, 5, 5\)"):
        ember.conv1d(x[..., 0], np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"conv2d: window of size 6 .* larger than the input size 5"):
        ember.conv2d(x, np.zeros((6, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv2d: padding must be 'valid' or 'same', got 'causal'"):
        ember.conv2d(x, np.zeros((3, 3, 3, 2)), padding="causal")
    with pytest.raises(ValueError, match=r"conv2d: strides must be >= 1"):
        ember.conv2d(x, np.zeros((3, 3, 3, 2)), strides=0)
    with pytest.raises(ValueError, match=r"conv2d: dilation_rate must be an int or a tuple of 2 ints"):
        ember.conv2d(x, np.zeros((3, 3, 3, 2)), dilation_rate=(1, 1, 1))
    with pytest.raises(ValueError, match=r"depthwise_conv2d: kernel expects 2 input channels but the input has 3"):
        ember.depthwise_conv2d(x, np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"depthwise_conv2d: expected kernel of rank 4"):
        ember.depthwise_conv2d(x, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d_transpose: kernel expects 2 input channels .* has 3"):
        ember.conv2d_transpose(x, np.zeros((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"conv2d_transpose: output_padding must be >= 0"):
        ember.conv2d_transpose(x, np.zeros((3, 3, 2, 3)), 2, output_padding=-1)
    with pytest.raises(ValueError, match=r"conv2d_transpose: expected input of rank 4"):
        ember.conv2d_transpose(x[0], np.zeros((3, 3, 2, 3)))


def test_conv_promotes_mixed_float_dtypes_to_the_wider():
    # Keras's and torch's rule: float32 input with a float64 kernel computes in float64; each gradient keeps
    # its input's dtype
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((1, 4, 4, 2)), dtype="float32", requires_grad=True)
    k = ember.tensor(rng.standard_normal((3, 3, 2, 2)), dtype="float64", requires_grad=True)
    y = ember.conv2d(x, k)
    assert y.dtype == np.float64
    expected = ember.conv2d(ember.tensor(x.numpy().astype("float64")), k)
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    y.sum().backward()
    assert x.grad.dtype == np.float32 and k.grad.dtype == np.float64
