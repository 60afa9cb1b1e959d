"""``MixUp``: blend each image (and its label) with another of the batch (Keras's ``keras.layers.MixUp``)."""

from __future__ import annotations

import numpy

from ... import ops
from ._mixing import MixingAugmentation, numpy_of


class MixUp(MixingAugmentation):
    """MixUp (Zhang et al., 2018): ``w * x + (1 - w) * x[perm]`` with ``w ~ Beta(alpha, alpha)`` per image.

    The permutation of the batch is random; labels (in a ``{"images", "labels"}`` input) mix with
    the same weights.

    Args:
        alpha: the Beta distribution's parameter (default 0.2).
        seed: an int for a layer-owned generator.

    Input/output: images ``(B, H, W, C)`` (channels_first ``(B, C, H, W)``) or a dict
    ``{"images": ..., "labels": (B, classes)}``; same shapes.
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha <= 0:
            raise ValueError(f"MixUp: `alpha` must be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha

    def _draw(self, images):
        b = images.shape[0]
        rng = self._rng(images.device)
        order = rng.permutation(b).astype("int64")
        weight = rng.beta(self.alpha, self.alpha, size=b).astype(self.dtype)
        return {"mix_weight": weight, "permutation_order": order}

    def _augment(self, images, params):
        order = ops.convert_to_tensor(numpy.asarray(numpy_of(params["permutation_order"]), dtype="int64"))
        weight = numpy.asarray(numpy_of(params["mix_weight"]), dtype=self.dtype).reshape(-1, 1, 1, 1)
        weight = ops.convert_to_tensor(weight)
        return weight * images + (1.0 - weight) * ops.take(images, order, axis=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}
