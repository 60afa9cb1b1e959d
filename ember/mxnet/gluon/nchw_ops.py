"""MXNet's ``Convolution``, ``Deconvolution``, ``Pooling``, ``InstanceNorm`` and PReLU in its channels-first
layout, on Ember's channels-last ops.

Shared by the Gluon layers (``nn.Conv1D/2D``, ``nn.MaxPool*``/``AvgPool*``) and by ``SymbolBlock.imports`` of
real MXNet symbol graphs, so both compute the same numbers.

- ``convolution``: ``groups`` > 1 (MXNet's ``num_group``) cuts the input channels and the kernels into that many
  groups, convolves each pair and concatenates the results along the channels (weight
  ``(channels, in_channels // groups, *kernel)``, as MXNet); a 2-D depthwise convolution (``groups`` equal to
  the input channels) is one ``ember.depthwise_conv2d``.
- ``pooling``: ``ceil_mode=True`` (MXNet's ``pooling_convention='full'``) gives
  ``1 + ceil((L + 2 * pad - k) / stride)`` outputs per axis instead of the floor: the last windows reach past the
  input's end, where max pooling sees nothing and average pooling divides by the cells a window covers inside
  the padded input (``count_include_pad=True``) or inside the input itself (``False``), as MXNet's kernels do.
"""

from __future__ import annotations

import math

import numpy as np

import ember


def convolution(x, weight, bias=None, strides=(1,), padding=(0,), dilation=(1,), groups=1, where="Convolution"):
    """``x`` (N, C, *spatial) convolved with ``weight`` (O, C // groups, *kernel) plus ``bias`` (O,).

    One or two spatial axes. Raises ValueError naming ``where`` when the channels and groups do not fit.
    """
    n = weight.ndim - 2
    groups = int(groups)
    channels, out_channels = x.shape[1], weight.shape[0]
    if groups < 1 or channels % groups or out_channels % groups or weight.shape[1] * groups != channels:
        raise ValueError(
            f"{where}: expected input channels = groups * weight.shape[1] with both channel counts divisible by "
            f"groups; got input {tuple(x.shape)}, weight {tuple(weight.shape)}, groups={groups}"
        )
    if any(padding):
        x = ember.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    x = ember.moveaxis(x, 1, -1)  # channels last
    kernel = ember.transpose(weight, tuple(range(2, 2 + n)) + (1, 0))  # (*kernel, in, out)

    def conv(a, k):
        if n == 1:
            return ember.conv1d(a, k, strides[0], "valid", dilation[0])
        return ember.conv2d(a, k, tuple(strides), "valid", tuple(dilation))

    if groups == 1:
        out = conv(x, kernel)
    elif n == 2 and groups == channels:  # depthwise: one op (Ember's channel order c * multiplier + m is MXNet's)
        mult = out_channels // channels
        depthwise = ember.transpose(ember.reshape(weight, (channels, mult) + tuple(weight.shape[2:])), (2, 3, 0, 1))
        out = ember.depthwise_conv2d(x, depthwise, tuple(strides), "valid", tuple(dilation))
    else:
        pieces = zip(ember.split(x, groups, axis=-1), ember.split(kernel, groups, axis=-1))
        out = ember.concatenate([conv(a, k) for a, k in pieces], axis=-1)
    if bias is not None:
        out = out + bias
    return ember.moveaxis(out, -1, 1)


def convolution_transpose(x, weight, bias, strides, padding, output_padding, dilation):
    """MXNet's Deconvolution: ``x`` (N, C, *spatial), ``weight`` (C, O, *kernel), one or two spatial axes; output
    ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1`` per axis."""
    n = weight.ndim - 2
    strides, dilation = tuple(strides), tuple(dilation)
    if n == 1:  # as a 2-D transposed convolution over (1, W)
        x, weight = ember.expand_dims(x, 2), ember.expand_dims(weight, 2)
        strides, dilation = (1,) + strides, (1,) + dilation
    kernel = ember.transpose(weight, (2, 3, 1, 0))  # (kh, kw, out, in): Ember's (Keras's) layout
    out = ember.conv2d_transpose(ember.moveaxis(x, 1, -1), kernel, strides, "valid", 0, dilation)
    out = ember.moveaxis(out, -1, 1)  # every cell that gets a contribution: (L - 1) * s + d * (k - 1) + 1
    if n == 1:
        out = ember.squeeze(out, 2)
    # MXNet's size: drop `padding` cells at both ends, then `output_padding` more cells at the end (zeros where
    # no kernel tap reaches)
    crops, pads = [], []
    for axis, (p, extra) in enumerate(zip(padding, output_padding)):
        full = out.shape[2 + axis]
        stop = full - p + extra
        crops.append(slice(p, min(stop, full)))
        pads.append((0, max(0, stop - full)))
    out = out[(slice(None), slice(None)) + tuple(crops)]
    if any(after for _, after in pads):
        out = ember.pad(out, ((0, 0), (0, 0)) + tuple(pads))
    if bias is not None:
        out = out + ember.reshape(bias, (1, -1) + (1,) * n)
    return out


def instance_norm(x, gamma, beta, axis=1, epsilon=1e-5):
    """Each example's channel (``axis``) normalised over the other non-batch axes, then ``* gamma + beta``."""
    axis = axis % x.ndim
    reduce = tuple(a for a in range(1, x.ndim) if a != axis)
    mean = ember.mean(x, axis=reduce, keepdims=True)
    centered = x - mean
    var = ember.mean(centered * centered, axis=reduce, keepdims=True)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    gamma, beta = ember.reshape(gamma, tuple(shape)), ember.reshape(beta, tuple(shape))
    return centered / ember.sqrt(var + epsilon) * gamma + beta


def prelu(x, alpha):
    """``x`` where x > 0, else ``alpha * x``; ``alpha`` (C,) per channel on axis 1, or (1,) for all."""
    if alpha.shape[0] != 1 and x.ndim > 1:
        alpha = ember.reshape(alpha, (1, -1) + (1,) * (x.ndim - 2))
    return ember.where(x > 0, x, x * alpha)


def pooling(x, kind, size, strides, padding, ceil_mode=False, count_include_pad=True):
    """Max (``kind='max'``) or average pooling of ``x`` (N, C, *spatial), one or two spatial axes."""
    n = len(size)
    spatial = x.shape[2:]
    outs, extra = [], []
    for length, k, s, p in zip(spatial, size, strides, padding):
        span = length + 2 * p - k
        if span < 0:
            raise ValueError(
                f"Pooling: window {tuple(size)} with padding {tuple(padding)} is larger than the input {tuple(spatial)}"
            )
        out = 1 + (math.ceil(span / s) if ceil_mode else span // s)
        outs.append(out)
        extra.append(max(0, (out - 1) * s + k - (length + 2 * p)))  # cells past the padded end (ceil_mode)
    if any(padding) or any(extra):
        fill = float(np.finfo(x.data.dtype).min) if kind == "max" else 0.0
        pads = tuple((p, p + e) for p, e in zip(padding, extra))
        x = ember.pad(x, ((0, 0), (0, 0)) + pads, constant_values=fill)
    x = ember.moveaxis(x, 1, -1)
    if n == 1:
        fn = ember.max_pool1d if kind == "max" else ember.avg_pool1d
        out = fn(x, size[0], strides[0], "valid")
    else:
        fn = ember.max_pool2d if kind == "max" else ember.avg_pool2d
        out = fn(x, tuple(size), tuple(strides), "valid")
    out = ember.moveaxis(out, -1, 1)
    if kind != "max" and (any(extra) or (any(padding) and not count_include_pad)):
        out = out * _average_rescale(spatial, size, strides, padding, outs, count_include_pad, out.dtype)
    return out


def _average_rescale(spatial, size, strides, padding, outs, count_include_pad, dtype):
    """(1, 1, *out) factors turning a mean over the full window into MXNet's mean over the cells it counts."""
    factor = np.ones((1, 1) + tuple(outs), dtype=np.float64)
    for axis, (length, k, s, p, o) in enumerate(zip(spatial, size, strides, padding, outs)):
        lo, hi = (0, length + 2 * p) if count_include_pad else (p, p + length)
        starts = np.arange(o) * s
        counted = np.maximum(np.minimum(starts + k, hi) - np.maximum(starts, lo), 1)
        shape = [1] * (2 + len(outs))
        shape[2 + axis] = o
        factor = factor * (k / counted).reshape(shape)
    return factor.astype(dtype)
