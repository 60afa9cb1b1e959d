"""Reductions: forward and gradients vs finite differences (float64) and PyTorch (float32)."""

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients, noncontiguous

import ember

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")


def _dims(axis, ndim):
    """torch's dim argument for a NumPy axis (None -> every axis)."""
    if axis is None:
        return tuple(range(ndim))
    return axis


# (ember function, torch function taking (t, dims, keepdim))
REDUCTIONS = {
    "sum": (ember.sum, lambda t, d, k: torch.sum(t, dim=d, keepdim=k)),
    "mean": (ember.mean, lambda t, d, k: torch.mean(t, dim=d, keepdim=k)),
    "max": (ember.max, lambda t, d, k: torch.amax(t, dim=d, keepdim=k)),
    "min": (ember.min, lambda t, d, k: torch.amin(t, dim=d, keepdim=k)),
    "var": (ember.var, lambda t, d, k: torch.var(t, dim=d, keepdim=k, correction=0)),
    "std": (ember.std, lambda t, d, k: torch.std(t, dim=d, keepdim=k, correction=0)),
    "logsumexp": (ember.logsumexp, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k)),
}

# (shape, axis): all axes, one axis, negative axis, several axes, size-1 axes, an empty batch
AXES = [
    ((2, 3, 4), None),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((3, 1, 4), 1),
    ((1, 5), (0, 1)),
    ((0, 3), 1),
    ((), None),
]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape,axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_against_torch(name, shape, axis, keepdims, rng):
    ember_fn, torch_fn = REDUCTIONS[name]
    x = rng.standard_normal(shape)
    ndim = len(shape)
    check_against_torch(
        lambda t: ember_fn(t, axis=axis, keepdims=keepdims),
        lambda t: torch_fn(t, _dims(axis, ndim), keepdims),
        noncontiguous(x),
    )


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape,axis", AXES)
def test_reduction_gradients_finite_differences(name, shape, axis, rng):
    x = rng.standard_normal(shape)
    check_gradients(lambda t: REDUCTIONS[name][0](t, axis=axis, keepdims=False), x)
    check_gradients(lambda t: REDUCTIONS[name][0](t, axis=axis, keepdims=True), x)


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_ddof(name, ddof, rng):
    x = rng.standard_normal((4, 5))
    fn = getattr(ember, name)
    tfn = getattr(torch, name)
    check_against_torch(lambda t: fn(t, axis=0, ddof=ddof), lambda t: tfn(t, dim=0, correction=ddof), x)
    check_gradients(lambda t: fn(t, axis=1, keepdims=True, ddof=ddof), x)
    # the Tensor method passes ddof through
    method = getattr(ember.tensor(x), name)(axis=0, ddof=ddof)
    np.testing.assert_allclose(method.numpy(), getattr(x, name)(0, ddof=ddof), rtol=1e-6)


def test_std_of_constant_slice_has_zero_gradient_like_torch():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    check_against_torch(lambda t: ember.std(t, axis=1), lambda t: torch.std(t, dim=1, correction=0), x)


@pytest.mark.parametrize("name,torch_fn", [("max", torch.amax), ("min", torch.amin)])
def test_max_min_split_gradient_among_ties_like_torch(name, torch_fn):
    x = np.array([[3.0, 1.0, 3.0, 3.0], [-1.0, -1.0, 0.0, 2.0]])
    if name == "min":
        x = -x
    fn = getattr(ember, name)
    check_against_torch(lambda t: fn(t, axis=1), lambda t: torch_fn(t, dim=1), x)
    check_against_torch(lambda t: fn(t), lambda t: torch_fn(t, dim=(0, 1)), x)
    check_against_torch(lambda t: fn(t, axis=0, keepdims=True), lambda t: torch_fn(t, dim=0, keepdim=True), x)


def test_max_min_of_empty_axis_raise():
    x = ember.zeros((0, 3))
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty axis.*\(0, 3\)"):
        ember.max(x, axis=0)
    with pytest.raises(ValueError, match="min: cannot reduce"):
        ember.min(x)
    assert ember.max(x, axis=1).shape == (0,)


def _torch_prod(axis, keepdims):
    def fn(t):
        if axis is None:
            out = torch.prod(t)
            return out.reshape((1,) * t.ndim) if keepdims else out
        return torch.prod(t, dim=axis, keepdim=keepdims)

    return fn


PROD_INPUTS = {
    "no zeros": np.array([[0.5, -1.5, 2.0, 0.8], [1.2, 0.7, -0.9, 1.1], [0.3, 2.0, -1.0, 1.4]]),
    "one zero": np.array([[0.5, 0.0, 2.0, 0.8], [1.2, 0.7, -0.9, 1.1], [0.0, 2.0, -1.0, 1.4]]),
    "two zeros": np.array([[0.0, -1.5, 0.0, 0.8], [1.2, 0.0, -0.9, 1.1], [0.3, 0.0, -1.0, 1.4]]),
    "all zeros": np.zeros((3, 4)),
}


@pytest.mark.parametrize("case", sorted(PROD_INPUTS))
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_with_zeros(case, axis, keepdims):
    x = PROD_INPUTS[case]
    check_against_torch(lambda t: ember.prod(t, axis=axis, keepdims=keepdims), _torch_prod(axis, keepdims), x)
    # prod is multilinear, so central differences are exact even at zeros
    check_gradients(lambda t: ember.prod(t, axis=axis, keepdims=keepdims), x)


def test_prod_several_axes_and_shapes(rng):
    x = rng.uniform(0.5, 1.5, (2, 3, 4))
    x[0, 1, 2] = 0.0
    check_gradients(lambda t: ember.prod(t, axis=(0, 2)), x)
    check_gradients(lambda t: ember.prod(t, axis=(1,), keepdims=True), noncontiguous(x))
    check_against_torch(lambda t: ember.prod(t, axis=0), lambda t: torch.prod(t, dim=0), rng.uniform(0.5, 1.5, (0, 3)))
    check_against_torch(lambda t: ember.prod(t, axis=1), lambda t: torch.prod(t, dim=1), rng.uniform(0.5, 1.5, (0, 3)))


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, -1001.0, -1002.0]])
    check_against_torch(lambda t: ember.logsumexp(t, axis=1), lambda t: torch.logsumexp(t, dim=1), x)
    out = ember.logsumexp(ember.tensor(x), axis=1).numpy()
    assert np.isfinite(out).all()
    # -inf entries are skipped
    y = np.array([[-np.inf, 0.0, 1.0], [-np.inf, -2.0, -np.inf]])
    check_against_torch(lambda t: ember.logsumexp(t, axis=1), lambda t: torch.logsumexp(t, dim=1), y)


def test_logsumexp_of_all_minus_inf_slice_has_zero_gradient():
    # torch gives nan here; a fully masked slice should not poison training, so Ember passes 0
    t = ember.tensor([[-np.inf, -np.inf], [0.0, 0.0]], requires_grad=True)
    out = ember.logsumexp(t, axis=1)
    np.testing.assert_array_equal(out.numpy(), [-np.inf, np.log(2.0).astype(np.float32)])
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0.0, 0.0], [0.5, 0.5]])


# ---- no-gradient reductions ---------------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_match_numpy(name, axis, keepdims, rng):
    x = rng.integers(0, 4, (3, 5)).astype(np.float32)  # with ties: the first position wins
    t = ember.tensor(noncontiguous(x), requires_grad=True)
    out = getattr(ember, name)(t, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert out.dtype.kind == "i" and not out.requires_grad
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(getattr(t, name)(axis=axis, keepdims=keepdims).numpy(), expected)
    tfn = getattr(torch, name)
    if axis is not None:
        np.testing.assert_array_equal(out.numpy(), tfn(torch.from_numpy(x), dim=axis, keepdim=keepdims).numpy())


def test_argmax_errors():
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        ember.argmax(ember.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="argmin: cannot take the position over an empty axis"):
        ember.argmin(ember.zeros((0, 3)), axis=0)


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("axis", [None, 0, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_any_all_match_numpy(name, axis, keepdims, rng):
    x = rng.integers(0, 2, (3, 4, 2)).astype(bool)
    x[0] = True
    for data in (x, x.astype(np.float32)):
        out = getattr(ember, name)(ember.tensor(data), axis=axis, keepdims=keepdims)
        expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
        assert out.dtype == np.bool_ and out.shape == expected.shape
        np.testing.assert_array_equal(out.numpy(), expected)
    f = ember.tensor(x.astype(np.float32), requires_grad=True)
    assert not getattr(f, name)(axis=axis).requires_grad


# ---- scans ----------------------------------------------------------------------


def _torch_scan(fn, axis):
    return (lambda t: fn(t.flatten(), 0)) if axis is None else (lambda t: fn(t, axis))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("shape", [(3, 4), (1, 5), (0, 3), (2, 3, 2)])
def test_cumsum(axis, shape, rng):
    if axis == 1 and len(shape) < 2:
        pytest.skip("no such axis")
    x = rng.standard_normal(shape)
    check_against_torch(lambda t: ember.cumsum(t, axis=axis), _torch_scan(torch.cumsum, axis), noncontiguous(x))
    check_gradients(lambda t: ember.cumsum(t, axis=axis), x)


CUMPROD_INPUTS = {
    "no zeros": np.array([[0.5, -1.5, 2.0, 0.8, 1.3], [1.2, 0.7, -0.9, 1.1, -0.6]]),
    "one zero": np.array([[0.5, -1.5, 0.0, 0.8, 1.3], [0.0, 0.7, -0.9, 1.1, -0.6]]),
    "zeros": np.array([[0.5, 0.0, 2.0, 0.0, 1.3], [1.2, 0.7, -0.9, 1.1, 0.0]]),
}


@pytest.mark.parametrize("case", sorted(CUMPROD_INPUTS))
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumprod_with_zeros(case, axis):
    x = CUMPROD_INPUTS[case]
    check_against_torch(lambda t: ember.cumprod(t, axis=axis), _torch_scan(torch.cumprod, axis), noncontiguous(x))
    check_gradients(lambda t: ember.cumprod(t, axis=axis), x)  # multilinear: differences are exact


def test_cumprod_empty_and_3d(rng):
    x = rng.uniform(0.5, 1.5, (2, 3, 4))
    x[1, 0, 2] = 0.0
    check_gradients(lambda t: ember.cumprod(t, axis=2), x)
    check_against_torch(lambda t: ember.cumprod(t, axis=1), lambda t: torch.cumprod(t, 1), np.zeros((0, 3)))


def test_scan_errors():
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range"):
        ember.cumsum(ember.zeros((2, 3)), axis=2)


# ---- shared behaviour -----------------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std", "prod", "logsumexp", "any", "all"])
def test_axis_errors_name_the_op(name):
    x = ember.zeros((2, 3))
    with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range for a tensor with 2 dimensions"):
        getattr(ember, name)(x, axis=2)
    with pytest.raises(ValueError, match=f"{name}: repeated axis"):
        getattr(ember, name)(x, axis=(1, -1))


def test_tensor_methods_reach_the_reductions(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    t = ember.tensor(x)
    np.testing.assert_allclose(t.max(axis=0).numpy(), x.max(axis=0))
    np.testing.assert_allclose(t.min(axis=1, keepdims=True).numpy(), x.min(axis=1, keepdims=True))
    np.testing.assert_allclose(t.prod(axis=1).numpy(), x.prod(axis=1), rtol=1e-6)
    np.testing.assert_allclose(t.var().numpy(), x.var(), rtol=1e-5)
