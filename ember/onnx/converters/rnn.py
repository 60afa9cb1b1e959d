"""SimpleRNN, LSTM, GRU -> ONNX RNN/LSTM/GRU, and Bidirectional (two ops and a merge).

Keras's LSTM gates are ordered i, f, c, o in its kernels; ONNX's are i, o, f,
c. GRU keeps z, r, h in both; Keras's ``reset_after`` is ONNX's
``linear_before_reset``. ONNX runs time-major, so the sequence is transposed
in and out; ``go_backwards`` feeds the reversed sequence to a forward op,
which returns the outputs in the order Keras does (last input step first).
"""

from __future__ import annotations

import numpy as np

from ..context import weight
from ..registry import UnsupportedLayerError, register
from .activations import activation_name

_ONNX_ACTIVATIONS = {
    "sigmoid": ("Sigmoid", None, None),
    "tanh": ("Tanh", None, None),
    "relu": ("Relu", None, None),
    "hard_sigmoid": ("HardSigmoid", 1.0 / 6.0, 0.5),
    "linear": ("Affine", 1.0, 0.0),
    "softsign": ("Softsign", None, None),
    "softplus": ("Softplus", None, None),
    "elu": ("Elu", 1.0, None),
}


def _activations(layer, fns) -> dict:
    names, alphas, betas = [], [], []
    for fn in fns:
        key = activation_name(fn)
        if key not in _ONNX_ACTIVATIONS:
            raise UnsupportedLayerError(
                f"ONNX export: {type(layer).__name__} '{layer.name}' uses activation {key!r}, which ONNX recurrent "
                f"ops do not have; supported: {sorted(_ONNX_ACTIVATIONS)}"
            )
        op_name, alpha, beta = _ONNX_ACTIVATIONS[key]
        names.append(op_name)
        if alpha is not None:
            alphas.append(alpha)
        if beta is not None:
            betas.append(beta)
    attrs = {"activations": names}
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    return attrs


def _reorder(a: np.ndarray, units: int, order) -> np.ndarray:
    """Reorder gate blocks along the last axis of ``a`` (blocks of ``units``)."""
    return np.concatenate([a[..., i * units : (i + 1) * units] for i in order], axis=-1)


def _check(ctx, layer, inputs):
    from ..graph import require_unmasked

    require_unmasked(ctx, layer, inputs)
    if len(inputs) != 1:
        raise UnsupportedLayerError(
            f"ONNX export: {type(layer).__name__} '{layer.name}' called with initial states is not supported"
        )
    if getattr(layer, "stateful", False):
        raise UnsupportedLayerError(f"ONNX export: stateful {type(layer).__name__} '{layer.name}' is not supported")


def run_rnn(ctx, layer, x: str, reverse: bool):
    """Run ``layer`` (SimpleRNN/LSTM/GRU) over ``x`` (batch, time, features).

    Returns:
        ``(sequence, states)``: the outputs (time, batch, units) in processing
        order, and the final states (batch, units) in Keras's order.
    """
    cell = layer.cell
    units = int(cell.units)
    kind = type(layer).__name__
    name = layer.name
    kernel, recurrent = weight(cell.kernel), weight(cell.recurrent_kernel)
    bias = weight(cell.bias) if cell.use_bias else None
    attrs = {"hidden_size": units, "direction": "forward"}
    if kind == "LSTM":
        order, gates = (0, 3, 1, 2), 4  # Keras i, f, c, o -> ONNX i, o, f, c
        fns = [cell.recurrent_activation, cell.activation, cell.activation]
        op = "LSTM"
        wb = _reorder(bias, units, order) if bias is not None else np.zeros(gates * units, np.float32)
        rb = np.zeros_like(wb)
    elif kind == "GRU":
        order, gates = (0, 1, 2), 3
        fns = [cell.recurrent_activation, cell.activation]
        op = "GRU"
        attrs["linear_before_reset"] = int(bool(cell.reset_after))
        if bias is None:
            wb = rb = np.zeros(gates * units, np.float32)
        elif cell.reset_after:
            wb, rb = bias[0], bias[1]
        else:
            wb, rb = bias, np.zeros_like(bias)
    elif kind == "SimpleRNN":
        order, gates = (0,), 1
        fns = [cell.activation]
        op = "RNN"
        wb = bias if bias is not None else np.zeros(units, np.float32)
        rb = np.zeros_like(wb)
    else:
        raise UnsupportedLayerError(f"ONNX export: recurrent layer '{name}' of class {kind} is not supported")
    attrs.update(_activations(layer, fns))
    w = _reorder(kernel, units, order).T[None]  # (1, gates * units, features)
    r = _reorder(recurrent, units, order).T[None]  # (1, gates * units, units)
    b = np.concatenate([wb, rb])[None]  # (1, 2 * gates * units)
    xt = ctx.transpose(x, [1, 0, 2], name=f"{name}_time_major")
    if reverse:
        xt = ctx.reverse_time(xt, 0, name=f"{name}_reverse")
    ins = [xt, ctx.const(w, f"{name}_W"), ctx.const(r, f"{name}_R"), ctx.const(b, f"{name}_B")]
    n_out = 3 if op == "LSTM" else 2
    outs = ctx.op(op, ins, name=name, outputs=n_out, **attrs)
    seq = ctx.squeeze(outs[0], [1], name=f"{name}_seq")  # (time, batch, units)
    states = [ctx.squeeze(s, [0], name=f"{name}_state") for s in outs[1:]]
    return seq, states


@register("LSTM", "GRU", "SimpleRNN")
def convert_rnn(ctx, layer, inputs, in_shapes, out_shapes):
    _check(ctx, layer, inputs)
    seq, states = run_rnn(ctx, layer, inputs[0], reverse=bool(layer.go_backwards))
    if layer.return_sequences:
        out = ctx.transpose(seq, [1, 0, 2], name=f"{layer.name}_batch_major")
    else:
        out = states[0]
    return [out, *states] if layer.return_state else [out]


@register("Bidirectional")
def convert_bidirectional(ctx, layer, inputs, in_shapes, out_shapes):
    fwd, bwd = layer.forward_layer, layer.backward_layer
    _check(ctx, layer, inputs)
    seq_f, states_f = run_rnn(ctx, fwd, inputs[0], reverse=bool(fwd.go_backwards))
    seq_b, states_b = run_rnn(ctx, bwd, inputs[0], reverse=bool(bwd.go_backwards))
    if layer.return_sequences:
        y_f = ctx.transpose(seq_f, [1, 0, 2], name=f"{layer.name}_fwd_seq")
        if bwd.go_backwards:  # Keras puts the backward outputs back in input order
            seq_b = ctx.reverse_time(seq_b, 0, name=f"{layer.name}_bwd_flip")
        y_b = ctx.transpose(seq_b, [1, 0, 2], name=f"{layer.name}_bwd_seq")
    else:
        y_f, y_b = states_f[0], states_b[0]
    mode = layer.merge_mode
    if mode == "concat":
        outs = [ctx.op("Concat", [y_f, y_b], name=layer.name, axis=-1)]
    elif mode == "sum":
        outs = [ctx.op("Add", [y_f, y_b], name=layer.name)]
    elif mode == "mul":
        outs = [ctx.op("Mul", [y_f, y_b], name=layer.name)]
    elif mode == "ave":
        total = ctx.op("Add", [y_f, y_b], name=f"{layer.name}_sum")
        outs = [ctx.op("Mul", [total, ctx.const(0.5, f"{layer.name}_half")], name=layer.name)]
    elif mode is None:
        outs = [y_f, y_b]
    else:
        raise UnsupportedLayerError(f"ONNX export: Bidirectional '{layer.name}' merge_mode={mode!r} is not supported")
    return [*outs, *states_f, *states_b] if layer.return_state else outs
