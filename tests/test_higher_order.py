"""Higher-order gradients: ``backward(create_graph=True)`` and ``ember.grad``, op family by op family.

Each case differentiates twice: g = d(w . f(x))/dx with create_graph=True, then
h = d(v . g)/dx (a Hessian-vector product of the weighted output). Checked
against ``torch.autograd.grad(..., create_graph=True)`` in float32 and against
central differences of the first gradient in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracles import Const, assert_close

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests; pip install it")
F = torch.nn.functional
rng = np.random.default_rng(0)


def _normal(*shape):
    return rng.standard_normal(shape)


def _positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(*shape):
    """Values with |x| in [0.3, 2]: clear of the kinks of relu, abs, max, ..."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _distinct(*shape):
    """A random permutation of well-separated values: no ties for max/min."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


def _onehot(n, k):
    return np.eye(k)[rng.integers(0, k, n)]


# name -> (ember fn, torch fn, arrays); fns take one tensor per array and return a tensor
CASES = {
    # arithmetic
    "add": (lambda a, b: a + b * a, lambda a, b: a + b * a, [_normal(3, 4), _normal(4)]),
    "subtract": (lambda a, b: (a - b) * (a - b), lambda a, b: (a - b) * (a - b), [_normal(3, 4), _normal(3, 1)]),
    "multiply": (lambda a, b: a * b * a, lambda a, b: a * b * a, [_normal(2, 3), _normal(2, 3)]),
    "divide": (lambda a, b: a / b, lambda a, b: a / b, [_normal(2, 3), _positive(2, 3)]),
    "negative": (lambda a: -(a * a), lambda a: -(a * a), [_normal(5)]),
    "power": (lambda a, b: a**b, lambda a, b: a**b, [_positive(2, 3), _normal(2, 3)]),
    "power_scalar": (lambda a: a**3, lambda a: a**3, [_normal(4)]),
    "matmul": (lambda a, b: (a @ b) * (a @ b), lambda a, b: (a @ b) * (a @ b), [_normal(3, 4), _normal(4, 2)]),
    "matmul_vector": (lambda a, b: (a @ b) ** 2, lambda a, b: (a @ b) ** 2, [_normal(2, 3, 4), _normal(4)]),
    "maximum": (
        lambda a, b: ember.maximum(a, b) * a,
        lambda a, b: torch.maximum(a, b) * a,
        [_away_from_zero(6), _away_from_zero(6)],
    ),
    "where_clip": (
        lambda a: ember.where(a > 0, a * a, ember.clip(a, -1.0, 1.0) * a),
        lambda a: torch.where(a > 0, a * a, torch.clamp(a, -1.0, 1.0) * a),
        [_away_from_zero(8)],
    ),
    # elementwise math
    "exp": (ember.exp, torch.exp, [_normal(2, 3)]),
    "log": (ember.log, torch.log, [_positive(2, 3)]),
    "log1p": (ember.log1p, torch.log1p, [_positive(5)]),
    "sqrt": (ember.sqrt, torch.sqrt, [_positive(2, 3)]),
    "rsqrt": (ember.rsqrt, torch.rsqrt, [_positive(5)]),
    "reciprocal": (ember.reciprocal, torch.reciprocal, [_positive(5)]),
    "square": (ember.square, torch.square, [_normal(5)]),
    "abs": (lambda a: ember.abs(a) * a, lambda a: torch.abs(a) * a, [_away_from_zero(6)]),
    "sin": (ember.sin, torch.sin, [_normal(5)]),
    "cos": (ember.cos, torch.cos, [_normal(5)]),
    "tan": (ember.tan, torch.tan, [rng.uniform(-1, 1, 5)]),
    "arctan": (ember.arctan, torch.atan, [_normal(5)]),
    "sinh_cosh": (lambda a: ember.sinh(a) * ember.cosh(a), lambda a: torch.sinh(a) * torch.cosh(a), [_normal(5)]),
    # activations
    "tanh": (ember.tanh, torch.tanh, [_normal(2, 3)]),
    "sigmoid": (ember.sigmoid, torch.sigmoid, [_normal(2, 3)]),
    "relu": (lambda a: ember.relu(a) * a, lambda a: torch.relu(a) * a, [_away_from_zero(8)]),
    "leaky_relu": (
        lambda a: ember.leaky_relu(a, 0.1) * a,
        lambda a: F.leaky_relu(a, 0.1) * a,
        [_away_from_zero(8)],
    ),
    "elu": (ember.elu, F.elu, [_away_from_zero(8)]),
    "selu": (ember.selu, F.selu, [_away_from_zero(8)]),
    "gelu": (ember.gelu, F.gelu, [_normal(8)]),
    "gelu_tanh": (
        lambda a: ember.gelu(a, approximate=True),
        lambda a: F.gelu(a, approximate="tanh"),
        [_normal(8)],
    ),
    "softplus": (ember.softplus, F.softplus, [_normal(8)]),
    "log_sigmoid": (ember.log_sigmoid, F.logsigmoid, [_normal(8)]),
    "silu": (ember.silu, F.silu, [_normal(8)]),
    "mish": (ember.mish, F.mish, [_normal(8)]),
    "softmax": (lambda a: ember.softmax(a, axis=-1), lambda a: torch.softmax(a, -1), [_normal(3, 5)]),
    "softmax_axis0": (lambda a: ember.softmax(a, axis=0), lambda a: torch.softmax(a, 0), [_normal(3, 5)]),
    "log_softmax": (lambda a: ember.log_softmax(a), lambda a: torch.log_softmax(a, -1), [_normal(3, 5)]),
    # reductions
    "sum": (lambda a: a.sum(axis=1) ** 2, lambda a: a.sum(dim=1) ** 2, [_normal(3, 4)]),
    "sum_keepdims": (
        lambda a: a * a.sum(axis=0, keepdims=True),
        lambda a: a * a.sum(dim=0, keepdim=True),
        [_normal(3, 4)],
    ),
    "mean": (lambda a: a.mean(axis=(0, 2)) ** 2, lambda a: a.mean(dim=(0, 2)) ** 2, [_normal(2, 3, 4)]),
    "max": (lambda a: a.max(axis=1) ** 2, lambda a: a.amax(dim=1) ** 2, [_distinct(3, 4)]),
    "min": (lambda a: a.min(axis=0) * a.min(), lambda a: a.amin(dim=0) * a.amin(), [_distinct(3, 4)]),
    "logsumexp": (
        lambda a: ember.logsumexp(a, axis=-1) ** 2,
        lambda a: torch.logsumexp(a, -1) ** 2,
        [_normal(3, 4)],
    ),
    "var": (lambda a: a.var(axis=1), lambda a: a.var(dim=1, unbiased=False), [_normal(3, 5)]),
    "std": (lambda a: a.std(axis=0, ddof=1), lambda a: a.std(dim=0, unbiased=True), [_normal(4, 3)]),
    "prod": (lambda a: a.prod(axis=1), lambda a: a.prod(dim=1), [_away_from_zero(3, 4)]),
    "cumsum": (lambda a: ember.cumsum(a, axis=1) ** 2, lambda a: torch.cumsum(a, 1) ** 2, [_normal(3, 4)]),
    # shape and indexing
    "reshape_transpose": (
        lambda a: (a.reshape(4, 3).T * a.reshape(3, 4)) ** 2,
        lambda a: (a.reshape(4, 3).T * a.reshape(3, 4)) ** 2,
        [_normal(2, 6)],
    ),
    "broadcast_to": (
        lambda a: ember.broadcast_to(a, (3, 4)) ** 3,
        lambda a: torch.broadcast_to(a, (3, 4)) ** 3,
        [_normal(4)],
    ),
    "concatenate": (
        lambda a, b: ember.concatenate([a, b * a], axis=1) ** 2,
        lambda a, b: torch.cat([a, b * a], 1) ** 2,
        [_normal(2, 3), _normal(2, 3)],
    ),
    "stack": (
        lambda a, b: ember.stack([a * b, b], axis=1) ** 2,
        lambda a, b: torch.stack([a * b, b], 1) ** 2,
        [_normal(2, 3), _normal(2, 3)],
    ),
    "split": (
        lambda a: ember.split(a, [1, 3], axis=1)[0] * ember.split(a, [1, 3], axis=1)[2],
        lambda a: torch.split(a, [1, 2, 1], 1)[0] * torch.split(a, [1, 2, 1], 1)[2],
        [_normal(3, 4)],
    ),
    "getitem": (
        lambda a: a[1:, ::2] * a[:-1, 1::2],
        lambda a: a[1:, ::2] * a[:-1, 1::2],
        [_normal(3, 4)],
    ),
    "getitem_repeats": (
        lambda a: a[np.array([0, 2, 0])] ** 2,
        lambda a: a[torch.tensor([0, 2, 0])] ** 2,
        [_normal(3, 2)],
    ),
    "pad": (
        lambda a: ember.pad(a * a, ((1, 0), (0, 2))),
        lambda a: F.pad(a * a, (0, 2, 1, 0)),
        [_normal(2, 3)],
    ),
    "pad_reflect": (
        lambda a: ember.pad(a * a, ((0, 0), (2, 1)), mode="reflect"),
        lambda a: F.pad((a * a)[None], (2, 1), mode="reflect")[0],
        [_normal(2, 4)],
    ),
    "expand_squeeze_flip": (
        lambda a: ember.flip(ember.squeeze(ember.expand_dims(a * a, 0), 0), 1),
        lambda a: torch.flip((a * a)[None].squeeze(0), [1]),
        [_normal(2, 3)],
    ),
    "take": (
        lambda a: ember.take(a * a, np.array([2, 0, 2]), axis=1),
        lambda a: (a * a)[:, [2, 0, 2]],
        [_normal(2, 3)],
    ),
    "repeat_tile": (
        lambda a: ember.tile(ember.repeat(a * a, 2, axis=0), (1, 2)),
        lambda a: torch.tile(torch.repeat_interleave(a * a, 2, 0), (1, 2)),
        [_normal(2, 3)],
    ),
    "cast": (lambda a: (a * a).astype("float64").astype(a.dtype), lambda a: (a * a).double().to(a.dtype), [_normal(4)]),
    # losses
    "mse": (
        lambda t, p: ember.mean_squared_error(t, p * p),
        lambda t, p: ((t - p * p) ** 2).mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "mae": (
        lambda t, p: ember.mean_absolute_error(t, p * p),
        lambda t, p: (t - p * p).abs().mean(-1),
        [Const(_normal(3, 4) + 5.0), _normal(3, 4)],
    ),
    "cce_logits": (
        lambda t, z: ember.categorical_crossentropy(t, z, from_logits=True),
        lambda t, z: F.cross_entropy(z, t, reduction="none"),
        [Const(_onehot(4, 5)), _normal(4, 5)],
    ),
    "cce_logits_smoothing": (
        lambda t, z: ember.categorical_crossentropy(t, z, from_logits=True, label_smoothing=0.1),
        lambda t, z: F.cross_entropy(z, t, reduction="none", label_smoothing=0.1),
        [Const(_onehot(4, 5)), _normal(4, 5)],
    ),
    "cce_soft_targets": (
        lambda t, z: ember.categorical_crossentropy(ember.softmax(t), z, from_logits=True),
        lambda t, z: F.cross_entropy(z, torch.softmax(t, -1), reduction="none"),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "sparse_cce_logits": (
        lambda y, z: ember.sparse_categorical_crossentropy(y, z, from_logits=True),
        lambda y, z: F.cross_entropy(z, y, reduction="none"),
        [Const(np.array([0, 3, 1, 4])), _normal(4, 5)],
    ),
    "bce_logits": (
        lambda t, z: ember.binary_crossentropy(t, z, from_logits=True),
        lambda t, z: F.binary_cross_entropy_with_logits(z, t, reduction="none").mean(-1),
        [Const(rng.integers(0, 2, (3, 4)).astype(float)), _normal(3, 4)],
    ),
    "bce_logits_targets": (
        lambda t, z: ember.binary_crossentropy(ember.sigmoid(t), z * z, from_logits=True),
        lambda t, z: F.binary_cross_entropy_with_logits(z * z, torch.sigmoid(t), reduction="none").mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    # a dense layer: tanh(x W + b) and a softmax classifier on top
    "dense_stack": (
        lambda x, w, b, v: ember.log_softmax(ember.tanh(x @ w + b) @ v),
        lambda x, w, b, v: torch.log_softmax(torch.tanh(x @ w + b) @ v, -1),
        [_normal(4, 3), _normal(3, 5) * 0.5, _normal(5) * 0.1, _normal(5, 2)],
    ),
}


def _ember_double(fn, arrays, dtype, weights, vs):
    xs = []
    for a in arrays:
        if isinstance(a, Const):
            xs.append(ember.tensor(a.array, dtype=a.array.dtype if a.array.dtype.kind != "f" else dtype))
        else:
            xs.append(ember.tensor(a, dtype=dtype, requires_grad=True))
    wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
    out = fn(*xs)
    loss = (out * ember.tensor(weights, dtype=dtype)).sum()
    grads = ember.grad(loss, wrt, create_graph=True)
    for g in grads:
        assert g.requires_grad, "create_graph=True must give gradients with a graph"
    second = sum((g * ember.tensor(v, dtype=dtype)).sum() for g, v in zip(grads, vs))
    hvp = ember.grad(second, wrt, allow_unused=True)
    hvp = [np.zeros(x.shape) if h is None else h.numpy() for x, h in zip(wrt, hvp)]
    return [g.numpy() for g in grads], hvp


def _torch_double(fn, arrays, dtype, weights, vs):
    tdtype = getattr(torch, dtype)
    xs = []
    for a in arrays:
        if isinstance(a, Const):
            arr = a.array
            xs.append(torch.tensor(arr, dtype=tdtype) if arr.dtype.kind == "f" else torch.from_numpy(arr))
        else:
            xs.append(torch.tensor(a, dtype=tdtype, requires_grad=True))
    wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
    out = fn(*xs)
    loss = (out * torch.tensor(weights, dtype=tdtype)).sum()
    grads = torch.autograd.grad(loss, wrt, create_graph=True)
    second = sum((g * torch.tensor(v, dtype=tdtype)).sum() for g, v in zip(grads, vs))
    hvp = torch.autograd.grad(second, wrt, allow_unused=True)
    hvp = [np.zeros(x.shape) if h is None else h.detach().numpy() for x, h in zip(wrt, hvp)]
    return [g.detach().numpy() for g in grads], hvp


def _draws(fn, arrays, seed):
    r = np.random.default_rng(seed)
    with ember.no_grad():
        xs = [ember.tensor(a.array) if isinstance(a, Const) else ember.tensor(a, dtype="float64") for a in arrays]
        shape = fn(*xs).shape
    weights = r.standard_normal(shape)
    vs = [r.standard_normal(np.shape(a)) for a in arrays if not isinstance(a, Const)]
    return weights, vs


@pytest.mark.parametrize("name", sorted(CASES))
def test_double_backward_matches_torch(name):
    e_fn, t_fn, arrays = CASES[name]
    weights, vs = _draws(e_fn, arrays, 1)
    e_g, e_h = _ember_double(e_fn, arrays, "float32", weights, vs)
    t_g, t_h = _torch_double(t_fn, arrays, "float32", weights, vs)
    for k, (a, b) in enumerate(zip(e_g, t_g)):
        assert_close(a, b, msg=f"{name}: first gradient of input {k} vs torch")
    for k, (a, b) in enumerate(zip(e_h, t_h)):
        assert_close(a, b, msg=f"{name}: second derivative (Hessian-vector product) of input {k} vs torch")


@pytest.mark.parametrize("name", sorted(CASES))
def test_double_backward_matches_finite_differences(name):
    """d(v . g(x))/dx, with g the first gradient, against central differences of v . g in float64."""
    e_fn, _, arrays = CASES[name]
    weights, vs = _draws(e_fn, arrays, 2)
    _, hvp = _ember_double(e_fn, arrays, "float64", weights, vs)

    def first_gradient_dot_v(values):
        xs, it = [], iter(values)
        for a in arrays:
            if isinstance(a, Const):
                xs.append(ember.tensor(a.array, dtype="float64" if a.array.dtype.kind == "f" else None))
            else:
                xs.append(ember.tensor(next(it), dtype="float64", requires_grad=True))
        wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
        loss = (e_fn(*xs) * ember.tensor(weights, dtype="float64")).sum()
        grads = ember.grad(loss, wrt)
        return sum(float((g.numpy() * v).sum()) for g, v in zip(grads, vs))

    base = [np.array(a, dtype=np.float64) for a in arrays if not isinstance(a, Const)]
    eps = 1e-6
    for i, b in enumerate(base):
        numeric = np.zeros_like(b)
        for j in range(b.size):
            up = [c.copy() for c in base]
            up[i].reshape(-1)[j] += eps
            down = [c.copy() for c in base]
            down[i].reshape(-1)[j] -= eps
            numeric.reshape(-1)[j] = (first_gradient_dot_v(up) - first_gradient_dot_v(down)) / (2 * eps)
        np.testing.assert_allclose(hvp[i], numeric, rtol=1e-5, atol=1e-6, err_msg=f"{name}: input {i}")
