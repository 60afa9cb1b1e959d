"""What MixUp and CutMix share: a call that takes images or ``{"images", "labels"}`` and mixes both."""

from __future__ import annotations

import numpy

from ... import ops
from .base_augmentation import BaseImageAugmentation


def numpy_of(x):
    return x.numpy() if hasattr(x, "numpy") else numpy.asarray(x)


class MixingAugmentation(BaseImageAugmentation):
    """Base of layers that mix each image with another of the batch (and their labels alike).

    ``layer(images)`` mixes the images; ``layer({"images": x, "labels": y})`` returns the same
    dict with both mixed by one draw (labels ``(B, classes)``, one-hot or soft). At inference the
    input comes back unchanged (images cast to the layer's dtype).
    """

    def call(self, inputs, training=True):
        if not isinstance(inputs, dict):
            return super().call(inputs, training=training)
        unknown = sorted(set(inputs) - {"images", "labels"})
        if "images" not in inputs or unknown:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected images or a dict with 'images' (and optionally "
                f"'labels'); got keys {sorted(inputs)} (bounding boxes and segmentation masks are not supported)"
            )
        images = ops.convert_to_tensor(inputs["images"])
        if images.ndim != 4:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': dict inputs need a batch of images (B, H, W, C), got shape "
                f"{tuple(images.shape)}"
            )
        images = images if images.dtype == self.dtype else ops.cast(images, self.dtype)
        out = dict(inputs)
        if training is False:
            out["images"] = images
            return out
        channels_last = images if self.data_format == "channels_last" else ops.transpose(images, (0, 2, 3, 1))
        params = self._draw(channels_last)
        mixed = self._augment(channels_last, params)
        out["images"] = mixed if self.data_format == "channels_last" else ops.transpose(mixed, (0, 3, 1, 2))
        if "labels" in inputs:
            labels = ops.convert_to_tensor(inputs["labels"])
            out["labels"] = self._mix_labels(ops.cast(labels, self.dtype), params)
        return out

    def _mix_labels(self, labels, params):
        """``w * labels + (1 - w) * labels[permutation]`` with each image's weight ``w``."""
        order = numpy.asarray(numpy_of(params["permutation_order"]), dtype="int64")
        weight = ops.convert_to_tensor(numpy.asarray(numpy_of(params["mix_weight"]), dtype=self.dtype).reshape(-1, 1))
        return weight * labels + (1.0 - weight) * ops.take(labels, ops.convert_to_tensor(order), axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape
