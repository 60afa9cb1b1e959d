"""Walk a Sequential or functional model layer by layer, calling each layer's converter."""

from __future__ import annotations

from .registry import converter_for


def _shape(sym) -> tuple:
    return tuple(sym.shape)


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def model_steps(model):
    """Yield ``(layer, in_syms, out_syms)`` for every layer call of ``model`` in order.

    ``in_syms``/``out_syms`` are the symbolic tensors of that call (their
    ``shape`` has the batch axis first); input layers are skipped.
    """
    from ..layers.core.input_layer import InputLayer
    from ..models.sequential import Sequential

    if isinstance(model, Sequential):
        if not model.built or model._input_layer is None:
            raise ValueError(
                f"ONNX export: Sequential '{model.name}' is not built; give it an Input or call it on data first"
            )
        x = model._input_layer.output_tensor
        for layer in model._stack:
            node = next((n for n in layer._inbound_nodes if n.flat_inputs and n.flat_inputs[0] is x), None)
            if node is None:
                raise ValueError(f"ONNX export: cannot find the call of layer '{layer.name}' in '{model.name}'")
            yield layer, node.flat_inputs, node.flat_outputs
            x = node.flat_outputs[0]
        return
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        raise TypeError(
            f"ONNX export: expected a Sequential or functional model, got '{model.name}' of class "
            f"{type(model).__name__} (subclassed models have no graph to export)"
        )
    for node in nodes:
        if isinstance(node.layer, InputLayer):
            continue
        yield node.layer, node.flat_inputs, node.flat_outputs


def model_inputs(model) -> list:
    """The model's input symbolic tensors."""
    return list(model.inputs)


def model_outputs(model) -> list:
    """The model's output symbolic tensors (flattened)."""
    from ..models.sequential import Sequential

    if isinstance(model, Sequential):
        return [model._output_tensor]
    return list(model._flat_outputs)


def convert_model(ctx, model, input_names: list) -> list:
    """Add ``model``'s layers to ``ctx`` reading from ``input_names``; return its output names."""
    inputs = model_inputs(model)
    if len(inputs) != len(input_names):
        raise ValueError(
            f"ONNX export: model '{model.name}' takes {len(inputs)} input(s), got {len(input_names)} ONNX inputs"
        )
    names = {id(sym): name for sym, name in zip(inputs, input_names)}
    for layer, in_syms, out_syms in model_steps(model):
        try:
            in_names = [names[id(s)] for s in in_syms]
        except KeyError:
            raise ValueError(
                f"ONNX export: layer '{layer.name}' reads a tensor that no earlier layer of '{model.name}' produced"
            ) from None
        outs = convert_layer(ctx, layer, in_names, [_shape(s) for s in in_syms], [_shape(s) for s in out_syms])
        if len(outs) != len(out_syms):
            raise ValueError(
                f"ONNX export: the converter of layer '{layer.name}' ({type(layer).__name__}) gave {len(outs)} "
                f"outputs, the layer has {len(out_syms)}"
            )
        for sym, name in zip(out_syms, outs):
            names[id(sym)] = name
    return [names[id(s)] for s in model_outputs(model)]


def convert_layer(ctx, layer, in_names, in_shapes, out_shapes) -> list:
    """Convert one layer call (a nested model too) and keep track of which outputs carry a mask."""
    if _is_model(layer):
        outs = convert_model(ctx, layer, in_names)
    else:
        outs = list(converter_for(layer)(ctx, layer, in_names, in_shapes, out_shapes))
    cls = type(layer).__name__
    makes_mask = (cls == "Embedding" and getattr(layer, "mask_zero", False)) or cls == "Masking"
    keeps_mask = any(n in ctx.masked for n in in_names) and getattr(layer, "supports_masking", False)
    if makes_mask or keeps_mask:
        ctx.masked.update(outs)
    return outs


def require_unmasked(ctx, layer, in_names) -> None:
    """Refuse a layer whose result depends on a Keras mask (ONNX carries no masks)."""
    from .registry import UnsupportedLayerError

    if any(n in ctx.masked for n in in_names):
        raise UnsupportedLayerError(
            f"ONNX export: layer '{layer.name}' ({type(layer).__name__}) receives a mask (from "
            "Embedding(mask_zero=True) or Masking); masked inputs are not supported by ONNX export"
        )
