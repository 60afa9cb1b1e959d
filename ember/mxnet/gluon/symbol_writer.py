"""MXNet's symbol graph (``-symbol.json``, as MXNet 1.9's ``export`` writes it) for a network of ``gluon.nn`` layers.

``HybridBlock.export`` writes this graph, so real MXNet's ``SymbolBlock.imports`` (and Ember's) can run an
exported Ember network. The graph is built from the block tree, one MXNet operator per layer, with MXNet's node
names (``<prefix>fwd``, ``<prefix><act>_fwd``) and attributes as strings:

================================  ============================================================================
Gluon layer                        MXNet operator(s)
================================  ============================================================================
(Hybrid)Sequential                 its children in order
Dense                              FullyConnected (+ Activation)
Conv1D / Conv2D                    Convolution (num_group, + Activation)
Max/AvgPool1D/2D                   Pooling (pooling_convention 'full' for ceil_mode, count_include_pad)
Conv1D/2DTranspose                 Deconvolution (+ Activation)
GlobalAvg/MaxPool1D/2D             Pooling (global_pool)
BatchNorm                          BatchNorm (running statistics as auxiliary inputs)
LayerNorm / InstanceNorm           LayerNorm / InstanceNorm
Activation / LeakyReLU             Activation / LeakyReLU
PReLU / ELU / SELU / GELU          LeakyReLU (act_type prelu, elu, selu, gelu)
Swish                              _mul_scalar, sigmoid, elemwise_mul
Dropout / Flatten / Embedding      Dropout / Flatten / Embedding
================================  ============================================================================

Another block raises :class:`NotExpressibleError` naming it (the caller falls back to Ember's own description).
"""

from __future__ import annotations

import json

MXNET_VERSION = 10901


class NotExpressibleError(TypeError):
    """The block has a layer this writer cannot express as MXNet operators."""


def _s(value) -> str:
    """An attribute value as MXNet writes it: Python's str of numbers, bools and tuples."""
    if isinstance(value, list):
        value = tuple(value)
    return str(value)


class _Graph:
    def __init__(self):
        self.nodes, self.arg_nodes, self.outputs = [], [], []

    def variable(self, param, aux=False):
        attrs = {
            "__dtype__": "0",
            "__lr_mult__": _s(float(param.lr_mult)),
            "__shape__": _s(tuple(param.shape)),
            "__storage_type__": "0",
            "__wd_mult__": _s(float(param.wd_mult)),
        }
        self.nodes.append({"op": "null", "name": param.name, "attrs": attrs, "inputs": []})
        self.arg_nodes.append(len(self.nodes) - 1)
        self.outputs.append(1)
        return (len(self.nodes) - 1, 1 if aux else 0)

    def data(self, name):
        self.nodes.append({"op": "null", "name": name, "inputs": []})
        self.arg_nodes.append(len(self.nodes) - 1)
        self.outputs.append(1)
        return (len(self.nodes) - 1, 0)

    def op(self, op, name, attrs, inputs, n_outputs=1):
        node = {"op": op, "name": name, "inputs": [[i, 0, version] for i, version in inputs]}
        if attrs:
            node["attrs"] = {k: _s(v) for k, v in sorted(attrs.items())}
        self.nodes.append(node)
        self.outputs.append(n_outputs)
        return (len(self.nodes) - 1, 0)

    def to_json(self, head) -> dict:
        row_ptr = [0]
        for n in self.outputs:
            row_ptr.append(row_ptr[-1] + n)
        return {
            "nodes": self.nodes,
            "arg_nodes": self.arg_nodes,
            "node_row_ptr": row_ptr,
            "heads": [[head[0], 0, 0]],
            "attrs": {"mxnet_version": ["int", MXNET_VERSION]},
        }


def _activation(g, block, x, act_name):
    if act_name is None:
        return x
    return g.op("Activation", f"{block.prefix}{act_name}_fwd", {"act_type": act_name}, [x])


def _emit(g, block, x):
    from . import nn

    kind = type(block)
    layout = {1: "NCW", 2: "NCHW"}
    if kind in (nn.Sequential, nn.HybridSequential):
        for child in block._children.values():
            x = _emit(g, child, x)
        return x
    if kind is nn.Dense:
        inputs = [x, g.variable(block.weight)] + ([g.variable(block.bias)] if block.bias is not None else [])
        attrs = {"flatten": bool(block._flatten), "no_bias": block.bias is None, "num_hidden": block._units}
        return _activation(g, block, g.op("FullyConnected", f"{block.prefix}fwd", attrs, inputs), block._act_name)
    if kind in (nn.Conv1D, nn.Conv2D):
        inputs = [x, g.variable(block.weight)] + ([g.variable(block.bias)] if block.bias is not None else [])
        attrs = {
            "dilate": block._dilation,
            "kernel": block._kernel,
            "layout": layout[block._nd_dims],
            "no_bias": block.bias is None,
            "num_filter": block._channels,
            "num_group": block._groups,
            "pad": block._padding,
            "stride": block._strides,
        }
        out = g.op("Convolution", f"{block.prefix}fwd", attrs, inputs)
        return _activation(g, block, out, _act_name(block._act))
    if kind in (nn.MaxPool1D, nn.MaxPool2D, nn.AvgPool1D, nn.AvgPool2D):
        attrs = {
            "global_pool": False,
            "kernel": block._size,
            "layout": layout[block._nd_dims],
            "pad": block._padding,
            "pool_type": block._kind,
            "pooling_convention": "full" if block._ceil_mode else "valid",
            "stride": block._strides,
        }
        if block._kind == "avg":
            attrs["count_include_pad"] = bool(block._count_include_pad)
        return g.op("Pooling", f"{block.prefix}fwd", attrs, [x], 2 if block._kind == "max" else 1)
    if kind in (nn.GlobalAvgPool2D, nn.GlobalMaxPool2D, nn.GlobalAvgPool1D, nn.GlobalMaxPool1D):
        pool = "max" if kind in (nn.GlobalMaxPool2D, nn.GlobalMaxPool1D) else "avg"
        n = 1 if kind in (nn.GlobalAvgPool1D, nn.GlobalMaxPool1D) else 2
        attrs = {"global_pool": True, "kernel": (1,) * n, "layout": layout[n], "pool_type": pool, "pad": (0,) * n}
        attrs["pooling_convention"], attrs["stride"] = "valid", (1,) * n
        return g.op("Pooling", f"{block.prefix}fwd", attrs, [x], 2 if pool == "max" else 1)
    if kind in (nn.Conv1DTranspose, nn.Conv2DTranspose):
        inputs = [x, g.variable(block.weight)] + ([g.variable(block.bias)] if block.bias is not None else [])
        attrs = {
            "adj": block._out_padding,
            "dilate": block._dilation,
            "kernel": block._kernel,
            "layout": layout[block._nd_dims],
            "no_bias": block.bias is None,
            "num_filter": block._channels,
            "num_group": 1,
            "pad": block._padding,
            "stride": block._strides,
        }
        out = g.op("Deconvolution", f"{block.prefix}fwd", attrs, inputs)
        return _activation(g, block, out, _act_name(block._act))
    if kind is nn.InstanceNorm:
        if block._axis != 1:
            raise NotExpressibleError("export: InstanceNorm over an axis other than 1 has no MXNet operator")
        inputs = [x, g.variable(block.gamma), g.variable(block.beta)]
        return g.op("InstanceNorm", f"{block.prefix}fwd", {"eps": block._eps}, inputs, 3)
    if kind is nn.LayerNorm:
        inputs = [x, g.variable(block.gamma), g.variable(block.beta)]
        attrs = {"axis": block._axis, "eps": block._eps}
        return g.op("LayerNorm", f"{block.prefix}layernorm0", attrs, inputs, 3)
    if kind is nn.PReLU:
        return g.op("LeakyReLU", f"{block.prefix}fwd", {"act_type": "prelu"}, [x, g.variable(block.alpha)])
    if kind is nn.ELU:
        attrs = {"act_type": "elu", "slope": block._alpha}
        return g.op("LeakyReLU", f"{block.prefix}leakyrelu0", attrs, [x])
    if kind in (nn.SELU, nn.GELU):
        return g.op("LeakyReLU", f"{block.prefix}fwd", {"act_type": kind.__name__.lower()}, [x])
    if kind is nn.Swish:
        scaled = g.op("_mul_scalar", f"{block.prefix}_mulscalar0", {"scalar": block._beta}, [x])
        gate = g.op("sigmoid", f"{block.prefix}fwd", {}, [scaled])
        return g.op("elemwise_mul", f"{block.prefix}_mul0", {}, [x, gate])
    if kind is nn.BatchNorm:
        inputs = [x, g.variable(block.gamma), g.variable(block.beta)]
        inputs += [g.variable(block.running_mean, aux=True), g.variable(block.running_var, aux=True)]
        attrs = {
            "axis": block._axis,
            "eps": block._eps,
            "fix_gamma": block.gamma.grad_req == "null",
            "momentum": block._momentum,
            "use_global_stats": bool(block._global),
        }
        return g.op("BatchNorm", f"{block.prefix}fwd", attrs, inputs, 3)
    if kind is nn.Activation:
        return g.op("Activation", f"{block.prefix}fwd", {"act_type": block._act_type}, [x])
    if kind is nn.LeakyReLU:
        return g.op("LeakyReLU", f"{block.prefix}fwd", {"act_type": "leaky", "slope": block._alpha}, [x])
    if kind is nn.Dropout:
        return g.op("Dropout", f"{block.prefix}fwd", {"axes": block._axes, "p": block._rate}, [x], 2)
    if kind is nn.Flatten:
        return g.op("Flatten", f"{block.prefix}flatten0", {}, [x])
    if kind is nn.Embedding:
        weight = block.weight
        attrs = {"dtype": weight.dtype, "input_dim": weight.shape[0], "output_dim": weight.shape[1]}
        attrs["sparse_grad"] = False
        return g.op("Embedding", f"{block.prefix}fwd", attrs, [x, g.variable(weight)])
    raise NotExpressibleError(f"export: {kind.__name__} has no MXNet operator in Ember's symbol writer")


def _act_name(fn):
    from .nn import _ACTIVATIONS

    if fn is None:
        return None
    for name, f in _ACTIVATIONS.items():
        if f is fn:
            return name
    raise NotExpressibleError(f"export: activation {fn!r} has no MXNet name")


def symbol_json(block, input_name="data") -> str:
    """MXNet's ``-symbol.json`` text for ``block`` (its parameters must have their shapes: run it once first)."""
    g = _Graph()
    out = _emit(g, block, g.data(input_name))
    return json.dumps(g.to_json(out), indent=2)
