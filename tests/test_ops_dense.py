"""matmul + bias (+ ReLU) as one op (ember.ops.dense.matmul_bias_act), which a Dense layer with a bias calls: against
PyTorch and finite differences, bit for bit the separate matmul, add and relu (forward and every gradient, on the
NumPy path and numba's one-pass kernels), second-order gradients, its inference form, the layer's choice of op, and
the bias check."""

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients

import ember
from ember.backend import jit
from ember.ops import activation_kernels
from ember.ops.dense import MatmulBiasAct, matmul_bias_act


@pytest.fixture(params=["numpy", "jit"])
def jit_path(request, monkeypatch):
    """Both paths: NumPy, and numba's one-pass kernels (on these small arrays too)."""
    if request.param == "jit":
        pytest.importorskip("numba")
        monkeypatch.setattr(activation_kernels, "KERNEL_MIN_SIZE", 0)
    previous = jit.set_enabled(request.param == "jit")
    yield request.param
    jit.set_enabled(previous)


SHAPES = [((6, 5), 7), ((2, 3, 5), 4), ((1, 3), 2)]


@pytest.mark.parametrize("xs,units", SHAPES)
@pytest.mark.parametrize("relu", [True, False])
def test_against_torch_and_finite_differences(xs, units, relu, rng, jit_path):
    torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for this test")
    x, k, b = rng.standard_normal(xs), rng.standard_normal((xs[-1], units)), rng.standard_normal(units)

    def reference(a, w, c):
        y = a @ w + c
        return torch.relu(y) if relu else y

    check_against_torch(lambda a, w, c: matmul_bias_act(a, w, c, relu=relu), reference, x, k, b)
    check_gradients(lambda a, w, c: matmul_bias_act(a, w, c, relu=relu), x, k, b)


def _both(x, k, b, relu, gy, dtype):
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in (x, k, b)]
        if fused:
            y = matmul_bias_act(*ts, relu=relu)
        else:
            y = ember.matmul(ts[0], ts[1]) + ts[2]
            y = ember.relu(y) if relu else y
        y.backward(ember.tensor(gy, dtype=dtype))
        results.append([y.numpy()] + [t.grad.numpy() for t in ts])
    return results


@pytest.mark.parametrize("xs,units", [((64, 9), 33), ((3, 20, 9), 16)])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equals_the_separate_ops_bit_for_bit(xs, units, relu, dtype, rng, jit_path):
    """Output and the three gradients: the same bits as matmul, add and relu (the bias gradient adds the rows
    first to last, as NumPy's reduction over the batch does)."""
    x = rng.standard_normal(xs).astype(dtype)
    k = rng.standard_normal((xs[-1], units)).astype(dtype)
    b = rng.standard_normal(units).astype(dtype)
    gy = rng.standard_normal(xs[:-1] + (units,)).astype(dtype)
    fused, separate = _both(x, k, b, relu, gy, dtype)
    for a, s in zip(fused, separate):
        assert a.dtype == s.dtype and a.shape == s.shape
        np.testing.assert_array_equal(a, s)


def test_nan_and_signed_zeros_as_the_separate_ops(jit_path):
    """A NaN product stays NaN through the ReLU and masks its gradient as relu does (g * 0); -0.0 + -0.0 gives
    -0.0, which the ReLU turns into +0.0; NaN gradients pass where the mask is open."""
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [np.nan, 0.0], [-0.0, 0.0]], dtype=np.float32)
    k = np.array([[1.0, -1.0, 2.0], [1.0, 1.0, 1.0]], dtype=np.float32)
    b = np.array([0.0, -0.0, -0.0], dtype=np.float32)
    gy = np.array([[2.0, np.nan, 1.0], [np.nan, 3.0, -1.0], [1.0, 1.0, 1.0], [5.0, -2.0, np.nan]], dtype=np.float32)
    for relu in (True, False):
        fused, separate = _both(x, k, b, relu, gy, "float32")
        for a, s in zip(fused, separate):
            np.testing.assert_array_equal(a, s)
            np.testing.assert_array_equal(np.signbit(a), np.signbit(s))


@pytest.mark.parametrize("relu", [True, False])
def test_second_order_gradients_equal_the_separate_ops(relu, rng):
    x, k, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    results = []
    for fused in (True, False):
        ts = [ember.tensor(a, dtype="float64", requires_grad=True) for a in (x, k, b)]
        if fused:
            y = matmul_bias_act(*ts, relu=relu)
        else:
            y = ember.matmul(ts[0], ts[1]) + ts[2]
            y = ember.relu(y) if relu else y
        gx, gk, gb = ember.grad((y * y * y).sum(), ts, create_graph=True)
        ((gx * gx).sum() + (gk * gk).sum() + (gb * gb).sum()).backward()
        results.append([t.grad.numpy() for t in ts])
    for fused, separate in zip(*results):
        np.testing.assert_allclose(fused, separate, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("relu", [True, False])
def test_inference_form_equals_the_forward(relu, rng, jit_path):
    x = rng.standard_normal((16, 8)).astype(np.float32)
    k = rng.standard_normal((8, 12)).astype(np.float32)
    b = rng.standard_normal(12).astype(np.float32)
    lean = MatmulBiasAct.lean(np, {"relu": relu})
    np.testing.assert_array_equal(lean(x, k, b), matmul_bias_act(x, k, b, relu=relu).numpy())
    np.testing.assert_array_equal(
        lean(x, k, b.astype(np.float64)), (x @ k + b.astype(np.float64)).clip(0 if relu else None)
    )


@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("xs", [(9, 5), (2, 3, 5)])
def test_inference_form_equals_the_separate_ops_in_each_dtype(relu, dtype, xs, rng):
    """The lean form's fast path (``a.dot(b)``, the bias added in place, the maximum against a cached 0-d zero)
    gives NumPy's ``maximum(a @ b + bias, 0)`` bit for bit, NaN and signed zeros included, with batch axes too."""
    x = rng.standard_normal(xs).astype(dtype)
    x.reshape(-1, 5)[:4] = [[np.nan, 0, 0, 0, 0], [-0.0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1e4, 1e4, 1e4, 1e4, 1e4]]
    k = rng.standard_normal((5, 7)).astype(dtype)
    k[0, :2] = -0.0
    b = rng.standard_normal(7).astype(dtype)
    b[:3] = [-0.0, 0.0, -0.0]
    lean = MatmulBiasAct.lean(np, {"relu": relu})
    expected = np.matmul(x, k) + b
    if relu:
        expected = np.maximum(expected, 0)
    got = lean(x, k, b)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
    eager = matmul_bias_act(*(ember.tensor(a, dtype=dtype) for a in (x, k, b)), relu=relu).numpy()
    np.testing.assert_array_equal(got, eager)


@pytest.mark.parametrize(
    "kwargs,fused",
    [
        (dict(activation="relu"), True),
        (dict(), True),
        (dict(activation="tanh"), True),  # the bias inside, tanh after
        (dict(activation="relu", use_bias=False), False),
    ],
)
def test_dense_takes_the_fused_op_where_it_applies(kwargs, fused, rng):
    x = rng.standard_normal((4, 6)).astype(np.float32)
    dense = ember.layers.Dense(5, bias_initializer="random_normal", **kwargs)
    y = dense(ember.tensor(x))
    op = y.grad_fn if kwargs.get("activation") != "tanh" else y.grad_fn._edges[0][1]  # tanh's input's op
    assert isinstance(op, MatmulBiasAct) == fused
    (y * y).sum().backward()
    grads = [w.grad.numpy() for w in dense.trainable_weights]
    kernel = dense.kernel.numpy()
    z = x @ kernel + (dense.bias.numpy() if dense.bias is not None else 0)
    expected = {"relu": np.maximum(z, 0), "tanh": np.tanh(z)}.get(kwargs.get("activation"), z)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert len(grads) == (2 if dense.bias is not None else 1)


def test_a_bias_of_the_wrong_shape_is_refused():
    x, k = np.ones((2, 3), np.float32), np.ones((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"matmul_bias_act: expected a 2-D kernel and a bias of shape \(5,\).*\(4,\)"):
        matmul_bias_act(x, k, np.ones(4, np.float32))
