"""``BaseImageAugmentation``: what the random image layers share (seeding, training switch, layouts)."""

from __future__ import annotations

from ... import ops
from ...engine.random import Generator
from ..layer import Layer
from ._image_transform import FILL_MODES, INTERPOLATIONS, affine_transform


class BaseImageAugmentation(Layer):
    """Base of RandomFlip/Rotation/Zoom/Translation: random in training, identity otherwise.

    As in Keras 3, a direct call ``layer(images)`` outside a model trains (augments);
    inside ``fit`` it augments and in ``predict``/``evaluate`` it returns the images
    unchanged (cast to the layer's float dtype). Images are ``(H, W, C)`` or
    ``(B, H, W, C)`` (``data_format="channels_first"``: ``(B, C, H, W)``), each
    image gets its own random draw, and the work is vectorised over the batch.

    Args:
        seed: an int gives the layer its own ``ember.random.Generator`` (same seed, same
            sequence of augmentations); None uses the process-wide generator
            (``ember.utils.set_random_seed``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__}: `data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: {data_format!r}"
            )
        self.seed = seed
        self.data_format = data_format
        self.generator = Generator(seed) if seed is not None else None
        self.supports_masking = False

    def _check_modes(self, fill_mode, interpolation):
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {FILL_MODES}.")
        if interpolation not in INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {INTERPOLATIONS}.")

    def _rng(self, device):
        """The generator of this layer's random parameters: on the host whatever the images' ``device``.

        The parameters are a few numbers per image, laid out with NumPy; the ops that apply them to the
        images copy them to the images' device (one explicit transfer per batch).
        """
        from ...backend.device import CPU
        from ...engine.random import default_generator

        return (self.generator or default_generator()).for_device(CPU)

    def call(self, inputs, training=True):
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected images of rank 3 (H, W, C) or 4 (B, H, W, C), "
                f"got shape {tuple(inputs.shape)}"
            )
        images = inputs if inputs.dtype == self.dtype else ops.cast(inputs, self.dtype)
        if training is False:
            return images
        unbatched = images.ndim == 3
        if unbatched:
            images = ops.expand_dims(images, 0)
        if self.data_format == "channels_first":
            images = ops.transpose(images, (0, 2, 3, 1))
        out = self._augment(images, self._draw(images))
        if self.data_format == "channels_first":
            out = ops.transpose(out, (0, 3, 1, 2))
        return ops.squeeze(out, 0) if unbatched else out

    def _draw(self, images):
        """The random parameters for a channels-last batch (one entry per image)."""
        raise NotImplementedError

    def _augment(self, images, params):
        """Apply drawn ``params`` to a channels-last batch; tests call it with chosen params."""
        raise NotImplementedError

    def _affine(self, images, transform):
        return affine_transform(images, transform, self.interpolation, self.fill_mode, self.fill_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


def parse_factor(factor, name, cls, low=-1.0, high=1.0, open_low=False):
    """A factor ``f`` -> ``(-|f|, |f|)``; a pair -> sorted; each within ``[low, high]``."""
    msg = (
        f"{cls}: the `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{low}, {high}]. Received: {name}={factor}"
    )

    def check(v):
        if v > high or v < low or (open_low and v <= low):
            raise ValueError(msg)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0])
        check(factor[1])
        return tuple(sorted(float(f) for f in factor))
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return (-abs(float(factor)), abs(float(factor)))
    raise ValueError(msg)
