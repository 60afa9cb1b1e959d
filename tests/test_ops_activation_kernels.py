"""The rectifiers' one-pass numba kernels (ember/ops/activation_kernels.py): the NumPy path's bits, the gradients.

Run on small arrays with ``KERNEL_MIN_SIZE`` lowered to 0, so each test is quick and covers the kernel; the
NumPy path (numba switched off) is the reference, element for element, specials included.
"""

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients

import ember
from ember.backend import jit
from ember.ops import activation_kernels

pytestmark = pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")

SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 3.0e38, -3.0e38, 2.5, -2.5]
CASES = [
    ("relu", lambda t: ember.relu(t)),
    ("leaky_relu 0.2", lambda t: ember.leaky_relu(t, negative_slope=0.2)),
    ("leaky_relu 0", lambda t: ember.leaky_relu(t, negative_slope=0.0)),
    ("leaky_relu 1.7", lambda t: ember.leaky_relu(t, negative_slope=1.7)),
    ("relu negative_slope", lambda t: ember.relu(t, negative_slope=0.3)),
]


@pytest.fixture
def kernels_on(monkeypatch):
    if not jit.available():
        pytest.skip("numba is not importable here: the kernels cannot run")
    monkeypatch.setattr(activation_kernels, "KERNEL_MIN_SIZE", 0)


def _run(fn, x, g, jit_on):
    previous = jit.set_enabled(jit_on)
    try:
        t = ember.tensor(x, dtype=x.dtype, requires_grad=True)
        y = fn(t)
        assert y.dtype == x.dtype
        y.backward(ember.tensor(g, dtype=g.dtype))
        return y.numpy().copy(), t.grad.numpy().copy()
    finally:
        jit.set_enabled(previous)


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_kernels_give_the_numpy_paths_bits(name, dtype, kernels_on, rng):
    fn = dict(CASES)[name]
    n = len(SPECIALS)
    x = rng.standard_normal((4, 3 * n)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    x[0, :n] = SPECIALS  # special inputs with ordinary gradients
    g[1, :n] = SPECIALS  # special gradients at negative and positive inputs
    x[1, :n] = -1.0
    x[2, :n] = 1.0
    g[2, :n] = SPECIALS
    with np.errstate(all="ignore"):
        fast = _run(fn, x, g, True)
        slow = _run(fn, x, g, False)
        # the definition, as the op computed it before the kernels: where(x > 0, x, slope * x)
        slope = {"relu": 0.0, "leaky_relu 0.2": 0.2, "leaky_relu 0": 0.0, "leaky_relu 1.7": 1.7}.get(name, 0.3)
        pos = x > 0
        if name == "relu":
            expected = (np.maximum(x, 0), g * pos)
        else:
            expected = (np.where(pos, x, x * slope), np.where(pos, g, g * slope))
    for got, want, what in zip(fast, slow, ("output", "gradient")):
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{name} {what}: kernel vs NumPy path")
    for got, want, what in zip(slow, expected, ("output", "gradient")):
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{name} {what}: vs the definition")


def test_the_kernels_run_where_they_apply(kernels_on, monkeypatch):
    calls = []
    real = activation_kernels.leaky_forward

    def spy(x, slope, mask=True):
        calls.append(x.shape)
        return real(x, slope, mask)

    monkeypatch.setattr(activation_kernels, "leaky_forward", spy)
    x = np.linspace(-2, 2, 24, dtype=np.float32).reshape(4, 6)
    ember.leaky_relu(ember.tensor(x), 0.2)
    strided = ember.tensor(np.concatenate([x, x], axis=1))[:, ::2]
    assert not strided.data.flags.c_contiguous
    ember.leaky_relu(strided, 0.2)  # any strides: the loops take them
    assert calls == [(4, 6), (4, 6)]
    ember.leaky_relu(ember.tensor(x.astype(np.float16)), 0.2)  # float16: NumPy
    five = ember.transpose(ember.tensor(np.zeros((2, 3, 4, 5, 6), np.float32)), (4, 2, 0, 3, 1))  # 5 separate axes
    assert activation_kernels._blocks(five.data) is None
    ember.leaky_relu(five, 0.2)
    monkeypatch.setattr(activation_kernels, "KERNEL_MIN_SIZE", 25)  # too small: NumPy
    ember.leaky_relu(ember.tensor(x), 0.2)
    assert calls == [(4, 6), (4, 6)]


# inputs and gradients of other strides: a slice of the input, and a gradient coming back through a transpose
# and through a slice of a padded array (as a convolution's input gradient does)
LAYOUTS = {
    "sliced input": lambda f, t: f(t[:, 1:-1, ::2]),
    "transposed gradient": lambda f, t: ember.transpose(f(t), (2, 0, 1)),
    "padded gradient": lambda f, t: ember.pad(f(t), ((0, 0), (1, 1), (2, 1))),
    "five axes merged": lambda f, t: f(ember.reshape(t, (2, 2, 3, 2, 6))),
    "five separate axes": lambda f, t: f(ember.transpose(ember.reshape(t, (2, 2, 3, 2, 6)), (4, 2, 0, 3, 1))),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", ["relu", "leaky_relu 0.2"])
def test_kernels_take_any_strides(name, layout, kernels_on, rng):
    fn = dict(CASES)[name]
    x = rng.standard_normal((4, 6, 6)).astype(np.float32)
    x[0, 0, :4] = [0.0, -0.0, np.nan, -np.inf]

    def run(jit_on):
        previous = jit.set_enabled(jit_on)
        try:
            t = ember.tensor(x, requires_grad=True)
            y = LAYOUTS[layout](fn, t)
            y.backward(ember.tensor(np.arange(y.size, dtype=np.float32).reshape(y.shape) - y.size / 2))
            return y.numpy().copy(), t.grad.numpy().copy()
        finally:
            jit.set_enabled(previous)

    with np.errstate(all="ignore"):
        fast, slow = run(True), run(False)
    for got, want in zip(fast, slow):
        np.testing.assert_array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_kernel_gradients_finite_differences(name, kernels_on, rng):
    x = rng.standard_normal((3, 4)) * 3
    x = np.where(np.abs(x) < 1e-2, 0.05, x)
    check_gradients(dict(CASES)[name], x)


@pytest.mark.parametrize("slope", [0.2, 0.0, 0.5])
def test_kernel_leaky_relu_against_torch(slope, kernels_on, rng):
    torch_f = pytest.importorskip("torch", reason="PyTorch is the oracle for these tests").nn.functional
    x = rng.standard_normal((5, 7)) * 3
    x[0, :3] = [0.0, -0.0, 1e-30]
    check_against_torch(lambda t: ember.leaky_relu(t, slope), lambda t: torch_f.leaky_relu(t, slope), x)
    check_against_torch(ember.relu, torch_f.relu, x)


def test_the_output_may_be_written_in_place_after_leaky_relu(kernels_on):
    # the backward reads the mask it saved, not the output: a later in-place write into the output is legal
    x = ember.tensor(np.array([-2.0, -0.5, 0.5, 3.0], np.float32), requires_grad=True)
    y = ember.leaky_relu(x, 0.2)
    y += 1.0
    (y * y).sum().backward()
    expected = 2 * (np.where(x.numpy() > 0, x.numpy(), 0.2 * x.numpy()) + 1) * np.where(x.numpy() > 0, 1, 0.2)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_create_graph_through_leaky_relu(kernels_on):
    # the second derivative of leaky_relu(x)**2 is 2 slope'(x)**2: the mask is a constant of the backward
    x = ember.tensor(np.array([-2.0, 1.5, -0.5, 3.0]), requires_grad=True)
    y = (ember.leaky_relu(x, 0.2) ** 2).sum()
    (gx,) = ember.grad(y, [x], create_graph=True)
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.where(x.numpy() > 0, 1.0, 0.04))


@pytest.mark.parametrize("slope", [0.2, 0.0, 1.7])
def test_inference_kernel_gives_the_training_output(slope, kernels_on, rng):
    # without a gradient to come the kernel writes the output alone (no mask): the same bits
    x = rng.standard_normal((3, 5, 8)).astype(np.float32)
    x[0, 0, :6] = [0.0, -0.0, np.nan, np.inf, -np.inf, -1e-45]
    with np.errstate(all="ignore"):
        with ember.no_grad():
            fast = ember.leaky_relu(ember.tensor(x), slope).numpy()
        trained = ember.leaky_relu(ember.tensor(x, requires_grad=True), slope).numpy()
        expected = np.where(x > 0, x, x * slope)
    np.testing.assert_array_equal(_bits(fast), _bits(expected))
    np.testing.assert_array_equal(_bits(trained), _bits(expected))


@pytest.mark.parametrize("jit_on", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_leaky_relu_lean_form_in_place_and_not(jit_on, dtype, kernels_on, rng):
    # the forward plan's lean form: the inference forward's bits, into a new array or into x's own buffer
    from ember.ops.activation import LeakyReLU

    x = rng.standard_normal((4, 5, 6)).astype(dtype)
    x[0, 0, :5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    f = LeakyReLU.lean(np, {"negative_slope": 0.2})
    previous = jit.set_enabled(jit_on)
    try:
        with np.errstate(all="ignore"):
            expected = np.where(x > 0, x, x * 0.2)
            fresh = f(x.copy())
            inplace = x.copy()
            assert f(inplace, out=inplace) is inplace
            other = np.empty_like(x)
            assert f(x, out=other) is other
    finally:
        jit.set_enabled(previous)
    view = np.uint16 if dtype == np.float16 else (np.uint32 if dtype == np.float32 else np.uint64)
    for got in (fresh, inplace, other):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.view(view), expected.view(view))
