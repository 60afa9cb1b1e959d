"""Two oracles for every op: finite differences in float64, and PyTorch on the CPU.

``check_gradients(fn, *arrays)``
    runs ``fn`` on float64 tensors, backpropagates a random upstream gradient
    and compares every input's gradient with central differences.
``check_against_torch(ember_fn, torch_fn, *arrays)``
    runs the same computation in Ember and in PyTorch (float32 by default)
    and compares outputs and gradients at float32-honest tolerances.

Inputs are NumPy arrays. Wrap an array in :class:`Const` to pass it without
a gradient (indices, masks); pass Python values through keyword arguments of
the functions you write.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

# float32-honest: a few ulps of relative error, plus an absolute floor scaled
# to the magnitude of the values being compared (sums of many terms cancel).
RTOL32 = 1e-5
ATOL32 = 1e-5


class Const:
    """An input that gets no gradient (integer indices, boolean masks, fixed targets)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` in a non-contiguous view (every other element of a bigger array)."""
    a = np.asarray(a)
    if a.ndim == 0 or a.size == 0:
        return a
    big = np.empty(a.shape[:-1] + (a.shape[-1] * 2,), dtype=a.dtype)
    view = big[..., ::2]
    view[...] = a
    assert not view.flags.c_contiguous or a.shape[-1] == 1
    return view


def _as_outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _ember_inputs(arrays, dtype):
    tensors = []
    for a in arrays:
        if isinstance(a, Const):
            tensors.append(ember.tensor(a.array, dtype=a.array.dtype))
        else:
            tensors.append(ember.tensor(np.asarray(a), dtype=dtype, requires_grad=True))
    return tensors


def check_gradients(fn, *arrays, eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-7, seed: int = 0):
    """Assert that Ember's gradients of ``fn`` match central differences in float64.

    ``fn`` takes Ember tensors (one per array) and returns a tensor or a tuple
    of tensors; every float output is weighted by a fixed random array so each
    output element contributes.
    """
    rng = np.random.default_rng(seed)
    xs = _ember_inputs(arrays, "float64")
    outs = _as_outputs(fn(*xs))
    weights = [rng.standard_normal(o.shape) for o in outs if o.dtype.kind == "f"]
    float_outs = [o for o in outs if o.dtype.kind == "f"]
    for o in float_outs:
        assert o.dtype == np.float64, f"fn kept float64 inputs as {o.dtype}"
    loss = sum((o * w).sum() for o, w in zip(float_outs, weights))
    loss.backward()

    def objective(values):
        with ember.no_grad():
            ts = [ember.tensor(v, dtype=v.dtype) for v in values]
            res = [o for o in _as_outputs(fn(*ts)) if o.dtype.kind == "f"]
            return sum(float((o.numpy() * w).sum()) for o, w in zip(res, weights))

    base = [a.array if isinstance(a, Const) else np.array(a, dtype=np.float64) for a in arrays]
    for i, a in enumerate(arrays):
        if isinstance(a, Const):
            continue
        numeric = np.zeros_like(base[i])
        flat = numeric.reshape(-1)
        for j in range(base[i].size):
            values = [b.copy() for b in base]
            values[i].reshape(-1)[j] += eps
            up = objective(values)
            values[i].reshape(-1)[j] -= 2 * eps
            down = objective(values)
            flat[j] = (up - down) / (2 * eps)
        analytic = xs[i].grad.numpy() if xs[i].grad is not None else np.zeros_like(numeric)
        np.testing.assert_allclose(
            analytic, numeric, rtol=rtol, atol=atol, err_msg=f"gradient of input {i} vs finite differences"
        )


def _torch():
    return pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests; pip install it")


def check_against_torch(
    ember_fn, torch_fn, *arrays, dtype: str = "float32", rtol: float = RTOL32, atol: float = ATOL32, seed: int = 0
):
    """Assert that Ember and PyTorch agree on outputs and input gradients.

    ``ember_fn`` gets Ember tensors, ``torch_fn`` gets torch tensors, built from
    the same arrays (as ``dtype`` unless wrapped in :class:`Const`). ``atol`` is
    scaled by the largest magnitude among the values compared.
    """
    torch = _torch()
    rng = np.random.default_rng(seed)
    xs = _ember_inputs(arrays, dtype)
    ts = []
    for a in arrays:
        if isinstance(a, Const):
            ts.append(torch.from_numpy(np.ascontiguousarray(a.array)))
        else:
            ts.append(torch.tensor(np.asarray(a, dtype=dtype), requires_grad=True))
    e_outs = _as_outputs(ember_fn(*xs))
    t_outs = _as_outputs(torch_fn(*ts))
    assert len(e_outs) == len(t_outs), f"ember gave {len(e_outs)} outputs, torch {len(t_outs)}"
    for k, (e, t) in enumerate(zip(e_outs, t_outs)):
        t_np = t.detach().numpy()
        assert e.shape == t_np.shape, f"output {k}: ember shape {e.shape}, torch shape {t_np.shape}"
        assert_close(e.numpy(), t_np, rtol, atol, f"output {k} vs torch")
    pairs = [(e, t) for e, t in zip(e_outs, t_outs) if e.dtype.kind == "f" and t.requires_grad]
    if not pairs:
        return
    weights = [rng.standard_normal(e.shape).astype(dtype) for e, _ in pairs]
    sum((e * w).sum() for (e, _), w in zip(pairs, weights)).backward()
    sum((t * torch.from_numpy(w)).sum() for (_, t), w in zip(pairs, weights)).backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(arrays[i], Const):
            continue
        t_grad = t.grad.numpy() if t.grad is not None else np.zeros(t.shape, dtype=dtype)
        e_grad = x.grad.numpy() if x.grad is not None else np.zeros(x.shape, dtype=dtype)
        assert_close(e_grad, t_grad, rtol, atol, f"gradient of input {i} vs torch")


def assert_close(actual, expected, rtol=RTOL32, atol=ATOL32, msg=""):
    """allclose with ``atol`` scaled by the largest |expected| (at least 1)."""
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size and np.isfinite(expected).all() else 1.0
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol, atol=atol * scale, err_msg=msg)
