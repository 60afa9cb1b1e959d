"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""

from __future__ import annotations

from ..registry import register

_NARY = {"Add": "Sum", "Average": "Mean", "Maximum": "Max", "Minimum": "Min"}


@register("Add", "Average", "Maximum", "Minimum")
def convert_nary(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op(_NARY[type(layer).__name__], list(inputs), name=layer.name)]


@register("Subtract")
def convert_subtract(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("Sub", list(inputs[:2]), name=layer.name)]


@register("Multiply")
def convert_multiply(ctx, layer, inputs, in_shapes, out_shapes):
    y = inputs[0]
    for other in inputs[1:]:
        y = ctx.op("Mul", [y, other], name=layer.name)
    return [y]


@register("Concatenate")
def convert_concatenate(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("Concat", list(inputs), name=layer.name, axis=int(layer.axis))]


def _l2_normalize(ctx, x: str, axis: int, name: str) -> str:
    from ...backend.config import epsilon

    sq = ctx.reduce("ReduceSum", ctx.op("Mul", [x, x], name=f"{name}_sq"), [axis], keepdims=True, name=f"{name}_sum")
    inv = ctx.op("Reciprocal", [ctx.op("Sqrt", [sq], name=f"{name}_norm")], name=f"{name}_inv")
    inv = ctx.op("Min", [inv, ctx.const(1.0 / epsilon(), f"{name}_cap")], name=f"{name}_inv_cap")
    return ctx.op("Mul", [x, inv], name=name)


@register("Dot")
def convert_dot(ctx, layer, inputs, in_shapes, out_shapes):
    x, y = inputs[:2]
    n1, n2 = len(in_shapes[0]), len(in_shapes[1])
    a1, a2 = layer._axes_for(n1, n2)
    if layer.normalize:
        x = _l2_normalize(ctx, x, a1, f"{layer.name}_x_normed")
        y = _l2_normalize(ctx, y, a2, f"{layer.name}_y_normed")
    letters = iter("bcdefghijklmnopqrstuvwxyz")
    xs = ["a"] + [next(letters) for _ in range(n1 - 1)]
    ys = ["a"] + [next(letters) for _ in range(n2 - 1)]
    ys[a2] = xs[a1]
    out = ["a"] + [c for i, c in enumerate(xs) if i not in (0, a1)] + [c for i, c in enumerate(ys) if i not in (0, a2)]
    equation = f"{''.join(xs)},{''.join(ys)}->{''.join(out)}"
    z = ctx.op("Einsum", [x, y], name=f"{layer.name}_einsum", equation=equation)
    if len(out) == 1:
        z = ctx.unsqueeze(z, [1], name=layer.name)
    return [z]
