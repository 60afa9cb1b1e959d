"""Rescaling and Normalization (with its adapted or given mean and variance)."""

from __future__ import annotations

import numpy as np

from ..context import weight
from ..registry import register


@register("Rescaling")
def convert_rescaling(ctx, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    y = ctx.op(
        "Mul", [x, ctx.const(np.asarray(layer.scale, np.float32), f"{layer.name}_scale")], name=f"{layer.name}_mul"
    )
    return [
        ctx.op("Add", [y, ctx.const(np.asarray(layer.offset, np.float32), f"{layer.name}_offset")], name=layer.name)
    ]


@register("Normalization")
def convert_normalization(ctx, layer, inputs, in_shapes, out_shapes):
    from ...backend.config import epsilon

    mean = weight(layer.mean).astype(np.float32)
    std = np.maximum(np.sqrt(weight(layer.variance).astype(np.float32)), np.float32(epsilon())).astype(np.float32)
    x = inputs[0]
    if layer.invert:
        y = ctx.op("Mul", [x, ctx.const(std, f"{layer.name}_std")], name=f"{layer.name}_mul")
        return [ctx.op("Add", [y, ctx.const(mean, f"{layer.name}_mean")], name=layer.name)]
    y = ctx.op("Sub", [x, ctx.const(mean, f"{layer.name}_mean")], name=f"{layer.name}_sub")
    return [ctx.op("Div", [y, ctx.const(std, f"{layer.name}_std")], name=layer.name)]
