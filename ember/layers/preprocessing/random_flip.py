"""``RandomFlip``: flips each image left-right and/or up-down at random (training only)."""

from __future__ import annotations

from ... import ops
from ...engine.tensor import Tensor
from .base_augmentation import BaseImageAugmentation

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class RandomFlip(BaseImageAugmentation):
    """Flips images with probability 1/2 each, independently per image.

    As Keras 3 does, ``"horizontal_and_vertical"`` draws one coin per image and
    flips that image both ways when it comes up (a 180-degree turn), not two coins.

    Shapes: ``(B, H, W, C)`` or ``(H, W, C)`` -> the same (float).

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed, data_format: see :class:`BaseImageAugmentation`.
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(
                f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}; expected "
                f"{HORIZONTAL!r}, {VERTICAL!r} or {HORIZONTAL_AND_VERTICAL!r}"
            )
        self.mode = mode

    def _draw(self, images):
        # Keras: flip where a U[0, 1) draw is <= 0.5
        return self._rng(images.device).random(images.shape[0]) <= 0.5

    def _augment(self, images, flips):
        xp = images.device.xp
        mask = Tensor._wrap(xp.asarray(flips, dtype=bool).reshape(-1, 1, 1, 1))
        out = images
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            out = ops.where(mask, ops.flip(out, axis=2), out)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            out = ops.where(mask, ops.flip(out, axis=1), out)
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config
