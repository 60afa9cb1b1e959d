"""The Keras 3 ``keras.ops`` surface on Ember, checked against Keras (torch backend), NumPy and PyTorch.

``CASES`` runs each function of ``keras.ops`` (and its ``nn``, ``numpy``,
``image`` and ``linalg`` namespaces) that Ember added for issue 14 on the same
inputs in Ember and in Keras, and compares values (float32 tolerance), shapes
and dtypes. The new Functions (einsum, erf/erfc/erfinv, the linear algebra,
scatter, custom_gradient) get their gradients checked against central
differences in float64 and against PyTorch; compositions of existing ops get
theirs checked against PyTorch where PyTorch has the same function.
"""

import os

import numpy as np
import pytest

import ember
from ember.ops import image as image_ops
from ember.ops import linalg
from tests.oracles import check_against_torch, check_gradients

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for keras.ops")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for gradients")


R = np.random.default_rng(0)


def f(*s, lo=-1, hi=1):
    return R.uniform(lo, hi, s).astype("float32")


X = f(3, 4)
Y = f(3, 4)
V = f(5)
W = f(5)
SQ = f(3, 3) + 2 * np.eye(3, dtype="float32")
SPD = (SQ @ SQ.T + np.eye(3)).astype("float32")
I = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype="int32")  # noqa: E741
J = np.array([2, 7, 1, 8, 2, 8, 1, 8], dtype="int32")
IMG = f(2, 6, 8, 3, lo=0, hi=1)
IMG1 = f(6, 8, 3, lo=0, hi=1)
NANX = X.copy()
NANX[0, 1] = np.nan
NANX[2, 3] = np.nan
# no output pixel of these transforms lands exactly half-way between two input pixels (nearest would be a coin toss)
AFFINE = np.array(
    [[1.13, 0.07, -1.01, 0.21, 0.93, 0.52, 0, 0], [0.91, -0.23, 1.04, 0.11, 1.17, -0.49, 0, 0]], "float32"
)

# (namespace of keras.ops ("" for keras.ops itself), name, args, kwargs); kwargs may hold two test options:
# "abs": compare absolute values (eigen/singular vectors are defined up to sign); "skip_values": shapes only
CASES = [
    ("", "shape", (X,), {}),
    ("", "ones", ((2, 3),), {}),
    ("", "zeros", ((2, 3),), {}),
    ("", "full", ((2, 3), 1.5), {}),
    ("", "ones_like", (X,), {}),
    ("", "zeros_like", (I,), {}),
    ("", "full_like", (X, 2.0), {}),
    ("", "eye", (3,), {}),
    ("", "eye", (3, 4), {"k": 1}),
    ("", "arange", (1.0, 5.0, 0.5), {}),
    ("", "linspace", (0.0, 1.0, 7), {}),
    ("", "linspace", (0.0, 1.0, 7), {"endpoint": False}),
    ("", "logspace", (0.0, 2.0, 5), {}),
    ("", "geomspace", (1.0, 100.0, 5), {}),
    ("", "einsum", ("ij,jk->ik", X, Y.T), {}),
    ("", "einsum", ("ii->i", SQ), {}),
    ("", "einsum", ("bij->bji", f(2, 3, 4)), {}),
    ("", "erf", (X,), {}),
    ("", "erfinv", (X * 0.9,), {}),
    ("", "tensordot", (X, Y.T), {"axes": 1}),
    ("", "cumsum", (X,), {"axis": 1}),
    ("", "sort", (X,), {}),
    ("", "argsort", (X,), {}),
    ("", "top_k", (X, 2), {}),
    ("", "take", (X, np.array([0, 2])), {"axis": 1}),
    ("", "take_along_axis", (X, np.argsort(X, 1)), {"axis": 1}),
    ("", "tri", (3, 4), {}),
    ("", "tril", (X,), {}),
    ("", "triu", (X,), {"k": 1}),
    ("", "meshgrid", (V, W[:3]), {}),
    ("", "meshgrid", (V, W[:3]), {"indexing": "ij"}),
    ("", "one_hot", (np.array([0, 2, 1]), 3), {}),
    ("", "kron", (X[:2, :2], Y[:2, :3]), {}),
    ("", "cross", (f(4, 3), f(4, 3)), {}),
    ("", "rot90", (X,), {}),
    ("", "rot90", (X,), {"k": 3}),
    ("", "diagflat", (V,), {}),
    ("", "array_split", (V, 3), {}),
    ("", "dsplit", (f(2, 2, 4), 2), {}),
    ("", "trapezoid", (X,), {}),
    ("", "trapezoid", (X,), {"dx": 0.5, "axis": 0}),
    ("", "correlate", (V, W[:3]), {}),
    ("", "correlate", (V, W[:3]), {"mode": "same"}),
    ("", "correlate", (V, W[:3]), {"mode": "full"}),
    ("", "corrcoef", (X,), {}),
    ("", "cdist", (X, Y), {}),
    ("", "fmax", (NANX, Y), {}),
    ("", "fmin", (NANX, Y), {}),
    ("", "ldexp", (X, np.array([1, 2, 3, 4], dtype="int32")), {}),
    ("", "i0", (X,), {}),
    ("", "real", (X,), {}),
    ("", "conj", (X,), {}),
    ("", "angle", (X,), {}),
    ("", "isreal", (X,), {}),
    ("", "nansum", (NANX,), {"axis": 1}),
    ("", "nanmean", (NANX,), {"axis": 0}),
    ("", "nanvar", (NANX,), {}),
    ("", "nanstd", (NANX,), {"axis": 1}),
    ("", "nanmax", (NANX,), {"axis": 1}),
    ("", "nanmin", (NANX,), {}),
    ("", "nanprod", (NANX,), {"axis": 1}),
    ("", "nanargmax", (NANX,), {"axis": 1}),
    ("", "nanargmin", (NANX,), {"axis": 1}),
    ("", "nancumsum", (NANX,), {"axis": 1}),
    ("", "nancumprod", (NANX,), {"axis": 1}),
    ("", "nanmedian", (NANX,), {"axis": 1}),
    ("", "nanquantile", (NANX, 0.3), {"axis": 1}),
    ("", "nanpercentile", (NANX, 30.0), {"axis": 1}),
    ("", "bincount", (I,), {}),
    ("", "bincount", (I,), {"minlength": 12}),
    ("", "digitize", (X, np.array([-0.5, 0.0, 0.5], dtype="float32")), {}),
    ("", "searchsorted", (np.sort(V), W), {}),
    ("", "searchsorted", (np.sort(V), W), {"side": "right"}),
    ("", "histogram", (V,), {"bins": 4}),
    ("", "isin", (I, J), {}),
    ("", "nonzero", (I > 3,), {}),
    ("", "unique", (I,), {}),
    ("", "unravel_index", (np.array([1, 5, 7]), (2, 4)), {}),
    ("", "gcd", (I, J), {}),
    ("", "lcm", (I, J), {}),
    ("", "nextafter", (X, Y), {}),
    ("", "bitwise_and", (I, J), {}),
    ("", "bitwise_or", (I, J), {}),
    ("", "bitwise_xor", (I, J), {}),
    ("", "bitwise_invert", (I,), {}),
    ("", "bitwise_not", (I,), {}),
    ("", "left_shift", (I, J % 4), {}),
    ("", "right_shift", (I, J % 4), {}),
    ("", "bitwise_left_shift", (I, J % 4), {}),
    ("", "bitwise_right_shift", (I, J % 4), {}),
    ("", "vander", (V,), {}),
    ("", "vander", (V,), {"N": 3, "increasing": True}),
    ("", "empty", ((2, 3),), {"skip_values": True}),
    ("", "array", (X,), {}),
    ("", "hamming", (6,), {}),
    ("", "hanning", (6,), {}),
    ("", "bartlett", (6,), {}),
    ("", "blackman", (6,), {}),
    ("", "kaiser", (6, 2.0), {}),
    ("", "rearrange", (f(2, 3, 4), "b h w -> b (h w)"), {}),
    ("", "rearrange", (f(2, 12), "b (h w) -> b w h"), {"h": 3}),
    ("", "dtype", (X,), {}),
    ("", "saturate_cast", (X * 400, "uint8"), {}),
    ("", "scatter", (np.array([[0, 1], [1, 0], [0, 1]]), np.array([1.0, 2.0, 3.0], dtype="float32"), (2, 2)), {}),
    ("", "scatter_update", (X, np.array([[0, 1], [2, 3]]), np.array([9.0, 8.0], dtype="float32")), {}),
    ("", "slice_update", (X, (1, 1), np.ones((2, 2), dtype="float32")), {}),
    ("", "slice", (X, (1, 0), (2, 3)), {}),
    ("", "segment_sum", (X, np.array([0, 0, 2])), {}),
    ("", "segment_max", (X, np.array([0, 0, 2])), {"num_segments": 3}),
    ("", "segment_min", (X, np.array([1, 0, 1])), {}),
    ("", "segment_prod", (X, np.array([1, 0, 1])), {}),
    ("", "extract_sequences", (f(2, 10), 4, 3), {}),
    ("", "fft", ((X, Y),), {}),
    ("", "fft2", ((X, Y),), {}),
    ("", "ifft2", ((X, Y),), {}),
    ("", "rfft", (X,), {}),
    ("", "rfft", (X,), {"fft_length": 6}),
    ("", "irfft", ((X, Y),), {}),
    ("", "irfft", ((X, Y),), {"fft_length": 5}),
    ("", "stft", (f(2, 32), 8, 4, 8), {}),
    ("", "stft", (f(2, 32), 6, 3, 8), {"window": "hamming", "center": False}),
    ("", "istft", ((f(2, 9, 5), f(2, 9, 5)), 8, 4, 8), {}),
    ("", "logdet", (SPD,), {}),
    ("", "slogdet", (SQ,), {}),
    ("linalg", "inv", (SQ,), {}),
    ("linalg", "det", (SQ,), {}),
    ("linalg", "solve", (SQ, X[:, :2]), {}),
    ("linalg", "solve_triangular", (SQ, X[:, :2]), {"lower": True}),
    ("linalg", "cholesky", (SPD,), {}),
    ("linalg", "cholesky", (SPD,), {"upper": True}),
    ("linalg", "cholesky_inverse", (np.linalg.cholesky(SPD).astype("float32"),), {}),
    ("linalg", "eigh", (SPD,), {"abs": True}),
    ("linalg", "qr", (f(4, 3),), {"abs": True}),
    ("linalg", "svd", (f(4, 3),), {"abs": True}),
    ("linalg", "svd", (f(4, 3),), {"compute_uv": False}),
    ("linalg", "norm", (X,), {}),
    ("linalg", "lstsq", (f(5, 3), f(5, 2)), {}),
    ("linalg", "pinv", (f(4, 3),), {}),
    ("linalg", "matrix_rank", (f(4, 3),), {}),
    ("linalg", "lu_factor", (SQ,), {}),
    ("nn", "relu6", (X * 8,), {}),
    ("nn", "silu", (X,), {}),
    ("nn", "gelu", (X,), {}),
    ("nn", "gelu", (X,), {"approximate": False}),
    ("nn", "softmax", (X,), {}),
    ("nn", "log_softmax", (X,), {"axis": 0}),
    ("nn", "celu", (X,), {}),
    ("nn", "glu", (X,), {}),
    ("nn", "hard_shrink", (X,), {}),
    ("nn", "hard_tanh", (X * 2,), {}),
    ("nn", "soft_shrink", (X,), {}),
    ("nn", "sparse_plus", (X,), {}),
    ("nn", "sparse_sigmoid", (X * 2,), {}),
    ("nn", "squareplus", (X,), {}),
    ("nn", "tanh_shrink", (X,), {}),
    ("nn", "threshold", (X, 0.2, -1.0), {}),
    ("nn", "adaptive_average_pool", (IMG, (4, 3)), {"data_format": "channels_last"}),
    ("nn", "adaptive_max_pool", (IMG, (4, 3)), {"data_format": "channels_last"}),
    ("nn", "adaptive_average_pool", (f(2, 3, 10), 4), {"data_format": "channels_first"}),
    ("nn", "depth_to_space", (f(2, 3, 4, 8), 2), {}),
    ("nn", "space_to_depth", (f(2, 4, 6, 2), 2), {}),
    ("nn", "depth_to_space", (f(2, 8, 3, 4), 2), {"data_format": "channels_first"}),
    ("nn", "space_to_depth", (f(2, 2, 4, 6), 2), {"data_format": "channels_first"}),
    ("nn", "unfold", (f(2, 3, 6, 5), 3), {}),
    ("nn", "unfold", (f(2, 3, 6, 5), (2, 3)), {"stride": 2, "padding": 1, "dilation": 1}),
    ("nn", "fold", (f(2, 27, 12), (6, 5), 3), {}),
    ("nn", "ctc_loss", (np.array([[1, 2, 2], [3, 1, 0]]), f(2, 8, 5), np.array([3, 2]), np.array([8, 6])), {}),
    ("nn", "ctc_decode", (f(2, 8, 5), np.array([8, 6])), {}),
    ("nn", "moments", (X, [0]), {}),
    ("nn", "normalize", (X,), {}),
    ("nn", "psnr", (X, Y, 1.0), {}),
    ("nn", "multi_hot", (np.array([[0, 2], [1, 1]]), 4), {}),
    ("nn", "batch_normalization", (X, V[:4], W[:4] ** 2 + 0.1), {"axis": 1}),
    ("nn", "binary_crossentropy", (np.float32(X > 0), (X + 1.1) / 2.3), {}),
    ("nn", "categorical_crossentropy", (np.eye(4, dtype="float32")[[0, 2, 1]], X), {"from_logits": True}),
    ("nn", "sparse_categorical_crossentropy", (np.array([0, 2, 1]), X), {"from_logits": True}),
    ("nn", "conv", (f(2, 7, 7, 3), f(3, 3, 3, 4)), {"padding": "same"}),
    ("nn", "conv_transpose", (f(2, 5, 5, 3), f(3, 3, 4, 3)), {"strides": 2}),
    ("nn", "depthwise_conv", (f(2, 7, 7, 3), f(3, 3, 3, 2)), {}),
    ("nn", "max_pool", (IMG, 2), {}),
    ("nn", "average_pool", (IMG, 2), {"strides": 1, "padding": "same"}),
    ("nn", "dot_product_attention", (f(2, 4, 2, 3), f(2, 5, 2, 3), f(2, 5, 2, 3)), {}),
    ("image", "resize", (IMG, (9, 5)), {}),
    ("image", "resize", (IMG, (3, 4)), {}),
    ("image", "resize", (IMG, (9, 13)), {"interpolation": "nearest"}),
    ("image", "resize", (IMG, (3, 5)), {"interpolation": "nearest"}),
    ("image", "resize", (IMG, (9, 13)), {"interpolation": "bicubic"}),
    ("image", "resize", (IMG, (4, 3)), {"interpolation": "bicubic"}),
    ("image", "resize", (IMG, (3, 4)), {"antialias": True}),
    ("image", "resize", (IMG, (3, 3)), {"interpolation": "bicubic", "antialias": True}),
    ("image", "resize", (IMG, (12, 10)), {"antialias": True}),
    ("image", "resize", (IMG, (4, 4)), {"crop_to_aspect_ratio": True}),
    ("image", "resize", (IMG, (4, 4)), {"pad_to_aspect_ratio": True}),
    ("image", "resize", (IMG1, (4, 4)), {}),
    ("image", "resize", (np.moveaxis(IMG, -1, 1), (4, 5)), {"data_format": "channels_first"}),
    ("image", "crop_images", (IMG, 1, 2), {"target_height": 3, "target_width": 4}),
    (
        "image",
        "crop_images",
        (IMG,),
        {"top_cropping": 1, "bottom_cropping": 2, "left_cropping": 0, "right_cropping": 3},
    ),
    ("image", "pad_images", (IMG, 1, 2), {"target_height": 9, "target_width": 12}),
    ("image", "rgb_to_grayscale", (IMG,), {}),
    ("image", "rgb_to_hsv", (IMG,), {}),
    ("image", "hsv_to_rgb", (IMG,), {}),
    ("image", "affine_transform", (IMG, AFFINE), {}),
    ("image", "affine_transform", (IMG, AFFINE), {"interpolation": "nearest", "fill_mode": "reflect"}),
    ("image", "affine_transform", (IMG, AFFINE), {"fill_mode": "wrap"}),
    ("image", "affine_transform", (IMG, AFFINE), {"fill_mode": "mirror"}),
    ("image", "affine_transform", (IMG, AFFINE), {"fill_mode": "nearest"}),
    ("image", "map_coordinates", (X, [f(5, lo=-1, hi=3), f(5, lo=-1, hi=4)], 1), {}),
    ("image", "map_coordinates", (X, [f(5, lo=-1, hi=3), f(5, lo=-1, hi=4)], 0), {"fill_mode": "nearest"}),
    ("image", "extract_patches", (IMG, 2), {}),
    ("image", "extract_patches", (IMG, (3, 2)), {"strides": 1, "padding": "same"}),
    ("image", "extract_patches_3d", (f(2, 4, 5, 6, 2), 2), {}),
    ("image", "gaussian_blur", (IMG,), {"data_format": "channels_last"}),
    ("image", "gaussian_blur", (IMG,), {"kernel_size": (5, 5), "sigma": (1.5, 1.5), "data_format": "channels_last"}),
    ("image", "sobel_edges", (IMG,), {}),
    ("image", "ssim", (IMG[:, :, :, :], np.clip(IMG + 0.1 * f(2, 6, 8, 3), 0, 1)), {"filter_size": 3}),
    (
        "image",
        "perspective_transform",
        (
            IMG,
            np.array([[0, 0], [7, 0], [0, 5], [7, 5]], dtype="float32"),
            np.array([[1, 0], [7, 1], [0, 5], [6, 5]], dtype="float32"),
        ),
        {},
    ),
    (
        "image",
        "scale_and_translate",
        (
            IMG,
            (2, 9, 12, 3),
            np.array([1.5, 1.5], dtype="float32"),
            np.array([0.0, 0.5], dtype="float32"),
            (1, 2),
            "bilinear",
        ),
        {},
    ),
    (
        "image",
        "scale_and_translate",
        (
            IMG,
            (2, 3, 4, 3),
            np.array([0.5, 0.5], dtype="float32"),
            np.array([0.0, 0.0], dtype="float32"),
            (1, 2),
            "bicubic",
        ),
        {},
    ),
]


def _id(case):
    ns, name, _, kw = case
    return f"{ns + '.' if ns else ''}{name}" + ("-" + "-".join(f"{k}={v}" for k, v in kw.items()) if kw else "")


def _np(v):
    if isinstance(v, (tuple, list)):
        return [_np(x) for x in v]
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    if hasattr(v, "numpy"):
        return v.numpy()
    return np.asarray(v)


def _assert_same(ours, theirs, absolute, where):
    if isinstance(ours, list) or isinstance(theirs, list):
        # Keras on torch returns some tuples (nonzero, unravel_index) as one stacked tensor
        ours = np.stack(ours) if isinstance(ours, list) and not isinstance(theirs, list) else ours
        theirs = np.stack(theirs) if isinstance(theirs, list) and not isinstance(ours, list) else theirs
    if isinstance(ours, list):
        assert len(ours) == len(theirs), f"{where}: {len(ours)} outputs, Keras {len(theirs)}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, absolute, f"{where}[{k}]")
        return
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape, f"{where}: shape {a.shape}, Keras {b.shape}"
    assert str(a.dtype) == str(b.dtype), f"{where}: dtype {a.dtype}, Keras {b.dtype}"
    if absolute:
        a, b = np.abs(a), np.abs(b)
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6, equal_nan=True, err_msg=where)
    else:
        np.testing.assert_array_equal(a, b, err_msg=where)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_matches_keras(case, keras):
    ns, name, args, kw = case
    kw = dict(kw)
    absolute = kw.pop("abs", False)
    shapes_only = kw.pop("skip_values", False)
    k_mod = getattr(keras.ops, ns) if ns else keras.ops
    e_mod = getattr(ember.ops, ns) if ns else ember.ops
    k_args = args
    if name in ("unfold", "fold"):  # Keras's torch unfold/fold take tensors only
        k_args = tuple(keras.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args)
    theirs = _np(getattr(k_mod, name)(*k_args, **kw))
    ours = _np(getattr(e_mod, name)(*args, **kw))
    if shapes_only:
        assert np.shape(ours) == np.shape(theirs)
        return
    _assert_same(ours, theirs, absolute, _id(case))


# ---- values where Keras on torch is not the oracle ------------------------------------------------------------


def test_argpartition_partitions_around_kth():
    x = np.array([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0], [0.5, -1.0, 2.0, 7.0, 3.0, 3.5, -2.0, 1.0]], "float32")
    idx = ember.ops.argpartition(x, 3).numpy()
    assert idx.dtype == np.int32
    picked = np.take_along_axis(x, idx, axis=-1)
    kth = np.sort(x, axis=-1)[:, 3]
    np.testing.assert_array_equal(picked[:, 3], kth)
    assert (picked[:, :3] <= kth[:, None]).all() and (picked[:, 4:] >= kth[:, None]).all()


def test_sparsemax_is_the_euclidean_projection_onto_the_simplex():
    # Keras 3.15's torch sparsemax sums cumulative sums when it computes tau (its rows do not sum to 1), so the
    # reference is the closed form of Martins & Astudillo (2016) in NumPy
    x = f(4, 6) * 2
    z = np.sort(x, axis=-1)[:, ::-1]
    k = np.arange(1, x.shape[1] + 1)
    cs = np.cumsum(z, axis=-1)
    support = 1 + k * z > cs
    kz = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cs, kz - 1, axis=-1) - 1) / kz
    expected = np.maximum(x - tau, 0)
    out = ember.ops.nn.sparsemax(x).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-5)


def test_shape_is_a_function_returning_a_tuple():
    x = ember.ones((2, 3, 4))
    assert ember.ops.shape(x) == (2, 3, 4)
    assert ember.ops.shape(np.zeros((5,))) == (5,)
    assert callable(ember.ops.conv) and callable(ember.ops.cast)


def test_nn_namespace_gives_keras_ops_defaults():
    x = f(3, 4)
    exact = ember.ops.gelu(x).numpy()
    tanh_form = ember.ops.nn.gelu(x).numpy()
    assert not np.allclose(exact, tanh_form, rtol=0, atol=1e-7)
    np.testing.assert_allclose(tanh_form, ember.ops.gelu(x, approximate=True).numpy(), rtol=1e-6)
    t = (f(3, 4) > 0).astype("float32")
    assert ember.ops.nn.binary_crossentropy(t, (x + 1.1) / 2.3).shape == (3, 4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ember.ops.view_as_complex(X), "complex"),
        (lambda: ember.ops.view_as_real(X), "complex"),
        (lambda: ember.ops.polar(X, Y), "complex"),
        (lambda: linalg.eig(np.array([[0.0, -1.0], [1.0, 0.0]])), "eigh"),
        (lambda: ember.ops.ctc_decode(f(1, 4, 3), np.array([4]), strategy="beam_search"), "greedy"),
    ],
)
def test_what_ember_cannot_do_raises_naming_the_alternative(call, match):
    with pytest.raises(NotImplementedError, match=match):
        call()


# ---- gradients of the new Functions: central differences in float64, then PyTorch -------------------------------

EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,jk->...ik", [(2, 3, 4), (4, 2)]),
    ("ij->", [(3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,j->i", [(3, 4), (1,)]),
    ("...i,...i->...", [(2, 1, 3), (4, 3)]),
    ("abc->cb", [(2, 3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_gradients(equation, shapes, torch):
    arrays = [np.random.default_rng(1).standard_normal(s) for s in shapes]
    check_gradients(lambda *xs: ember.ops.einsum(equation, *xs), *arrays)
    check_against_torch(lambda *xs: ember.ops.einsum(equation, *xs), lambda *xs: torch.einsum(equation, *xs), *arrays)


@pytest.mark.parametrize("name, lo, hi", [("erf", -2.5, 2.5), ("erfc", -2.5, 2.5), ("erfinv", -0.95, 0.95)])
def test_special_function_gradients(name, lo, hi, torch):
    x = np.random.default_rng(2).uniform(lo, hi, (7,))
    check_gradients(getattr(ember.ops, name), x)
    check_against_torch(getattr(ember.ops, name), getattr(torch, name), x)


def test_erfinv_inverts_erf_and_its_edges():
    y = np.linspace(-0.999, 0.999, 101)
    np.testing.assert_allclose(ember.ops.erf(ember.ops.erfinv(y)).numpy(), y, rtol=1e-6, atol=1e-7)
    out = ember.ops.erfinv(np.array([1.0, -1.0, 1.5])).numpy()
    assert out[0] == np.inf and out[1] == -np.inf and np.isnan(out[2])


def _spd(t):
    return t @ t.swapaxes(-1, -2) + 3 * np.eye(3)


LINALG = [
    ("inv", lambda a: linalg.inv(a), lambda tm, a: tm.linalg.inv(a), [(2, 3, 3)], True),
    ("det", lambda a: linalg.det(a), lambda tm, a: tm.linalg.det(a), [(2, 3, 3)], True),
    ("slogdet", lambda a: linalg.slogdet(a)[1], lambda tm, a: tm.linalg.slogdet(a)[1], [(2, 3, 3)], True),
    ("solve", lambda a, b: linalg.solve(a, b), lambda tm, a, b: tm.linalg.solve(a, b), [(2, 3, 3), (2, 3, 2)], True),
    (
        "solve_triangular",
        lambda a, b: linalg.solve_triangular(a, b, lower=True),
        lambda tm, a, b: tm.linalg.solve_triangular(a, b, upper=False),
        [(2, 3, 3), (2, 3, 2)],
        True,
    ),
    (
        "cholesky",
        lambda s: linalg.cholesky(_spd_e(s)),
        lambda tm, s: tm.linalg.cholesky(_spd_t(tm, s)),
        [(2, 3, 3)],
        False,
    ),
    (
        "eigh_values",
        lambda s: linalg.eigh(_spd_e(s))[0],
        lambda tm, s: tm.linalg.eigh(_spd_t(tm, s))[0],
        [(3, 3)],
        False,
    ),
    (
        "eigh_vectors",
        lambda s: ember.abs(linalg.eigh(_spd_e(s))[1]),
        lambda tm, s: tm.linalg.eigh(_spd_t(tm, s))[1].abs(),
        [(2, 3, 3)],
        False,
    ),
    ("qr", lambda a: linalg.qr(a), lambda tm, a: tm.linalg.qr(a), [(2, 4, 3)], False),
    ("svd_values", lambda a: linalg.svd(a, compute_uv=False), lambda tm, a: tm.linalg.svdvals(a), [(2, 4, 3)], False),
    (
        "lstsq",
        lambda a, b: linalg.lstsq(a, b),
        lambda tm, a, b: tm.linalg.lstsq(a, b).solution,
        [(5, 3), (5, 2)],
        False,
    ),
    (
        "cholesky_inverse",
        lambda f_: linalg.cholesky_inverse(f_),
        lambda tm, f_: tm.cholesky_inverse(f_),
        [(3, 3)],
        True,
    ),
]


def _spd_e(s):
    return ember.matmul(s, ember.swapaxes(s, -1, -2)) + 3 * np.eye(3)


def _spd_t(tm, s):
    return s @ s.transpose(-1, -2) + 3 * tm.eye(3, dtype=s.dtype)


@pytest.mark.parametrize("case", LINALG, ids=[c[0] for c in LINALG])
def test_linalg_gradients(case, torch):
    name, ours, theirs, shapes, diagonal_boost = case
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in shapes]
    if diagonal_boost:  # well-conditioned (and, for cholesky_inverse, lower-triangular with a positive diagonal)
        arrays[0] = arrays[0] + 3 * np.eye(shapes[0][-1])
        if name == "cholesky_inverse":
            arrays[0] = np.tril(np.abs(arrays[0]))
    check_gradients(ours, *arrays)
    check_against_torch(ours, lambda *ts: theirs(torch, *ts), *arrays)


def test_svd_refuses_gradients_through_singular_vectors():
    a = ember.tensor(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)
    u, s, vh = linalg.svd(a, full_matrices=False)
    with pytest.raises(NotImplementedError, match="singular values only"):
        u.sum().backward()


def test_scatter_and_scatter_update_gradients(torch):
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    vals = np.random.default_rng(5).standard_normal(3)
    check_gradients(lambda v: ember.ops.scatter(idx, v, (3, 2)), vals)
    base = np.random.default_rng(6).standard_normal((3, 4))
    upd = np.random.default_rng(7).standard_normal(2)
    where = np.array([[0, 1], [2, 3]])
    check_gradients(lambda b, u: ember.ops.scatter_update(b, where, u), base, upd)
    check_gradients(lambda b, u: ember.ops.slice_update(b, (1, 1), u), base, np.ones((2, 3)))


def test_custom_gradient_uses_the_given_backward():
    @ember.ops.custom_gradient
    def log1pexp(x):
        e = ember.ops.exp(x)

        def grad(upstream):
            return upstream * (1.0 - 1.0 / (1.0 + e))

        return ember.ops.log(1.0 + e), grad

    values = np.array([-3.0, 0.0, 50.0])
    x = ember.tensor(values, dtype="float64", requires_grad=True)
    log1pexp(x).sum().backward()
    # the given backward, not the one the forward's ops would give: they agree here, so compare with the formula
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-values)), rtol=1e-12)

    @ember.ops.custom_gradient
    def clipped_identity(x):
        return x * 1.0, lambda upstream: ember.ops.clip(upstream, -0.5, 0.5)

    z = ember.tensor(np.array([1.0, 2.0]), dtype="float64", requires_grad=True)
    (clipped_identity(z) * np.array([3.0, -0.25])).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0.5, -0.25])


# ---- gradients of compositions, against PyTorch -----------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, size, antialias",
    [("bilinear", (9, 5), False), ("bilinear", (3, 4), True), ("bicubic", (9, 13), False), ("nearest", (3, 5), False)],
)
def test_resize_gradients_match_torch(mode, size, antialias, torch):
    x = np.random.default_rng(8).uniform(0, 1, (2, 6, 8, 3))

    def theirs(t):
        kw = {} if mode == "nearest" else {"align_corners": False, "antialias": antialias}
        m = "nearest-exact" if mode == "nearest" else mode
        out = torch.nn.functional.interpolate(t.permute(0, 3, 1, 2), size=size, mode=m, **kw)
        return out.permute(0, 2, 3, 1)

    check_against_torch(lambda t: image_ops.resize(t, size, interpolation=mode, antialias=antialias), theirs, x)


def test_ctc_loss_and_its_gradient_match_torch(torch):
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((3, 8, 5))
    target = np.array([[1, 2, 2], [3, 1, 0], [4, 0, 0]])
    t_len, o_len = np.array([3, 2, 1]), np.array([8, 6, 7])

    def theirs(lg):
        logp = torch.nn.functional.log_softmax(lg, dim=-1).transpose(0, 1)
        return torch.nn.functional.ctc_loss(
            logp, torch.from_numpy(target), torch.from_numpy(o_len), torch.from_numpy(t_len), reduction="none"
        )

    check_against_torch(lambda lg: ember.ops.ctc_loss(target, lg, t_len, o_len), theirs, logits)
    check_gradients(lambda lg: ember.ops.ctc_loss(target, lg, t_len, o_len), logits)


def test_unfold_fold_and_fft_gradients_match_torch(torch):
    x = np.random.default_rng(10).standard_normal((2, 3, 6, 5))
    check_against_torch(
        lambda t: ember.ops.unfold(t, (2, 3), stride=2, padding=1),
        lambda t: torch.nn.functional.unfold(t, (2, 3), stride=2, padding=1),
        x,
    )
    cols = np.random.default_rng(11).standard_normal((2, 27, 12))
    check_against_torch(lambda t: ember.ops.fold(t, (6, 5), 3), lambda t: torch.nn.functional.fold(t, (6, 5), 3), cols)
    sig = np.random.default_rng(12).standard_normal((3, 8))
    check_against_torch(lambda t: ember.ops.rfft(t), lambda t: (torch.fft.rfft(t).real, torch.fft.rfft(t).imag), sig)
    check_against_torch(
        lambda a, b: ember.ops.irfft((a, b), 8),
        lambda a, b: torch.fft.irfft(torch.complex(a, b), 8),
        sig[:, :5],
        sig[:, 3:],
    )


def test_map_coordinates_and_affine_gradients():
    x = np.random.default_rng(13).uniform(0, 1, (5, 6))
    coords = [np.array([0.3, 1.7, 3.2, -0.4]), np.array([2.5, 0.1, 4.9, 1.0])]
    check_gradients(lambda t: image_ops.map_coordinates(t, coords, 1), x)
    imgs = np.random.default_rng(14).uniform(0, 1, (2, 5, 6, 2))
    check_gradients(lambda t: image_ops.affine_transform(t, AFFINE), imgs)


# ---- keras.ops.core control flow ------------------------------------------------------------------------------


def test_scan_associative_scan_and_vectorized_map_match_keras(keras):
    xs = f(5, 3)
    init = np.zeros(3, "float32")

    def step(carry, x):
        new = carry * 0.5 + x
        return new, new * 2

    k_carry, k_ys = keras.ops.scan(step, init, xs)
    e_carry, e_ys = ember.ops.scan(step, init, xs)
    np.testing.assert_allclose(e_carry.numpy(), _np(k_carry), rtol=1e-6)
    np.testing.assert_allclose(e_ys.numpy(), _np(k_ys), rtol=1e-6)
    k_rev = keras.ops.scan(step, init, xs, reverse=True)
    e_rev = ember.ops.scan(step, init, xs, reverse=True)
    np.testing.assert_allclose(e_rev[1].numpy(), _np(k_rev[1]), rtol=1e-6)
    for axis in (0, 1):
        np.testing.assert_allclose(
            ember.ops.associative_scan(lambda a, b: a + b, xs, axis=axis).numpy(),
            _np(keras.ops.associative_scan(lambda a, b: a + b, keras.ops.convert_to_tensor(xs), axis=axis)),
            rtol=1e-6,
        )
    np.testing.assert_allclose(
        ember.ops.associative_scan(lambda a, b: a * b, xs, reverse=True).numpy(),
        _np(keras.ops.associative_scan(lambda a, b: a * b, keras.ops.convert_to_tensor(xs), reverse=True)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        ember.ops.vectorized_map(lambda r: ember.ops.sum(r * r), xs).numpy(),
        _np(keras.ops.vectorized_map(lambda r: keras.ops.sum(r * r), keras.ops.convert_to_tensor(xs))),
        rtol=1e-6,
    )


def test_scan_carries_gradients_through_every_step():
    xs = np.random.default_rng(15).standard_normal((4, 2))
    check_gradients(lambda t: ember.ops.scan(lambda c, x: (c * x + 1.0, c), ember.zeros(2, dtype="float64"), t)[0], xs)


# ---- Keras's argument names ---------------------------------------------------------------------------------

# ember.ops keeps keras.losses's (y_true, y_pred) signature for these (ember.binary_crossentropy is the loss);
# their keras.ops forms, with target/output, are in ember.ops.nn
LOSS_SIGNATURES = {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"}


def test_every_keras_ops_argument_name_is_accepted(keras):
    import inspect

    missing = []
    for ns in ("", "nn", "numpy", "image", "linalg"):
        k_mod = getattr(keras.ops, ns) if ns else keras.ops
        e_mod = getattr(ember.ops, ns) if ns else ember.ops
        for name in dir(k_mod):
            theirs = getattr(k_mod, name)
            if name.startswith("_") or inspect.ismodule(theirs) or not callable(theirs):
                continue
            if not ns and name in LOSS_SIGNATURES:
                continue
            ours = inspect.signature(getattr(e_mod, name)).parameters
            if any(p.kind == p.VAR_KEYWORD for p in ours.values()):
                continue
            wanted = [p for p, v in inspect.signature(theirs).parameters.items() if v.kind != v.VAR_POSITIONAL]
            missing += [f"{ns}.{name}({p})" for p in wanted if p not in ours]
    assert not missing, missing


def test_keras_keyword_spellings():
    x = np.arange(12.0, dtype="float32").reshape(3, 4)
    np.testing.assert_array_equal(ember.ops.clip(x, x_min=2, x_max=5).numpy(), np.clip(x, 2, 5))
    np.testing.assert_array_equal(ember.ops.clip(x, min=2).numpy(), np.maximum(x, 2))
    np.testing.assert_array_equal(ember.ops.tile(x, repeats=(1, 2)).numpy(), np.tile(x, (1, 2)))
    np.testing.assert_array_equal(ember.ops.stack(x=[x, x], axis=1).numpy(), np.stack([x, x], 1))
    assert ember.ops.cumsum(x, axis=1, dtype="float64").dtype == np.float64
    assert float(ember.ops.max(x, initial=20.0).numpy()) == 20.0
    np.testing.assert_array_equal(ember.ops.where(x > 6)[1].numpy(), np.nonzero(x > 6)[1])
    with pytest.raises(TypeError, match="both"):
        ember.ops.clip(x, 1, min=2)
    with pytest.raises(ValueError, match="sparse"):
        ember.ops.one_hot(np.array([1]), 3, sparse=True)
    t = np.eye(4, dtype="float32")[[0, 2, 1]]
    np.testing.assert_allclose(
        ember.ops.nn.categorical_crossentropy(target=t, output=x[:, :4], from_logits=True).numpy(),
        ember.ops.categorical_crossentropy(t, x[:, :4], from_logits=True).numpy(),
    )


# ---- keras.ops on symbolic tensors (functional models) --------------------------------------------------------


def test_ops_on_symbolic_tensors_build_layers_of_a_functional_model():
    inputs = ember.Input((4, 3))
    pooled = ember.ops.mean(inputs, axis=1)
    widened = ember.ops.concatenate([inputs, ember.ops.square(inputs)], axis=-1)
    shifted = ember.ops.add(ember.ops.nn.relu(widened), ember.ops.ones((4, 6)))  # a concrete constant operand
    dense_layer = ember.layers.Dense(2)
    expanded = ember.ops.expand_dims(dense_layer(inputs), -1)
    assert ember.ops.shape(pooled) == (None, 3) and ember.ops.ndim(expanded) == 4
    assert ember.ops.convert_to_tensor(inputs) is inputs
    model = ember.Model(inputs, [pooled, shifted, expanded])
    x = np.random.default_rng(16).standard_normal((2, 4, 3)).astype("float32")
    p, s, e = model(x)
    np.testing.assert_allclose(p.numpy(), x.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(s.numpy(), np.maximum(np.concatenate([x, x * x], -1), 0) + 1, rtol=1e-6)
    assert e.shape == (2, 4, 2, 1)
    # gradients reach the Dense layer through the op layers
    model.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
    before = dense_layer.get_weights()[0].copy()
    model.fit(x, [p.numpy() + 1, s.numpy(), e.numpy() + 1], epochs=1, verbose=0)
    assert not np.allclose(dense_layer.get_weights()[0], before)


def test_concrete_calls_are_the_plain_functions():
    x = np.ones((2, 3), "float32")
    assert ember.ops.mean.__wrapped__ is not ember.ops.mean
    np.testing.assert_array_equal(ember.ops.mean(x, axis=0).numpy(), ember.ops.mean.__wrapped__(x, axis=0).numpy())


# ---- the rest of keras.ops.core / linalg / image that the table does not cover ------------------------------


def test_vectorize_matches_keras(keras):
    a, b = f(3, 1), f(1, 4)
    ours = ember.ops.vectorize(lambda u, v: u * v + 1.0)(a, b).numpy()
    theirs = _np(keras.ops.vectorize(lambda u, v: u * v + 1.0)(a, b))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    rows = ember.ops.vectorize(lambda u, v: ember.ops.sum(u * v), signature="(n),(n)->()")(f(5, 3), f(5, 3))
    assert rows.shape == (5,)


def test_jvp_is_the_jacobian_times_the_tangent():
    x = np.array([1.0, 2.0, 3.0])
    t = np.array([0.5, -1.0, 2.0])
    out, tangent = linalg.jvp(lambda v: v * v + ember.ops.sum(v), (x,), (t,))
    np.testing.assert_allclose(out.numpy(), x * x + x.sum(), rtol=1e-6)
    np.testing.assert_allclose(tangent.numpy(), 2 * x * t + t.sum(), rtol=1e-6)


def test_eig_with_real_eigenvalues():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    w, v = linalg.eig(a)
    np.testing.assert_allclose(np.sort(w.numpy()), [2.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy(), rtol=1e-5, atol=1e-6)


def test_elastic_transform_keeps_images_without_displacement():
    imgs = np.random.default_rng(17).uniform(0, 1, (2, 6, 7, 3)).astype("float32")
    same = image_ops.elastic_transform(imgs, alpha=0.0, seed=1).numpy()
    np.testing.assert_allclose(same, imgs, rtol=1e-6)
    moved = image_ops.elastic_transform(imgs, alpha=5.0, sigma=1.0, seed=1).numpy()
    again = image_ops.elastic_transform(imgs, alpha=5.0, sigma=1.0, seed=1).numpy()
    assert moved.shape == imgs.shape and not np.allclose(moved, imgs)
    np.testing.assert_array_equal(moved, again)
