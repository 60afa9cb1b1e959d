"""``RandomTranslation``: shifts each image by a random offset (training only)."""

from __future__ import annotations

from ._image_transform import translation_transform
from .base_augmentation import BaseImageAugmentation, parse_factor


class RandomTranslation(BaseImageAugmentation):
    """Shifts images by fractions of their height and width drawn per image.

    Shapes: ``(B, H, W, C)`` or ``(H, W, C)`` -> the same (float).

    Args:
        height_factor: a number in [-1, 1] (``0.2`` -> shift up or down by up to 20% of the
            height) or a pair ``(lo, hi)``; negative is up.
        width_factor: the same for left (negative) and right.
        fill_mode, interpolation, seed, fill_value, data_format: as :class:`RandomRotation`.
    """

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = parse_factor(height_factor, "height_factor", "RandomTranslation")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = parse_factor(width_factor, "width_factor", "RandomTranslation")
        self._check_modes(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _draw(self, images):
        rng, (n, h, w) = self._rng(images.device), images.shape[:3]
        dy = (self.height_lower + (self.height_upper - self.height_lower) * rng.random(n)) * h
        dx = (self.width_lower + (self.width_upper - self.width_lower) * rng.random(n)) * w
        return dx, dy

    def _augment(self, images, shifts):
        dx, dy = shifts
        return self._affine(images, translation_transform(images.device.xp, dx, dy))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "height_factor": self.height_factor,
                "width_factor": self.width_factor,
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
            }
        )
        return config
