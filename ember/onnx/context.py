"""``GraphContext``: the ONNX graph under construction (nodes, initializers, unique names)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = np.iinfo(np.int64).max


class GraphContext:
    """Collects ONNX nodes and weights while a model is converted.

    Args:
        opset: the ONNX opset the graph targets.

    Attributes:
        nodes: the ``onnx.NodeProto`` list in topological order.
        initializers: the ``onnx.TensorProto`` list (weights and constants).
        masked: names of tensors that carry a Keras mask (from ``Embedding(mask_zero=True)``
            or ``Masking``); converters that would need the mask refuse them.
    """

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self.masked = set()
        self._used = set()

    def unique(self, base: str) -> str:
        """A tensor/node name starting with ``base`` that is not used yet."""
        base = base.replace(" ", "_") or "t"
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Mark ``name`` (a graph input) as used."""
        self._used.add(name)

    def op(self, op_type: str, inputs, name: str | None = None, outputs: int = 1, **attrs):
        """Add one node; returns its output name (or a list of names when ``outputs > 1``)."""
        base = name or op_type.lower()
        outs = [self.unique(base if outputs == 1 else f"{base}_out{i}") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self.unique(f"{base}_node"), **attrs))
        return outs[0] if outputs == 1 else outs

    def const(self, value, name: str = "const", dtype=None) -> str:
        """Add a weight or constant (a NumPy array or a Python number/list) and return its name."""
        arr = np.asarray(value, dtype=dtype)
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        tensor_name = self.unique(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), tensor_name))
        return tensor_name

    def ints(self, values, name: str = "ints") -> str:
        """An int64 constant (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64), name)

    # ---- helpers used by several converters ---------------------------------
    def transpose(self, x: str, perm, name: str = "transpose") -> str:
        return self.op("Transpose", [x], name=name, perm=list(perm))

    def unsqueeze(self, x: str, axes, name: str = "unsqueeze") -> str:
        if self.opset >= 13:
            return self.op("Unsqueeze", [x, self.ints(axes, f"{name}_axes")], name=name)
        return self.op("Unsqueeze", [x], name=name, axes=list(axes))

    def squeeze(self, x: str, axes, name: str = "squeeze") -> str:
        if self.opset >= 13:
            return self.op("Squeeze", [x, self.ints(axes, f"{name}_axes")], name=name)
        return self.op("Squeeze", [x], name=name, axes=list(axes))

    def reduce(self, op_type: str, x: str, axes, keepdims: bool = True, name: str | None = None) -> str:
        """``ReduceMean``/``ReduceMax``/``ReduceSum`` over ``axes`` (axes are an input from opset 18, 13 for Sum)."""
        name = name or op_type.lower()
        as_input = self.opset >= (13 if op_type == "ReduceSum" else 18)
        if as_input:
            return self.op(op_type, [x, self.ints(axes, f"{name}_axes")], name=name, keepdims=int(keepdims))
        return self.op(op_type, [x], name=name, axes=list(axes), keepdims=int(keepdims))

    def reverse_time(self, x: str, axis: int, name: str = "reverse") -> str:
        """``x`` reversed along ``axis`` (a Slice with step -1)."""
        return self.op(
            "Slice",
            [
                x,
                self.ints([-1], f"{name}_starts"),
                self.ints([-INT64_MAX], f"{name}_ends"),
                self.ints([axis], f"{name}_axes"),
                self.ints([-1], f"{name}_steps"),
            ],
            name=name,
        )

    def reshape(self, x: str, shape, name: str = "reshape") -> str:
        """Reshape to ``shape`` (0 copies the input's size on that axis, -1 is inferred)."""
        return self.op("Reshape", [x, self.ints(shape, f"{name}_shape")], name=name)


def onnx_dtype(dtype) -> int:
    """The ONNX element type of an Ember/Keras dtype name."""
    name = str(dtype or "float32")
    table = {
        "float32": TensorProto.FLOAT,
        "float64": TensorProto.DOUBLE,
        "float16": TensorProto.FLOAT16,
        "int32": TensorProto.INT32,
        "int64": TensorProto.INT64,
        "uint8": TensorProto.UINT8,
        "int8": TensorProto.INT8,
        "bool": TensorProto.BOOL,
    }
    if name not in table:
        raise ValueError(f"ONNX export: unsupported input dtype {name!r}; expected one of {sorted(table)}")
    return table[name]


def weight(variable) -> np.ndarray:
    """A layer variable's value as a host NumPy array (float32 weights stay float32)."""
    data = getattr(variable, "data", variable)
    if hasattr(data, "get"):  # CuPy array
        data = data.get()
    return np.asarray(data)
