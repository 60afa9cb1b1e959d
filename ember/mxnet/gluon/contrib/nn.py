"""``gluon.contrib.nn``: ``Concurrent`` / ``HybridConcurrent`` (children on one input, outputs concatenated),
``Identity`` and ``PixelShuffle1D/2D``."""

from __future__ import annotations

import ember

from ...ndarray import _nd
from ..block import Block, HybridBlock
from ..nn import Sequential


class Concurrent(Sequential):
    """Every child on the same input; their outputs concatenated along ``axis``."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        return _nd(ember.concatenate([block(x) for block in self._children.values()], axis=self.axis))


class HybridConcurrent(Concurrent, HybridBlock):
    """Concurrent as a HybridBlock (hybridize() traces it)."""

    forward = Concurrent.forward


class Identity(HybridBlock):
    """Its input, unchanged (a branch of a Concurrent)."""

    def forward(self, x):
        return x


class PixelShuffle2D(HybridBlock):
    """(N, C * f1 * f2, H, W) -> (N, C, H * f1, W * f2), MXNet's channel order."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self._factors = (int(factor),) * 2 if isinstance(factor, int) else tuple(int(f) for f in factor)

    def forward(self, x):
        f1, f2 = self._factors
        n, c, h, w = x.shape
        y = ember.reshape(x, (n, c // (f1 * f2), f1, f2, h, w))
        y = ember.transpose(y, (0, 1, 4, 2, 5, 3))
        return _nd(ember.reshape(y, (n, c // (f1 * f2), h * f1, w * f2)))


class PixelShuffle1D(HybridBlock):
    """(N, C * f, W) -> (N, C, W * f)."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self._factor = int(factor)

    def forward(self, x):
        f = self._factor
        n, c, w = x.shape
        y = ember.transpose(ember.reshape(x, (n, c // f, f, w)), (0, 1, 3, 2))
        return _nd(ember.reshape(y, (n, c // f, w * f)))


__all__ = ["Block", "Concurrent", "HybridConcurrent", "Identity", "PixelShuffle1D", "PixelShuffle2D"]
