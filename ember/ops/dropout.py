"""Dropout: zero a random fraction of the units while training, scale up the rest.

Inverted dropout, as Keras does it: each unit is kept with probability
``1 - rate`` and kept units are multiplied by ``1 / (1 - rate)``, so the
expected value of every unit is unchanged and inference needs no rescaling.
The mask comes from Ember's seeded generators (:mod:`ember.engine.random`):
``seed=None`` draws from the process-wide stream that ``ember.random.seed(n)``
resets, an int gives the same mask on every call.
"""

from __future__ import annotations

import numbers

import numpy

from ..backend import jit
from ..engine.dtypes import is_floating
from ..engine.function import Function
from ..engine.random import _rng, note_redraw

__all__ = ["dropout"]


class Dropout(Function):
    """y = x * mask, with ``mask`` holding 0 or ``1 / (1 - rate)``.

    Shapes: x (...); mask broadcasts to x (the noise shape, same rank, with 1
    where one draw is shared along an axis); y like x. The gradient is
    ``g * mask``: the same units are dropped and the same scale applies.
    """

    graph_saved = {}  # create_graph: the mask is a constant of the backward

    def forward(self, x, *, mask):
        self.mask = mask
        return x * mask

    def backward(self, g):
        return g * self.mask


def dropout(x, rate, training=True, noise_shape=None, seed=None):
    """Randomly set a fraction ``rate`` of the units of ``x`` to 0 and scale the rest by ``1 / (1 - rate)``.

    Args:
        x: a float tensor.
        rate: the fraction of units to drop, in ``[0, 1)``.
        training: when False, ``x`` is returned unchanged (as is the case for ``rate == 0``).
        noise_shape: the shape of the random mask, of x's rank; an entry of
            ``None`` takes x's size along that axis, an entry of 1 shares one
            draw along that axis (Keras semantics), e.g. ``(batch, 1, features)``
            drops the same features at every time step.
        seed: None (the process-wide generator), an int (a fresh generator from
            it: the same mask every call) or an ``ember.random.Generator``.

    Returns:
        A tensor of x's shape and dtype.
    """
    from ..engine.tensor import Tensor

    if isinstance(rate, Tensor):
        rate = rate.item()
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"dropout: rate must be a float in [0, 1), got {type(rate).__name__}")
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if not is_floating(x.dtype):
        raise TypeError(f"dropout: expected a float tensor, got dtype {x.dtype}")
    shape = _noise_shape(x.shape, noise_shape)
    if not training or rate == 0.0:
        return x
    draw = MaskDraw(seed, shape, rate, x.dtype)
    mask = draw(x.device)
    note_redraw("mask", draw)  # a compiled step draws each step's mask the same way
    return Dropout.apply(x, mask=mask)


class MaskDraw:
    """How a dropout mask is drawn: ``draw(device)`` gives a new one from the same generator.

    The mask (of ``shape``, in x's ``dtype``) holds 0 with probability
    ``rate`` and ``1 / (1 - rate)`` elsewhere, from a uniform draw in float32
    (float64 for float64 inputs).
    """

    __slots__ = ("seed", "shape", "rate", "dtype")

    def __init__(self, seed, shape, rate, dtype):
        self.seed, self.shape, self.rate, self.dtype = seed, tuple(shape), rate, dtype

    def __call__(self, device):
        xp = device.xp
        draw_dtype = "float64" if self.dtype == xp.float64 else "float32"
        uniform = _rng(self.seed, device).random(self.shape, dtype=draw_dtype)
        scale = self.dtype.type(1.0 / (1.0 - self.rate))
        # keep with probability 1 - rate: P(u >= rate) = 1 - rate for u ~ U[0, 1)
        if type(uniform) is numpy.ndarray and uniform.size >= KERNEL_MIN_SIZE and self.dtype in _KERNEL_DTYPES:
            kernel = _mask_from_uniform.compiled()
            if kernel is not None:  # one pass instead of three (compare, cast, scale): the same values
                mask = numpy.empty(self.shape, dtype=self.dtype)
                kernel(uniform.reshape(-1), uniform.dtype.type(self.rate), scale, mask.reshape(-1))
                return mask
        mask = (uniform >= self.rate).astype(self.dtype)
        mask *= scale
        return mask


# A mask of at least this many cells is made by the kernel (below, NumPy's three calls cost little and numba's first
# use ~100 MiB of memory); tests lower it.
KERNEL_MIN_SIZE = 1 << 15
_KERNEL_DTYPES = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


@jit.kernel
def _mask_from_uniform(uniform, rate, scale, mask):
    # mask <- scale where uniform >= rate, else 0: (uniform >= rate).astype(dtype) * scale (rate in uniform's dtype,
    # as NumPy compares a float32 array with a Python float)
    for i in range(uniform.shape[0]):
        mask[i] = scale if uniform[i] >= rate else 0


def _noise_shape(shape, noise_shape):
    """The concrete mask shape: ``noise_shape`` with None entries filled from ``shape``, checked."""
    if noise_shape is None:
        return tuple(shape)
    noise_shape = tuple(noise_shape)
    if len(noise_shape) != len(shape):
        raise ValueError(
            f"dropout: noise_shape {noise_shape} must have one entry per axis of the input of shape {tuple(shape)}"
        )
    concrete = tuple(int(n) if d is None else int(d) for d, n in zip(noise_shape, shape))
    for d, n in zip(concrete, shape):
        if d != n and d != 1:
            raise ValueError(
                f"dropout: noise_shape {noise_shape} does not broadcast to the input of shape {tuple(shape)}; "
                "each entry must be None, 1 or the input's size along that axis"
            )
    return concrete
