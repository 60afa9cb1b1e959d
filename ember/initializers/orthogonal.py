"""``Orthogonal``: a (semi-)orthogonal matrix from the QR decomposition of a normal sample."""

from __future__ import annotations

import math

from ..backend.config import floatx
from ..engine import random as _random
from ..engine.tensor import Tensor
from .base import register
from .random import RandomInitializer, _shape


@register("OrthogonalInitializer")
class Orthogonal(RandomInitializer):
    """A weight whose rows or columns are orthonormal, times ``gain`` (Saxe et al., 2014).

    The shape is seen as a matrix ``(prod(shape[:-1]), shape[-1])``: a normal
    sample of the taller orientation is factored as Q R, the columns of Q are
    given the signs of R's diagonal (so Q is uniformly distributed), and Q is
    transposed back when the matrix is wide. The orthonormal vectors are the
    shorter side: the columns of a tall matrix, the rows of a wide one.

    Args:
        gain: the factor applied to the orthogonal matrix.
        seed: None, an int or an ``ember.random.Generator`` (see ``ember.initializers.RandomNormal``).
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None) -> Tensor:
        """A tensor of ``shape`` (rank >= 2; dtype ``floatx()`` unless given)."""
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer: expected a shape of rank >= 2, got shape={shape}")
        dtype = dtype or floatx()
        rows, cols = math.prod(shape[:-1]), shape[-1]
        # LAPACK factors float32 and float64 only: half-precision results are factored in float32
        work = dtype if str(dtype) in ("float32", "float64") else "float32"
        sample = _random.normal((max(rows, cols), min(rows, cols)), dtype=work, seed=self.seed)
        # QR has no op (it is not differentiated): factor the raw array on the sample's own device
        xp = sample.device.xp
        q, r = xp.linalg.qr(sample.data)
        q = q * xp.sign(xp.diagonal(r))
        if rows < cols:
            q = q.T
        q = xp.ascontiguousarray(q.reshape(shape)).astype(dtype, copy=False)
        if self.gain != 1:
            q *= self.gain
        return Tensor._wrap(q)

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}
