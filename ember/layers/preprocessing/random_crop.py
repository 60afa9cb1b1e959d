"""``RandomCrop``: a random ``height x width`` window of each batch while training."""

from __future__ import annotations

import numpy

from ...engine.random import Generator, default_generator
from ..layer import Layer
from ._resize import aspect_crop_box, resize_images
from .resizing import channels_last_batch, data_format_of, resized_shape


class RandomCrop(Layer):
    """Random crop, as ``keras.layers.RandomCrop``.

    While training, one window position is drawn per batch (uniformly among the
    positions that fit); for an input no larger than the target on an axis, the
    window starts at the corner of the centred box of the target's aspect ratio,
    is clipped by the image and resized (bilinear), as Keras does.
    At inference the images pass unchanged, as in Keras 3.

    Shapes: (batch, H, W, C) or (H, W, C) -> (batch, height, width, C) while training.

    Args:
        height, width: the output size.
        seed: an int for a layer-owned generator, or None for the process-wide one.
        data_format: "channels_last" or "channels_first".
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.height = int(height)
        self.width = int(width)
        self.seed = seed
        self.generator = Generator(seed) if seed is not None else None
        self.data_format = data_format_of("RandomCrop", data_format)
        self.supports_masking = False
        self.built = True

    def call(self, inputs, training=True):
        if not training:
            return inputs
        images, restore = channels_last_batch(self, inputs)
        h, w = images.shape[1], images.shape[2]
        if h > self.height and w > self.width:
            rng = (self.generator or default_generator()).for_device(images.device)
            top = int(numpy.floor(float(rng.uniform(0, h - self.height + 1))))
            left = int(numpy.floor(float(rng.uniform(0, w - self.width + 1))))
            out = images[:, top : top + self.height, left : left + self.width, :]
        else:  # Keras slices the target size from the aspect box's corner (clipped by the image), then resizes
            top, left, _, _ = aspect_crop_box(h, w, self.height, self.width)
            out = images[:, top : top + self.height, left : left + self.width, :]
        if out.shape[1] != self.height or out.shape[2] != self.width:
            out = resize_images(out, (self.height, self.width), "bilinear")
        return restore(out)

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }
