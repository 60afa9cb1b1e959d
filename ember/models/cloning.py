"""``clone_model`` (Keras's ``keras.models.clone_model``): the same architecture with new layers.

The clone has freshly initialised weights (copy them with
``clone.set_weights(model.get_weights())``) and is compiled like ``model`` when
``model`` was compiled, as in Keras.
"""

from __future__ import annotations

__all__ = ["clone_model"]


def _default_clone(layer):
    return layer.__class__.from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model with ``model``'s architecture, built from new layers.

    Args:
        model: a Sequential or functional model (any other registered Model subclass is cloned
            through its config, with no ``clone_function``/``input_tensors``).
        input_tensors: symbolic tensors (``ember.Input``) to build the clone on, in the structure of
            ``model.input``; default: new inputs like the model's.
        clone_function: ``layer -> layer`` for each of the model's layers (default: a new layer from
            the layer's config). Return the layer itself to share it with the clone.
        call_function: functional models only: ``(layer, *args, **kwargs) -> outputs`` replacing the
            call of each (cloned) layer in the graph.
        recursive: apply ``clone_function`` inside nested Sequential/functional models too.

    Returns:
        the clone, compiled from ``model``'s compile config when ``model`` was compiled.
    """
    from .functional import Functional
    from .sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model: unexpected keyword arguments {sorted(kwargs)}")
    given_function = clone_function is not None
    clone_function = clone_function or _default_clone
    if recursive:
        inner = clone_function

        def clone_function(layer):
            if isinstance(layer, (Sequential, Functional)):
                return clone_model(layer, clone_function=inner, recursive=True)
            return inner(layer)

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError(
                "clone_model: `call_function` is not supported with Sequential models (their layers are not called "
                f"when the model is built); use it with functional models. Received model '{model.name}'"
            )
        clone = _clone_sequential(model, clone_function, input_tensors)
    elif (
        isinstance(model, Functional)
        and type(model).get_config is Functional.get_config
        or (isinstance(model, Functional) and (given_function or input_tensors is not None))
    ):
        clone = _clone_functional(model, clone_function, call_function, input_tensors)
    else:
        if given_function or input_tensors is not None or call_function is not None:
            raise ValueError(
                "clone_model: `clone_function`, `input_tensors` and `call_function` are only supported for "
                f"Sequential and functional models; received a {type(model).__name__}"
            )
        from ..wrappers.model_state import _config_json, _model_from_json

        return _model_from_json(_config_json(model), None)
    _compile_like(model, clone)
    return clone


def _compile_like(model, clone):
    from ..saving.compile_config import compile_config, compile_from_config

    config = compile_config(model)
    if config is not None:
        compile_from_config(clone, config)


def _clone_sequential(model, clone_function, input_tensors):
    from ..layers import Input
    from ..layers.core.input_layer import InputLayer
    from .sequential import Sequential

    layers = [clone_function(layer) for layer in model.layers if not isinstance(layer, InputLayer)]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    f"clone_model: a Sequential model takes a single input tensor, got {len(input_tensors)}"
                )
            input_tensors = input_tensors[0]
        clone = Sequential(name=model.name, trainable=model.trainable)
        clone.add(input_tensors if isinstance(input_tensors, InputLayer) else _input_layer_of(input_tensors))
        for layer in layers:
            clone.add(layer)
        return clone
    clone = Sequential(layers, name=model.name, trainable=model.trainable)
    shape = model._declared_batch_shape() if hasattr(model, "_declared_batch_shape") else None
    if shape is not None:
        clone_inputs = Input(batch_shape=tuple(shape), dtype=_input_dtype(model))
        clone = Sequential([_input_layer_of(clone_inputs), *layers], name=model.name, trainable=model.trainable)
    return clone


def _input_dtype(model):
    layer = getattr(model, "_input_layer", None)
    return getattr(layer, "dtype", None)


def _input_layer_of(symbolic):
    node = getattr(symbolic, "node", None)
    if node is None:
        raise TypeError(f"clone_model: input_tensors must come from ember.Input(...), got {symbolic!r}")
    return node.layer


def _clone_functional(model, clone_function, call_function, input_tensors):
    from ..layers import Input
    from ..layers.core.input_layer import InputLayer
    from ..layers.symbolic import SymbolicTensor, flatten, map_structure, pack_like
    from .functional import Functional, _substitute

    if input_tensors is None:
        new_inputs = [Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=t.name) for t in model.inputs]
    else:
        new_inputs = flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(
                f"clone_model: input_tensors must match model.input ({len(model.inputs)} tensors), got "
                f"{len(new_inputs)}"
            )
        for t in new_inputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(f"clone_model: input_tensors must be symbolic tensors from ember.Input, got {t!r}")
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones = {}
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = clones.get(id(node.layer))
        if layer is None:
            layer = clones[id(node.layer)] = clone_function(node.layer)
        args = pack_like(node.inputs, [values[id(t)] for t in node.flat_inputs])
        call_kwargs = {k: _substitute(v, values) for k, v in node.kwargs.items()}
        extra = call_kwargs.pop("args", ())
        if call_function is not None:
            out = call_function(layer, args, *extra, **call_kwargs)
        else:
            out = layer(args, *extra, **call_kwargs)
        for sym, value in zip(node.flat_outputs, flatten(out)):
            values[id(sym)] = value
    outputs = map_structure(lambda t: values[id(t)], model.output)
    inputs = pack_like(model.input, new_inputs)
    return Functional(inputs, outputs, name=model.name)
