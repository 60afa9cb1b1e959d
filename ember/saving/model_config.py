"""Model configs in Keras 3's JSON schema: Sequential stacks and functional graphs.

A functional model's config lists its layers; each layer carries the calls
that wire it (``inbound_nodes``), whose arguments name the tensors they read
as ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer name, node index, tensor index]}}``. The model's
``input_layers`` / ``output_layers`` point at tensors the same way. A
Sequential model's config is its list of layers (the InputLayer first when it
has one) and ``build_input_shape``.
"""

from __future__ import annotations

from .serialization import (
    check_safe,
    deserialize_keras_object,
    dtype_name,
    serialize_keras_object,
)


def serialize_model(model) -> dict:
    """``model`` as Keras 3's top-level dict (module, class_name, config, registered_name, build_config).

    Sequential and functional models are described layer by layer; a
    subclassed model is written through its own ``get_config``.
    """
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    if isinstance(model, Functional) and type(model).get_config is Functional.get_config:
        out = {
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "config": functional_config(model),
            "registered_name": "Functional",
            "build_config": {"input_shape": None},
        }
        return out
    if isinstance(model, Sequential) and type(model).get_config is Sequential.get_config:
        config = sequential_config(model)
        return {
            "module": "keras",
            "class_name": "Sequential",
            "config": config,
            "registered_name": None,
            "build_config": {"input_shape": config.get("build_input_shape")},
        }
    out = serialize_keras_object(model)
    out.setdefault("build_config", {"input_shape": None})
    return out


def sequential_config(model) -> dict:
    """Keras 3's Sequential config: name, trainable, dtype, layers (with build configs), build_input_shape."""
    layers = []
    if model._input_layer is not None:
        layers.append(_layer_entry(model._input_layer))
    for layer in model.layers:
        layers.append(_layer_entry(layer))
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype_policy.name, "layers": layers}
    if model.built and model._input_layer is not None:
        config["build_input_shape"] = list(model._input_layer.batch_shape)
    return config


def functional_config(model) -> dict:
    """Keras 3's functional config: name, trainable, layers with inbound_nodes, input_layers, output_layers."""
    own_nodes = {id(node) for node in model._nodes}
    index_of = {}  # id(node) -> index among the layer's nodes that belong to this model
    for layer in model.layers:
        k = 0
        for node in layer._inbound_nodes:
            if id(node) in own_nodes:
                index_of[id(node)] = k
                k += 1

    def history(t):
        return [t.node.layer.name, index_of[id(t.node)], t.index]

    def tensor_entry(t):
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": str(t.dtype), "keras_history": history(t)},
        }

    def args_of(node):
        extra = list(node.kwargs.get("args", ()))
        return [_map(node.inputs, tensor_entry)] + [_map(a, tensor_entry) for a in extra]

    layers = []
    for layer in model.layers:
        entry = _layer_entry(layer)
        entry["name"] = layer.name
        nodes = []
        for node in layer._inbound_nodes:
            if id(node) not in own_nodes or not node.flat_inputs:
                continue
            kwargs = {k: _map(v, tensor_entry) for k, v in node.kwargs.items() if k != "args"}
            nodes.append({"args": args_of(node), "kwargs": kwargs})
        entry["inbound_nodes"] = nodes
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _map(model._inputs_struct, history, leaf_is_list=True),
        "output_layers": _map(model._outputs_struct, history, leaf_is_list=True),
    }


def model_from_config(config, custom_objects=None, safe_mode=True):
    """Build a model (or layer) from a top-level config dict written by Ember or Keras 3.

    Args:
        config: ``{"class_name": "Functional" | "Sequential" | ..., "config": {...}}``.
        custom_objects: dict of name -> your classes/functions.
        safe_mode: refuse Lambda layers and Python bytecode (see ``load_model``).

    Returns:
        the model, built, with fresh weights.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"model_from_config: expected a dict with 'class_name' and 'config', got {type(config)}")
    check_safe(config, safe_mode)
    class_name = config["class_name"]
    inner = config.get("config") or {}
    if class_name in ("Functional", "Model") and "layers" in inner and "input_layers" in inner:
        return functional_from_config(inner, custom_objects, safe_mode)
    if class_name == "Sequential":
        return sequential_from_config(inner, custom_objects, safe_mode)
    return deserialize_keras_object(config, custom_objects, safe_mode, family="models")


def sequential_from_config(config, custom_objects=None, safe_mode=True):
    """A Sequential model from Keras 3's (or Keras 2's) Sequential config."""
    from ..models.sequential import Sequential

    entries = config["layers"] if isinstance(config, dict) else config  # Keras 2.0 wrote a bare list
    layers = [_layer_from_entry(e, custom_objects, safe_mode) for e in entries]
    name = config.get("name") if isinstance(config, dict) else None
    model = Sequential(layers, trainable=config.get("trainable", True) if isinstance(config, dict) else True, name=name)
    shape = config.get("build_input_shape") if isinstance(config, dict) else None
    if not model.built and shape is not None:
        model.build(tuple(shape))
    return model


def functional_from_config(config, custom_objects=None, safe_mode=True):
    """A functional model from Keras 3's (or Keras 2's) functional config: layers, calls, inputs, outputs."""
    from ..layers.core.input_layer import InputLayer
    from ..models.functional import Functional

    created = {}  # layer name -> layer
    produced = {}  # layer name -> list of output structures, one per node
    pending = []  # (layer, node data) in the order they appear
    for entry in config["layers"]:
        layer = _layer_from_entry(entry, custom_objects, safe_mode)
        name = entry.get("name") or layer.name
        created[name] = layer
        produced[name] = []
        if isinstance(layer, InputLayer):
            produced[name].append(layer.output_tensor)
            continue
        for node in entry.get("inbound_nodes") or []:
            pending.append((name, node))

    def lookup(history):
        name, node_index, tensor_index = history[0], history[1], history[2]
        outs = produced.get(name)
        if outs is None:
            raise ValueError(f"model config: a call reads from layer {name!r}, which is not in the config")
        if node_index >= len(outs):
            return None
        out = outs[node_index]
        flat = _flatten(out)
        return flat[tensor_index]

    while pending:
        progress = False
        for item in list(pending):
            name, node = item
            if _node_waiting(name, produced, node, lookup, pending):
                continue
            args, kwargs = _node_call(node, lookup)
            layer = created[name]
            kwargs.pop("training", None) if kwargs.get("training") in (None, False) else None
            kwargs.pop("mask", None)
            out = layer(*args, **kwargs)
            produced[name].append(out)
            pending.remove(item)
            progress = True
        if not progress:
            names = sorted({n for n, _ in pending})
            raise ValueError(f"model config: cannot wire layers {names}: their inputs are never produced")

    inputs = _map_history(config["input_layers"], lookup)
    outputs = _map_history(config["output_layers"], lookup)
    # as Keras: a one-element list (what Keras 2 always wrote) means a single tensor
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return Functional(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


# ---- helpers ---------------------------------------------------------------------------
def _layer_entry(layer) -> dict:
    entry = serialize_keras_object(layer)
    # Keras 3 layers take no batch_input_shape: the model's InputLayer carries the shape
    entry["config"] = {k: v for k, v in entry["config"].items() if k != "batch_input_shape"}
    if type(layer).__name__ == "InputLayer":
        entry["config"] = {**entry["config"], "batch_shape": list(layer.batch_shape)}
        entry["config"].setdefault("ragged", False)
        entry["config"].setdefault("optional", False)
    return entry


def _layer_from_entry(entry, custom_objects, safe_mode):
    entry = dict(entry)
    entry.pop("inbound_nodes", None)
    class_name = entry.get("class_name")
    config = dict(entry.get("config") or {})
    if class_name == "InputLayer":
        from ..layers.core.input_layer import InputLayer

        if isinstance(config.get("dtype"), dict):
            config["dtype"] = dtype_name(config["dtype"])
        for key in ("ragged", "optional"):
            if config.pop(key, False):
                raise ValueError(f"InputLayer '{config.get('name')}': `{key}=True` is not supported by Ember yet")
        return InputLayer(**config)
    if class_name in ("Functional", "Model", "Sequential"):
        entry.setdefault("config", config)
        return model_from_config(entry, custom_objects, safe_mode)
    return deserialize_keras_object(entry, custom_objects, safe_mode, family="layers")


def _is_history(x) -> bool:
    return isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str) and isinstance(x[1], int)


def _map_history(structure, lookup):
    if _is_history(structure):
        t = lookup(structure)
        if t is None:
            raise ValueError(f"model config: input/output {structure} is never produced")
        return t
    if isinstance(structure, dict):
        return {k: _map_history(v, lookup) for k, v in structure.items()}
    return [_map_history(s, lookup) for s in structure]


def _node_tensors(value, lookup, acc):
    """Collect (and resolve) the keras tensors a node's argument refers to; None when one is not ready."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return lookup(value["config"]["keras_history"])
    if isinstance(value, dict):
        return {k: _node_tensors(v, lookup, acc) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # Keras 2 node format: [layer name, node index, tensor index, kwargs]
        return [_node_tensors(v, lookup, acc) for v in value]
    return value


def _node_waiting(name, produced, node, lookup, pending) -> bool:
    # a layer's nodes are created in order: wait for the earlier ones
    for other_name, other in pending:
        if other_name == name:
            if other is not node:
                return True
            break
    for hist in _histories(node):
        if lookup(hist) is None:
            return True
    return False


def _histories(value):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value["config"]["keras_history"]]
    out = []
    if isinstance(value, dict):
        for v in value.values():
            out.extend(_histories(v))
    elif isinstance(value, (list, tuple)):
        if _is_legacy_node(value):
            return [list(item[:3]) for item in value]
        for v in value:
            out.extend(_histories(v))
    return out


def _is_legacy_node(value) -> bool:
    return bool(value) and all(isinstance(item, (list, tuple)) and _is_history(item[:3]) for item in value)


def _node_call(node, lookup):
    """The positional and keyword arguments of one recorded call, with tensors resolved."""
    if isinstance(node, dict):
        args = [_node_tensors(a, lookup, None) for a in node.get("args", [])]
        kwargs = {k: _node_tensors(v, lookup, None) for k, v in (node.get("kwargs") or {}).items()}
        return args, kwargs
    # Keras 2: a list of [name, node index, tensor index, kwargs]
    tensors = [lookup(item[:3]) for item in node]
    kwargs = dict(node[0][3]) if len(node[0]) > 3 and node[0][3] else {}
    return [tensors[0] if len(tensors) == 1 else tensors], kwargs


def _map(structure, fn, leaf_is_list=False):
    from ..layers.symbolic import SymbolicTensor

    if isinstance(structure, SymbolicTensor):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map(v, fn) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map(v, fn) for v in structure]
    return structure


def _flatten(structure) -> list:
    from ..layers.symbolic import flatten

    return flatten(structure)
