"""``CenterCrop``: the central ``height x width`` window of each image."""

from __future__ import annotations

from ..layer import Layer
from ._resize import resize_images
from .resizing import channels_last_batch, data_format_of, resized_shape


class CenterCrop(Layer):
    """Crop the centre of images, as ``keras.layers.CenterCrop``.

    An image smaller than the target on either axis is instead cropped to the
    target's aspect ratio and resized (bilinear), as Keras's ``smart_resize``.

    Shapes: (batch, H, W, C) or (H, W, C) -> (batch, height, width, C) (channels_first likewise).

    Args:
        height, width: the output size.
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)
        self.data_format = data_format_of("CenterCrop", data_format)
        self.built = True

    def call(self, inputs):
        images, restore = channels_last_batch(self, inputs)
        h, w = images.shape[1], images.shape[2]
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            top, left = dh // 2, dw // 2
            out = images[:, top : top + self.height, left : left + self.width, :]
        else:
            out = resize_images(images, (self.height, self.width), "bilinear", crop_to_aspect_ratio=True)
        return restore(out)

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}
