"""conv + bias (+ ReLU) as one op (ember.ops.convolution.conv_bias_act), which Conv1D/Conv2D layers with a bias and
no or a ReLU activation call: against PyTorch and finite differences, on the NumPy path and numba's one-pass
kernels, equal to the separate ops (forward bit for bit, backward to float32 rounding), second-order gradients,
the layer's choice of path, and the bias check."""

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients
from test_ops_conv import torch_conv1d, torch_conv2d_keras_kernel

import ember
from ember.backend import jit
from ember.layers.convolutional import base_conv
from ember.ops import _windows, conv_kernels
from ember.ops.convolution import Conv1DBiasAct, Conv2DBiasAct, conv_bias_act, conv_transpose_bias


@pytest.fixture(params=["numpy", "jit"])
def jit_path(request, monkeypatch):
    """Both paths: NumPy, and numba's one-pass bias/ReLU kernels (on these small arrays too)."""
    if request.param == "jit":
        pytest.importorskip("numba")
        monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    previous = jit.set_enabled(request.param == "jit")
    yield request.param
    jit.set_enabled(previous)


# (input shape, kernel shape, strides, padding)
CASES = [
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "valid"),
    ((3, 8, 8, 2), (3, 3, 2, 5), 2, "same"),
    ((2, 5, 5, 4), (1, 1, 4, 3), 1, "valid"),  # pointwise: one matmul
    ((2, 11, 3), (3, 3, 4), 1, "same"),  # 1-D
    ((3, 9, 2), (2, 2, 3), 2, "valid"),
]


def _torch_reference(relu):
    import torch

    def fn(x, k, b, strides, padding):
        conv = torch_conv1d if x.ndim == 3 else torch_conv2d_keras_kernel
        y = conv(x, k, strides, padding, 1) + b
        return torch.relu(y) if relu else y

    return fn


@pytest.mark.parametrize("xs,ks,strides,padding", CASES)
@pytest.mark.parametrize("relu", [True, False])
def test_conv_bias_act_against_torch_and_finite_differences(xs, ks, strides, padding, relu, rng, jit_path):
    pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for this test")
    x, k, b = rng.standard_normal(xs), rng.standard_normal(ks), rng.standard_normal(ks[-1])
    reference = _torch_reference(relu)
    check_against_torch(
        lambda a, w, c: conv_bias_act(a, w, c, strides, padding, 1, relu=relu),
        lambda a, w, c: reference(a, w, c, strides, padding),
        x,
        k,
        b,
    )
    check_gradients(lambda a, w, c: conv_bias_act(a, w, c, strides, padding, 1, relu=relu), x, k, b)


@pytest.mark.parametrize("xs,ks,strides,padding", CASES)
@pytest.mark.parametrize("relu", [True, False])
def test_conv_bias_act_equals_the_separate_ops_float32(xs, ks, strides, padding, relu, rng, jit_path):
    """Forward: the same bits as conv, add and relu one after another; gradients to float32 rounding (the bias
    gradient is summed in another order)."""
    x = rng.standard_normal(xs).astype(np.float32)
    k = rng.standard_normal(ks).astype(np.float32)
    b = rng.standard_normal(ks[-1]).astype(np.float32)
    conv = ember.conv1d if len(xs) == 3 else ember.conv2d
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, requires_grad=True) for a in (x, k, b)]
        if fused:
            y = conv_bias_act(*ts, strides, padding, 1, relu=relu)
        else:
            y = conv(ts[0], ts[1], strides, padding) + ts[2]
            y = ember.relu(y) if relu else y
        gy = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
        y.backward(ember.tensor(gy))
        results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for fused, separate in zip(results[0][1:], results[1][1:]):
        assert fused.dtype == np.float32
        np.testing.assert_allclose(fused, separate, rtol=1e-5, atol=1e-5 * np.abs(separate).max())


def test_relu_mask_passes_nan_gradients_as_the_separate_ops(jit_path):
    """Masked cells get g * 0 (NaN stays NaN, as relu's g * mask), unmasked cells g; the output keeps NaN."""
    x = np.array([[[[1.0], [-1.0], [np.nan]]]], dtype=np.float32)  # (1, 1, 3, 1)
    k = np.ones((1, 1, 1, 1), dtype=np.float32)
    b = np.zeros(1, dtype=np.float32)
    ts = [ember.tensor(a, requires_grad=True) for a in (x, k, b)]
    y = conv_bias_act(*ts, 1, "valid", 1, relu=True)
    np.testing.assert_array_equal(y.numpy().ravel(), [1.0, 0.0, np.nan])
    y.backward(ember.tensor(np.array([[[[2.0], [np.nan], [3.0]]]], dtype=np.float32)))
    np.testing.assert_array_equal(ts[0].grad.numpy().ravel(), [2.0, np.nan, 0.0])


@pytest.mark.parametrize("relu", [True, False])
def test_second_order_gradients_equal_the_separate_ops(relu, rng):
    """create_graph through the fused op: the ReLU mask is a constant, the bias sum and the convolution's
    backward are Ember ops; d/dk of sum(dL/dx ** 2) as with conv, add and relu."""
    x, k, b = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, dtype="float64", requires_grad=True) for a in (x, k, b)]
        if fused:
            y = conv_bias_act(*ts, 1, "same", 1, relu=relu)
        else:
            y = ember.conv2d(ts[0], ts[1], 1, "same") + ts[2]
            y = ember.relu(y) if relu else y
        gx, gk, gb = ember.grad((y * y).sum(), ts, create_graph=True)
        ((gx * gx).sum() + (gk * gk).sum() + (gb * gb).sum()).backward()
        results.append([t.grad.numpy() for t in ts])
    for fused, separate in zip(*results):
        np.testing.assert_allclose(fused, separate, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "layer,kwargs,fused",
    [
        ("Conv2D", dict(activation="relu"), Conv2DBiasAct),
        ("Conv2D", dict(), Conv2DBiasAct),
        ("Conv1D", dict(activation="relu"), Conv1DBiasAct),
        ("Conv2D", dict(activation="tanh"), Conv2DBiasAct),  # the bias inside, tanh after
        ("Conv2D", dict(activation="relu", use_bias=False), None),
        ("Conv2D", dict(activation="relu", groups=2), None),
        ("Conv1D", dict(activation="relu", padding="causal"), None),
    ],
)
def test_layers_take_the_fused_op_where_it_applies(layer, kwargs, fused, rng):
    """Conv layers with a bias and no or a plain ReLU activation run one fused op; other layers the separate ops.
    Both give the same outputs and weight gradients."""
    shape = (2, 6, 6, 4) if layer == "Conv2D" else (2, 9, 4)
    x = rng.standard_normal(shape).astype(np.float32)
    conv = getattr(ember.layers, layer)(4, 3, bias_initializer="random_normal", **kwargs)
    conv.build(shape)
    y = conv(ember.tensor(x))
    op = y.grad_fn if kwargs.get("activation") != "tanh" else y.grad_fn._edges[0][1]  # tanh's input's op
    assert (type(op) is fused) if fused else not isinstance(op, (Conv1DBiasAct, Conv2DBiasAct))
    (y * y).sum().backward()
    grads = [w.grad.numpy() for w in conv.trainable_weights]
    separate = getattr(ember.layers, layer).from_config(conv.get_config())
    separate.build(shape)
    separate.set_weights(conv.get_weights())
    separate._fuses_bias_act = lambda: False
    y2 = separate(ember.tensor(x))
    (y2 * y2).sum().backward()
    np.testing.assert_array_equal(y.numpy(), y2.numpy())
    for g, g2 in zip(grads, [w.grad.numpy() for w in separate.trainable_weights]):
        np.testing.assert_allclose(g, g2, rtol=1e-5, atol=1e-5 * np.abs(g2).max())


def test_a_bias_of_the_wrong_shape_is_refused():
    x, k = np.ones((1, 4, 4, 2), np.float32), np.ones((3, 3, 2, 5), np.float32)
    with pytest.raises(ValueError, match=r"conv2d: expected a bias of shape \(5,\).*got shape \(4,\)"):
        conv_bias_act(x, k, np.ones(4, np.float32), 1, "valid", 1)


def test_the_layer_check_names_base_conv():
    """The layer's test of the fused path is BaseConv's (Conv3D, with its own convolution_op, never takes it)."""
    conv3d = ember.layers.Conv3D(2, 3, activation="relu")
    conv3d.build((1, 4, 4, 4, 1))
    assert not base_conv.BaseConv._fuses_bias_act(conv3d)


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("xs", [(2, 8, 8, 3), (3, 9, 7, 2)])  # even and odd output sizes
def test_winograd_adds_bias_and_relu_in_its_output_transform_with_the_separate_ops_bits(xs, relu, rng, monkeypatch):
    """A Winograd forward takes the layer's bias and ReLU into its output transform (no pass of its own): the same
    bits as Winograd's conv, then add, then relu (signs of zeros included); gradients as the separate ops."""
    pytest.importorskip("numba")
    for name in ("WINOGRAD_MIN_CHANNELS", "WINOGRAD_MIN_TILES", "WINOGRAD_MIN_WIDENING", "KERNEL_MIN_SIZE"):
        monkeypatch.setattr(conv_kernels, name, 0)
    monkeypatch.setattr(_windows, "KEEP_BYTES", 0)  # (a kept im2col takes im2col's forward)
    seen = []
    run = conv_kernels.winograd_conv
    monkeypatch.setattr(conv_kernels, "winograd_conv", lambda *a: seen.append(len(a)) or run(*a))
    x = rng.standard_normal(xs).astype(np.float32)
    k = rng.standard_normal((3, 3, xs[-1], 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    b[0] = 0.0  # -0.0 outputs stay -0.0 without relu (0.0 + -0.0 ... as the add does)
    previous = jit.set_enabled(True)
    try:
        results = []
        for fused in (True, False):
            ts = [ember.tensor(a, requires_grad=True) for a in (x, k, b)]
            if fused:
                y = conv_bias_act(*ts, 1, "same", 1, relu=relu)
            else:
                y = ember.conv2d(ts[0], ts[1], 1, "same") + ts[2]
                y = ember.relu(y) if relu else y
            y.backward(ember.tensor(np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)))
            results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    finally:
        jit.set_enabled(previous)
    assert seen == [7, 5]  # the fused op passed its bias and relu; the separate conv none
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert (np.signbit(results[0][0]) == np.signbit(results[1][0])).all()
    for fused, separate in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(fused, separate, rtol=1e-5, atol=1e-5 * np.abs(separate).max())


@pytest.mark.parametrize("relu", [True, False])
def test_bias_and_relu_passes_split_over_rows_give_the_same_bits(relu, rng, monkeypatch):
    """The one-pass bias/ReLU kernels run over pieces of rows in 1, 2 or 3 parts at once: output and all three
    gradients the same bits (the bias gradient's partial sums added in piece order)."""
    pytest.importorskip("numba")
    from ember.backend import workers

    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    calls = []
    original = workers.run_parts
    monkeypatch.setattr(workers, "run_parts", lambda run, parts: calls.append(len(parts)) or original(run, parts))
    x = rng.standard_normal((5, 7, 6, 3)).astype(np.float32)
    k = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = rng.standard_normal((5, 5, 4, 4)).astype(np.float32)
    previous = jit.set_enabled(True)
    try:
        results = []
        for parts in (1, 2, 3):
            del calls[:]
            with workers.forced_parts(parts):
                ts = [ember.tensor(a, requires_grad=True) for a in (x, k, b)]
                y = conv_bias_act(*ts, 1, "valid", 1, relu=relu)
                y.backward(ember.tensor(g))
            assert (parts in calls) == (parts > 1)
            results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    finally:
        jit.set_enabled(previous)
    for result in results[1:]:
        for one, other in zip(results[0], result):
            np.testing.assert_array_equal(other, one)


# ---- the transposed convolution with its bias: conv_transpose_bias ---------------------------------------------------

# (input shape, kernel shape (kh, kw, out, in), strides, padding, output_padding, dilation)
TRANSPOSE_CASES = [
    ((2, 3, 4, 3), (4, 4, 5, 3), 2, "same", None, 1),  # W5's layers in small
    ((3, 4, 3, 2), (3, 3, 4, 2), 2, "valid", None, 1),
    ((2, 4, 4, 2), (3, 2, 3, 2), (1, 2), "same", 1, (2, 1)),
]


def _torch_transpose_bias(strides, padding, output_padding, dilation):
    from test_ops_conv import torch_conv2d_transpose

    return lambda a, b, c: torch_conv2d_transpose(a, b, strides, padding, output_padding, dilation) + c


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE_CASES)
def test_conv_transpose_bias_against_torch_and_finite_differences(
    xs, ks, strides, padding, output_padding, dilation, rng, jit_path
):
    """All three gradients against PyTorch (float32) and central differences (float64), NumPy and numba paths."""
    x, k, b = rng.standard_normal(xs), rng.standard_normal(ks), rng.standard_normal(ks[2])

    def ours(a, kk, c):
        return conv_transpose_bias(a, kk, c, strides, padding, output_padding, dilation)

    check_against_torch(ours, _torch_transpose_bias(strides, padding, output_padding, dilation), x, k, b)
    check_gradients(ours, x, k, b)


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE_CASES)
def test_conv_transpose_bias_has_the_separate_ops_bits(
    xs, ks, strides, padding, output_padding, dilation, rng, jit_path
):
    """Forward, input and kernel gradients bit for bit those of conv2d_transpose then + bias (float32), into a new
    contiguous output; the bias gradient (float64 sums in pieces with numba) to float32 rounding."""
    x, k, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ks, (ks[2],)))
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, requires_grad=True) for a in (x, k, b)]
        if fused:
            y = conv_transpose_bias(*ts, strides, padding, output_padding, dilation)
            assert y.numpy().flags.c_contiguous
        else:
            y = ember.conv2d_transpose(ts[0], ts[1], strides, padding, output_padding, dilation) + ts[2]
        (y * y).sum().backward()
        results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    for fused, separate in zip(results[0][:3], results[1][:3]):
        assert fused.dtype == np.float32
        np.testing.assert_array_equal(fused, separate)
    gb, expected = results[0][3], results[1][3]
    assert gb.dtype == np.float32
    np.testing.assert_allclose(gb, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_bias_grad_sums_rows_in_float64_with_the_same_bits_in_any_part_count(rows, rng, monkeypatch):
    """conv_kernels.bias_grad: pieces of rows summed in float64 in 1, 2 or 3 parts give the same bits, the float64
    column sums rounded to float32 (numba), or NumPy's float32 sum (without numba)."""
    from ember.backend import workers

    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    g = (rng.standard_normal((rows, 5)) * 10.0 ** rng.integers(-3, 4, (rows, 5))).astype(np.float32)
    sums = []
    for parts in (1, 2, 3):
        with workers.forced_parts(parts):
            sums.append(conv_kernels.bias_grad(np, g))
    for other in sums[1:]:
        np.testing.assert_array_equal(other, sums[0])
    assert sums[0].dtype == np.float32
    if jit.enabled():
        np.testing.assert_array_equal(sums[0], g.astype(np.float64).sum(axis=0).astype(np.float32))
    else:
        np.testing.assert_array_equal(sums[0], g.sum(axis=0))


@pytest.mark.parametrize("n", [1, 3, 5])
def test_conv_transpose_bias_gives_the_same_bits_in_any_part_count(n, rng, monkeypatch):
    """The pieces of images (each zeroing, summing and finishing its own images) run in 1, 2 or 3 parts at once:
    the same bits, and the same as the transposed convolution and a separate add."""
    from ember.backend import workers

    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    x = rng.standard_normal((n, 5, 4, 6)).astype(np.float32)
    k = rng.standard_normal((4, 4, 3, 6)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    outs = []
    for parts in (1, 2, 3):
        with workers.forced_parts(parts):
            outs.append(conv_transpose_bias(x, k, b, 2, "same").numpy())
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    np.testing.assert_array_equal(outs[0], (ember.conv2d_transpose(x, k, 2, "same") + b).numpy())


def test_conv_transpose_bias_second_order_equals_the_separate_ops(rng):
    """create_graph through the fused op: d/dx of sum(dL/dk ** 2 + dL/db ** 2) as with the transposed conv and add."""
    x, k, b = rng.standard_normal((2, 3, 3, 2)), rng.standard_normal((3, 3, 4, 2)), rng.standard_normal(4)
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, dtype="float64", requires_grad=True) for a in (x, k, b)]
        y = conv_transpose_bias(*ts, 2, "same") if fused else ember.conv2d_transpose(ts[0], ts[1], 2, "same") + ts[2]
        gx, gk, gb = ember.grad((y * y).sum(), ts, create_graph=True)
        ((gx * gx).sum() + (gk * gk).sum() + (gb * gb).sum()).backward()
        results.append([t.grad.numpy() for t in ts])
    for fused, separate in zip(*results):
        np.testing.assert_allclose(fused, separate, rtol=1e-10, atol=1e-10)


def test_conv_transpose_bias_refuses_a_bias_of_the_wrong_shape():
    x, k = np.ones((1, 3, 3, 2), np.float32), np.ones((3, 3, 5, 2), np.float32)
    with pytest.raises(ValueError, match=r"conv2d_transpose: expected a bias of shape \(5,\).*got shape \(2,\)"):
        conv_transpose_bias(x, k, np.ones(2, np.float32), 2, "same")


@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_transpose_layer_takes_the_fused_op_where_it_applies(use_bias, rng, monkeypatch):
    """Conv2DTranspose with a bias runs conv_transpose_bias (its activation after it); without one, the transposed
    convolution alone."""
    from ember.ops import convolution

    seen = []
    original = convolution.ConvTransposeBias.forward
    monkeypatch.setattr(
        convolution.ConvTransposeBias, "forward", lambda self, *a, **kw: seen.append(1) or original(self, *a, **kw)
    )
    layer = ember.layers.Conv2DTranspose(3, 3, strides=2, padding="same", use_bias=use_bias, activation="relu")
    x = rng.standard_normal((2, 4, 4, 2)).astype(np.float32)
    y = layer(ember.tensor(x))
    assert bool(seen) == use_bias
    expected = ember.conv2d_transpose(x, layer.kernel.numpy(), 2, "same").numpy()
    if use_bias:
        expected = expected + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), np.maximum(expected, 0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("keep", [0, 1 << 30])
def test_im2col_blocks_add_bias_and_relu_with_the_separate_ops_bits(relu, keep, rng, monkeypatch, jit_path):
    """On the im2col path the bias and ReLU are applied to each block's rows after its matmul (many blocks here,
    with the im2col kept or not, in 1, 2 or 3 parts): the separate ops' forward bits, and no pass of their own."""
    from ember.backend import workers

    monkeypatch.setattr(_windows, "BLOCK_BYTES", 200)
    monkeypatch.setattr(_windows, "KEEP_BYTES", keep)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    passes = []
    whole = conv_kernels.bias_act_forward
    monkeypatch.setattr(conv_kernels, "bias_act_forward", lambda *a: passes.append(1) or whole(*a))
    x = rng.standard_normal((5, 9, 8, 1)).astype(np.float32)
    k = rng.standard_normal((3, 3, 1, 12)).astype(np.float32)  # more channels than the tap sum takes
    b = rng.standard_normal(12).astype(np.float32)
    expected = ember.conv2d(x, k, 1, "valid") + b
    expected = (ember.relu(expected) if relu else expected).numpy()
    for parts in (1, 2, 3):
        with workers.forced_parts(parts):
            xt, kt, bt = (ember.tensor(a, requires_grad=True) for a in (x, k, b))
            y = conv_bias_act(xt, kt, bt, 1, "valid", 1, relu=relu)
        np.testing.assert_array_equal(y.numpy(), expected)
    assert passes == []


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("block", [200, 1 << 20])
def test_tap_sum_blocks_add_bias_and_relu_with_the_separate_ops_bits(relu, block, rng, monkeypatch, jit_path):
    """A 5x5 'same' conv to 3 channels runs as the tap sum (numba): the bias and ReLU are applied to each block's
    cells once summed (bands of rows or whole images, in 1, 2 or 3 parts): the separate ops' forward bits."""
    if jit_path == "numpy":
        pytest.skip("the tap sum is numba's")
    from ember.backend import workers

    monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    ran, passes = [], []
    tap_sum, whole = conv_kernels.tap_sum_conv, conv_kernels.bias_act_forward
    monkeypatch.setattr(conv_kernels, "tap_sum_conv", lambda *a, **kw: ran.append(1) or tap_sum(*a, **kw))
    monkeypatch.setattr(conv_kernels, "bias_act_forward", lambda *a: passes.append(1) or whole(*a))
    x = rng.standard_normal((5, 9, 8, 4)).astype(np.float32)
    k = rng.standard_normal((5, 5, 4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    expected = ember.conv2d(x, k, 1, "same") + b
    expected = (ember.relu(expected) if relu else expected).numpy()
    del ran[:]
    for parts in (1, 2, 3):
        with workers.forced_parts(parts):
            y = conv_bias_act(*(ember.tensor(a, requires_grad=True) for a in (x, k, b)), 1, "same", 1, relu=relu)
        np.testing.assert_array_equal(y.numpy(), expected)
    assert len(ran) == 3 and passes == []
