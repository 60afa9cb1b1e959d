"""MaxPooling/AveragePooling 1D/2D and the global poolings."""

from __future__ import annotations

from ..registry import register
from .layout import pad_attrs, spatial_sizes, to_channels_first, to_channels_last


@register("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
def convert_pooling(ctx, layer, inputs, in_shapes, out_shapes):
    rank = layer.pool_dimensions
    pool = list(layer.pool_size)
    strides = list(layer.strides) if layer.strides is not None else pool
    sizes = spatial_sizes(in_shapes[0], rank, layer.data_format)
    attrs = pad_attrs(layer.padding, sizes, pool, strides, [1] * rank)
    x = to_channels_first(ctx, inputs[0], rank, layer.data_format, layer.name)
    if type(layer).__name__.startswith("Max"):
        y = ctx.op("MaxPool", [x], name=layer.name, kernel_shape=pool, strides=strides, **attrs)
    else:  # Keras averages over the window's valid (unpadded) cells
        y = ctx.op(
            "AveragePool", [x], name=layer.name, kernel_shape=pool, strides=strides, count_include_pad=0, **attrs
        )
    return [to_channels_last(ctx, y, rank, layer.data_format, layer.name)]


@register(
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
)
def convert_global_pooling(ctx, layer, inputs, in_shapes, out_shapes):
    from ..graph import require_unmasked

    require_unmasked(ctx, layer, inputs)
    rank = layer.pool_dimensions
    start = 2 if layer.data_format == "channels_first" else 1
    axes = list(range(start, start + rank))
    op = "ReduceMax" if "Max" in type(layer).__name__ else "ReduceMean"
    return [ctx.reduce(op, inputs[0], axes, keepdims=bool(layer.keepdims), name=layer.name)]
