"""BatchNormalization (inference: the moving statistics) and LayerNormalization."""

from __future__ import annotations

import numpy as np

from ..context import weight
from ..registry import UnsupportedLayerError, register


def _broadcast_shape(rank: int, axes, in_shape) -> list:
    shape = [1] * rank
    for a in axes:
        shape[a] = int(in_shape[a])
    return shape


@register("BatchNormalization")
def convert_batch_norm(ctx, layer, inputs, in_shapes, out_shapes):
    rank = len(in_shapes[0])
    axis = layer.axis if not isinstance(layer.axis, (list, tuple)) else layer.axis[0]
    axis = axis % rank
    mean = weight(layer.moving_mean).astype(np.float64)
    var = weight(layer.moving_variance).astype(np.float64)
    scale = 1.0 / np.sqrt(var + float(layer.epsilon))
    if layer.scale:
        scale = scale * weight(layer.gamma)
    shift = -mean * scale
    if layer.center:
        shift = shift + weight(layer.beta)
    bshape = _broadcast_shape(rank, [axis], in_shapes[0])
    y = ctx.op(
        "Mul",
        [inputs[0], ctx.const(scale.reshape(bshape).astype(np.float32), f"{layer.name}_scale")],
        name=f"{layer.name}_mul",
    )
    return [
        ctx.op("Add", [y, ctx.const(shift.reshape(bshape).astype(np.float32), f"{layer.name}_shift")], name=layer.name)
    ]


@register("LayerNormalization")
def convert_layer_norm(ctx, layer, inputs, in_shapes, out_shapes):
    if getattr(layer, "rms_scaling", False):
        raise UnsupportedLayerError(
            f"ONNX export: LayerNormalization '{layer.name}' with rms_scaling=True is not supported"
        )
    rank = len(in_shapes[0])
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    axes = sorted(a % rank for a in axes)
    x = inputs[0]
    mean = ctx.reduce("ReduceMean", x, axes, keepdims=True, name=f"{layer.name}_mean")
    centered = ctx.op("Sub", [x, mean], name=f"{layer.name}_centered")
    var = ctx.reduce(
        "ReduceMean",
        ctx.op("Mul", [centered, centered], name=f"{layer.name}_sq"),
        axes,
        keepdims=True,
        name=f"{layer.name}_var",
    )
    std = ctx.op(
        "Sqrt",
        [ctx.op("Add", [var, ctx.const(float(layer.epsilon), f"{layer.name}_eps")], name=f"{layer.name}_var_eps")],
        name=f"{layer.name}_std",
    )
    y = ctx.op("Div", [centered, std], name=f"{layer.name}_normed")
    bshape = _broadcast_shape(rank, axes, in_shapes[0])
    if layer.scale and layer.gamma is not None:
        y = ctx.op(
            "Mul",
            [y, ctx.const(weight(layer.gamma).reshape(bshape), f"{layer.name}_gamma")],
            name=f"{layer.name}_scaled",
        )
    if layer.center and layer.beta is not None:
        y = ctx.op("Add", [y, ctx.const(weight(layer.beta).reshape(bshape), f"{layer.name}_beta")], name=layer.name)
    return [y]
