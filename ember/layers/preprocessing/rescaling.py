"""``Rescaling``: ``inputs * scale + offset`` (e.g. pixels 0-255 -> 0-1)."""

from __future__ import annotations

from ... import ops
from ...engine.tensor import Tensor
from ..layer import Layer


class Rescaling(Layer):
    """Multiplies inputs by ``scale`` and adds ``offset``, in the layer's float dtype.

    Shapes: any -> the same. ``scale`` and ``offset`` are numbers or arrays that
    broadcast against the inputs (e.g. one per channel).

    Args:
        scale: the multiplier (``1 / 255`` maps ``[0, 255]`` to ``[0, 1]``).
        offset: added after scaling (``scale=1 / 127.5, offset=-1`` maps to ``[-1, 1]``).
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = self.compute_dtype  # float16 under mixed_float16, as Keras
        x = ops.cast(inputs, dtype) if inputs.dtype != dtype else inputs
        scale = Tensor(self.scale, dtype=dtype) if not isinstance(self.scale, (int, float)) else self.scale
        offset = Tensor(self.offset, dtype=dtype) if not isinstance(self.offset, (int, float)) else self.offset
        return x * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": _plain(self.scale), "offset": _plain(self.offset)})
        return config


def _plain(value):
    if isinstance(value, Tensor):
        value = value.numpy()
    return value.tolist() if hasattr(value, "tolist") else value
