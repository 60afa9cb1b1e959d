"""Random color augmentations: ``RandomBrightness``, ``RandomContrast``, ``RandomGrayscale``, ``RandomInvert``,
``Solarization``.

Each draws one parameter per image while training (``_draw``) and applies it
(``_augment``, which takes the same dict Keras's ``get_random_transformation``
returns, so the two can be compared on equal draws); at inference images pass
unchanged. Images are channels-last inside (the base class transposes).
"""

from __future__ import annotations

import numpy

from ... import ops
from ...engine.tensor import Tensor
from .base_augmentation import BaseImageAugmentation

_GRAY = numpy.array([0.2989, 0.587, 0.114], dtype="float32")


def _factor_pair(cls, factor, low, high):
    """Keras's factor rule: a number ``f`` gives ``(max(-|f|, low), |f|)``, a pair is sorted; bounds checked."""
    msg = f"The `factor` argument should be a number (or a list of two numbers) in the range [{low}, {high}]. "
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(msg + f"Received: factor={factor}")
        return tuple(sorted(float(f) for f in factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(msg + f"Received: factor={factor}")
        f = abs(float(factor))
        return (max(-f, low), f)
    raise ValueError(msg + f"Received: factor={factor}")


def _value_range(cls, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"The `value_range` argument should be a list of two numbers. Received: value_range={value_range}"
        )
    return sorted(value_range)


def _uniform(layer, images, shape, low, high):
    rng = layer._rng(images.device)
    return (rng.random(shape, dtype="float64") * (high - low) + low).astype(layer.dtype)


def _as_array(x, like):
    value = x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)
    return Tensor(numpy.asarray(value, dtype=like.dtype))


class RandomBrightness(BaseImageAugmentation):
    """Add a random amount to every pixel of each image, as ``keras.layers.RandomBrightness``.

    The amount is ``u * (value_range[1] - value_range[0])``, ``u`` uniform in
    ``factor``; results are clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [-1, 1] (``u`` in [-f, f]) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_pair(self, factor, -1.0, 1.0)
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        delta = _uniform(self, images, (images.shape[0], 1, 1, 1), *self.factor)
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def _augment(self, images, params):
        return ops.clip(images + _as_array(params["rgb_delta"], images), self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomContrast(BaseImageAugmentation):
    """Scale each image's deviation from its per-channel mean by a random factor, as ``keras.layers.RandomContrast``.

    The factor is uniform in ``[1 - lower, 1 + upper]`` (Keras turns a number
    ``f`` into ``(0, f)``: factors in [1, 1 + f]); results are clipped to ``value_range``.

    Args:
        factor: a number in [0, 1] or a pair ``(lower, upper)``.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.value_range = value_range

    def _draw(self, images):
        return {
            "contrast_factor": _uniform(
                self, images, (images.shape[0], 1, 1, 1), 1.0 - self.factor[0], 1.0 + self.factor[1]
            )
        }

    def _augment(self, images, params):
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        out = (images - mean) * _as_array(params["contrast_factor"], images) + mean
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomGrayscale(BaseImageAugmentation):
    """Turn each image gray (kept in 3 channels) with probability ``factor`` (``keras.layers.RandomGrayscale``).

    Gray is ``0.2989 R + 0.587 G + 0.114 B``.

    Args:
        factor: the probability, in [0, 1] (default 0.5).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        if factor < 0 or factor > 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor

    def _draw(self, images):
        return (_uniform(self, images, (images.shape[0],), 0.0, 1.0) < self.factor)[:, None, None, None]

    def _augment(self, images, params):
        apply = numpy.asarray(params.numpy() if hasattr(params, "numpy") else params, dtype=bool).reshape(-1, 1, 1, 1)
        if images.shape[-1] == 3:
            gray = ops.sum(images * _GRAY.astype(images.dtype), axis=-1, keepdims=True)
        elif images.shape[-1] == 1:
            gray = images
        else:
            raise ValueError(
                f"Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received: {tuple(images.shape)}"
            )
        return ops.where(Tensor(apply), gray, images)

    def get_config(self) -> dict:
        config = {**super().get_config(), "factor": self.factor}
        del config["seed"]  # Keras's config of this layer has no seed
        return config


class RandomInvert(BaseImageAugmentation):
    """Invert each image (``value_range[1] - x``) with a random probability, as ``keras.layers.RandomInvert``.

    Per image a probability is drawn uniformly in ``factor`` and the image is
    inverted when a second uniform draw falls below it.

    Args:
        factor: a number ``f`` in [0, 1] (probabilities in [0, f]) or a pair (default 1.0).
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.value_range = value_range

    def _draw(self, images):
        n = images.shape[0]
        probability = _uniform(self, images, (n,), *self.factor)
        return {"apply_inversion": _uniform(self, images, (n,), 0.0, 1.0) < probability}

    def _augment(self, images, params):
        flag = params["apply_inversion"]
        apply = numpy.asarray(flag.numpy() if hasattr(flag, "numpy") else flag, dtype=bool)[:, None, None, None]
        return ops.where(Tensor(apply), self.value_range[1] - images, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


def _to_range(images, source, target):
    if tuple(source) == tuple(target):
        return images
    return (images - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


class Solarization(BaseImageAugmentation):
    """Add a random amount, then invert the pixels at or above a random threshold, as ``keras.layers.Solarization``.

    In [0, 255] units: ``r = clip(x + a, 0, 255)``, then ``r`` below ``t`` stays and
    the rest become ``255 - r``; ``a`` is uniform in ``[lo, hi * 255]`` of
    ``addition_factor`` and ``t`` likewise of ``threshold_factor`` (Keras's ranges).

    Args:
        addition_factor, threshold_factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._factor(addition_factor, "addition_factor")
        self.threshold_factor = self._factor(threshold_factor, "threshold_factor")
        self.value_range = _value_range(self, value_range)

    @staticmethod
    def _factor(factor, name):
        msg = (
            "The `addition_factor` and `threshold_factor` arguments should be a number (or a list of two numbers) "
            f"in the range [0, 1]. Received: {name}={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(0 <= f <= 1 for f in factor):
                raise ValueError(msg)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)) and 0 <= factor <= 1:
            return (0, factor)
        raise ValueError(msg)

    def _draw(self, images):
        shape = (images.shape[0], 1, 1, 1)
        return {
            "additions": _uniform(self, images, shape, self.addition_factor[0], self.addition_factor[1] * 255),
            "thresholds": _uniform(self, images, shape, self.threshold_factor[0], self.threshold_factor[1] * 255),
        }

    def _augment(self, images, params):
        x = _to_range(images, self.value_range, (0, 255))
        r = ops.clip(x + _as_array(params["additions"], images), 0, 255)
        r = ops.where(r < _as_array(params["thresholds"], images), r, 255 - r)
        return _to_range(r, (0, 255), self.value_range)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "addition_factor": self.addition_factor,
            "threshold_factor": self.threshold_factor,
        }


class RandomPosterization(BaseImageAugmentation):
    """Keep only the top ``bits`` bits of each 8-bit pixel value, ``bits`` drawn per image in ``factor``,
    as ``keras.layers.RandomPosterization``.

    Args:
        factor: an int ``f`` in [1, 8] (bits in [1, f)) or a pair (a pair of equal values fixes the bits).
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, 1, 8)
        self.factor = tuple(int(f) for f in self.factor)
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        n = images.shape[0]
        low, high = self.factor
        bits = numpy.full((n,), low) if low == high else self._rng(images.device).integers(low, high, size=(n,))
        return {"shift_factor": (8 - bits).astype("uint8")}

    def _augment(self, images, params):
        shift = numpy.asarray(_numpy_of(params["shift_factor"])).astype("uint8").reshape(-1, 1, 1, 1)
        x = _to_range(images, self.value_range, (0, 255)).numpy().astype("uint8")
        x = ((x >> shift) << shift).astype(images.dtype)
        return _to_range(Tensor(x), (0, 255), self.value_range)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomColorDegeneration(BaseImageAugmentation):
    """Blend each image towards its grayscale version by a random factor, as
    ``keras.layers.RandomColorDegeneration``: ``x + f * (gray - x)``, clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [-1, 1] (``f`` uniform in [-f, f]) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, -1.0, 1.0)
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        return {"factor": _uniform(self, images, (images.shape[0], 1, 1, 1), *self.factor)}

    def _augment(self, images, params):
        if images.shape[-1] != 3:
            raise ValueError(
                f"Input images must have 3 channels, but received images with {images.shape[-1]} channels."
            )
        gray = ops.sum(images * _GRAY.astype(images.dtype), axis=-1, keepdims=True)
        out = images + _as_array(params["factor"], images) * (gray - images)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


def _numpy_of(x):
    return x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)


class RandomSaturation(BaseImageAugmentation):
    """Scale each image's HSV saturation by a random factor, as ``keras.layers.RandomSaturation``.

    A draw ``u`` uniform in ``factor`` becomes the multiplier ``u / (1 - u + epsilon)`` (0 gives
    gray, 0.5 leaves the image, near 1 saturates fully); the saturation is clipped to
    ``value_range`` as Keras does.

    Args:
        factor: a number ``f`` (``u`` in [-f, f], Keras's rule; negative multipliers clip to 0) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, -1.0, 1.0)
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        from ...backend.config import epsilon

        u = _uniform(self, images, (images.shape[0],), *self.factor)
        return {"factor": (u / (1 - u + epsilon())).astype(u.dtype)}

    def _augment(self, images, params):
        from ...ops.image import hsv_to_rgb, rgb_to_hsv

        factor = _as_array(params["factor"], images).reshape((-1, 1, 1))
        hsv = rgb_to_hsv(images)
        s = ops.clip(hsv[..., 1] * factor, self.value_range[0], self.value_range[1])
        return hsv_to_rgb(ops.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomHue(BaseImageAugmentation):
    """Rotate each image's hue by a random amount, as ``keras.layers.RandomHue``.

    The shift is ``±u / 2`` of the hue circle (sign drawn evenly, ``u`` uniform in
    ``factor``); results are clipped to the value range.

    Args:
        factor: a number ``f`` in [0, 1] (``u`` in [0, f]) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.value_range = value_range

    def _draw(self, images):
        n = images.shape[0]
        sign = numpy.where(_uniform(self, images, (n,), 0.0, 1.0) > 0.5, -1.0, 1.0).astype(self.dtype)
        return {"factor": sign * _uniform(self, images, (n,), *self.factor) * 0.5}

    def _augment(self, images, params):
        from ...ops.image import hsv_to_rgb, rgb_to_hsv

        x = _to_range(images, self.value_range, (0, 1))
        hsv = rgb_to_hsv(x)
        h = hsv[..., 0] + _as_array(params["factor"], images).reshape((-1, 1, 1))
        h = ops.where(h > 1.0, h - 1.0, h)
        h = ops.where(h < 0.0, h + 1.0, h)
        rgb = ops.clip(hsv_to_rgb(ops.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1)), 0, 1)
        return _to_range(rgb, (0, 1), self.value_range)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
