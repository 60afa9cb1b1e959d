"""``Resizing``: resize images to a fixed height and width."""

from __future__ import annotations

from ... import ops
from ..layer import Layer
from ._resize import check_interpolation, resize_images


def channels_last_batch(layer, inputs):
    """``(images, restore)``: a channels-last float batch and the function that gives back the input's layout."""
    if inputs.ndim not in (3, 4):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': expected images of rank 3 (H, W, C) or 4 (B, H, W, C), "
            f"got shape {tuple(inputs.shape)}"
        )
    images = inputs if inputs.dtype == layer.dtype else ops.cast(inputs, layer.dtype)
    unbatched = images.ndim == 3
    if unbatched:
        images = ops.expand_dims(images, 0)
    first = layer.data_format == "channels_first"
    if first:
        images = ops.transpose(images, (0, 2, 3, 1))

    def restore(out):
        if first:
            out = ops.transpose(out, (0, 3, 1, 2))
        return ops.squeeze(out, 0) if unbatched else out

    return images, restore


def data_format_of(layer_name: str, data_format) -> str:
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer_name}: `data_format` must be 'channels_last' or 'channels_first'. Received: {data_format!r}"
        )
    return data_format


def resized_shape(input_shape, height, width, data_format):
    shape = list(input_shape)
    h_axis = -3 if data_format == "channels_last" else -2
    shape[h_axis], shape[h_axis + 1] = height, width
    return tuple(shape)


class Resizing(Layer):
    """Resize images to ``(height, width)``, as ``keras.layers.Resizing``.

    Shapes: (batch, H, W, C) or (H, W, C) -> (batch, height, width, C) (channels_first:
    (batch, C, H, W) -> (batch, C, height, width)); float outputs.

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default) or "nearest".
        crop_to_aspect_ratio: crop the largest centred box of the output's aspect ratio first.
        pad_to_aspect_ratio: pad evenly to the output's aspect ratio first (with ``fill_value``).
        fill_mode: "constant" (the only mode Keras uses for the padding).
        fill_value: the padding value.
        antialias: must be False (Ember does not antialias).
        data_format: "channels_last" or "channels_first".
    """

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if antialias:
            raise NotImplementedError("Resizing: antialias=True is not implemented in Ember; pass antialias=False")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True.")
        self.height = int(height)
        self.width = int(width)
        self.interpolation = check_interpolation("Resizing", interpolation)
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias
        self.data_format = data_format_of("Resizing", data_format)
        self.built = True

    def call(self, inputs):
        images, restore = channels_last_batch(self, inputs)
        out = resize_images(
            images,
            (self.height, self.width),
            self.interpolation,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
        )
        return restore(out)

    def compute_output_shape(self, input_shape):
        return resized_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }
