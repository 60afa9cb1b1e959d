"""Activation functions and the activation layers (Activation, ReLU, LeakyReLU, ELU, PReLU, Softmax)."""

from __future__ import annotations

import math

from ..context import weight
from ..registry import UnsupportedLayerError, register

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def activation_name(fn) -> str:
    """The Keras name of an activation function (or name)."""
    if fn is None:
        return "linear"
    if isinstance(fn, str):
        return fn
    from ...activations import serialize

    name = serialize(fn)
    return name if isinstance(name, str) else getattr(fn, "__name__", repr(fn))


def emit_activation(ctx, fn, x: str, where: str = "", axis: int = -1) -> str:
    """Add the nodes of activation ``fn`` applied to ``x``; return the result's name."""
    name = activation_name(fn)
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "softplus": "Softplus",
        "softsign": "Softsign",
        "exponential": "Exp",
    }
    if name == "linear":
        return x
    if name in simple:
        return ctx.op(simple[name], [x], name=name)
    if name == "softmax":
        return ctx.op("Softmax", [x], name="softmax", axis=axis)
    if name == "log_softmax":
        return ctx.op("LogSoftmax", [x], name="log_softmax", axis=axis)
    if name == "elu":
        return ctx.op("Elu", [x], name="elu", alpha=1.0)
    if name == "selu":
        return ctx.op("Selu", [x], name="selu", alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if name == "leaky_relu":
        return ctx.op("LeakyRelu", [x], name="leaky_relu", alpha=0.2)
    if name == "relu6":
        return ctx.op("Clip", [x, ctx.const(0.0, "zero"), ctx.const(6.0, "six")], name="relu6")
    if name in ("silu", "swish"):
        return ctx.op("Mul", [x, ctx.op("Sigmoid", [x], name="silu_gate")], name="silu")
    if name == "hard_sigmoid":
        return ctx.op("HardSigmoid", [x], name="hard_sigmoid", alpha=1.0 / 6.0, beta=0.5)
    if name in ("hard_silu", "hard_swish"):
        gate = ctx.op("HardSigmoid", [x], name="hard_silu_gate", alpha=1.0 / 6.0, beta=0.5)
        return ctx.op("Mul", [x, gate], name="hard_silu")
    if name == "gelu":
        # x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
        scaled = ctx.op("Mul", [x, ctx.const(1.0 / math.sqrt(2.0), "inv_sqrt2")], name="gelu_scaled")
        erf1 = ctx.op("Add", [ctx.op("Erf", [scaled], name="gelu_erf"), ctx.const(1.0, "one")], name="gelu_erf1")
        return ctx.op("Mul", [ctx.op("Mul", [x, ctx.const(0.5, "half")], name="gelu_half"), erf1], name="gelu")
    if name == "mish":
        soft = ctx.op("Softplus", [x], name="mish_softplus")
        return ctx.op("Mul", [x, ctx.op("Tanh", [soft], name="mish_tanh")], name="mish")
    if name == "log_sigmoid":
        neg = ctx.op("Neg", [x], name="log_sigmoid_neg")
        return ctx.op("Neg", [ctx.op("Softplus", [neg], name="log_sigmoid_sp")], name="log_sigmoid")
    raise UnsupportedLayerError(f"ONNX export: activation {name!r}{' in ' + where if where else ''} is not supported")


def relu_general(ctx, x: str, negative_slope=0.0, max_value=None, threshold=0.0) -> str:
    """Keras's ReLU: ``clip(x if x > threshold else 0, 0, max_value) - slope * relu(threshold - x)``."""
    if threshold == 0.0 and negative_slope == 0.0:
        y = ctx.op("Relu", [x], name="relu")
        if max_value is not None:
            y = ctx.op("Clip", [y, ctx.const(0.0, "zero"), ctx.const(float(max_value), "max_value")], name="relu_cap")
        return y
    thr = ctx.const(float(threshold), "threshold")
    above = ctx.op("Greater", [x, thr], name="relu_above")
    pos = ctx.op("Where", [above, x, ctx.const(0.0, "zero")], name="relu_pos")
    hi = ctx.const(float(max_value) if max_value is not None else float("inf"), "max_value")
    pos = ctx.op("Clip", [pos, ctx.const(0.0, "zero"), hi], name="relu_clip")
    if negative_slope == 0.0:
        return pos
    below = ctx.op("Relu", [ctx.op("Sub", [thr, x], name="relu_diff")], name="relu_below")
    neg = ctx.op("Mul", [below, ctx.const(float(negative_slope), "slope")], name="relu_neg")
    return ctx.op("Sub", [pos, neg], name="relu")


@register("Activation")
def convert_activation(ctx, layer, inputs, in_shapes, out_shapes):
    return [emit_activation(ctx, layer.activation, inputs[0], where=f"layer '{layer.name}'")]


@register("ReLU")
def convert_relu(ctx, layer, inputs, in_shapes, out_shapes):
    return [relu_general(ctx, inputs[0], layer.negative_slope, layer.max_value, layer.threshold)]


@register("LeakyReLU")
def convert_leaky_relu(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("LeakyRelu", inputs[:1], name=layer.name, alpha=float(layer.negative_slope))]


@register("ELU")
def convert_elu(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("Elu", inputs[:1], name=layer.name, alpha=float(layer.alpha))]


@register("PReLU")
def convert_prelu(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("PRelu", [inputs[0], ctx.const(weight(layer.alpha), f"{layer.name}_alpha")], name=layer.name)]


@register("Softmax")
def convert_softmax(ctx, layer, inputs, in_shapes, out_shapes):
    axis = layer.axis
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise UnsupportedLayerError(
                f"ONNX export: Softmax layer '{layer.name}' over several axes {axis} is not supported"
            )
        axis = axis[0]
    return [ctx.op("Softmax", inputs[:1], name=layer.name, axis=int(axis))]
