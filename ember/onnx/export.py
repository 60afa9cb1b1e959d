"""``export(model, path)``: write an Ember model as an ONNX file with a dynamic batch axis."""

from __future__ import annotations

import os

DEFAULT_OPSET = 17


def export(model, path, opset=None, input_signature=None):
    """Write ``model`` to ``path`` as an ONNX model that onnxruntime (or any ONNX runtime) can run.

    The graph keeps Ember's channels-last layout at its inputs and outputs
    (convolutions and poolings transpose to ONNX's channels-first inside), the
    batch axis is dynamic (named ``batch``), and the file appears only once it
    is completely written.

    Args:
        model: a built ``Sequential`` or functional ``Model`` (nested models allowed).
        path: the ``.onnx`` file to write.
        opset: the ONNX opset to target (default 17; 13 or newer).
        input_signature: optional list of ``(shape, dtype)`` pairs, one per model
            input, overriding the shapes/dtypes of the graph inputs (shape
            without or with the batch axis; ``None`` entries are dynamic).

    Returns:
        the ``onnx.ModelProto`` that was written.

    Raises:
        ImportError: the ``onnx`` package is missing (``pip install onnx onnxruntime``).
        UnsupportedLayerError: a layer or option that has no ONNX conversion; it names the layer and its class.
    """
    try:
        import onnx
        from onnx import helper
    except ImportError as err:
        raise ImportError(
            "ember.onnx.export needs the `onnx` package (the `onnx` extra): pip install onnx onnxruntime"
        ) from err
    from ..saving.atomic import atomic_open
    from . import converters  # noqa: F401  (registers every converter)
    from .context import GraphContext, onnx_dtype
    from .graph import convert_model, model_inputs, model_outputs

    opset = DEFAULT_OPSET if opset is None else int(opset)
    if opset < 13:
        raise ValueError(f"ONNX export: expected opset >= 13, got opset={opset}")
    if not getattr(model, "built", False):
        raise ValueError(f"ONNX export: model '{model.name}' is not built; call it on data or give it an Input first")
    inputs = model_inputs(model)
    signature = _signature(model, inputs, input_signature)

    ctx = GraphContext(opset)
    graph_inputs, input_names = [], []
    for i, (sym, (shape, dtype)) in enumerate(zip(inputs, signature)):
        name = _clean(getattr(sym, "name", None) or f"input_{i}")
        ctx.reserve(name)
        dims = ["batch"] + [d if d is not None else f"{name}_dim{j + 1}" for j, d in enumerate(shape[1:])]
        graph_inputs.append(helper.make_tensor_value_info(name, onnx_dtype(dtype), dims))
        input_names.append(name)
    out_names = convert_model(ctx, model, input_names)

    graph_outputs = []
    for i, (sym, name) in enumerate(zip(model_outputs(model), out_names)):
        final = ctx.op("Identity", [name], name=f"output_{i}")
        dims = ["batch"] + [d if d is not None else f"output_{i}_dim{j + 1}" for j, d in enumerate(sym.shape[1:])]
        graph_outputs.append(helper.make_tensor_value_info(final, onnx_dtype(getattr(sym, "dtype", "float32")), dims))

    graph = helper.make_graph(
        ctx.nodes, _clean(model.name) or "ember_model", graph_inputs, graph_outputs, initializer=ctx.initializers
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ember")
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else 9)
    onnx.checker.check_model(proto)
    with atomic_open(os.fspath(path), "wb") as f:
        f.write(proto.SerializeToString())
    return proto


def _signature(model, inputs, input_signature) -> list:
    declared = [(tuple(s.shape), getattr(s, "dtype", "float32")) for s in inputs]
    if input_signature is None:
        return declared
    if len(input_signature) != len(inputs):
        raise ValueError(
            f"ONNX export: input_signature has {len(input_signature)} entries, model '{model.name}' has "
            f"{len(inputs)} inputs"
        )
    out = []
    for (shape, dtype), entry in zip(declared, input_signature):
        if len(entry) == 2 and isinstance(entry[1], str):
            new_shape, new_dtype = entry
        else:
            new_shape, new_dtype = entry, dtype
        new_shape = tuple(new_shape)
        if len(new_shape) == len(shape) - 1:
            new_shape = (None, *new_shape)
        if len(new_shape) != len(shape):
            raise ValueError(f"ONNX export: input_signature shape {new_shape} does not fit the input shape {shape}")
        out.append((new_shape, new_dtype))
    return out


def _clean(name) -> str:
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in str(name or ""))
