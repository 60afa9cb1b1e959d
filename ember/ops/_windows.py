"""Sliding-window helpers shared by convolution and pooling (channels-last layout).

Every windowed op here works on 2-D spatial data ``(batch, height, width,
channels)``; 1-D ops add a height axis of size 1, which costs nothing (a view).

Conventions, per spatial axis:

- ``k`` is the window size, ``d`` its dilation, ``k_eff = (k - 1) * d + 1``
  the span it covers, ``s`` the stride.
- ``"valid"``: no padding, ``out = (n - k_eff) // s + 1``.
- ``"same"`` (TensorFlow/Keras): ``out = ceil(n / s)``; the total padding
  ``max((out - 1) * s + k_eff - n, 0)`` is split with the extra cell at the end
  (bottom/right).
- Window offset ``a`` of output cell ``o`` reads input cell ``o * s + a * d``
  (in padded coordinates); :func:`offset_slice` is that set of cells for all
  ``o`` at once, a strided slice, so ops loop over the ``k`` offsets only.
"""

from __future__ import annotations

import numbers

PADDINGS = ("valid", "same")


def as_tuple(op: str, name: str, value, n: int, minimum: int = 1) -> tuple:
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints >= ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
        if len(values) != n or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        values = tuple(int(v) for v in values)
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return values


def check_padding(op: str, padding) -> str:
    """``padding`` lower-cased, or a ValueError naming the accepted values."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in PADDINGS:
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    return mode


def check_rank(op: str, what: str, shape: tuple, rank: int, layout: str) -> None:
    if len(shape) != rank:
        raise ValueError(f"{op}: expected {what} of rank {rank} {layout}, got shape {tuple(shape)}")


def output_and_pads(op: str, mode: str, n: int, k: int, s: int, d: int) -> tuple:
    """``(out, pad_before, pad_after)`` for one spatial axis of size ``n``."""
    k_eff = (k - 1) * d + 1
    if mode == "same":
        out = -(-n // s)
        total = max((out - 1) * s + k_eff - n, 0)
        return out, total // 2, total - total // 2
    if n < k_eff:
        raise ValueError(
            f"{op}: window of size {k} (dilated to {k_eff}) is larger than the input size {n} "
            "with padding 'valid'; use padding='same' or a smaller window"
        )
    return (n - k_eff) // s + 1, 0, 0


def spatial_geometry(op: str, mode: str, in_hw, k_hw, s_hw, d_hw) -> tuple:
    """Output sizes and pads for the two spatial axes: ``((oh, ow), ((top, bottom), (left, right)))``."""
    (oh, t, b), (ow, left, r) = (output_and_pads(op, mode, n, k, s, d) for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw))
    return (oh, ow), ((t, b), (left, r))


def pad_spatial(xp, x, pads, value=0):
    """``x`` (N, H, W, C) padded on H and W by ``pads`` with ``value``; ``x`` itself when no padding."""
    (t, b), (left, r) = pads
    if not (t or b or left or r):
        return x
    n, h, w, c = x.shape
    out = xp.empty((n, h + t + b, w + left + r, c), dtype=x.dtype)
    if value == 0:
        out[...] = 0
    else:
        out[:, :t] = value
        out[:, h + t :] = value
        out[:, t : h + t, :left] = value
        out[:, t : h + t, w + left :] = value
    out[:, t : h + t, left : w + left] = x
    return out


def offset_slice(a: int, d: int, s: int, out: int) -> slice:
    """The input cells that window offset ``a`` reads for ``out`` output cells."""
    start = a * d
    return slice(start, start + (out - 1) * s + 1, s)


def window_view(xp, x, out_hw, k_hw, s_hw, d_hw):
    """A strided view ``(N, OH, OW, KH, KW, C)`` of the windows of padded ``x`` (no copy; never write to it)."""
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    shape = (n, out_hw[0], out_hw[1], k_hw[0], k_hw[1], c)
    strides = (sn, sh * s_hw[0], sw * s_hw[1], sh * d_hw[0], sw * d_hw[1], sc)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def as_2d_input(x):
    """A 1-D channels-last array (N, W, C) viewed as (N, 1, W, C); 2-D arrays unchanged."""
    return x[:, None] if x.ndim == 3 else x
