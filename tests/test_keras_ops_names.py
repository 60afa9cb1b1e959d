"""ember.ops.keras_names against keras.ops (torch backend): the names, their argument names, values and gradients.

Every name in ``keras_names.__all__`` must be a ``keras.ops`` name with the same
parameters, must not redefine a name another ``ember.ops`` module exports, and
must give Keras's values on the same inputs. The differentiable compositions
also give PyTorch's gradients (through Keras's own implementation).
"""

import importlib
import inspect
import os

import numpy as np
import pytest

import ember
from ember.ops import keras_names

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for keras.ops")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch runs Keras's ops for the gradient checks")


def _rand(*shape, seed=0, lo=-1.0, hi=1.0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype("float32")


def _np(x):
    if isinstance(x, ember.Tensor):
        return x.numpy()
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _close(got, want, rtol=RTOL, atol=ATOL, name=""):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), name
        for g, w in zip(got, want):
            _close(g, w, rtol, atol, name)
        return
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"{name}: shape {g.shape} != Keras {w.shape}"
    if w.dtype == bool or w.dtype.kind in "iu":
        np.testing.assert_array_equal(g, w, err_msg=name)
        return
    scale = max(1.0, float(np.nanmax(np.abs(w))) if w.size and np.isfinite(w).any() else 1.0)
    np.testing.assert_allclose(g.astype("float64"), w, rtol=rtol, atol=atol * scale, err_msg=name, equal_nan=True)


def _to_ember(a):
    if isinstance(a, np.ndarray):
        return ember.tensor(a, dtype=a.dtype)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return [ember.tensor(x, dtype=x.dtype) for x in a]
    return a


def _to_keras(keras, a):
    if isinstance(a, np.ndarray):
        return keras.ops.convert_to_tensor(a)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return [keras.ops.convert_to_tensor(x) for x in a]
    return a


# ---- the names themselves ----------------------------------------------------------------


def test_every_name_is_a_keras_ops_name_with_keras_parameters(keras):
    for name in keras_names.__all__:
        assert hasattr(keras.ops, name), f"{name} is not in keras.ops"
        mine = list(inspect.signature(getattr(keras_names, name)).parameters)
        theirs = list(inspect.signature(getattr(keras.ops, name)).parameters)
        assert mine == theirs, f"{name}: parameters {mine} != keras.ops {theirs}"


def test_no_name_redefines_another_ember_ops_module():
    others = set()
    for mod in ember.ops.__spec__.loader.get_resource_reader(ember.ops.__name__).contents():
        if mod.endswith(".py") and not mod.startswith("_") and mod != "keras_names.py":
            module = importlib.import_module(f"ember.ops.{mod[:-3]}")
            # names a module defines itself; namespace modules (ops.nn, ops.numpy) only re-export
            names = getattr(module, "__all__", ())
            others |= {n for n in names if getattr(getattr(module, n), "__module__", None) == module.__name__}
    assert others, "found no other ember.ops modules"
    assert not set(keras_names.__all__) & others
    for name in keras_names.__all__:
        # ember.ops may export it wrapped to accept symbolic tensors (ember.ops.keras_symbolic)
        assert inspect.unwrap(getattr(ember.ops, name)) is getattr(keras_names, name)
        assert getattr(ember, name) is getattr(ember.ops, name)


# ---- forward values -------------------------------------------------------------------------

X = _rand(3, 4, seed=1)
Y = _rand(3, 4, seed=2)
POS = _rand(3, 4, seed=3, lo=1.05, hi=4.0)
UNIT = _rand(3, 4, seed=4, lo=-0.95, hi=0.95)
SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan, 3.0], dtype="float32")
V = _rand(5, seed=5)
W = _rand(5, seed=6)

CASES = [
    # (name, args, kwargs)
    ("arcsin", (UNIT,), {}),
    ("arccos", (UNIT,), {}),
    ("arcsinh", (np.concatenate([X.ravel() * 30, [1e-4, -3e-6, 1e9, -2e10]]).astype("float32"),), {}),
    ("arccosh", (POS,), {}),
    ("arctanh", (UNIT,), {}),
    ("arctan2", (X, Y), {}),
    ("arctan2", (np.array([0, 1, -1, 0, 2, -2], "float32"), np.array([0, 0, 0, -1, -3, -3], "float32")), {}),
    ("deg2rad", (X * 180,), {}),
    ("rad2deg", (X,), {}),
    ("exp2", (X * 5,), {}),
    ("cbrt", (X * 8,), {}),
    ("fabs", (X,), {}),
    ("trunc", (X * 4,), {}),
    ("hypot", (X * 3, Y * 4), {}),
    ("logaddexp", (X * 50, Y * 50), {}),
    ("logaddexp2", (X * 50, Y * 50), {}),
    ("fmod", (X * 7, Y * 2 + 3), {}),
    ("fmod", (np.array([7, -7, 7, -7, 6], "int32"), np.array([3, 3, -3, -3, 3], "int32")), {}),
    ("heaviside", (np.array([-1.0, 0.0, 2.0, 0.0], "float32"), np.array([0.5], "float32")), {}),
    ("sinc", (np.concatenate([X.ravel() * 3, [0.0]]).astype("float32"),), {}),
    ("signbit", (SPECIAL,), {}),
    ("isposinf", (SPECIAL,), {}),
    ("isneginf", (SPECIAL,), {}),
    ("isclose", (X, X + 1e-6), {}),
    ("isclose", (SPECIAL, SPECIAL), {"equal_nan": True}),
    ("isclose", (X, Y), {"rtol": 0.5, "atol": 0.1}),
    ("allclose", (X, X + 1e-6), {}),
    ("allclose", (X, Y), {}),
    ("logical_xor", (X > 0, Y > 0), {}),
    ("nan_to_num", (SPECIAL,), {}),
    ("nan_to_num", (SPECIAL,), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}),
    ("average", (X,), {}),
    ("average", (X,), {"axis": 1, "weights": _rand(4, seed=7, lo=0.1, hi=1.0)}),
    ("average", (X,), {"axis": 1, "weights": POS}),
    ("ptp", (X,), {"axis": 1}),
    ("ptp", (X,), {"axis": 0, "keepdims": True}),
    ("median", (_rand(3, 5, 4, seed=8),), {}),
    ("median", (_rand(3, 5, 4, seed=8),), {"axis": 1}),
    ("median", (_rand(3, 5, 4, seed=8),), {"axis": 2, "keepdims": True}),
    ("quantile", (_rand(3, 5, 4, seed=9), 0.3), {"axis": 1}),
    ("quantile", (_rand(3, 5, 4, seed=9), [0.1, 0.5, 0.9]), {"axis": -1}),
    ("quantile", (_rand(3, 5, 4, seed=9), 0.3), {"axis": 1, "method": "lower"}),
    ("quantile", (_rand(3, 5, 4, seed=9), 0.3), {"axis": 1, "method": "higher"}),
    ("quantile", (_rand(3, 5, 4, seed=9), 0.3), {"axis": 1, "method": "midpoint"}),
    ("quantile", (_rand(3, 5, 4, seed=9), 0.3), {"axis": 1, "method": "nearest"}),
    ("percentile", (_rand(6, 7, seed=10), [25, 75]), {"axis": 0, "keepdims": True}),
    ("count_nonzero", (np.array([[0, 1, 2], [0, 0, 3]], "float32"),), {}),
    ("count_nonzero", (np.array([[0, 1, 2], [0, 0, 3]], "float32"),), {"axis": 1}),
    ("norm", (V,), {}),
    ("norm", (X,), {}),
    ("norm", (X,), {"axis": 1}),
    ("norm", (X,), {"ord": 1, "axis": 0, "keepdims": True}),
    ("norm", (X,), {"ord": np.inf, "axis": 1}),
    ("norm", (X,), {"ord": 3, "axis": 1}),
    ("norm", (X,), {"ord": "fro"}),
    ("norm", (X,), {"ord": 1}),
    ("norm", (X,), {"ord": -np.inf}),
    ("sort", (X,), {}),
    ("sort", (X,), {"axis": 0}),
    ("argsort", (X,), {}),
    ("argsort", (X,), {"axis": 0}),
    ("dot", (V, W), {}),
    ("dot", (X, X.T), {}),
    ("dot", (_rand(2, 3, 4), _rand(4, 6)), {}),
    ("vdot", (V, W), {}),
    ("inner", (X, Y), {}),
    ("outer", (V, W), {}),
    ("tensordot", (_rand(2, 3, 4), _rand(3, 4, 5)), {}),
    ("tensordot", (_rand(2, 3, 4), _rand(4, 2, 5)), {"axes": ([0, 2], [1, 0])}),
    ("tensordot", (_rand(2, 3), _rand(4, 5)), {"axes": 0}),
    ("trace", (_rand(4, 5),), {}),
    ("trace", (_rand(4, 5),), {"offset": 1}),
    ("trace", (_rand(2, 4, 5),), {"offset": -1, "axis1": 1, "axis2": 2}),
    ("diagonal", (_rand(4, 5),), {"offset": 2}),
    ("diagonal", (_rand(3, 4, 5),), {"offset": -1, "axis1": 0, "axis2": 2}),
    ("diag", (V,), {}),
    ("diag", (V,), {"k": 2}),
    ("diag", (V,), {"k": -1}),
    ("diag", (_rand(4, 5),), {"k": 1}),
    ("tri", (3,), {}),
    ("tri", (3, 5, 1), {}),
    ("tril", (_rand(2, 4, 5),), {}),
    ("tril", (_rand(4, 5),), {"k": -1}),
    ("triu", (_rand(2, 4, 5),), {}),
    ("triu", (_rand(4, 5),), {"k": 2}),
    ("identity", (4,), {}),
    ("append", (X, Y), {}),
    ("append", (X, Y), {"axis": 1}),
    ("hstack", ([X, Y],), {}),
    ("hstack", ([V, W],), {}),
    ("vstack", ([X, Y],), {}),
    ("vstack", ([V, W],), {}),
    ("dstack", ([X, Y],), {}),
    ("dstack", ([V, W],), {}),
    ("hsplit", (_rand(3, 6),), {"indices_or_sections": 3}),
    ("vsplit", (_rand(6, 3),), {"indices_or_sections": [1, 4]}),
    ("unstack", (_rand(3, 4, 2),), {"axis": 1}),
    ("roll", (X,), {"shift": 2}),
    ("roll", (X,), {"shift": -1, "axis": 1}),
    ("roll", (X,), {"shift": (1, 2), "axis": (0, 1)}),
    ("diff", (_rand(3, 6),), {}),
    ("diff", (_rand(3, 6),), {"n": 2, "axis": 0}),
    ("fliplr", (X,), {}),
    ("flipud", (X,), {}),
    ("select", ([X < -0.3, X > 0.3], [X * 2, Y]), {"default": 0.5}),
    ("slice", (_rand(4, 5, 6),), {"start_indices": (1, 0, 2), "shape": (2, 5, 3)}),
    ("get_item", (X,), {"key": 1}),
    ("ndim", (X,), {}),
    ("size", (X,), {}),
    ("copy", (X,), {}),
    ("stop_gradient", (X,), {}),
    ("convert_to_numpy", (X,), {}),
    # nn
    ("moments", (_rand(4, 3, 5),), {"axes": [0, 1]}),
    ("moments", (_rand(4, 3, 5),), {"axes": [1], "keepdims": True}),
    ("normalize", (X,), {}),
    ("normalize", (X,), {"axis": 0, "order": 1}),
    ("normalize", (np.zeros((2, 3), "float32"),), {}),
    ("normalize", (X,), {"order": 3, "epsilon": 1e-3}),
    ("rms_normalization", (X,), {}),
    ("rms_normalization", (_rand(2, 3, 4),), {"scale": _rand(4, seed=11), "epsilon": 1e-5}),
    ("psnr", (_rand(2, 8, 8, lo=0, hi=1), _rand(2, 8, 8, seed=3, lo=0, hi=1)), {"max_val": 1.0}),
    ("multi_hot", (np.array([[0, 2], [1, 1]], "int32"),), {"num_classes": 4}),
    ("multi_hot", (np.array([3, 0], "int32"),), {"num_classes": 5}),
    ("top_k", (np.array([[1, 5, 3, 6, 0], [2, 3, 9, -1, 4]], "float32"), 3), {}),
    ("in_top_k", (np.array([1, 3, 0], "int32"), _rand(3, 6, seed=12), 2), {}),
    ("in_top_k", (np.array([0, 3], "int32"), np.array([[1, 1, 1, 0], [0, 2, 2, 2]], "float32"), 1), {}),
]


@pytest.mark.parametrize(
    "name,args,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)  # ids keep repeated names apart
def test_values_match_keras(keras, name, args, kwargs):
    want = getattr(keras.ops, name)(*[_to_keras(keras, a) for a in args], **kwargs)
    got = getattr(ember.ops, name)(*[_to_ember(a) for a in args], **{k: _to_ember(v) for k, v in kwargs.items()})
    if name in ("ndim", "size"):
        assert got == want
        return
    if name in ("argsort", "top_k", "count_nonzero", "in_top_k"):
        # index results: the same integers (dtype aside)
        if name == "top_k":
            _close(got[0], want[0], name=name)
            np.testing.assert_array_equal(_np(got[1]), _np(want[1]))
        else:
            np.testing.assert_array_equal(_np(got), _np(want))
        return
    _close(got, want, name=name)


# ---- convolution and pooling dispatchers ------------------------------------------------------

CONV_CASES = [
    # (name, x shape, kernel shape(s), kwargs)
    ("conv", (2, 9, 3), [(3, 3, 4)], {}),
    ("conv", (2, 9, 3), [(3, 3, 4)], {"strides": 2, "padding": "same"}),
    ("conv", (2, 9, 3), [(2, 3, 4)], {"dilation_rate": 2}),
    ("conv", (2, 7, 6, 3), [(3, 2, 3, 5)], {}),
    ("conv", (2, 7, 6, 3), [(3, 3, 3, 5)], {"strides": (2, 1), "padding": "same"}),
    ("conv", (2, 3, 7, 6), [(3, 3, 3, 5)], {"data_format": "channels_first"}),
    ("conv_transpose", (2, 5, 3), [(3, 4, 3)], {}),
    ("conv_transpose", (2, 5, 3), [(3, 4, 3)], {"strides": 2, "padding": "same"}),
    ("conv_transpose", (2, 5, 3), [(3, 4, 3)], {"strides": 2, "output_padding": 1}),
    ("conv_transpose", (2, 5, 4, 3), [(3, 3, 2, 3)], {"strides": 2}),
    ("conv_transpose", (2, 5, 4, 3), [(3, 2, 2, 3)], {"strides": (2, 1), "padding": "same"}),
    ("depthwise_conv", (2, 9, 3), [(3, 3, 2)], {}),
    ("depthwise_conv", (2, 9, 3), [(3, 3, 2)], {"strides": 2, "padding": "same"}),
    ("depthwise_conv", (2, 7, 6, 3), [(3, 3, 3, 2)], {"dilation_rate": 2}),
    ("separable_conv", (2, 9, 3), [(3, 3, 2), (1, 6, 4)], {"padding": "same"}),
    ("separable_conv", (2, 7, 6, 3), [(3, 3, 3, 2), (1, 1, 6, 5)], {"strides": 2}),
    ("separable_conv", (2, 3, 7, 6), [(3, 3, 3, 1), (1, 1, 3, 2)], {"data_format": "channels_first"}),
]


@pytest.mark.parametrize("name,xshape,kshapes,kwargs", CONV_CASES)
def test_conv_dispatch_matches_keras(keras, name, xshape, kshapes, kwargs):
    x = _rand(*xshape, seed=20)
    ks = [_rand(*s, seed=21 + i) for i, s in enumerate(kshapes)]
    want = getattr(keras.ops, name)(x, *ks, **kwargs)
    got = getattr(ember.ops, name)(ember.tensor(x), *[ember.tensor(k) for k in ks], **kwargs)
    _close(got, want, name=name)


POOL_CASES = [
    ((2, 9, 3), 2, {}),
    ((2, 9, 3), 3, {"strides": 2, "padding": "same"}),
    ((2, 7, 6, 3), 2, {}),
    ((2, 7, 6, 3), (3, 2), {"strides": (2, 1), "padding": "same"}),
    ((2, 3, 7, 6), 2, {"data_format": "channels_first"}),
]


@pytest.mark.parametrize("name", ["max_pool", "average_pool"])
@pytest.mark.parametrize("xshape,pool,kwargs", POOL_CASES)
def test_pool_dispatch_matches_keras(keras, name, xshape, pool, kwargs):
    x = _rand(*xshape, seed=30)
    if name == "average_pool" and xshape == (2, 7, 6, 3) and kwargs.get("padding") == "same":
        # Keras's torch backend pads an uneven "same" window by replicating the edge and averages those copies;
        # Keras's documented behaviour (TensorFlow's) averages the real cells only, which Ember follows.
        want = _average_pool_same_reference(x, pool, kwargs["strides"])
    else:
        want = getattr(keras.ops, name)(x, pool, **kwargs)
    got = getattr(ember.ops, name)(ember.tensor(x), pool, **kwargs)
    _close(got, want, name=name)


def _average_pool_same_reference(x, pool, strides):
    """Average of the real cells of each "same" window (TensorFlow's rule), in float64 loops."""
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    oh, ow = -(-h // sh), -(-w // sw)
    top = max((oh - 1) * sh + ph - h, 0) // 2
    left = max((ow - 1) * sw + pw - w, 0) // 2
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - top, j * sw - left
            win = x[:, max(r0, 0) : min(r0 + ph, h), max(c0, 0) : min(c0 + pw, w)].astype("float64")
            out[:, i, j] = win.mean(axis=(1, 2))
    return out


def test_conv_rejects_3d_spatial_input_with_a_clear_error():
    with pytest.raises(ValueError, match=r"conv: .*rank 5"):
        ember.ops.conv(ember.zeros((1, 2, 2, 2, 1)), ember.zeros((1, 1, 1, 1, 1)))


# ---- attention ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"is_causal": True},
        {"scale": 0.3},
        {"mask": "mask"},
        {"bias": "bias"},
    ],
)
def test_dot_product_attention_matches_keras(keras, kwargs):
    q, k, v = _rand(2, 4, 3, 8, seed=40), _rand(2, 5, 3, 8, seed=41), _rand(2, 5, 3, 8, seed=42)
    if kwargs.get("mask") == "mask":
        kwargs = {"mask": np.random.default_rng(43).random((2, 3, 4, 5)) > 0.3}
    if kwargs.get("bias") == "bias":
        kwargs = {"bias": _rand(1, 3, 4, 5, seed=44)}
    if kwargs.get("is_causal"):
        k, v = k[:, :4], v[:, :4]
    want = keras.ops.dot_product_attention(q, k, v, **kwargs)
    got = ember.ops.dot_product_attention(
        ember.tensor(q), ember.tensor(k), ember.tensor(v), **{n: _to_ember(a) for n, a in kwargs.items()}
    )
    _close(got, want, name="dot_product_attention")


def test_dot_product_attention_soft_cap_follows_the_formula():
    # Keras's torch backend refuses attn_logits_soft_cap (JAX on TPU only); the formula is cap * tanh(logits / cap)
    q, k, v = (_rand(1, 3, 2, 4, seed=s).astype("float64") for s in (60, 61, 62))
    logits = np.einsum("btnh,bsnh->bnts", q, k) / 2.0
    logits = 1.5 * np.tanh(logits / 1.5)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    want = np.einsum("bnts,bsnh->btnh", weights, v)
    got = ember.ops.dot_product_attention(
        *(ember.tensor(a, dtype="float64") for a in (q, k, v)), attn_logits_soft_cap=1.5
    )
    _close(got, want, rtol=1e-12, atol=1e-12, name="soft cap")


def test_dot_with_rank_above_two_follows_numpy():
    # Keras's torch backend cannot take dot of two 3-D tensors; NumPy defines it
    a, b = _rand(2, 3, 4, seed=63).astype("float64"), _rand(5, 4, 6, seed=64).astype("float64")
    got = ember.ops.dot(ember.tensor(a, dtype="float64"), ember.tensor(b, dtype="float64"))
    _close(got, np.dot(a, b), rtol=1e-12, atol=1e-12, name="dot")


def test_dot_product_attention_grouped_query_heads(keras):
    q, k, v = _rand(2, 4, 4, 8, seed=45), _rand(2, 5, 2, 8, seed=46), _rand(2, 5, 2, 8, seed=47)
    want = keras.ops.dot_product_attention(q, k, v)
    got = ember.ops.dot_product_attention(ember.tensor(q), ember.tensor(k), ember.tensor(v))
    _close(got, want, name="dot_product_attention (GQA)")


# ---- control flow and conversions ---------------------------------------------------------------


def test_control_flow_matches_keras(keras):
    assert int(ember.ops.fori_loop(0, 5, lambda i, v: v + i, 10)) == int(
        keras.ops.fori_loop(0, 5, lambda i, v: v + i, 10)
    )
    e = ember.ops.while_loop(lambda a, b: a < 10, lambda a, b: (a + 1, b * 2), (0, 1), maximum_iterations=6)
    k = keras.ops.while_loop(lambda a, b: a < 10, lambda a, b: (a + 1, b * 2), (0, 1), maximum_iterations=6)
    assert tuple(int(a) for a in e) == tuple(int(a) for a in k)
    assert ember.ops.switch(5, [lambda a: a + 1, lambda a: a * 3], 4) == keras.ops.switch(
        5, [lambda a: a + 1, lambda a: a * 3], 4
    )
    assert ember.ops.cond(False, lambda: 1, lambda: 2) == 2
    xs = _rand(3, 4, seed=50)
    _close(ember.ops.map(lambda r: ember.sum(r * r), ember.tensor(xs)), keras.ops.map(lambda r: (r * r).sum(), xs))
    t = ember.ops.convert_to_tensor([[1, 2]], dtype="float32")
    assert ember.ops.is_tensor(t) and not ember.ops.is_tensor(xs) and t.dtype == np.float32


def test_stop_gradient_and_copy_gradients():
    x = ember.tensor(np.array([1.0, 2.0], "float32"), requires_grad=True)
    (ember.ops.stop_gradient(x) * x + ember.ops.copy(x) * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 5.0])


# ---- gradients of the compositions vs PyTorch through keras.ops ------------------------------------

GRAD_CASES = [
    ("arcsin", (UNIT,), {}),
    ("arccos", (UNIT,), {}),
    ("arcsinh", (X * 5,), {}),
    ("arccosh", (POS,), {}),
    ("arctanh", (UNIT,), {}),
    ("arctan2", (X, Y), {}),
    ("exp2", (X,), {}),
    ("cbrt", (X + 2,), {}),
    ("hypot", (X, Y), {}),
    ("logaddexp", (X * 3, Y * 3), {}),
    ("sinc", (X * 2,), {}),
    ("average", (X,), {"axis": 1, "weights": _rand(4, seed=7, lo=0.1, hi=1.0)}),
    ("median", (_rand(3, 5, seed=8),), {"axis": 1}),
    ("quantile", (_rand(3, 5, seed=9),), {"q": [0.2, 0.7], "axis": 0}),
    ("sort", (X,), {"axis": 1}),
    ("norm", (X,), {"ord": 3, "axis": 1}),
    ("tensordot", (_rand(2, 3, 4), _rand(3, 4, 5)), {}),
    ("trace", (_rand(4, 5),), {"offset": 1}),
    ("diag", (V,), {"k": 1}),
    ("roll", (X,), {"shift": 1, "axis": 1}),
    ("diff", (_rand(3, 6),), {}),
    ("tril", (_rand(4, 5),), {}),
    ("moments", (_rand(4, 3, 5),), {"axes": [0, 1]}),
    ("normalize", (X,), {}),
    ("rms_normalization", (X,), {"scale": _rand(4, seed=11)}),
    ("psnr", (X, Y), {"max_val": 1.0}),
    ("conv", (_rand(2, 9, 3), _rand(3, 3, 4, seed=1)), {"padding": "same"}),
    ("conv_transpose", (_rand(2, 5, 3), _rand(3, 4, 3, seed=1)), {"strides": 2}),
    ("separable_conv", (_rand(2, 7, 6, 3), _rand(3, 3, 3, 2, seed=1), _rand(1, 1, 6, 5, seed=2)), {}),
    ("max_pool", (_rand(2, 9, 3),), {"pool_size": 2}),
    ("average_pool", (_rand(2, 7, 6, 3),), {"pool_size": 2, "padding": "same"}),
    ("dot_product_attention", (_rand(2, 4, 3, 8), _rand(2, 4, 3, 8, seed=1), _rand(2, 4, 3, 8, seed=2)), {}),
]


@pytest.mark.parametrize("name,args,kwargs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_torch_through_keras(keras, torch, name, args, kwargs):
    upstream_seed = 99
    t_in = [torch.tensor(a, requires_grad=True) for a in args]
    t_out = getattr(keras.ops, name)(*t_in, **kwargs)
    t_outs = list(t_out) if isinstance(t_out, (tuple, list)) else [t_out]
    ups = [_rand(*o.shape, seed=upstream_seed + i) for i, o in enumerate(t_outs)]
    sum(((o * torch.tensor(u)).sum() for o, u in zip(t_outs, ups)), torch.tensor(0.0)).backward()

    e_in = [ember.tensor(a, requires_grad=True) for a in args]
    e_out = getattr(ember.ops, name)(*e_in, **{k: _to_ember(v) for k, v in kwargs.items()})
    e_outs = list(e_out) if isinstance(e_out, (tuple, list)) else [e_out]
    total = None
    for o, u in zip(e_outs, ups):
        term = ember.sum(o * ember.tensor(u))
        total = term if total is None else total + term
    total.backward()
    for e, t in zip(e_in, t_in):
        _close(e.grad, t.grad, name=f"{name} gradient")
