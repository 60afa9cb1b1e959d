"""``CutMix``: paste a patch of another image of the batch into each image (Keras's ``keras.layers.CutMix``)."""

from __future__ import annotations

import numpy

from ... import ops
from ._mixing import MixingAugmentation, numpy_of
from .random_color import _factor_pair, _uniform


class CutMix(MixingAugmentation):
    """CutMix (Yun et al., 2019), with Keras's draws.

    Per batch ``alpha`` is uniform in ``factor`` (+1e-6); per image ``lam ~ Beta(alpha, alpha)``
    and a box of sides ``sqrt(1 - lam)`` times the image's, placed uniformly, is filled from the
    image at a random permutation of the batch. Labels mix with weight ``1 - box area / image
    area`` (the kept fraction). Unbatched images pass unchanged.

    Args:
        factor: a number in [0, 1] (``alpha`` in [0, factor]) or a pair (default 1.0).
        seed: an int for a layer-owned generator.

    Input/output: images ``(B, H, W, C)`` (channels_first ``(B, C, H, W)``) or a dict
    ``{"images": ..., "labels": (B, classes)}``; same shapes.
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(self, factor, 0.0, 1.0)

    def _draw(self, images):
        b, h, w, c = images.shape
        rng = self._rng(images.device)
        alpha = float(_uniform(self, images, (), *self.factor)) + 1e-6
        lam = rng.beta(alpha, alpha, size=b).astype(self.dtype)
        ratio = numpy.sqrt(1.0 - lam)

        def bounds(length):
            crop = ratio * length
            start = _uniform(self, images, (b,), 0.0, 1.0) * (length - crop)
            return start, start + crop

        x0, x1 = bounds(w)
        y0, y1 = bounds(h)
        gy, gx = numpy.meshgrid(numpy.arange(h, dtype=self.dtype), numpy.arange(w, dtype=self.dtype), indexing="ij")
        gy, gx = gy[None, :, :, None], gx[None, :, :, None]
        x0, x1, y0, y1 = (v[:, None, None, None] for v in (x0, x1, y0, y1))
        inside = (gx >= x0) & (gx < x1) & (gy >= y0) & (gy < y1)
        weight = (1.0 - (x1 - x0) * (y1 - y0) / (w * h)).astype(self.dtype)
        order = rng.permutation(b).astype("int64")
        return {"permutation_order": order, "batch_masks": numpy.repeat(inside, c, axis=-1), "mix_weight": weight}

    def _augment(self, images, params):
        order = ops.convert_to_tensor(numpy.asarray(numpy_of(params["permutation_order"]), dtype="int64"))
        masks = ops.convert_to_tensor(numpy.asarray(numpy_of(params["batch_masks"]), dtype=bool))
        return ops.where(masks, ops.take(images, order, axis=0), images)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}
