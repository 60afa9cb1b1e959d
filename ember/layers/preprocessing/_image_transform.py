"""Batched affine resampling of images (bilinear / nearest), shared by the geometric augmentation layers.

A transform is Keras's 8-vector ``[a0, a1, a2, b0, b1, b2, c0, c1]``: the output
pixel at column ``x``, row ``y`` reads the input at column ``a0*x + a1*y + a2``,
row ``b0*x + b1*y + b2`` (``c0 = c1 = 0`` for the affine maps used here). Points
outside the image follow ``fill_mode`` as Keras's ``affine_transform`` does:
``"reflect"`` (d c b a | a b c d | d c b a), ``"wrap"``, ``"nearest"``, or
``"constant"`` (``fill_value``). The index arithmetic runs on the images' device
with its array module; the gathering and weighting are Ember ops.
"""

from __future__ import annotations

import math

from ... import ops
from ...engine.tensor import Tensor

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _mirror(xp, index, size):
    s = size - 1
    return xp.abs((index + s) % (2 * s) - s) if s > 0 else xp.zeros_like(index)


def _fix_index(xp, index, size, fill_mode):
    if fill_mode in ("constant", "nearest"):
        return xp.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return index % size
    return (_mirror(xp, 2 * index + 1, 2 * size + 1) - 1) // 2  # reflect


def affine_transform(images: Tensor, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0):
    """Resample channels-last ``images`` ``(B, H, W, C)`` through per-image ``transform`` ``(B, 8)``.

    Returns:
        a Tensor ``(B, H, W, C)`` of the images' float dtype.
    """
    xp = images.device.xp
    b, h, w, c = images.shape
    t = xp.asarray(transform, dtype="float64").reshape(b, 8)
    ys, xs = xp.meshgrid(xp.arange(h, dtype="float64"), xp.arange(w, dtype="float64"), indexing="ij")
    col = t[:, 0, None, None] * xs + t[:, 1, None, None] * ys + t[:, 2, None, None]
    row = t[:, 3, None, None] * xs + t[:, 4, None, None] * ys + t[:, 5, None, None]
    col = col.astype(images.dtype)
    row = row.astype(images.dtype)
    if interpolation == "nearest":
        nodes_r = [(xp.round(row).astype("int64"), None)]
        nodes_c = [(xp.round(col).astype("int64"), None)]
    else:
        r0, c0 = xp.floor(row), xp.floor(col)
        wr1, wc1 = row - r0, col - c0
        r0, c0 = r0.astype("int64"), c0.astype("int64")
        nodes_r = [(r0, 1 - wr1), (r0 + 1, wr1)]
        nodes_c = [(c0, 1 - wc1), (c0 + 1, wc1)]
    flat = ops.reshape(images, (b * h * w, c))
    base = (xp.arange(b, dtype="int64") * (h * w))[:, None, None]
    out = None
    for ri, rw in nodes_r:
        for ci, cw in nodes_c:
            fr, fc = _fix_index(xp, ri, h, fill_mode), _fix_index(xp, ci, w, fill_mode)
            gathered = ops.reshape(ops.take(flat, Tensor._wrap((base + fr * w + fc).reshape(-1)), axis=0), (b, h, w, c))
            if fill_mode == "constant":
                valid = (ri >= 0) & (ri < h) & (ci >= 0) & (ci < w)
                gathered = ops.where(Tensor._wrap(valid[..., None]), gathered, float(fill_value))
            if rw is not None:
                gathered = gathered * Tensor._wrap((rw * cw)[..., None].astype(images.dtype))
            out = gathered if out is None else out + gathered
    return out


def rotation_transform(xp, angles_deg, height, width):
    """Keras's rotation about the image centre by ``angles_deg`` (one per image) -> ``(B, 8)``."""
    angle = xp.asarray(angles_deg, dtype="float64") * (math.pi / 180.0)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = xp.cos(angle), xp.sin(angle)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    zeros = xp.zeros_like(angle)
    return xp.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def zoom_transform(xp, width_zoom, height_zoom, height, width):
    """Keras's zoom about the centre: a factor > 1 zooms out (the image shrinks) -> ``(B, 8)``."""
    zx, zy = xp.asarray(width_zoom, dtype="float64"), xp.asarray(height_zoom, dtype="float64")
    zeros = xp.zeros_like(zx)
    x_off = (width - 1.0) / 2.0 * (1.0 - zx)
    y_off = (height - 1.0) / 2.0 * (1.0 - zy)
    return xp.stack([zx, zeros, x_off, zeros, zy, y_off, zeros, zeros], axis=1)


def translation_transform(xp, dx, dy):
    """A shift by ``dx`` columns right and ``dy`` rows down (pixels, one per image) -> ``(B, 8)``."""
    dx, dy = xp.asarray(dx, dtype="float64"), xp.asarray(dy, dtype="float64")
    ones, zeros = xp.ones_like(dx), xp.zeros_like(dx)
    return xp.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)
