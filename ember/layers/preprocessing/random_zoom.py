"""``RandomZoom``: zooms each image in or out about its centre by a random factor (training only)."""

from __future__ import annotations

from ._image_transform import zoom_transform
from .base_augmentation import BaseImageAugmentation, parse_factor


class RandomZoom(BaseImageAugmentation):
    """Zooms images, one random factor per image (per axis when ``width_factor`` is given).

    A factor ``f`` draws the zoom from ``1 + U[lo, hi]``: negative values zoom in (the
    content grows), positive values zoom out. Without ``width_factor`` the width zooms
    as the height does (aspect ratio kept).

    Shapes: ``(B, H, W, C)`` or ``(H, W, C)`` -> the same (float).

    Args:
        height_factor: a number in (-1, 1] (``0.2`` -> [-0.2, 0.2]) or a pair ``(lo, hi)``.
        width_factor: the same for the width, or None to follow the height.
        fill_mode, interpolation, seed, fill_value, data_format: as :class:`RandomRotation`.
    """

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = parse_factor(height_factor, "height_factor", "RandomZoom", open_low=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = parse_factor(width_factor, "width_factor", "RandomZoom", open_low=True)
        self._check_modes(fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _draw(self, images):
        rng, n = self._rng(images.device), images.shape[0]
        h = 1.0 + self.height_lower + (self.height_upper - self.height_lower) * rng.random(n)
        if self.width_factor is None:
            return h, h
        w = 1.0 + self.width_lower + (self.width_upper - self.width_lower) * rng.random(n)
        return h, w

    def _augment(self, images, zooms):
        height_zoom, width_zoom = zooms
        xp = images.device.xp
        return self._affine(images, zoom_transform(xp, width_zoom, height_zoom, images.shape[1], images.shape[2]))

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
