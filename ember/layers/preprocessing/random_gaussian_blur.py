"""``RandomGaussianBlur``: blur some images with a Gaussian kernel (Keras's ``keras.layers.RandomGaussianBlur``)."""

from __future__ import annotations

import numpy

from ... import ops
from .base_augmentation import BaseImageAugmentation
from .random_color import _factor_pair, _uniform


def _kernel_size(value):
    message = f"kernel_size must be an odd number. Received: kernel_size={value}"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"The `kernel_size` argument should be a number (or a list of two numbers) Received: {value}"
            )
        if value[0] % 2 == 0 or value[1] % 2 == 0:
            raise ValueError(message)
        return (int(value[0]), int(value[1]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value % 2 == 0:
            raise ValueError(message)
        return (int(value), int(value))
    raise ValueError(message)


class RandomGaussianBlur(BaseImageAugmentation):
    """Blur each image, with probability drawn from ``factor``, by a Gaussian of random sigma.

    Per image ``p`` is uniform in ``factor`` and the image is blurred when a uniform
    draw falls below ``p``; one pair ``(sigma_y, sigma_x)`` uniform in ``sigma`` (plus
    1e-6) is drawn per batch, as Keras does. The blur is ``ops.image.gaussian_blur``
    with ``kernel_size``; the result is clipped to ``value_range``.

    Args:
        factor: blur probability, a number in [0, 1] or a pair (default 1.0).
        kernel_size: an odd int or a pair of odd ints ``(height, width)`` (default 3).
        sigma: a number in [0, 1] (sigma in [0, sigma]) or a pair (default 1.0).
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.kernel_size = _kernel_size(kernel_size)
        self.sigma = _factor_pair(self, sigma, 0.0, 1.0)
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(
                f"The `value_range` argument should be a list of two numbers. Received: value_range={value_range}"
            )
        self.value_range = tuple(value_range)

    def _draw(self, images):
        b = images.shape[0]
        probability = _uniform(self, images, (b,), *self.factor)
        apply = _uniform(self, images, (b,), 0.0, 1.0) < probability
        sigma = _uniform(self, images, (2,), *self.sigma) + numpy.asarray(1e-6, dtype=self.dtype)
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def _augment(self, images, params):
        sigma = numpy.asarray(_numpy(params["blur_factor"]), dtype="float64")
        blurred = ops.image.gaussian_blur(
            images, kernel_size=self.kernel_size, sigma=(float(sigma[0]), float(sigma[1])), data_format="channels_last"
        )
        apply = numpy.asarray(_numpy(params["should_apply_blur"]), dtype=bool)[:, None, None, None]
        apply = ops.convert_to_tensor(apply)
        out = ops.where(apply, ops.cast(blurred, images.dtype), images)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "factor": self.factor,
            "kernel_size": self.kernel_size,
            "sigma": self.sigma,
            "value_range": self.value_range,
        }


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)
