"""Run MXNet's own exported symbol graphs (``-symbol.json`` from real MXNet's ``export``) with Ember's ops.

The JSON lists nodes in topological order: ``op == "null"`` nodes are inputs or parameters (their values come
from the ``.params`` file's ``arg:``/``aux:`` entries), the others are operators with string attributes. Ember
evaluates the common Gluon operators (below) in inference or training mode; an unknown operator raises an
error that names it.
"""

from __future__ import annotations

import ast

import numpy as np

import ember

from .. import autograd
from ..ndarray import _nd
from .block import HybridBlock
from .nchw_ops import convolution, convolution_transpose, instance_norm, pooling, prelu
from .parameter import Parameter


def _attr(attrs, key, default=None):
    if key not in attrs:
        return default
    value = attrs[key]
    if value in ("True", "False"):
        return value == "True"
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _tuple(v, n):
    return (int(v),) * n if np.isscalar(v) else tuple(int(x) for x in v)


def _act(kind, x, slope=0.25):
    table = {
        "relu": ember.relu,
        "sigmoid": ember.sigmoid,
        "tanh": ember.tanh,
        "softrelu": ember.softplus,
        "softsign": ember.softsign,
    }
    if kind == "leaky":
        return ember.leaky_relu(x, slope)
    if kind not in table:
        raise NotImplementedError(f"MXNet graph: activation {kind!r} is not supported")
    return table[kind](x)


def _conv(x, w, b, a):
    n = len(_tuple(a["kernel"], 1)) if not np.isscalar(a["kernel"]) else 1
    stride, pad = _tuple(a.get("stride", 1), n), _tuple(a.get("pad", 0), n)
    dilate = _tuple(a.get("dilate", 1), n)
    return convolution(x, w, b, stride, pad, dilate, int(a.get("num_group", 1)), "MXNet graph: Convolution")


def _leaky_relu(inputs, a):
    """MXNet's LeakyReLU operator: act_type leaky (slope), prelu (a learned slope input), elu (slope), selu, gelu."""
    kind, x = a.get("act_type", "leaky"), inputs[0]
    if kind == "prelu":
        return prelu(x, inputs[1])
    if kind == "elu":
        return ember.elu(x, float(a.get("slope", 0.25)))
    if kind == "selu":
        return ember.selu(x)
    if kind == "gelu":
        return ember.gelu(x)
    return _act(kind, x, float(a.get("slope", 0.25)))


def _deconv(x, w, b, a):
    n = len(_tuple(a["kernel"], 1))
    if int(a.get("num_group", 1)) != 1:
        raise NotImplementedError("MXNet graph: grouped Deconvolution is not supported")
    if a.get("target_shape") not in (None, (), []):
        raise NotImplementedError("MXNet graph: Deconvolution with target_shape is not supported")
    stride, pad = _tuple(a.get("stride", 1), n), _tuple(a.get("pad", 0), n)
    adj, dilate = _tuple(a.get("adj", 0), n), _tuple(a.get("dilate", 1), n)
    return convolution_transpose(x, w, b, stride, pad, adj, dilate)


def _pool(x, a):
    kind = a.get("pool_type", "max")
    if a.get("global_pool", False):
        axes = tuple(range(2, x.ndim))
        return ember.max(x, axis=axes, keepdims=True) if kind == "max" else ember.mean(x, axis=axes, keepdims=True)
    convention = a.get("pooling_convention", "valid")
    if convention not in ("valid", "full"):
        raise NotImplementedError(f"MXNet graph: Pooling with pooling_convention {convention!r} is not supported")
    if kind not in ("max", "avg"):
        raise NotImplementedError(f"MXNet graph: Pooling with pool_type {kind!r} is not supported")
    kernel = _tuple(a["kernel"], 1)
    n = len(kernel)
    stride, pad = _tuple(a.get("stride", kernel), n), _tuple(a.get("pad", 0), n)
    include_pad = a.get("count_include_pad", True)
    include_pad = include_pad if isinstance(include_pad, bool) else str(include_pad).lower() in ("true", "1")
    return pooling(x, kind, kernel, stride, pad, convention == "full", include_pad)


def _batch_norm(inputs, a):
    x, gamma, beta, mean, var = inputs
    eps, axis = float(a.get("eps", 1e-3)), int(a.get("axis", 1))
    if a.get("fix_gamma", True):
        gamma = ember.tensor(np.ones(gamma.shape, dtype=gamma.data.dtype))
    if autograd.is_training() and not a.get("use_global_stats", False):
        return ember.batch_norm_train(x, gamma, beta, axis=axis, epsilon=eps)[0]
    return ember.batch_norm(x, mean, var, beta, gamma, epsilon=eps, axis=axis)


def _fully_connected(inputs, a):
    x, w = inputs[0], inputs[1]
    if a.get("flatten", True) and x.ndim != 2:
        x = ember.reshape(x, (x.shape[0], -1))
    out = ember.matmul(x, ember.transpose(w))
    return out if a.get("no_bias", False) else out + inputs[2]


_OPS = {
    "FullyConnected": _fully_connected,
    "Convolution": lambda i, a: _conv(i[0], i[1], None if a.get("no_bias", False) else i[2], a),
    "Activation": lambda i, a: _act(a["act_type"], i[0]),
    "LeakyReLU": lambda i, a: _leaky_relu(i, a),
    "Deconvolution": lambda i, a: _deconv(i[0], i[1], None if a.get("no_bias", False) else i[2], a),
    "InstanceNorm": lambda i, a: instance_norm(i[0], i[1], i[2], 1, float(a.get("eps", 1e-3))),
    "LayerNorm": lambda i, a: ember.layer_norm(
        i[0], i[1], i[2], axis=int(a.get("axis", -1)), epsilon=float(a.get("eps", 1e-5))
    ),
    "elemwise_sub": lambda i, a: i[0] - i[1],
    "elemwise_div": lambda i, a: i[0] / i[1],
    "relu": lambda i, a: ember.relu(i[0]),
    "sigmoid": lambda i, a: ember.sigmoid(i[0]),
    "tanh": lambda i, a: ember.tanh(i[0]),
    "Pooling": lambda i, a: _pool(i[0], a),
    "BatchNorm": _batch_norm,
    "Flatten": lambda i, a: ember.reshape(i[0], (i[0].shape[0], -1)),
    "Dropout": lambda i, a: ember.dropout(i[0], float(a.get("p", 0.5))) if autograd.is_training() else i[0],
    "softmax": lambda i, a: ember.softmax(i[0], int(a.get("axis", -1))),
    "log_softmax": lambda i, a: ember.log_softmax(i[0], int(a.get("axis", -1))),
    "SoftmaxOutput": lambda i, a: ember.softmax(i[0], -1),
    # the indices through a cast op, so a hybridized graph's plan reads each call's indices
    "Embedding": lambda i, a: ember.take(i[1], ember.cast(i[0], "int64"), axis=0),
    "elemwise_add": lambda i, a: i[0] + i[1],
    "_plus": lambda i, a: i[0] + i[1],
    "broadcast_add": lambda i, a: i[0] + i[1],
    "elemwise_mul": lambda i, a: i[0] * i[1],
    "broadcast_mul": lambda i, a: i[0] * i[1],
    "_plus_scalar": lambda i, a: i[0] + float(a["scalar"]),
    "_mul_scalar": lambda i, a: i[0] * float(a["scalar"]),
    "Concat": lambda i, a: ember.concatenate(list(i), axis=int(a.get("dim", 1))),
    "Reshape": lambda i, a: _nd(i[0]).reshape(_attr(a, "shape")),
    "transpose": lambda i, a: ember.transpose(i[0], _attr(a, "axes") or None),
    "mean": lambda i, a: ember.mean(i[0], axis=_attr(a, "axis"), keepdims=bool(_attr(a, "keepdims", False))),
}


class MXNetGraph(HybridBlock):
    """An MXNet symbol graph as a block: ``forward(*inputs)`` evaluates its nodes with Ember's ops."""

    def __init__(self, spec: dict, input_names):
        super().__init__(prefix="")
        self._nodes, self._heads = spec["nodes"], spec["heads"]
        names = [input_names] if isinstance(input_names, str) else list(input_names)
        self._inputs = names
        for node in self._nodes:
            if node["op"] == "null" and node["name"] not in names:
                shape = _attr(node.get("attrs", {}), "__shape__")
                self.params[node["name"]] = Parameter(
                    node["name"],
                    shape=shape,
                    allow_deferred_init=True,
                    grad_req="null" if _is_aux(node["name"]) else "write",
                )
            elif node["op"] != "null" and node["op"] not in _OPS:
                raise NotImplementedError(
                    f"MXNet graph: operator {node['op']!r} (node {node['name']!r}) is not supported by Ember; "
                    f"supported: {sorted(_OPS)}"
                )

    def _collect_params_with_prefix(self, prefix=""):
        return dict(self.params)

    def forward(self, *args):
        if len(args) != len(self._inputs):
            raise ValueError(f"MXNet graph: expected inputs {self._inputs}, got {len(args)} arrays")
        feed = dict(zip(self._inputs, args))
        values = []
        for node in self._nodes:
            if node["op"] == "null":
                value = feed[node["name"]] if node["name"] in feed else self.params[node["name"]].data()
            else:
                inputs = [values[i][j] if isinstance(values[i], tuple) else values[i] for i, j, *_ in node["inputs"]]
                value = _OPS[node["op"]](inputs, {k: _attr(node.get("attrs", {}), k) for k in node.get("attrs", {})})
            values.append(value)
        outs = [_nd(values[i]) for i, _j, *_ in self._heads]
        return outs[0] if len(outs) == 1 else outs


def _is_aux(name):
    return name.endswith(("running_mean", "running_var", "moving_mean", "moving_var"))
