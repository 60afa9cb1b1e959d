"""``MaxNumBoundingBoxes``: pad or cut each batch's boxes to a fixed count (``keras.layers.MaxNumBoundingBoxes``)."""

from __future__ import annotations

import numpy

from ... import ops
from ..layer import Layer


class MaxNumBoundingBoxes(Layer):
    """Give every sample exactly ``max_number`` boxes, so box batches have a fixed shape.

    Boxes beyond ``max_number`` are dropped; missing ones are filled with ``fill_value``
    (boxes and labels alike). Images and everything else pass through unchanged.

    Args:
        max_number: the number of boxes per sample.
        fill_value: the value of the padding boxes and labels (default -1).
        bounding_box_format: the boxes' format ("xyxy", "yxyx", "xywh", ...); required, as in Keras,
            when the input has boxes (the layer does not depend on it).

    Input/output: a dict ``{"images": ..., "bounding_boxes": {"boxes": (B, N, 4), "labels": (B, N)}}``
    -> the same dict with boxes ``(B, max_number, 4)`` and labels ``(B, max_number)``; a bare
    images tensor comes back unchanged.
    """

    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)
        if self.max_number < 1:
            raise ValueError(f"MaxNumBoundingBoxes: `max_number` must be >= 1. Received: max_number={max_number}")

    def _fit(self, x, trailing):
        x = ops.convert_to_tensor(x)
        x = x[:, : self.max_number]
        pad = max(self.max_number - int(x.shape[1]), 0)
        if pad:
            x = ops.pad(x, [[0, 0], [0, pad]] + [[0, 0]] * trailing, constant_values=self.fill_value)
        return x

    def call(self, inputs, training=True):
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs
        if self.bounding_box_format is None:
            raise ValueError(
                f"You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding box format. "
                f"Pass a `bounding_box_format` argument to your {type(self).__name__} layer, e.g. "
                "`bounding_box_format='xyxy'`."
            )
        boxes = dict(inputs["bounding_boxes"])
        extra = sorted(set(boxes) - {"boxes", "labels"})
        if extra:
            raise KeyError(
                f"There are unsupported keys in `bounding_boxes`: {extra}. Only `boxes` and `labels` are supported."
            )
        if numpy.ndim(boxes["boxes"]) != 3 or numpy.shape(boxes["boxes"])[-1] != 4:
            raise ValueError(
                f"MaxNumBoundingBoxes '{self.name}': expected boxes of shape (batch, boxes, 4), got "
                f"{tuple(numpy.shape(boxes['boxes']))}"
            )
        boxes["boxes"] = self._fit(boxes["boxes"], 1)
        boxes["labels"] = self._fit(boxes["labels"], 0)
        out = dict(inputs)
        out["bounding_boxes"] = boxes
        return out

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, dict) and "bounding_boxes" in input_shape:
            shapes = dict(input_shape["bounding_boxes"])
            shapes["boxes"] = (shapes["boxes"][0], self.max_number, *shapes["boxes"][2:])
            shapes["labels"] = (shapes["labels"][0], self.max_number)
            return {**input_shape, "bounding_boxes": shapes}
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "max_number": self.max_number,
            "fill_value": self.fill_value,
            "bounding_box_format": self.bounding_box_format,
        }
