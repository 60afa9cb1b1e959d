"""Flatten, Reshape, Permute, RepeatVector, ZeroPadding, Cropping, UpSampling (nearest)."""

from __future__ import annotations

from ..context import INT64_MAX
from ..registry import UnsupportedLayerError, register


@register("Flatten")
def convert_flatten(ctx, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    rank = len(in_shapes[0])
    if getattr(layer, "data_format", "channels_last") == "channels_first" and rank > 2:
        # Keras flattens channels-first inputs in channels-last order
        x = ctx.transpose(x, [0, *range(2, rank), 1], name=f"{layer.name}_to_last")
    if rank == 1:
        return [ctx.unsqueeze(x, [1], name=layer.name)]
    return [ctx.op("Flatten", [x], name=layer.name, axis=1)]


@register("Reshape")
def convert_reshape(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.reshape(inputs[0], [0, *[int(d) for d in layer.target_shape]], name=layer.name)]


@register("Permute")
def convert_permute(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.transpose(inputs[0], [0, *[int(d) for d in layer.dims]], name=layer.name)]


@register("RepeatVector")
def convert_repeat_vector(ctx, layer, inputs, in_shapes, out_shapes):
    x = ctx.unsqueeze(inputs[0], [1], name=f"{layer.name}_unsqueeze")
    return [ctx.op("Tile", [x, ctx.ints([1, int(layer.n), 1], f"{layer.name}_repeats")], name=layer.name)]


def _spatial_pairs(layer, attr: str, rank: int) -> list:
    value = getattr(layer, attr)
    if rank == 1:
        return [tuple(int(v) for v in value)]
    return [tuple(int(v) for v in pair) for pair in value]


def _spatial_axes(layer, rank: int, ndim: int) -> list:
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return list(range(2, 2 + rank))
    return list(range(1, 1 + rank))


@register("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def convert_zero_padding(ctx, layer, inputs, in_shapes, out_shapes):
    ndim = len(in_shapes[0])
    rank = int(type(layer).__name__[-2])
    pairs = _spatial_pairs(layer, "padding", rank)
    begin, end = [0] * ndim, [0] * ndim
    for axis, (b, e) in zip(_spatial_axes(layer, rank, ndim), pairs):
        begin[axis], end[axis] = b, e
    return [ctx.op("Pad", [inputs[0], ctx.ints(begin + end, f"{layer.name}_pads")], name=layer.name, mode="constant")]


@register("Cropping1D", "Cropping2D", "Cropping3D")
def convert_cropping(ctx, layer, inputs, in_shapes, out_shapes):
    ndim = len(in_shapes[0])
    rank = int(type(layer).__name__[-2])
    pairs = _spatial_pairs(layer, "cropping", rank)
    axes = _spatial_axes(layer, rank, ndim)
    starts = [b for b, _ in pairs]
    ends = [-e if e > 0 else INT64_MAX for _, e in pairs]
    return [
        ctx.op(
            "Slice",
            [
                inputs[0],
                ctx.ints(starts, f"{layer.name}_starts"),
                ctx.ints(ends, f"{layer.name}_ends"),
                ctx.ints(axes, f"{layer.name}_axes"),
            ],
            name=layer.name,
        )
    ]


@register("UpSampling1D", "UpSampling2D", "UpSampling3D")
def convert_up_sampling(ctx, layer, inputs, in_shapes, out_shapes):
    ndim = len(in_shapes[0])
    rank = int(type(layer).__name__[-2])
    interpolation = getattr(layer, "interpolation", "nearest")
    if interpolation != "nearest":
        raise UnsupportedLayerError(
            f"ONNX export: {type(layer).__name__} '{layer.name}' with interpolation={interpolation!r} is not "
            "supported (only 'nearest')"
        )
    size = [int(layer.size)] if rank == 1 else [int(s) for s in layer.size]
    scales = [1.0] * ndim
    for axis, s in zip(_spatial_axes(layer, rank, ndim), size):
        scales[axis] = float(s)
    return [
        ctx.op(
            "Resize",
            [inputs[0], "", ctx.const(scales, f"{layer.name}_scales", dtype="float32")],
            name=layer.name,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
    ]
