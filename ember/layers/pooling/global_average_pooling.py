"""``GlobalAveragePooling1D`` and ``GlobalAveragePooling2D`` (aliases ``GlobalAvgPool1D``, ``GlobalAvgPool2D``)."""

from __future__ import annotations

from ...ops import cast, expand_dims, mean, where
from ...ops import sum as reduce_sum
from .base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """The mean over all steps of a sequence, per channel; masked steps are left out.

    Shapes: (batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with
    ``keepdims=True`` (channels_first: (batch, channels, steps) -> (batch, channels)).
    With a mask (batch, steps) (e.g. from ``Embedding(mask_zero=True)``), the mean
    is over the unmasked steps only; the output carries no mask.

    Args:
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        keepdims: whether to keep the steps axis with size 1.

    Returns (when called):
        A tensor of shape (batch, channels) (or with the kept axis).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        axis = self.spatial_axes[0]
        if mask is None:
            return mean(inputs, axis=axis, keepdims=self.keepdims)
        keep = expand_dims(cast(mask, "bool"), 2 if self.data_format == "channels_last" else 1)
        total = reduce_sum(where(keep, inputs, 0.0), axis=axis, keepdims=self.keepdims)
        count = reduce_sum(cast(keep, inputs.dtype), axis=axis, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs, previous_mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """The mean over height and width, per channel.

    Shapes: (batch, height, width, channels) -> (batch, channels), or (batch, 1, 1, channels)
    with ``keepdims=True`` (channels_first: (batch, channels, height, width) -> (batch, channels)).

    Args:
        data_format: "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).
        keepdims: whether to keep the spatial axes with size 1.

    Returns (when called):
        A tensor of shape (batch, channels) (or with the kept axes).
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(pool_dimensions=2, data_format=data_format, keepdims=keepdims, **kwargs)

    def call(self, inputs):
        return mean(inputs, axis=self.spatial_axes, keepdims=self.keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
