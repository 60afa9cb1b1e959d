"""``RandomColorJitter``: brightness, contrast, saturation and hue jitter in turn (as Keras's layer)."""

from __future__ import annotations

from .base_augmentation import BaseImageAugmentation
from .random_color import RandomBrightness, RandomContrast, RandomHue, RandomSaturation

# the order Keras applies them in, with each factor's argument name
_STEPS = (
    ("brightness", RandomBrightness),
    ("contrast", RandomContrast),
    ("saturation", RandomSaturation),
    ("hue", RandomHue),
)


class RandomColorJitter(BaseImageAugmentation):
    """Random brightness, then contrast, then saturation, then hue, each as its own layer does it.

    Each factor left None skips that step. Every step draws per image with this layer's
    generator (one ``seed`` drives all four) and clips to ``value_range``.

    Args:
        value_range: the images' range (default (0, 255)).
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the ``factor`` of
            :class:`RandomBrightness`, :class:`RandomContrast`, :class:`RandomSaturation`,
            :class:`RandomHue` (same rules), or None.
        seed: an int for a layer-owned generator.

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(
        self,
        value_range=(0, 255),
        brightness_factor=None,
        contrast_factor=None,
        saturation_factor=None,
        hue_factor=None,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._steps = []
        for name, cls in _STEPS:
            factor = getattr(self, f"{name}_factor")
            if factor is None:
                continue
            step = cls(factor=factor, value_range=value_range, dtype=self.dtype, name=f"{self.name}_{name}")
            step.generator = self.generator  # one seed drives every step (None: the process-wide generator)
            self._steps.append((name, step))

    def _draw(self, images):
        return {name: step._draw(images) for name, step in self._steps}

    def _augment(self, images, params):
        for name, step in self._steps:
            images = step._augment(images, params[name])
        return images

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "brightness_factor": self.brightness_factor,
            "contrast_factor": self.contrast_factor,
            "saturation_factor": self.saturation_factor,
            "hue_factor": self.hue_factor,
        }
