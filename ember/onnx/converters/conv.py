"""Conv1D, Conv2D (groups too), Conv2DTranspose, DepthwiseConv2D, SeparableConv2D -> ONNX Conv/ConvTranspose."""

from __future__ import annotations

import numpy as np

from ..context import weight
from ..registry import UnsupportedLayerError, register
from .activations import emit_activation
from .layout import pad_attrs, spatial_sizes, to_channels_first, to_channels_last


def _finish(ctx, layer, y: str, rank: int) -> str:
    y = to_channels_last(ctx, y, rank, layer.data_format, layer.name)
    return emit_activation(ctx, layer.activation, y, where=f"layer '{layer.name}'")


def _conv(ctx, x, w, b, layer, rank, sizes, group=1, kernel=None, strides=None, dilation=None, padding=None, name=None):
    kernel = list(kernel or layer.kernel_size)
    strides = list(strides or layer.strides)
    dilation = list(dilation or layer.dilation_rate)
    attrs = pad_attrs(padding or layer.padding, sizes, kernel, strides, dilation)
    ins = [x, ctx.const(w, f"{name}_W")] + ([ctx.const(b, f"{name}_B")] if b is not None else [])
    return ctx.op(
        "Conv", ins, name=name, kernel_shape=kernel, strides=strides, dilations=dilation, group=group, **attrs
    )


@register("Conv1D", "Conv2D", "Conv3D")
def convert_conv(ctx, layer, inputs, in_shapes, out_shapes):
    rank = layer.rank
    k = weight(layer.kernel)  # (*kernel, in/groups, filters)
    w = np.transpose(k, (rank + 1, rank, *range(rank)))  # (filters, in/groups, *kernel)
    b = weight(layer.bias) if layer.use_bias else None
    x = to_channels_first(ctx, inputs[0], rank, layer.data_format, layer.name)
    sizes = spatial_sizes(in_shapes[0], rank, layer.data_format)
    y = _conv(ctx, x, w, b, layer, rank, sizes, group=int(getattr(layer, "groups", 1)), name=layer.name)
    return [_finish(ctx, layer, y, rank)]


@register("DepthwiseConv1D", "DepthwiseConv2D")
def convert_depthwise(ctx, layer, inputs, in_shapes, out_shapes):
    rank = layer.rank
    k = weight(layer.kernel)  # (*kernel, in, multiplier)
    channels = k.shape[rank]
    w = k.reshape(*k.shape[:rank], channels * k.shape[rank + 1])  # channel c, multiplier m -> c * mult + m
    w = np.transpose(w, (rank, *range(rank)))[:, None]  # (in * mult, 1, *kernel)
    b = weight(layer.bias) if layer.use_bias else None
    x = to_channels_first(ctx, inputs[0], rank, layer.data_format, layer.name)
    sizes = spatial_sizes(in_shapes[0], rank, layer.data_format)
    y = _conv(ctx, x, w, b, layer, rank, sizes, group=channels, name=layer.name)
    return [_finish(ctx, layer, y, rank)]


@register("SeparableConv1D", "SeparableConv2D")
def convert_separable(ctx, layer, inputs, in_shapes, out_shapes):
    rank = layer.rank
    dk = weight(layer.depthwise_kernel)  # (*kernel, in, multiplier)
    pk = weight(layer.pointwise_kernel)  # (*1, in * multiplier, filters)
    channels = dk.shape[rank]
    dw = np.transpose(dk.reshape(*dk.shape[:rank], -1), (rank, *range(rank)))[:, None]
    pw = np.transpose(pk, (rank + 1, rank, *range(rank)))
    b = weight(layer.bias) if layer.use_bias else None
    x = to_channels_first(ctx, inputs[0], rank, layer.data_format, layer.name)
    sizes = spatial_sizes(in_shapes[0], rank, layer.data_format)
    y = _conv(ctx, x, dw, None, layer, rank, sizes, group=channels, name=f"{layer.name}_depthwise")
    ones = [1] * rank
    y = _conv(
        ctx,
        y,
        pw,
        b,
        layer,
        rank,
        [None] * rank,
        kernel=ones,
        strides=ones,
        dilation=ones,
        padding="valid",
        name=f"{layer.name}_pointwise",
    )
    return [_finish(ctx, layer, y, rank)]


@register("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
def convert_conv_transpose(ctx, layer, inputs, in_shapes, out_shapes):
    rank = layer.rank
    if getattr(layer, "output_padding", None) is not None:
        raise UnsupportedLayerError(
            f"ONNX export: {type(layer).__name__} '{layer.name}' with output_padding={layer.output_padding} "
            "is not supported (only output_padding=None)"
        )
    k = weight(layer.kernel)  # (*kernel, filters, in)
    w = np.transpose(k, (rank + 1, rank, *range(rank)))  # (in, filters, *kernel)
    b = weight(layer.bias) if layer.use_bias else None
    kernel, strides, dilation = list(layer.kernel_size), list(layer.strides), list(layer.dilation_rate)
    effective = [(kk - 1) * d + 1 for kk, d in zip(kernel, dilation)]
    if layer.padding == "same":
        # output = input * stride; the transposed conv's full output is cropped like TF's SAME gradient
        totals = [max(e - s, 0) for e, s in zip(effective, strides)]
        pads = [t // 2 for t in totals] + [t - t // 2 for t in totals]
        output_padding = [max(s - e, 0) for e, s in zip(effective, strides)]
    else:
        pads = [0] * (2 * rank)
        output_padding = [max(s - e, 0) for e, s in zip(effective, strides)]
        output_padding = [0] * rank if all(p == 0 for p in output_padding) else output_padding
    x = to_channels_first(ctx, inputs[0], rank, layer.data_format, layer.name)
    ins = [x, ctx.const(w, f"{layer.name}_W")] + ([ctx.const(b, f"{layer.name}_B")] if b is not None else [])
    y = ctx.op(
        "ConvTranspose",
        ins,
        name=layer.name,
        kernel_shape=kernel,
        strides=strides,
        dilations=dilation,
        pads=pads,
        output_padding=output_padding,
    )
    return [_finish(ctx, layer, y, rank)]
