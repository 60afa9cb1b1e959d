"""Convolution in blocks of output rows (im2col a block at a time): every way of cutting the batch gives the
same numbers as PyTorch and as finite differences, with and without keeping the im2col matrix for backward,
with the input gradient's col2im in NumPy and in numba."""

import threading

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients
from test_ops_conv import (
    CONV1D,
    CONV2D,
    DEPTHWISE,
    TRANSPOSE,
    torch_conv1d,
    torch_conv2d_keras_kernel,
    torch_conv2d_transpose,
    torch_depthwise,
)

import ember
from ember.backend import jit
from ember.ops import _windows, conv_kernels

pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")

# (BLOCK_BYTES, KEEP_BYTES): a block per output row, a few rows or images per block, one block; kept or not
MODES = [(1, 0), (300, 0), (2000, 0), (1, 1 << 30), (300, 1 << 30)]


@pytest.fixture(autouse=True, params=["numpy", "jit"])
def jit_path(request, monkeypatch):
    """Every test on both input-gradient paths: NumPy, and numba's col2im (on these small arrays too)."""
    if request.param == "jit":
        pytest.importorskip("numba")
        monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    previous = jit.set_enabled(request.param == "jit")
    yield request.param
    jit.set_enabled(previous)


@pytest.fixture(params=MODES, ids=lambda m: f"block{m[0]}-keep{int(m[1] > 0)}")
def blocks(request, monkeypatch):
    block, keep = request.param
    monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
    monkeypatch.setattr(_windows, "KEEP_BYTES", keep)
    return request.param


def test_row_blocks_cover_the_output_once():
    for n, oh, ow, row_bytes, budget in [(5, 4, 3, 10, 1), (5, 4, 3, 10, 25), (5, 4, 3, 10, 85), (3, 2, 2, 8, 10**6)]:
        _windows.BLOCK_BYTES, saved = budget, _windows.BLOCK_BYTES
        try:
            blocks = _windows.row_blocks(np, n, (oh, ow), row_bytes)
        finally:
            _windows.BLOCK_BYTES = saved
        covered = np.zeros(n * oh * ow, dtype=int)
        for block in blocks:
            n0, n1, h0, h1 = block
            assert n1 - n0 == 1 or (h0, h1) == (0, oh)
            covered[_windows.block_rows(block, (oh, ow))] += 1
        np.testing.assert_array_equal(covered, 1)


def test_a_large_kernel_matrix_makes_larger_blocks():
    """Each block's matmul packs the whole kernel again: blocks grow to twice the kernel matrix's bytes."""
    small = _windows.row_blocks(np, 8, (8, 8), 8 * 9 * 512 * 4)
    large = _windows.row_blocks(np, 8, (8, 8), 8 * 9 * 512 * 4, matrix_bytes=9 * 512 * 512 * 4)
    assert len(small) == 8 and large == [(0, 8, 0, 8)]


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE)
def test_conv2d_transpose_in_blocks_against_torch(xs, ks, strides, padding, output_padding, dilation, rng, blocks):
    """The transposed forward is conv2d's input gradient (col2im in numba or per offset), its backward conv2d's
    forward and kernel gradient: every block cut and both col2im paths."""
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_against_torch(
        lambda a, b: ember.conv2d_transpose(a, b, strides, padding, output_padding, dilation),
        lambda a, b: torch_conv2d_transpose(a, b, strides, padding, output_padding, dilation),
        x,
        k,
    )


@pytest.mark.parametrize("xs,ks,strides,padding,output_padding,dilation", TRANSPOSE[:9])
def test_conv2d_transpose_in_blocks_gradients_finite_differences(
    xs, ks, strides, padding, output_padding, dilation, rng, blocks
):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_gradients(lambda a, b: ember.conv2d_transpose(a, b, strides, padding, output_padding, dilation), x, k)


def test_conv2d_transpose_stride1_input_grad_takes_winograd(rng, monkeypatch, winograd, jit_path):
    """A 3x3 stride-1 transposed conv's input gradient alone is a 3x3 stride-1 conv2d: Winograd where numba is.
    (With the kernel gradient too, both come from one im2col per block instead.)"""
    import torch

    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    x, k = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 3, 4, 3))
    g = rng.standard_normal((2, 5, 6, 4))
    xt = ember.tensor(x, dtype="float64", requires_grad=True)
    ember.conv2d_transpose(xt, ember.tensor(k, dtype="float64"), 1, "same").backward(ember.tensor(g, dtype="float64"))
    assert bool(winograd) == (jit_path == "jit")
    tx = torch.tensor(x, requires_grad=True)
    torch_conv2d_transpose(tx, torch.tensor(k), 1, "same", None, 1).backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D)
def test_conv2d_in_blocks_against_torch(xs, ks, strides, padding, dilation, rng, blocks):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_against_torch(
        lambda a, b: ember.conv2d(a, b, strides, padding, dilation),
        lambda a, b: torch_conv2d_keras_kernel(a, b, strides, padding, dilation),
        x,
        k,
    )


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D[:5] + CONV2D[6:8])
def test_conv2d_in_blocks_gradients_finite_differences(xs, ks, strides, padding, dilation, rng, blocks):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_gradients(lambda a, b: ember.conv2d(a, b, strides, padding, dilation), x, k)


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV1D)
def test_conv1d_in_blocks_against_torch(xs, ks, strides, padding, dilation, rng, blocks):
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_against_torch(
        lambda a, b: ember.conv1d(a, b, strides, padding, dilation),
        lambda a, b: torch_conv1d(a, b, strides, padding, dilation),
        x,
        k,
    )


def test_blocks_do_not_change_the_numbers_much(rng, monkeypatch):
    """One block against a block per row, in float32."""
    x = ember.tensor(rng.standard_normal((3, 9, 8, 4)), dtype="float32", requires_grad=True)
    k = ember.tensor(rng.standard_normal((3, 3, 4, 5)), dtype="float32", requires_grad=True)
    results = []
    for block in (1 << 30, 1):
        monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
        monkeypatch.setattr(_windows, "KEEP_BYTES", 0)
        x.grad = k.grad = None
        y = ember.conv2d(x, k, 1, "same")
        (y * y).sum().backward()
        results.append((y.numpy(), x.grad.numpy(), k.grad.numpy()))
    # the same dot products, but BLAS may pick other kernels for other row counts, and the kernel gradient
    # sums the blocks in another order: float32-honest, not bitwise
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())


def test_the_scratch_buffer_is_reused_and_bounded(monkeypatch):
    monkeypatch.setattr(_windows, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(_windows, "_scratch", threading.local())  # as in a new thread
    x = np.ones((8, 10, 10, 3), dtype=np.float32)
    k = np.ones((3, 3, 3, 2), dtype=np.float32)
    ember.conv2d(x, k)
    buf = _windows._scratch.buf
    ember.conv2d(x, k)
    assert _windows._scratch.buf is buf
    assert buf.nbytes <= 4096


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", CONV2D)
def test_col2im_kernel_against_numpy(xs, ks, strides, padding, dilation, rng, monkeypatch, jit_path):
    """The input gradient with numba's col2im and with NumPy's per-offset adds: the same sums in another order."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "BLOCK_BYTES", 300)
    x = rng.standard_normal(xs).astype(np.float32)
    k = rng.standard_normal(ks).astype(np.float32)
    grads = []
    for on in (False, True):
        previous = jit.set_enabled(on)
        try:
            xt = ember.tensor(x, requires_grad=True)
            y = ember.conv2d(xt, ember.tensor(k), strides, padding, dilation)
            (y * y).sum().backward()
            grads.append(xt.grad.numpy())
        finally:
            jit.set_enabled(previous)
    scale = max(np.abs(grads[0]).max(initial=0), 1)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-6 * scale)


# 3x3, stride 1, undilated: the forward Winograd F(2x2, 3x3) takes (with numba, enough channels, no im2col kept);
# odd and even output sizes (partial last tiles), "same" padding, one channel and several
WINOGRAD = [
    ((2, 6, 6, 3), "valid"),
    ((2, 7, 9, 2), "valid"),
    ((3, 5, 4, 1), "same"),
    ((1, 3, 3, 4), "valid"),  # a single output cell
    ((2, 8, 5, 5), "same"),
]


@pytest.fixture
def winograd(monkeypatch):
    """Winograd for every channel count and cut into blocks of a few tiles; counts its calls."""
    monkeypatch.setattr(conv_kernels, "WINOGRAD_MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_kernels, "WINOGRAD_MIN_TILES", 0)
    monkeypatch.setattr(conv_kernels, "WINOGRAD_MIN_WIDENING", 0)
    monkeypatch.setattr(conv_kernels, "WINOGRAD_BLOCK_BYTES", 16 * 4 * 8 * 3)
    calls = []
    run = conv_kernels.winograd_conv
    monkeypatch.setattr(conv_kernels, "winograd_conv", lambda *a: calls.append(1) or run(*a))
    return calls


@pytest.mark.parametrize("xs,padding", WINOGRAD)
def test_winograd_against_torch(xs, padding, rng, blocks, winograd, jit_path):
    x, k = rng.standard_normal(xs), rng.standard_normal((3, 3, xs[-1], 3))
    check_against_torch(
        lambda a, b: ember.conv2d(a, b, 1, padding),
        lambda a, b: torch_conv2d_keras_kernel(a, b, 1, padding, 1),
        x,
        k,
    )
    check_gradients(lambda a, b: ember.conv2d(a, b, 1, padding), x, k)
    # the jit path takes Winograd where no im2col is kept for backward (always for the no-grad evaluations)
    assert bool(winograd) == (jit_path == "jit")


@pytest.mark.parametrize("xs,padding", WINOGRAD)
def test_winograd_against_im2col_float32(xs, padding, rng, monkeypatch, winograd):
    """Winograd (numba) and im2col (NumPy) outputs, in float32: the same sums, rounded differently."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    x = rng.standard_normal(xs).astype(np.float32)
    k = rng.standard_normal((3, 3, xs[-1], 6)).astype(np.float32)
    outs = []
    for on in (False, True):
        previous = jit.set_enabled(on)
        try:
            outs.append(ember.conv2d(x, k, 1, padding).numpy())
        finally:
            jit.set_enabled(previous)
    assert winograd == [1]
    # the transforms add up to 4 extra roundings per product: a few ulps of the largest term, not of the result
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6 * np.abs(outs[0]).max())


@pytest.mark.parametrize("xs,padding", WINOGRAD)
@pytest.mark.parametrize("wanted", ["both", "input", "kernel"])
def test_winograd_gradients_against_im2col(xs, padding, wanted, rng, monkeypatch, winograd):
    """Winograd's backward (one transform of the output gradient per block, both gradients from it) against the
    NumPy path's im2col gradients: in float64 to rounding, in float32 to a few ulps of the largest term; each
    gradient alone too. Odd output sizes have partial last tiles (their missing cells are zero gradient)."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "KEEP_BYTES", 0)
    ran = []
    grads = conv_kernels.winograd_grads
    monkeypatch.setattr(conv_kernels, "winograd_grads", lambda *a: ran.append(1) or grads(*a))
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        x = rng.standard_normal(xs).astype(dtype)
        k = rng.standard_normal((3, 3, xs[-1], 5)).astype(dtype)
        results = []
        for on in (False, True):
            previous = jit.set_enabled(on)
            try:
                xt = ember.tensor(x, dtype=dtype, requires_grad=wanted in ("both", "input"))
                kt = ember.tensor(k, dtype=dtype, requires_grad=wanted in ("both", "kernel"))
                y = ember.conv2d(xt, kt, 1, padding)
                gy = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
                y.backward(ember.tensor(gy, dtype=dtype))
                results.append([None if t.grad is None else t.grad.numpy() for t in (xt, kt)])
            finally:
                jit.set_enabled(previous)
        for old, new in zip(*results):
            assert (old is None) == (new is None)
            if old is not None:
                assert new.dtype == dtype
                np.testing.assert_allclose(new, old, rtol=rtol, atol=rtol * np.abs(old).max())
    assert ran == [1, 1]


def _spy_on_workers(monkeypatch):
    """The thread names of each split's runs (one list per workers.run_parts call that ran its parts at once)."""
    from ember.backend import workers

    calls = []
    original = workers.run_parts

    def spy(run, parts):
        seen = []
        calls.append(seen)
        return original(lambda *part: seen.append(threading.current_thread().name) or run(*part), parts)

    monkeypatch.setattr(workers, "run_parts", spy)
    return calls


@pytest.mark.parametrize("n", [1, 2, 5])
def test_winograd_parts_give_the_serial_bits(n, rng, monkeypatch, winograd):
    """The images cut into pieces (at most SPLIT_PIECES, whatever the count), run in 1, 2 or 3 parts at once on
    the worker threads: forward and both gradients bit for bit the same (odd output size, blocks of a few tiles,
    an image count that does not halve); the count from WINOGRAD_PARTS (a test's) or else the thread policy's."""
    from ember.backend import workers

    loops = conv_kernels.winograd_backward_kernels()
    if loops is None:
        pytest.skip("numba is not available: no Winograd kernels")
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    x = rng.standard_normal((n, 9, 11, 4)).astype(np.float32)
    k = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
    g = rng.standard_normal((n, 7, 9, 6)).astype(np.float32)
    forward = (loops[0], conv_kernels._winograd_output.compiled())
    calls = _spy_on_workers(monkeypatch)

    def run_both():
        out = np.empty((n, 7, 9, 6), np.float32)
        conv_kernels.winograd_conv(forward, x, k, (7, 9), out)
        return (out,) + conv_kernels.winograd_grads(loops, x, k, g, x.shape)

    results = {}
    for parts in (1, 2, 3):
        monkeypatch.setattr(conv_kernels, "WINOGRAD_PARTS", parts)
        del calls[:]
        results[parts] = run_both()
        split = min(n, parts) > 1
        assert len(calls) == (2 if split else 0)  # forward and backward each one split
        for seen in calls:
            assert len(seen) == min(n, parts) and any(name.startswith("ember-worker") for name in seen)
    monkeypatch.setattr(conv_kernels, "WINOGRAD_PARTS", None)  # the policy's count
    with workers.forced_parts(2):
        del calls[:]
        results["policy"] = run_both()
        assert len(calls) == (2 if n > 1 else 0)
    for parts, result in results.items():
        for one, other in zip(results[1], result):
            np.testing.assert_array_equal(other, one, err_msg=f"parts {parts}")
    np.testing.assert_allclose(results[1][0], ember.conv2d(x, k, 1, "valid").numpy(), rtol=1e-5, atol=1e-5)


def test_winograd_kernel_transform_is_g_kernel_g_transposed(rng):
    """The kernel transform by halves and sums equals G k G^T (in float64 to the last bit or so), in k's dtype."""
    for shape in ((3, 3, 1, 1), (3, 3, 5, 7)):
        k = rng.standard_normal(shape)
        g = conv_kernels.WINOGRAD_G
        expected = np.einsum("ia,abcf,jb->ijcf", g, k, g)
        np.testing.assert_allclose(conv_kernels.winograd_kernel_transform(k), expected, rtol=1e-15, atol=1e-15)
        u32 = conv_kernels.winograd_kernel_transform(k.astype(np.float32))
        assert u32.dtype == np.float32
        np.testing.assert_allclose(u32, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("xs,ks,strides,padding,dilation", DEPTHWISE)
def test_depthwise_against_torch_and_finite_differences(xs, ks, strides, padding, dilation, rng, jit_path):
    """Depthwise on both paths: numba's compiled passes (jit) and NumPy's broadcast multiply-adds."""
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    check_against_torch(
        lambda a, b: ember.depthwise_conv2d(a, b, strides, padding, dilation),
        lambda a, b: torch_depthwise(a, b, strides, padding, dilation),
        x,
        k,
    )
    if xs[0]:
        check_gradients(lambda a, b: ember.depthwise_conv2d(a, b, strides, padding, dilation), x, k)


@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_kernel_matches_numpy_float32(multiplier, rng, monkeypatch):
    """The compiled depthwise passes against NumPy's in float32: forward in the same order, gradients float32-close."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    x = rng.standard_normal((3, 9, 8, 5)).astype(np.float32)
    k = rng.standard_normal((3, 3, 5, multiplier)).astype(np.float32)
    g = rng.standard_normal((3, 5, 4, 5 * multiplier)).astype(np.float32)
    results = []
    for on in (False, True):
        previous = jit.set_enabled(on)
        try:
            xt, kt = ember.tensor(x, requires_grad=True), ember.tensor(k, requires_grad=True)
            y = ember.depthwise_conv2d(xt, kt, 2, "same")
            y.backward(ember.tensor(g))
            results.append((y.numpy(), xt.grad.numpy(), kt.grad.numpy()))
        finally:
            jit.set_enabled(previous)
    (y0, gx0, gk0), (y1, gx1, gk1) = results
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_allclose(gx1, gx0, rtol=1e-6, atol=1e-6 * np.abs(gx0).max())
    np.testing.assert_allclose(gk1, gk0, rtol=1e-5, atol=1e-5 * np.abs(gk0).max())


# few output channels at stride 1: the forward as per-cell products and a sum over taps; whole images and bands of
# rows per block; dilated; 1-D
TAP_SUM = [
    ((2, 9, 8, 5), (5, 5, 5, 3), "same", 1),
    ((2, 7, 7, 4), (3, 3, 4, 2), "valid", 1),
    ((2, 10, 9, 3), (3, 2, 3, 1), "same", (2, 1)),
    ((3, 12, 6), (3, 6, 2), "same", 2),
]


@pytest.mark.parametrize("xs,ks,padding,dilation", TAP_SUM)
@pytest.mark.parametrize("block", [1, 3000, 1 << 20])
def test_tap_sum_forward_against_torch_and_finite_differences(
    xs, ks, padding, dilation, block, rng, monkeypatch, jit_path
):
    """The tap-sum forward (numba) against PyTorch, and the gradients that go with it (both from one im2col of the
    output gradient, F < C) against finite differences; in blocks of one output row, a few rows, whole images."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
    monkeypatch.setattr(_windows, "KEEP_BYTES", 0)
    ran = []
    run = conv_kernels.tap_sum_conv
    monkeypatch.setattr(conv_kernels, "tap_sum_conv", lambda *a, **kw: ran.append(1) or run(*a, **kw))
    x, k = rng.standard_normal(xs), rng.standard_normal(ks)
    if len(xs) == 3:
        ours, theirs = ember.conv1d, torch_conv1d
    else:
        ours, theirs = ember.conv2d, torch_conv2d_keras_kernel
    check_against_torch(
        lambda a, b: ours(a, b, 1, padding, dilation), lambda a, b: theirs(a, b, 1, padding, dilation), x, k
    )
    check_gradients(lambda a, b: ours(a, b, 1, padding, dilation), x, k)
    assert bool(ran) == (jit_path == "jit")  # NumPy: im2col


def test_tap_sum_forward_equals_im2col_float32(rng, monkeypatch):
    """The tap sum and im2col add the same products in another order: float32 rounding apart."""
    pytest.importorskip("numba")
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    x = rng.standard_normal((3, 11, 10, 16)).astype(np.float32)
    k = rng.standard_normal((5, 5, 16, 3)).astype(np.float32)
    outs = []
    for on in (False, True):
        previous = jit.set_enabled(on)
        try:
            outs.append(ember.conv2d(x, k, 1, "same").numpy())
        finally:
            jit.set_enabled(previous)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6 * np.abs(outs[0]).max())


def test_winograd_worker_is_started_afresh_in_a_forked_child(rng, monkeypatch):
    """A child forked after the worker thread started has no such thread: its split calls start their own."""
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no os.fork on this platform")
    if conv_kernels.winograd_backward_kernels() is None:
        pytest.skip("numba is not available: no Winograd kernels")
    import multiprocessing

    monkeypatch.setattr(conv_kernels, "WINOGRAD_PARTS", 2)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    x = rng.standard_normal((4, 6, 6, 2)).astype(np.float32)
    k = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)
    forward = (conv_kernels._winograd_input.compiled(), conv_kernels._winograd_output.compiled())
    out = np.empty((4, 4, 4, 3), np.float32)
    conv_kernels.winograd_conv(forward, x, k, (4, 4), out)  # starts the worker thread here
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply_async(_winograd_in_child, (x, k)).get(timeout=60)
    np.testing.assert_array_equal(child, out)


def _winograd_in_child(x, k):
    assert conv_kernels.WINOGRAD_PARTS == 2  # the fork keeps the parent's setting: this call splits too
    assert _windows.SPLIT_MIN_SIZE == 1

    forward = (conv_kernels._winograd_input.compiled(), conv_kernels._winograd_output.compiled())
    out = np.empty((4, 4, 4, 3), np.float32)
    conv_kernels.winograd_conv(forward, x, k, (4, 4), out)
    return out


# each path the workloads take, split over images: strided im2col forward, its kernel gradient and input gradient
# (col2im); the transposed forward (col2im) and its two gradients from one im2col; the tap-sum forward and both
# gradients from one im2col of the output gradient
SPLITS = [
    ("conv2d", (5, 10, 9, 3), (4, 4, 3, 6), 2, "same"),
    ("conv2d_transpose", (5, 4, 5, 6), (4, 4, 3, 6), 2, "same"),
    ("conv2d", (5, 9, 8, 5), (5, 5, 5, 2), 1, "same"),
]


@pytest.mark.host_only("the split over images runs on host (NumPy) arrays; the strict device keeps its arrays whole")
@pytest.mark.parametrize("op,xs,ks,strides,padding", SPLITS)
@pytest.mark.parametrize("block,keep", [(1, 0), (1 << 20, 0), (1 << 20, 1 << 30)])
def test_conv_paths_split_over_images_give_the_same_bits(op, xs, ks, strides, padding, block, keep, rng, monkeypatch):
    """1, 2 or 3 parts at once on the worker threads (pieces of images that do not divide evenly; blocks of an
    output row or whole pieces; the im2col kept for the kernel gradient or not): the forward and both gradients
    are the same bits, and the split really ran."""
    from ember.backend import workers

    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
    monkeypatch.setattr(_windows, "KEEP_BYTES", keep)
    monkeypatch.setattr(conv_kernels, "KERNEL_MIN_SIZE", 0)
    calls = _spy_on_workers(monkeypatch)
    fn = getattr(ember, op)
    x = rng.standard_normal(xs).astype(np.float32)
    k = rng.standard_normal(ks).astype(np.float32)
    g = rng.standard_normal(fn(x, k, strides, padding).shape).astype(np.float32)
    results = []
    for parts in (1, 2, 3):
        del calls[:]
        with workers.forced_parts(parts):
            xt, kt = ember.tensor(x, requires_grad=True), ember.tensor(k, requires_grad=True)
            y = fn(xt, kt, strides, padding)
            y.backward(ember.tensor(g))
        results.append((y.numpy(), xt.grad.numpy(), kt.grad.numpy()))
        assert (len(calls) >= 2) == (parts > 1) and len(calls) <= 3  # the forward's split and the backward's (1-2)
        for seen in calls:
            assert len(seen) == parts and any(name.startswith("ember-worker") for name in seen)
    for result in results[1:]:
        for one, other in zip(results[0], result):
            np.testing.assert_array_equal(other, one)


def test_pieces_depend_on_the_shapes_only_and_run_in_piece_order(monkeypatch):
    """image_pieces cuts whole images by the work alone (at most SPLIT_PIECES, none under SPLIT_MIN_SIZE each);
    run_pieces returns the pieces' results in piece order for any part count, parts holding runs of whole pieces."""
    from ember.backend import workers

    monkeypatch.setattr(_windows, "SPLIT_PIECES", 4)
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 100)
    assert _windows.image_pieces(10, 10_000) == [(0, 2), (2, 5), (5, 7), (7, 10)]
    assert _windows.image_pieces(3, 10_000) == [(0, 1), (1, 2), (2, 3)]
    assert _windows.image_pieces(10, 250) == [(0, 5), (5, 10)]  # two pieces' worth of work
    assert _windows.image_pieces(10, 99) == [(0, 10)]
    pieces = _windows.image_pieces(10, 10_000)
    groups = []
    original = workers.run_parts
    monkeypatch.setattr(workers, "run_parts", lambda run, parts: groups.append(parts) or original(run, parts))
    names = []

    def run(first, end):
        names.append(threading.current_thread().name)
        return first, end

    for parts in (1, 2, 3, 4, 9):
        del groups[:], names[:]
        result = _windows.run_pieces(run, pieces, parts)
        assert result == pieces
        if parts == 1:
            assert groups == [] and set(names) == {threading.current_thread().name}
        else:  # one split of min(parts, 4) runs of whole pieces, in order
            (runs,) = groups
            assert len(runs) == min(parts, 4) and [piece for (run,) in runs for piece in run] == pieces
            assert all(len(run) >= 1 for (run,) in runs)


# padded by each piece as it starts (_windows.pad_in_pieces): a strided 'same' conv (im2col), a 5x5 to 3 channels
# (the tap sum with numba), a Winograd forward, and a transposed conv whose output gradient is padded in backward
PADDED = [
    ("conv", (5, 9, 8, 3), (4, 4, 3, 6), 2),
    ("conv", (5, 9, 8, 4), (5, 5, 4, 3), 1),
    ("winograd", (5, 9, 8, 4), (3, 3, 4, 8), 1),
    ("transpose", (5, 4, 5, 6), (4, 4, 3, 6), 2),
]


@pytest.mark.parametrize("kind,xs,ks,stride", PADDED)
@pytest.mark.parametrize("block", [300, 1 << 20])
def test_padding_in_pieces_gives_the_pre_padded_bits_in_any_part_count(
    kind, xs, ks, stride, block, rng, monkeypatch, request
):
    """'same' padding written by each piece of images as it starts: forward and both gradients the same bits in 1,
    2 or 3 parts, and the same bits as the 'valid' op on the input padded beforehand (forward, kernel gradient)."""
    from ember.backend import workers

    if kind == "winograd":
        request.getfixturevalue("winograd")
    monkeypatch.setattr(_windows, "SPLIT_MIN_SIZE", 1)
    monkeypatch.setattr(_windows, "BLOCK_BYTES", block)
    monkeypatch.setattr(_windows, "KEEP_BYTES", 0)
    x, k = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ks).astype(np.float32)
    op = ember.conv2d_transpose if kind == "transpose" else ember.conv2d

    def run(xa, padding):
        xt, kt = ember.tensor(xa, requires_grad=True), ember.tensor(k, requires_grad=True)
        y = op(xt, kt, stride, padding)
        (y * y).sum().backward()
        return y.numpy(), xt.grad.numpy(), kt.grad.numpy()

    results = []
    for parts in (1, 2, 3):
        with workers.forced_parts(parts):
            results.append(run(x, "same"))
    for result in results[1:]:
        for one, other in zip(results[0], result):
            np.testing.assert_array_equal(other, one)
    if kind != "transpose":
        pads = [_windows.output_and_pads("conv2d", "same", xs[i], ks[i - 1], stride, 1)[1:] for i in (1, 2)]
        y, _, gk = run(np.pad(x, ((0, 0), pads[0], pads[1], (0, 0))), "valid")
        np.testing.assert_array_equal(results[0][0], y)
        np.testing.assert_array_equal(results[0][2], gk)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("strides,dilation", [((1, 1), (1, 1)), ((2, 1), (1, 2))])
def test_im2col_block_copies_taps_one_at_a_time_with_the_whole_views_values(channels, strides, dilation, rng):
    """A single channel's im2col is copied one kernel tap at a time (TAP_COPY_CHANNELS): the same matrix as the
    whole window view's copy, for whole-image blocks and runs of rows of one image."""
    x = rng.standard_normal((3, 11, 10, channels)).astype(np.float32)
    k_hw = (3, 2)
    out_hw = tuple((size - (k - 1) * d - 1) // s + 1 for size, k, s, d in zip((11, 10), k_hw, strides, dilation))
    for block in [(0, 3, 0, out_hw[0]), (1, 2, 1, out_hw[0] - 1)]:
        got = _windows.im2col_block(np, x, block, out_hw, k_hw, strides, dilation).copy()
        n0, n1, h0, h1 = block
        view = _windows.window_view(np, x[n0:n1], out_hw, k_hw, strides, dilation)[:, h0:h1]
        np.testing.assert_array_equal(got, np.ascontiguousarray(view).reshape(-1, k_hw[0] * k_hw[1] * channels))
