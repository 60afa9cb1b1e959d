"""``Equalization``: histogram equalization of each channel (Keras's ``keras.layers.Equalization``)."""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor
from .base_augmentation import BaseImageAugmentation
from .random_color import _value_range


class Equalization(BaseImageAugmentation):
    """Spread each channel's intensities evenly over the range, as Keras does it.

    Per channel, over the whole batch at once (Keras's rule): values mapped to [0, 255]
    are counted into ``bins`` equal bins; each value becomes ``round(255 * (cdf - cdf_min) /
    (cdf_total - cdf_min))`` of its bin (``cdf_min`` the first nonzero cumulative count),
    mapped back to ``value_range``. A channel with at most one occupied bin is left as it is.
    Like Keras's image layers it applies in training and direct calls, and passes images
    unchanged at inference (``training=False``).

    Args:
        value_range: the images' range (default (0, 255)).
        bins: number of histogram bins (default 256).

    Input/output: ``(H, W, C)`` or ``(B, H, W, C)`` (channels_first: ``(B, C, H, W)``), same shape.
    """

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
            raise ValueError(f"Equalization: `bins` must be an integer >= 2. Received: bins={bins!r}")
        self.bins = bins
        self.value_range = _value_range(self, value_range)

    def _draw(self, images):
        return {}

    def _equalize(self, channel):
        low, high = (numpy.float32(v) for v in self.value_range)
        channel = (channel - low) * (numpy.float32(255.0) / (high - low))
        index = ((channel - 0.0) * numpy.float32(self.bins - 1) / numpy.float32(255.0)).astype("int32")
        hist = numpy.bincount(numpy.clip(index, 0, self.bins - 1).reshape(-1), minlength=self.bins)
        if numpy.count_nonzero(hist) > 1:
            cdf = numpy.cumsum(hist)
            cdf_min = cdf[numpy.nonzero(cdf)[0][0]]
            denominator = cdf[-1] - cdf_min
            denominator = denominator if denominator != 0 else 1
            table = ((cdf - cdf_min) * 255).astype("float32") / numpy.float32(denominator)
            table = numpy.clip(numpy.round(table), 0, 255)
            lookup = numpy.clip(channel / numpy.float32(255.0) * numpy.float32(self.bins - 1), 0, self.bins - 1)
            channel = table[lookup.astype("int32")]
        return channel * ((high - low) / numpy.float32(255.0)) + low

    def _augment(self, images, params):
        x = images.numpy().astype("float32", copy=False)
        out = numpy.stack([self._equalize(x[..., c]) for c in range(x.shape[-1])], axis=-1)
        return Tensor(out.astype(images.dtype))

    def get_config(self) -> dict:
        config = {**super().get_config(), "value_range": self.value_range, "bins": self.bins}
        config.pop("seed", None)
        return config
