"""TimeDistributed: the inner layer on every time step (directly when it only acts on the last axis)."""

from __future__ import annotations

from ..registry import UnsupportedLayerError, register

_LAST_AXIS_LAYERS = {"Dense", "Activation", "Dropout", "ReLU", "LeakyReLU", "ELU", "Rescaling"}


@register("TimeDistributed")
def convert_time_distributed(ctx, layer, inputs, in_shapes, out_shapes):
    from ..graph import convert_layer

    inner = layer.layer
    in_shape, out_shape = tuple(in_shapes[0]), tuple(out_shapes[0])
    inner_in = (None, *in_shape[2:])
    inner_out = (None, *out_shape[2:])
    if type(inner).__name__ in _LAST_AXIS_LAYERS:
        return convert_layer(ctx, inner, inputs[:1], [in_shape], [out_shape])
    if any(d is None for d in in_shape[2:]) or any(d is None for d in out_shape[2:]):
        raise UnsupportedLayerError(
            f"ONNX export: TimeDistributed '{layer.name}' around {type(inner).__name__} needs static sizes "
            f"after the time axis, got input {in_shape} and output {out_shape}"
        )
    # (batch, time, *f) -> (batch * time, *f) -> inner -> (batch, time, *g), time taken from the input
    merged = ctx.reshape(inputs[0], [-1, *in_shape[2:]], name=f"{layer.name}_merge")
    (y,) = convert_layer(ctx, inner, [merged], [inner_in], [inner_out])
    lead = ctx.op(
        "Slice",
        [
            ctx.op("Shape", inputs[:1], name=f"{layer.name}_shape"),
            ctx.ints([0], f"{layer.name}_s0"),
            ctx.ints([2], f"{layer.name}_s2"),
        ],
        name=f"{layer.name}_lead",
    )
    shape = ctx.op(
        "Concat", [lead, ctx.ints(list(out_shape[2:]), f"{layer.name}_tail")], name=f"{layer.name}_target", axis=0
    )
    return [ctx.op("Reshape", [y, shape], name=layer.name)]
