"""``RandomRotation``: rotates each image by a random angle about its centre (training only)."""

from __future__ import annotations

from ._image_transform import rotation_transform
from .base_augmentation import BaseImageAugmentation, parse_factor


class RandomRotation(BaseImageAugmentation):
    """Rotates images by angles drawn uniformly from ``factor * 360`` degrees, one per image.

    Positive angles turn the picture counter-clockwise. Pixels that come from outside
    the image follow ``fill_mode``; values between pixels are ``interpolation``-ed.

    Shapes: ``(B, H, W, C)`` or ``(H, W, C)`` -> the same (float).

    Args:
        factor: a fraction of a full turn: ``0.1`` draws from [-36, 36] degrees, a pair
            ``(lo, hi)`` from [lo * 360, hi * 360].
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed, data_format: see :class:`BaseImageAugmentation`.
        fill_value: the value outside the image with ``fill_mode="constant"``.
    """

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = parse_factor(factor, "factor", "RandomRotation")
        self._check_modes(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _draw(self, images):
        lo, hi = self.factor[0] * 360.0, self.factor[1] * 360.0
        return lo + (hi - lo) * self._rng(images.device).random(images.shape[0])

    def _augment(self, images, angles):
        xp = images.device.xp
        return self._affine(images, rotation_transform(xp, angles, images.shape[1], images.shape[2]))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "interpolation": self.interpolation,
            }
        )
        return config
