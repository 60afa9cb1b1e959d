"""``RandomShear``: shear each image along x and y by random amounts (Keras's ``keras.layers.RandomShear``)."""

from __future__ import annotations

import numpy

from .base_augmentation import BaseImageAugmentation
from .random_color import _uniform

_FACTOR_ERROR = "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1.0]. "


def _shear_factor(factor, name):
    """A number ``f`` in [0, 1] -> ``(-f, f)``; a pair -> sorted.

    A pair may hold negative numbers down to -1: Keras's ``get_config`` writes the drawn range
    (``(-f, f)``), which Keras itself then refuses to read back; Ember reads it.
    """

    def check(v, low=0.0):
        if v > 1.0 or v < low:
            raise ValueError(_FACTOR_ERROR + f"Received: input_number={v}")

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(_FACTOR_ERROR + f"Received: {name}={factor}")
        check(factor[0], -1.0)
        check(factor[1], -1.0)
        return tuple(sorted(float(f) for f in factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return (-abs(float(factor)), abs(float(factor)))
    raise ValueError(_FACTOR_ERROR + f"Received: {name}={factor}")


class RandomShear(BaseImageAugmentation):
    """Shear each image by random ``(shear_x, shear_y)``, as Keras does.

    Per image ``shear_x`` is uniform in ``x_factor``, ``shear_y`` in ``y_factor``, both
    negated together with probability 1/2. The output pixel ``(x, y)`` samples the input at
    ``(x + shear_x * y, shear_y * x + y)`` (Keras's matrix, about the top-left corner),
    filled per ``fill_mode`` outside the image.

    Args:
        x_factor, y_factor: a number in [0, 1] (shear in [-f, f]) or a pair in [0, 1] (default 0).
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
        fill_value: the value outside the image for "constant".
        seed: an int for a layer-owned generator.

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.x_factor = _shear_factor(x_factor, "x_factor")
        self.y_factor = _shear_factor(y_factor, "y_factor")
        self._check_modes(fill_mode, interpolation)
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value

    def _draw(self, images):
        b = images.shape[0]
        invert = numpy.where(_uniform(self, images, (b, 1), 0.0, 1.0) > 0.5, -1.0, 1.0).astype(self.dtype)
        shear_y = _uniform(self, images, (b, 1), *self.y_factor)
        shear_x = _uniform(self, images, (b, 1), *self.x_factor)
        shear = numpy.concatenate([shear_x, shear_y], axis=1) * invert
        return {"shear_factor": shear, "input_shape": tuple(images.shape)}

    def _augment(self, images, params):
        shear = numpy.asarray(_numpy(params["shear_factor"]), dtype="float64")
        n = shear.shape[0]
        one, zero = numpy.ones(n), numpy.zeros(n)
        transform = numpy.stack([one, shear[:, 0], zero, shear[:, 1], one, zero, zero, zero], axis=1)
        return self._affine(images, transform)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "x_factor": self.x_factor,
            "y_factor": self.y_factor,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
        }


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)
