"""Dense: ``MatMul`` (+ ``Add`` of the bias) and its activation."""

from __future__ import annotations

from ..context import weight
from ..registry import register
from .activations import emit_activation


def dense(ctx, layer, x: str) -> str:
    """``activation(x @ kernel + bias)`` on the last axis of ``x`` (any rank)."""
    y = ctx.op("MatMul", [x, ctx.const(weight(layer.kernel), f"{layer.name}_kernel")], name=f"{layer.name}_matmul")
    if layer.use_bias:
        y = ctx.op("Add", [y, ctx.const(weight(layer.bias), f"{layer.name}_bias")], name=f"{layer.name}_bias_add")
    return emit_activation(ctx, layer.activation, y, where=f"layer '{layer.name}'")


@register("Dense")
def convert_dense(ctx, layer, inputs, in_shapes, out_shapes):
    return [dense(ctx, layer, inputs[0])]
