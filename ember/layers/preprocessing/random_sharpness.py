"""``RandomSharpness``: blend each image with a smoothed copy (Keras's ``keras.layers.RandomSharpness``)."""

from __future__ import annotations

from ... import ops
from .base_augmentation import BaseImageAugmentation
from .random_color import _as_array, _factor_pair, _uniform, _value_range

# the 3x3 smoothing kernel Keras (and PIL's ImageFilter.SMOOTH) uses: 1/13 around, 5/13 in the middle
_EDGE, _CENTER = 1.0 / 13.0, 5.0 / 13.0


class RandomSharpness(BaseImageAugmentation):
    """Sharpen or soften each image by a random amount.

    Per image ``f`` is uniform in ``factor`` and ``out = image + (1 - 2f) * (smooth - image)``
    clipped to ``value_range``, where ``smooth`` is the image convolved channel by
    channel with Keras's 3x3 smoothing kernel (zero padding, "same" size): ``f = 0.5``
    leaves the image, smaller softens, larger sharpens.

    Args:
        factor: a number in [0, 1] (``f`` in [0, factor]) or a pair.
        value_range: the images' range (default (0, 255)).
        seed: an int for a layer-owned generator.

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        return {"factor": _uniform(self, images, (images.shape[0],), *self.factor)}

    def _augment(self, images, params):
        h, w = images.shape[1], images.shape[2]
        padded = ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
        smooth = None
        for dy in range(3):
            for dx in range(3):
                weight = _CENTER if (dy, dx) == (1, 1) else _EDGE
                term = padded[:, dy : dy + h, dx : dx + w, :] * weight
                smooth = term if smooth is None else smooth + term
        amount = ops.reshape(_as_array(params["factor"], images) * 2.0, (-1, 1, 1, 1))
        out = images + (1.0 - amount) * (smooth - images)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
