"""``keras.ops.image``: resizing, geometric transforms, colour spaces, patches, filters and SSIM.

Images are (batch, height, width, channels) or one (height, width, channels)
image for ``channels_last``; (batch, channels, height, width) for
``channels_first``. Everything is composed of differentiable Ember ops:
resizing multiplies by one interpolation matrix per spatial axis (the weights
PyTorch's ``interpolate`` uses, half-pixel centres, antialiasing as torchvision
does it), sampling at arbitrary coordinates (``map_coordinates``,
``affine_transform``...) gathers the neighbouring pixels and weights them.
"""

from __future__ import annotations

import itertools

import numpy

from ..backend.config import floatx
from ..backend.keras_api import image_data_format
from ..engine.tensor import Tensor, tensor
from . import arithmetic as _ar
from . import comparison as _cmp
from . import elementwise as _el
from . import reduction as _rd
from . import shaping as _sh
from .casting import cast
from .einsum import einsum
from .indexing import getitem

__all__ = [
    "affine_transform",
    "crop_images",
    "elastic_transform",
    "extract_patches",
    "extract_patches_3d",
    "gaussian_blur",
    "hsv_to_rgb",
    "map_coordinates",
    "pad_images",
    "perspective_transform",
    "resize",
    "rgb_to_grayscale",
    "rgb_to_hsv",
    "scale_and_translate",
    "sobel_edges",
    "ssim",
]


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _fmt(op, data_format):
    fmt = image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return fmt


def _batched(op, images, data_format, ranks=(3, 4)):
    """``images`` as a float channels-last batch, and how to undo that: ``(x, restore)``."""
    x = _t(images)
    if x.ndim not in ranks:
        raise ValueError(f"{op}: expected a 3-D image or a 4-D batch of images, got shape {x.shape}")
    dtype = x.dtype
    if dtype.kind != "f":
        x = x.astype(floatx())
    single = x.ndim == 3
    if single:
        x = _sh.expand_dims(x, 0)
    first = _fmt(op, data_format) == "channels_first"
    if first:
        x = _sh.transpose(x, (0, 2, 3, 1))

    def restore(y, keep_dtype=True):
        if first:
            y = _sh.transpose(y, (0, 3, 1, 2))
        if single:
            y = _sh.squeeze(y, 0)
        if keep_dtype and dtype.kind in "iu":
            info = numpy.iinfo(dtype)
            y = cast(_ar.clip(_el.round(y), int(info.min), int(info.max)), dtype)
        return y

    return x, restore


# ---- resizing ----------------------------------------------------------------------------


def _cubic(x, a):
    x = numpy.abs(x)
    return numpy.where(
        x <= 1,
        ((a + 2) * x - (a + 3)) * x * x + 1,
        numpy.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0.0),
    )


def _resize_matrix(n_in, n_out, method, antialias):
    """The (n_out, n_in) matrix that resamples one axis as torch.nn.functional.interpolate does."""
    scale = n_in / n_out
    w = numpy.zeros((n_out, n_in), dtype=numpy.float64)
    rows = numpy.arange(n_out)
    if method == "nearest":
        src = numpy.minimum(numpy.floor((rows + 0.5) * scale).astype(int), n_in - 1)
        w[rows, src] = 1.0
        return w
    if antialias:
        size = 2 if method == "bilinear" else 4
        support = size / 2 * scale if scale >= 1 else size / 2
        invscale = 1 / scale if scale >= 1 else 1.0
        for i in range(n_out):
            centre = scale * (i + 0.5)
            lo = max(int(centre - support + 0.5), 0)
            hi = min(int(centre + support + 0.5), n_in)
            taps = (numpy.arange(lo, hi) - centre + 0.5) * invscale
            k = numpy.maximum(1 - numpy.abs(taps), 0) if method == "bilinear" else _cubic(taps, -0.5)
            total = k.sum()
            w[i, lo:hi] = k / total if total else 0
        return w
    src = (rows + 0.5) * scale - 0.5
    if method == "bilinear":
        src = numpy.maximum(src, 0)
        i0 = numpy.floor(src).astype(int)
        frac = src - i0
        i1 = numpy.minimum(i0 + 1, n_in - 1)
        i0 = numpy.minimum(i0, n_in - 1)
        numpy.add.at(w, (rows, i0), 1 - frac)
        numpy.add.at(w, (rows, i1), frac)
        return w
    # bicubic, a = -0.75, border pixels repeated
    i0 = numpy.floor(src).astype(int)
    frac = src - i0
    for offset in (-1, 0, 1, 2):
        idx = numpy.clip(i0 + offset, 0, n_in - 1)
        numpy.add.at(w, (rows, idx), _cubic(frac - offset, -0.75))
    return w


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """``images`` resized to ``size = (height, width)`` ('bilinear', 'nearest' or 'bicubic'), as Keras on torch.

    ``crop_to_aspect_ratio`` first cuts the centre box of the target aspect ratio;
    ``pad_to_aspect_ratio`` first pads with ``fill_value`` to it.
    """
    if interpolation not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"resize: interpolation must be 'bilinear', 'nearest' or 'bicubic', got {interpolation!r} "
            "(lanczos and area are not built)"
        )
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported, got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {size}")
    out_h, out_w = int(size[0]), int(size[1])
    x, restore = _batched("resize", images, data_format)
    h, w = x.shape[1], x.shape[2]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(w * out_h / out_w)), 1)
        cw = max(min(w, int(h * out_w / out_h)), 1)
        top, left = int((h - ch) / 2), int((w - cw) / 2)
        x = x[:, top : top + ch, left : left + cw, :]
    elif pad_to_aspect_ratio:
        ph = max(h, int(w * out_h / out_w))
        pw = max(w, int(h * out_w / out_h))
        top, left = int((ph - h) / 2), int((pw - w) / 2)
        x = _sh.pad(x, ((0, 0), (top, top), (left, left), (0, 0)), constant_values=fill_value)
    h, w = x.shape[1], x.shape[2]
    aa = antialias and interpolation != "nearest"
    rh = _resize_matrix(h, out_h, interpolation, aa).astype(x.dtype)
    rw = _resize_matrix(w, out_w, interpolation, aa).astype(x.dtype)
    y = einsum("oh,bhwc,pw->bopc", rh, x, rw)
    return restore(y)


# ---- cropping and padding ------------------------------------------------------------------


def _box(op, h, w, top, left, bottom, right, target_h, target_w, grow):
    """Resolve Keras's (top, bottom, target_height) style arguments into four margins."""

    def side(a, b, target, n, axis):
        given = [v is not None for v in (a, b, target)]
        if sum(given) != 2:
            raise ValueError(
                f"{op}: give exactly two of the {axis} arguments (two of before/after/target), got {a, b, target}"
            )
        if target is not None:
            extra = (int(target) - n) if grow else (n - int(target))
            if a is None:
                a = extra - int(b)
            else:
                b = extra - int(a)
        a, b = int(a), int(b)
        if a < 0 or b < 0:
            raise ValueError(f"{op}: the {axis} margins must be non-negative, got {a} and {b} for size {n}")
        return a, b

    t, b = side(top, bottom, target_h, h, "height")
    le, r = side(left, right, target_w, w, "width")
    return t, b, le, r


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """``images`` with rows and columns cut from their edges (two of top/bottom/target per axis)."""
    x, restore = _batched("crop_images", images, data_format)
    h, w = x.shape[1], x.shape[2]
    t, b, le, r = _box(
        "crop_images", h, w, top_cropping, left_cropping, bottom_cropping, right_cropping,
        target_height, target_width, grow=False,
    )  # fmt: skip
    if t + b >= h or le + r >= w:
        raise ValueError(f"crop_images: cropping ({t}, {b}, {le}, {r}) leaves nothing of a {h}x{w} image")
    return restore(x[:, t : h - b, le : w - r, :])


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """``images`` with zero rows and columns added at their edges (two of top/bottom/target per axis)."""
    x, restore = _batched("pad_images", images, data_format)
    h, w = x.shape[1], x.shape[2]
    t, b, le, r = _box(
        "pad_images", h, w, top_padding, left_padding, bottom_padding, right_padding,
        target_height, target_width, grow=True,
    )  # fmt: skip
    return restore(_sh.pad(x, ((0, 0), (t, b), (le, r), (0, 0))))


# ---- colour ------------------------------------------------------------------------------


def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` with the channel axis kept (size 1)."""
    x, restore = _batched("rgb_to_grayscale", images, data_format)
    if x.shape[-1] not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: expected 1 or 3 channels, got shape {_t(images).shape}")
    if x.shape[-1] == 1:
        return restore(x)
    r, g, b = x[..., 0:1], x[..., 1:2], x[..., 2:3]
    return restore(_ar.add(_ar.add(_ar.multiply(r, 0.2989), _ar.multiply(g, 0.587)), _ar.multiply(b, 0.114)))


def _float_only(op, images):
    if _t(images).dtype.kind != "f":
        raise ValueError(f"{op}: expected float images, got dtype {_t(images).dtype}")


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value in [0, 1]."""
    _float_only("rgb_to_hsv", images)
    x, restore = _batched("rgb_to_hsv", images, data_format)
    eps = float(numpy.finfo(x.dtype).eps)
    x = _ar.where(_cmp.less(_el.abs(x), eps), 0.0, x)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    value = _ar.maximum(_ar.maximum(r, g), b)
    low = _ar.minimum(_ar.minimum(r, g), b)
    span = _ar.subtract(value, low)
    safe_value = _ar.where(_cmp.greater(value, 0), value, 1.0)
    safe_span = _ar.where(_cmp.greater(span, 0), span, 1.0)
    saturation = _ar.where(_cmp.greater(value, 0), _ar.divide(span, safe_value), 0.0)
    norm = _ar.divide(1.0, _ar.multiply(safe_span, 6.0))
    hue = _ar.where(
        _cmp.equal(value, g),
        _ar.add(_ar.multiply(norm, _ar.subtract(b, r)), 2.0 / 6.0),
        _ar.add(_ar.multiply(norm, _ar.subtract(r, g)), 4.0 / 6.0),
    )
    hue = _ar.where(_cmp.equal(value, r), _ar.multiply(norm, _ar.subtract(g, b)), hue)
    wrapped = cast(_cmp.less(hue, 0.0), hue.dtype)
    hue = _ar.add(_ar.where(_cmp.greater(span, 0), hue, 0.0), wrapped)
    return restore(_sh.stack([hue, saturation, value], axis=-1))


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] to RGB."""
    _float_only("hsv_to_rgb", images)
    x, restore = _batched("hsv_to_rgb", images, data_format)
    hue, sat, val = x[..., 0], x[..., 1], x[..., 2]
    dh = _ar.multiply(_ar.mod(hue, 1.0), 6.0)
    dr = _ar.clip(_ar.subtract(_el.abs(_ar.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = _ar.clip(_ar.subtract(2.0, _el.abs(_ar.subtract(dh, 2.0))), 0.0, 1.0)
    db = _ar.clip(_ar.subtract(2.0, _el.abs(_ar.subtract(dh, 4.0))), 0.0, 1.0)
    rest = _ar.subtract(1.0, sat)
    planes = [_ar.multiply(val, _ar.add(rest, _ar.multiply(sat, d))) for d in (dr, dg, db)]
    return restore(_sh.stack(planes, axis=-1))


# ---- sampling at coordinates --------------------------------------------------------------


def _fix_index(index, size, mode):
    if mode in ("constant", "nearest"):
        return numpy.clip(index, 0, size - 1)
    if mode == "wrap":
        return numpy.mod(index, size)
    if mode == "mirror":
        if size == 1:
            return numpy.zeros_like(index)
        s = size - 1
        return numpy.abs(numpy.mod(index + s, 2 * s) - s)
    if mode == "reflect":
        period = 2 * size
        m = numpy.mod(index, period)
        return numpy.where(m < size, m, period - 1 - m)
    raise ValueError(f"map_coordinates: fill_mode must be constant, nearest, wrap, mirror or reflect, got {mode!r}")


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """``inputs`` sampled at ``coordinates`` (one array per input axis), nearest (order 0) or linear (order 1).

    Outside the input, 'constant' gives ``fill_value``; the other modes fold the index back in.
    """
    x = _t(inputs)
    coords = [numpy.asarray(c.numpy() if isinstance(c, Tensor) else c, dtype=numpy.float64) for c in coordinates]
    if len(coords) != x.ndim:
        raise ValueError(f"map_coordinates: got {len(coords)} coordinate arrays for an input of rank {x.ndim}")
    if order not in (0, 1):
        raise NotImplementedError(f"map_coordinates: order must be 0 or 1, got {order}")
    per_axis = []
    for c, n in zip(coords, x.shape):
        if order == 0:
            idx = numpy.round(c).astype(numpy.int64)
            nodes = [(idx, None)]
        else:
            lo = numpy.floor(c)
            frac = c - lo
            lo = lo.astype(numpy.int64)
            nodes = [(lo, 1 - frac), (lo + 1, frac)]
        per_axis.append([(_fix_index(i, n, fill_mode), (i >= 0) & (i < n), wt) for i, wt in nodes])
    total = None
    xf = x if x.dtype.kind == "f" else x.astype(floatx())
    for combo in itertools.product(*per_axis):
        indices = tuple(i for i, _, _ in combo)
        value = getitem(xf, indices)
        if fill_mode == "constant":
            valid = numpy.logical_and.reduce([v for _, v, _ in combo])
            value = _ar.where(valid, value, float(fill_value))
        weight = None
        for _, _, wt in combo:
            if wt is not None:
                weight = wt if weight is None else weight * wt
        if weight is not None:
            value = _ar.multiply(value, weight.astype(xf.dtype))
        total = value if total is None else _ar.add(total, value)
    if x.dtype.kind in "iu":
        total = cast(_el.round(total), x.dtype)
    return total


def _sample_images(x, ys, xs, order, fill_mode, fill_value):
    """Sample a channels-last batch x at per-image pixel coordinates ys, xs (batch, h, w)."""
    b, h, w, c = x.shape
    out = []
    for i in range(b):
        yy = numpy.broadcast_to(ys[i][..., None], ys[i].shape + (c,))
        xx = numpy.broadcast_to(xs[i][..., None], xs[i].shape + (c,))
        cc = numpy.broadcast_to(numpy.arange(c), ys[i].shape + (c,))
        out.append(map_coordinates(x[i], [yy, xx, cc], order, fill_mode, fill_value))
    return _sh.stack(out, axis=0)


_ORDERS = {"nearest": 0, "bilinear": 1}


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None):
    """``images`` sampled through projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``.

    Output pixel (x, y) takes the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k),
    k = c0 x + c1 y + 1; one transform (8,) or one per image (batch, 8).
    """
    if interpolation not in _ORDERS:
        raise ValueError(f"affine_transform: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    x, restore = _batched("affine_transform", images, data_format)
    t = numpy.asarray(transform.numpy() if isinstance(transform, Tensor) else transform)
    # coordinates in the transform's float dtype, summed in Keras's order (ties round the same way)
    t = t.astype(t.dtype if t.dtype.kind == "f" else floatx())
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.shape[1] != 8:
        raise ValueError(f"affine_transform: transform must have shape (8,) or (batch, 8), got {t.shape}")
    b, h, w, _ = x.shape
    t = numpy.broadcast_to(t, (b, 8))
    gy, gx = numpy.meshgrid(numpy.arange(h, dtype=t.dtype), numpy.arange(w, dtype=t.dtype), indexing="ij")

    def coef(i):
        return t[:, i, None, None]

    src_x = (gy * coef(1) + gx * coef(0)) + coef(2)
    src_y = (gy * coef(4) + gx * coef(3)) + coef(5)
    if numpy.any(t[:, 6:] != 0):
        k = gx * coef(6) + gy * coef(7) + t.dtype.type(1)
        src_x, src_y = src_x / k, src_y / k
    return restore(_sample_images(x, src_y, src_x, _ORDERS[interpolation], fill_mode, fill_value))


def _homography(start, end):
    """The 8 projective coefficients mapping output (end) points to input (start) points."""
    rows, rhs = [], []
    for (xs, ys), (xe, ye) in zip(start, end):
        rows.append([xe, ye, 1, 0, 0, 0, -xe * xs, -ye * xs])
        rows.append([0, 0, 0, xe, ye, 1, -xe * ys, -ye * ys])
        rhs += [xs, ys]
    return numpy.linalg.solve(numpy.asarray(rows, dtype=numpy.float64), numpy.asarray(rhs, dtype=numpy.float64))


def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None):
    """``images`` warped so that the four ``start_points`` (x, y) land on ``end_points``."""
    sp = numpy.asarray(start_points.numpy() if isinstance(start_points, Tensor) else start_points, numpy.float64)
    ep = numpy.asarray(end_points.numpy() if isinstance(end_points, Tensor) else end_points, numpy.float64)
    if sp.shape[-2:] != (4, 2) or ep.shape != sp.shape:
        raise ValueError(
            "perspective_transform: start_points and end_points must be (4, 2) or (batch, 4, 2); "
            f"got {sp.shape} and {ep.shape}"
        )
    if sp.ndim == 2:
        sp, ep = sp[None], ep[None]
    coeffs = numpy.stack([_homography(s, e) for s, e in zip(sp, ep)])
    return affine_transform(images, coeffs, interpolation, "constant", fill_value, data_format)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """``images`` resampled on ``spatial_dims`` to ``output_shape`` with ``scale`` and ``translation``, as JAX's.

    ``method`` is 'linear'/'bilinear'/'trilinear' (triangle kernel) or 'cubic'/'bicubic'/'tricubic' (Keys, a = -0.5).
    """
    kernels = {
        "linear": "linear", "bilinear": "linear", "trilinear": "linear",
        "cubic": "cubic", "bicubic": "cubic", "tricubic": "cubic",
    }  # fmt: skip
    if method not in kernels:
        raise ValueError(f"scale_and_translate: method must be one of {sorted(kernels)}, got {method!r}")
    x = _t(images)
    if x.dtype.kind != "f":
        x = x.astype(floatx())
    out = x
    letters = "abcdefghij"[: x.ndim]
    for k, dim in enumerate(spatial_dims):
        dim = int(dim) % x.ndim
        n_in, n_out = x.shape[dim], int(output_shape[dim])
        s, tr = float(numpy.asarray(scale)[k]), float(numpy.asarray(translation)[k])
        # output sample j sits at input position ((j + 0.5) - tr) / s - 0.5
        centre = (numpy.arange(n_out) + 0.5 - tr) / s - 0.5
        stretch = 1 / s if (antialias and s < 1) else 1.0
        taps = (centre[:, None] - numpy.arange(n_in)[None, :]) / stretch
        if kernels[method] == "linear":
            m = numpy.maximum(1 - numpy.abs(taps), 0)
        else:
            m = _cubic(taps, -0.5)
        total = m.sum(axis=1, keepdims=True)
        m = numpy.where(
            numpy.abs(total) > 1000 * numpy.finfo(numpy.float32).eps, m / numpy.where(total == 0, 1, total), 0
        )
        # samples whose centre falls outside the input stay zero
        inside = (centre >= -0.5) & (centre <= n_in - 0.5)
        m = m * inside[:, None]
        src = letters
        dst = letters[:dim] + "z" + letters[dim + 1 :]
        out = einsum(f"z{letters[dim]},{src}->{dst}", m.astype(x.dtype), out)
    return out


# ---- filters -------------------------------------------------------------------------------


def _depthwise(x, kernel, padding):
    """Channels-last depthwise 2-D correlation of x (b, h, w, c) with one (kh, kw) kernel, zero padding."""
    kh, kw = kernel.shape
    if padding:
        ph, pw = padding
        x = _sh.pad(x, ((0, 0), ph, pw, (0, 0)))
    h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    total = None
    for i in range(kh):
        for j in range(kw):
            if kernel[i, j] == 0:
                continue
            term = _ar.multiply(x[:, i : i + h, j : j + w, :], float(kernel[i, j]))
            total = term if total is None else _ar.add(total, term)
    return total


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """``images`` convolved with a Gaussian of ``kernel_size`` and ``sigma`` (zero padding, same size)."""
    x, restore = _batched("gaussian_blur", images, data_format)
    ks = [int(k) for k in (kernel_size if not isinstance(kernel_size, int) else (kernel_size, kernel_size))]
    sg = [float(s) for s in (sigma if not isinstance(sigma, (int, float)) else (sigma, sigma))]

    def g1(n, s):
        v = numpy.exp(-0.5 * ((numpy.arange(n) - (n - 1) / 2) / s) ** 2)
        return v / v.sum()

    kernel = numpy.outer(g1(ks[1], sg[1]), g1(ks[0], sg[0]))
    pad = ks[0] // 2
    return restore(_depthwise(x, kernel, ((pad, pad), (pad, pad))))


def sobel_edges(images, data_format=None):
    """Sobel gradients: (batch, h, w, c) -> (batch, h, w, c, 2), the y then the x response."""
    x, restore = _batched("sobel_edges", images, data_format, ranks=(4,))
    ky = numpy.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=numpy.float64)
    pad = ((1, 1), (1, 1))
    edges = _sh.stack([_depthwise(x, ky, pad), _depthwise(x, ky.T, pad)], axis=-1)
    if _fmt("sobel_edges", data_format) == "channels_first":
        return _sh.transpose(edges, (0, 3, 1, 2, 4))
    return edges


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """The structural similarity of two images (or one value per image pair of a batch)."""
    a, restore = _batched("ssim", image1, data_format)
    b, _ = _batched("ssim", image2, data_format)
    if a.shape != b.shape:
        raise ValueError(f"ssim: images must have one shape, got {_t(image1).shape} and {_t(image2).shape}")
    single = _t(image1).ndim == 3
    g = numpy.exp(-((numpy.arange(filter_size) - (filter_size - 1) / 2.0) ** 2) / (2.0 * filter_sigma**2))
    g = g / g.sum()
    kernel = numpy.outer(g, g)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2

    def blur(v):
        return _depthwise(v, kernel, None)

    mu1, mu2 = blur(a), blur(b)
    mu11, mu22, mu12 = _ar.multiply(mu1, mu1), _ar.multiply(mu2, mu2), _ar.multiply(mu1, mu2)
    s11 = _ar.subtract(blur(_ar.multiply(a, a)), mu11)
    s22 = _ar.subtract(blur(_ar.multiply(b, b)), mu22)
    s12 = _ar.subtract(blur(_ar.multiply(a, b)), mu12)
    num = _ar.multiply(_ar.add(_ar.multiply(mu12, 2.0), c1), _ar.add(_ar.multiply(s12, 2.0), c2))
    den = _ar.multiply(_ar.add(_ar.add(mu11, mu22), c1), _ar.add(_ar.add(s11, s22), c2))
    per_image = _rd.mean(_ar.divide(num, den), axis=(1, 2, 3))
    return per_image[0] if single else per_image


# ---- patches -------------------------------------------------------------------------------


def _patches(op, x, size, strides, dilation_rate, padding, rank):
    """Patches of a channels-last batch x (b, spatial..., c) -> (b, out..., prod(size) * c)."""
    size = (size,) * rank if isinstance(size, int) else tuple(int(s) for s in size)
    strides = size if not strides else ((strides,) * rank if isinstance(strides, int) else tuple(strides))
    dil = (dilation_rate,) * rank if isinstance(dilation_rate, int) else tuple(dilation_rate)
    if len(size) != rank:
        raise ValueError(f"{op}: size must give {rank} sizes, got {size}")
    if padding not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    spatial = x.shape[1:-1]
    if padding == "same":
        pads = []
        for n, k, s, d in zip(spatial, size, strides, dil):
            out = -(-n // s)
            need = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((need // 2, need - need // 2))
        x = _sh.pad(x, ((0, 0), *pads, (0, 0)))
        spatial = x.shape[1:-1]
    grids = []
    outs = []
    for n, k, s, d in zip(spatial, size, strides, dil):
        out = (n - (k - 1) * d - 1) // s + 1
        if out <= 0:
            raise ValueError(f"{op}: patches of {size} do not fit a {tuple(spatial)} input")
        outs.append(out)
        grids.append(numpy.arange(out)[:, None] * s + numpy.arange(k)[None, :] * d)  # (out, k)
    # index arrays of shape (out..., k...) per spatial axis
    index = []
    for axis, grid in enumerate(grids):
        shape = [1] * (2 * rank)
        shape[axis] = outs[axis]
        shape[rank + axis] = size[axis]
        index.append(grid.reshape(shape))
    picked = getitem(x, (slice(None), *index))  # (b, out..., k..., c)
    b, c = x.shape[0], x.shape[-1]
    return _sh.reshape(picked, (b, *outs, int(numpy.prod(size)) * c))


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` every ``strides`` as channels: (b, h, w, c) -> (b, oh, ow, kh*kw*c), as Keras."""
    x, restore = _batched("extract_patches", images, data_format)
    return restore(_patches("extract_patches", x, size, strides, dilation_rate, padding, 2), keep_dtype=False)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """3-D patches as channels: (b, d, h, w, c) -> (b, od, oh, ow, kd*kh*kw*c)."""
    x = _t(volumes)
    if x.ndim not in (4, 5):
        raise ValueError(f"extract_patches_3d: expected a 4-D volume or a 5-D batch, got shape {x.shape}")
    single = x.ndim == 4
    if single:
        x = _sh.expand_dims(x, 0)
    first = _fmt("extract_patches_3d", data_format) == "channels_first"
    if first:
        x = _sh.transpose(x, (0, 2, 3, 4, 1))
    y = _patches("extract_patches_3d", x, size, strides, dilation_rate, padding, 3)
    if first:
        y = _sh.transpose(y, (0, 4, 1, 2, 3))
    return _sh.squeeze(y, 0) if single else y


def elastic_transform(
    images,
    alpha=20.0,
    sigma=5.0,
    interpolation="bilinear",
    fill_mode="reflect",
    fill_value=0.0,
    seed=None,
    data_format=None,
):
    """``images`` displaced by a random smooth field: uniform noise in [-1, 1] blurred by a Gaussian of ``sigma``
    (kernel ``2 * int(2 * sigma) + 1``), scaled by ``alpha``. The draws are Ember's, not Keras's."""
    from ..random import _draw_uniform

    if interpolation not in _ORDERS:
        raise ValueError(f"elastic_transform: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    x, restore = _batched("elastic_transform", images, data_format)
    b, h, w, _ = x.shape
    size = 2 * int(2 * sigma) + 1
    noise = _draw_uniform((2, b, h, w, 1), -1.0, 1.0, seed)
    fields = []
    for k in range(2):
        blurred = gaussian_blur(tensor(noise[k].astype(numpy.float64)), (size, size), (sigma, sigma), "channels_last")
        fields.append(blurred.numpy()[..., 0] * alpha)
    gy, gx = numpy.meshgrid(numpy.arange(h, dtype=numpy.float64), numpy.arange(w, dtype=numpy.float64), indexing="ij")
    ys, xs = gy[None] + fields[0], gx[None] + fields[1]
    return restore(_sample_images(x, ys, xs, _ORDERS[interpolation], fill_mode, fill_value))
