"""Channels-last (Ember/Keras) <-> channels-first (ONNX Conv/Pool) transposes and TF-style 'same' pads."""

from __future__ import annotations

import math


def to_channels_first(ctx, x: str, rank: int, data_format: str, name: str) -> str:
    """``x`` (batch, *spatial, C) as (batch, C, *spatial); unchanged when already channels-first."""
    if data_format == "channels_first":
        return x
    return ctx.transpose(x, [0, rank + 1, *range(1, rank + 1)], name=f"{name}_to_nchw")


def to_channels_last(ctx, x: str, rank: int, data_format: str, name: str) -> str:
    """The inverse of :func:`to_channels_first`."""
    if data_format == "channels_first":
        return x
    return ctx.transpose(x, [0, *range(2, rank + 2), 1], name=f"{name}_to_nhwc")


def spatial_sizes(shape, rank: int, data_format: str) -> list:
    """The spatial sizes (None where dynamic) of a Keras shape with the batch axis."""
    return list(shape[2 : 2 + rank]) if data_format == "channels_first" else list(shape[1 : 1 + rank])


def pad_attrs(padding: str, sizes, kernel, strides, dilation) -> dict:
    """ONNX ``pads`` (or ``auto_pad``) reproducing Keras's 'valid', 'same' (TF's asymmetric) and 'causal'."""
    rank = len(kernel)
    if padding == "valid":
        return {"pads": [0] * (2 * rank)}
    effective = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if padding == "causal":
        return {"pads": [effective[0] - 1, 0]}
    if any(n is None for n in sizes):
        return {"auto_pad": "SAME_UPPER"}  # the extra pad goes at the end, as TF does
    begin, end = [], []
    for n, k, s in zip(sizes, effective, strides):
        out = math.ceil(n / s)
        total = max((out - 1) * s + k - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return {"pads": begin + end}
