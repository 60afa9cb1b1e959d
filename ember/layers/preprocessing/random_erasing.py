"""``RandomErasing``: overwrite a random rectangle of each image (Keras's ``keras.layers.RandomErasing``)."""

from __future__ import annotations

import numpy

from ... import ops
from .base_augmentation import BaseImageAugmentation
from .random_color import _as_array, _factor_pair, _uniform, _value_range


class RandomErasing(BaseImageAugmentation):
    """Erase a random rectangle of each image, with probability drawn from ``factor``.

    Per image: ``p`` uniform in ``factor`` and the image is erased when a uniform
    draw falls below ``p``; the rectangle's sides are ``sqrt(s) * side`` with ``s``
    uniform in ``scale`` (one per side), its corner uniform where it fits; the
    erased pixels take ``fill_value`` (a number or three per-channel numbers), or
    when None Gaussian noise ``N(0, 1) * value_range[1]``, clipped to ``value_range``.

    Args:
        factor: erase probability, a number in [0, 1] (``p`` in [0, f]) or a pair.
        scale: fraction of each side squared, a number or a pair in [0, 1] (default (0.02, 0.33)).
        fill_value: None (noise), a number, or a list of three numbers.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.scale = _factor_pair(self, scale, 0.0, 1.0)
        if fill_value is not None and not (
            isinstance(fill_value, (int, float)) or (isinstance(fill_value, (tuple, list)) and len(fill_value) == 3)
        ):
            raise ValueError(
                f"The `fill_value` argument should be a number (or a list of three numbers). Received: {fill_value!r}"
            )
        self.fill_value = fill_value
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        b, h, w, c = images.shape
        sides = numpy.sqrt(_uniform(self, images, (b, 2), *self.scale))

        def bounds(length, ratio):
            crop = ratio * length
            start = _uniform(self, images, (b,), 0.0, 1.0) * (length - crop)
            return start, start + crop

        x0, x1 = bounds(w, sides[:, 0])
        y0, y1 = bounds(h, sides[:, 1])
        gy, gx = numpy.meshgrid(numpy.arange(h, dtype=self.dtype), numpy.arange(w, dtype=self.dtype), indexing="ij")
        gy, gx = gy[None, :, :, None], gx[None, :, :, None]
        inside = (
            (gx >= x0[:, None, None, None])
            & (gx < x1[:, None, None, None])
            & (gy >= y0[:, None, None, None])
            & (gy < y1[:, None, None, None])
        )
        masks = numpy.repeat(inside, c, axis=-1)
        probability = _uniform(self, images, (b,), *self.factor)
        apply = _uniform(self, images, (b,), 0.0, 1.0) < probability
        if self.fill_value is None:
            fill = self._rng(images.device).standard_normal((b, h, w, c), dtype="float64").astype(self.dtype)
            fill = fill * self.value_range[1]
        else:
            fill = numpy.broadcast_to(numpy.asarray(self.fill_value, dtype=self.dtype), (b, h, w, c))
        fill = numpy.clip(fill, self.value_range[0], self.value_range[1])
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": fill}

    def _augment(self, images, params):
        masks = numpy.asarray(_numpy(params["batch_masks"]), dtype=bool)
        apply = numpy.asarray(_numpy(params["apply_erasing"]), dtype=bool)[:, None, None, None]
        erase = ops.convert_to_tensor(masks & apply)
        return ops.where(erase, _as_array(params["fill_value"], images), images)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
        }


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)
