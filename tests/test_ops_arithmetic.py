"""Binary arithmetic and elementwise math: forward and gradients vs finite differences and PyTorch."""

import numpy as np
import pytest
from oracles import Const, check_against_torch, check_gradients, noncontiguous

import ember

# (shape of a, shape of b): equal, broadcasting both ways, size-1 axes, scalars, empty batch
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((2, 3, 4), (4,)),
    ((3, 1), (1, 5)),
    ((1,), (2, 3)),
    ((), (2, 3)),
    ((0, 3), (3,)),
]

BINARY = {
    "add": (ember.add, lambda a, b: a + b),
    "subtract": (ember.subtract, lambda a, b: a - b),
    "multiply": (ember.multiply, lambda a, b: a * b),
    "divide": (ember.divide, lambda a, b: a / b),
    "maximum": (ember.maximum, lambda a, b: __import__("torch").maximum(a, b)),
    "minimum": (ember.minimum, lambda a, b: __import__("torch").minimum(a, b)),
    "power": (ember.power, lambda a, b: a**b),
}


def _operands(rng, name, sa, sb):
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    if name == "divide":
        b = np.sign(b) * (np.abs(b) + 0.5)
    if name == "power":
        a = np.abs(a) + 0.5
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES)
def test_binary_gradients_finite_differences(name, sa, sb, rng):
    a, b = _operands(rng, name, sa, sb)
    check_gradients(BINARY[name][0], a, b)
    check_gradients(BINARY[name][0], b if name not in ("power",) else np.abs(b) + 0.5, a)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES)
def test_binary_against_torch(name, sa, sb, rng):
    a, b = _operands(rng, name, sa, sb)
    check_against_torch(BINARY[name][0], BINARY[name][1], noncontiguous(a), b)


def test_maximum_splits_gradient_on_ties_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 5.0])
    check_against_torch(ember.maximum, lambda x, y: __import__("torch").maximum(x, y), a, b)
    check_against_torch(ember.minimum, lambda x, y: __import__("torch").minimum(x, y), a, b)


def test_power_at_zero_base_has_finite_gradients():
    a = ember.tensor([0.0, 2.0], requires_grad=True)
    b = ember.tensor([2.0, 3.0], requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)], rtol=1e-6)


MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((0, 3, 4), (4, 2)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check_gradients(ember.matmul, a, b)
    check_against_torch(ember.matmul, lambda x, y: x @ y, noncontiguous(a), b)


def test_matmul_shape_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        ember.ones((2, 3)) @ ember.ones((4, 5))


def test_where_and_clip(rng):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle")
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    cond = x > 0
    check_gradients(lambda c, a, b: ember.where(c, a, b), Const(cond), x, y)
    check_against_torch(lambda c, a, b: ember.where(c, a, b), torch.where, Const(cond), x, y)
    check_gradients(lambda a: ember.clip(a, -0.5, 0.7), x)
    check_against_torch(lambda a: ember.clip(a, -0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), x)
    check_against_torch(lambda a: ember.clip(a, min=0.1), lambda a: a.clamp(min=0.1), x)


def test_divide_no_nan_and_sign_safe_divide():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ember.tensor([2.0, 0.0, -4.0], requires_grad=True)
    out = ember.divide_no_nan(x, y)
    np.testing.assert_allclose(out.numpy(), [0.5, 0.0, -0.75])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0, -0.25])
    np.testing.assert_allclose(y.grad.numpy(), [-0.25, 0.0, -3.0 / 16])
    tiny = ember.sign_safe_divide(ember.tensor([1.0, 1.0, 1.0]), ember.tensor([0.0, -1e-9, 2.0]), eps=1e-3)
    np.testing.assert_allclose(tiny.numpy(), [1e3, -1e3, 0.5], rtol=1e-6)
    check_gradients(lambda a, b: ember.sign_safe_divide(a, b, eps=1e-3), np.array([1.0, 2.0]), np.array([0.5, -3.0]))


UNARY = {
    "exp": (ember.exp, "exp", None),
    "expm1": (ember.expm1, "expm1", None),
    "log": (ember.log, "log", "positive"),
    "log1p": (ember.log1p, "log1p", "positive"),
    "log2": (ember.log2, "log2", "positive"),
    "log10": (ember.log10, "log10", "positive"),
    "sqrt": (ember.sqrt, "sqrt", "positive"),
    "rsqrt": (ember.rsqrt, "rsqrt", "positive"),
    "reciprocal": (ember.reciprocal, "reciprocal", "positive"),
    "abs": (ember.abs, "abs", None),
    "square": (ember.square, "square", None),
    "negative": (ember.negative, "neg", None),
    "sin": (ember.sin, "sin", None),
    "cos": (ember.cos, "cos", None),
    "tan": (ember.tan, "tan", None),
    "arctan": (ember.arctan, "atan", None),
    "sinh": (ember.sinh, "sinh", None),
    "cosh": (ember.cosh, "cosh", None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(5,), (2, 3, 1), (), (0, 4)])
def test_unary(name, shape, rng):
    fn, torch_name, domain = UNARY[name]
    x = rng.uniform(-1.2, 1.2, shape)
    if domain == "positive":
        x = np.abs(x) + 0.3
    check_gradients(fn, x)
    check_against_torch(fn, lambda t: getattr(t, torch_name)(), noncontiguous(x))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "sign"])
def test_piecewise_constant_ops_pass_zero_gradient(name, rng):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle")
    x = rng.uniform(-3, 3, (4, 5))
    check_against_torch(getattr(ember, name), getattr(torch, name), x)


def test_comparisons_are_boolean_and_not_differentiable():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])
