"""Image resizing with differentiable ops: nearest and bilinear sampling, aspect-ratio crop and pad.

The sampling follows Keras's resize without antialiasing (half-pixel centres):
bilinear reads the input at ``(i + 0.5) * in / out - 0.5`` (clamped at 0) and
mixes the two neighbouring cells; nearest takes cell ``floor((i + 0.5) * in / out)``.
"""

from __future__ import annotations

import numpy

from ... import ops

INTERPOLATIONS = ("bilinear", "nearest")
KERAS_ONLY = ("bicubic", "area", "lanczos3", "lanczos5")


def _sample_axis(x, axis: int, out_size: int, interpolation: str):
    """``x`` resampled to ``out_size`` cells along ``axis``."""
    in_size = x.shape[axis]
    if in_size == out_size:
        return x
    scale = in_size / out_size
    centres = (numpy.arange(out_size) + 0.5) * scale
    if interpolation == "nearest":
        index = numpy.minimum(numpy.floor(centres).astype(numpy.int64), in_size - 1)
        return ops.take(x, index, axis=axis)
    src = numpy.maximum(centres - 0.5, 0.0)
    lo = numpy.minimum(numpy.floor(src).astype(numpy.int64), in_size - 1)
    hi = numpy.minimum(lo + 1, in_size - 1)
    frac = (src - lo).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = out_size
    frac = frac.reshape(shape)
    a, b = ops.take(x, lo, axis=axis), ops.take(x, hi, axis=axis)
    return a + (b - a) * frac


def check_interpolation(layer: str, interpolation: str) -> str:
    interpolation = str(interpolation).lower()
    if interpolation in KERAS_ONLY:
        raise NotImplementedError(
            f"{layer}: interpolation={interpolation!r} is not implemented in Ember; use one of {INTERPOLATIONS}"
        )
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"{layer}: `interpolation` must be one of {INTERPOLATIONS + KERAS_ONLY}, got {interpolation!r}"
        )
    return interpolation


def aspect_crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """``(top, left, crop_h, crop_w)``: the centred box of the target's aspect ratio inside ``height x width``."""
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


def resize_images(
    images, size, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0
):
    """Resize channels-last ``images`` (batch, height, width, channels) to ``size = (height, width)``.

    ``crop_to_aspect_ratio`` first takes the largest centred box of the target's
    aspect ratio; ``pad_to_aspect_ratio`` instead pads the short side evenly
    with ``fill_value``. Returns (batch, size[0], size[1], channels).
    """
    target_h, target_w = size
    _, height, width, _ = images.shape
    if crop_to_aspect_ratio:
        top, left, crop_h, crop_w = aspect_crop_box(height, width, target_h, target_w)
        images = images[:, top : top + crop_h, left : left + crop_w, :]
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(float(width * target_h) / target_w))
        pad_w = max(width, int(float(height * target_w) / target_h))
        top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
        if top > 0 or left > 0:
            widths = ((0, 0), (top, top), (left, left), (0, 0))
            images = ops.pad(images, widths, constant_values=fill_value)
    images = _sample_axis(images, 1, target_h, interpolation)
    return _sample_axis(images, 2, target_w, interpolation)
