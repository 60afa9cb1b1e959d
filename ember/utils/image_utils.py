"""Keras's image file helpers: ``load_img``, ``save_img``, ``img_to_array``, ``array_to_img``.

They use Pillow (imported when called); without it they raise ImportError naming the package.
"""

from __future__ import annotations

import numpy

from ..backend.config import floatx
from ..backend.keras_api import image_data_format

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil(op):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{op}: reading and writing images needs Pillow (pip install pillow)") from None
    return Image


def _fmt(op, data_format):
    fmt = image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return fmt


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a 3-D NumPy array (height, width, channels), or channels first."""
    arr = numpy.asarray(img, dtype=dtype or floatx())
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ValueError(f"img_to_array: expected an image with 2 or 3 dimensions, got shape {arr.shape}")
    if _fmt("img_to_array", data_format) == "channels_first":
        arr = numpy.moveaxis(arr, -1, 0)
    return arr


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array (1, 3 or 4 channels) as a PIL image; ``scale`` maps its range onto 0..255 first."""
    pil = _pil("array_to_img")
    arr = numpy.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=dtype or floatx())
    if arr.ndim != 3:
        raise ValueError(f"array_to_img: expected a 3-D image array, got shape {arr.shape}")
    if _fmt("array_to_img", data_format) == "channels_first":
        arr = numpy.moveaxis(arr, 0, -1)
    if scale:
        arr = arr - numpy.min(arr)
        top = numpy.max(arr)
        if top != 0:
            arr = arr / top
        arr = arr * 255
    channels = arr.shape[-1]
    if channels == 3:
        return pil.fromarray(arr.astype("uint8"), "RGB")
    if channels == 4:
        return pil.fromarray(arr.astype("uint8"), "RGBA")
    if channels == 1:
        if numpy.max(arr) > 255:
            return pil.fromarray(arr[:, :, 0].astype("int32"), "I")
        return pil.fromarray(arr[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: expected 1, 3 or 4 channels, got {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write the image array ``x`` to ``path`` (format from ``file_format`` or the file name)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or file_format == "jpeg" or str(path).lower().endswith(".jpg")):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Read an image file as a PIL image ('grayscale', 'rgb' or 'rgba'), resized to ``target_size=(h, w)``.

    ``keep_aspect_ratio`` first cuts the centre box of the target's aspect ratio.
    """
    pil = _pil("load_img")
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError(f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"load_img: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    with open(path, "rb") as f:
        img = pil.open(f)
        img.load()
    if img.mode != modes[color_mode]:
        img = img.convert(modes[color_mode])
    if target_size is not None:
        height, width = int(target_size[0]), int(target_size[1])
        if img.size != (width, height):
            resample = getattr(pil, "Resampling", pil)
            method = getattr(resample, interpolation.upper())
            if keep_aspect_ratio:
                w, h = img.size
                crop_w, crop_h = min(w, int(h * width / height)), min(h, int(w * height / width))
                left, top = (w - crop_w) // 2, (h - crop_h) // 2
                img = img.crop((left, top, left + crop_w, top + crop_h))
            img = img.resize((width, height), method)
    return img
