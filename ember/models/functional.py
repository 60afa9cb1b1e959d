"""``Functional``: a model defined by symbolic inputs and outputs (``Model(inputs, outputs)``)."""

from __future__ import annotations

from ..layers.core.input_layer import InputLayer
from ..layers.symbolic import SymbolicTensor, flatten, is_symbolic, map_structure, pack_like
from .model import Model


class Functional(Model):
    """A graph of layers from ``inputs`` to ``outputs``, with several of each and shared layers.

    Args:
        inputs: a SymbolicTensor (from ``ember.Input``), or a list/dict of them.
        outputs: the symbolic tensors the model returns, in any nesting.
        name: the model's name.
    """

    _convert_input_args = False  # inputs go to the layers as they come (Keras's graph models); each layer casts

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._tracking = False
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._flat_inputs = flatten(inputs)
        self._flat_outputs = flatten(outputs)
        for t in self._flat_inputs + self._flat_outputs:
            if not isinstance(t, SymbolicTensor):
                raise TypeError(
                    f"Model(inputs, outputs): expected symbolic tensors (from ember.Input and layer calls), got {t!r}"
                )
        self._nodes = _nodes_between(self._flat_inputs, self._flat_outputs)
        layers = _layers_by_depth(self._flat_inputs, self._flat_outputs)
        self._layers = layers
        self._tracking = True
        self.built = True

    @property
    def inputs(self):
        return self._flat_inputs

    @property
    def outputs(self):
        return self._flat_outputs

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def call(self, inputs, training=None, mask=None):
        from .sequential import adjust_input_rank

        flat = [
            adjust_input_rank(x, sym.shape) if hasattr(x, "shape") else x
            for sym, x in zip(self._flat_inputs, self._match_inputs(inputs))
        ]
        values = {id(sym): value for sym, value in zip(self._flat_inputs, flat)}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = pack_like(node.inputs, [values[id(t)] for t in node.flat_inputs])
            kwargs = {k: _substitute(v, values) for k, v in node.kwargs.items()}
            extra = kwargs.pop("args", ())
            if training is not None and "training" in node.layer._call_signature:
                kwargs["training"] = training
            out = node.layer(args, *extra, **kwargs)
            for sym, value in zip(node.flat_outputs, flatten(out)):
                values[id(sym)] = value
        return pack_like(self._outputs_struct, [values[id(t)] for t in self._flat_outputs])

    def _match_inputs(self, inputs) -> list:
        """The model's inputs as a flat list in the order of ``self.inputs``."""
        if isinstance(inputs, dict):
            names = [t.name for t in self._flat_inputs]
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}': missing inputs {missing}; expected keys {names}")
            return [inputs[n] for n in names]
        flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._flat_inputs)} input(s), but it received {len(flat)} input "
                f"tensors"
            )
        return flat

    def get_config(self) -> dict:
        config = super().get_config()
        layers = []
        for layer in self.layers:
            layers.append({"class_name": type(layer).__name__, "name": layer.name, "config": layer.get_config()})
        config["layers"] = layers
        return config


def _substitute(structure, values):
    """``structure`` (a call's other arguments) with each symbolic tensor replaced by its computed value."""
    if not is_symbolic(structure):
        return structure
    return map_structure(lambda t: values[id(t)] if isinstance(t, SymbolicTensor) else t, structure)


def _layers_by_depth(flat_inputs, flat_outputs) -> list:
    """The graph's layers in Keras's order: deepest first (the input layers), ties in traversal order.

    A node's depth is its distance from the outputs (the longest path); a layer called several times
    takes its deepest call. The traversal walks back from each output in turn, through each node's
    inputs in order, numbering layers as it first meets them. Keras lists ``model.layers`` (and so
    ``get_weights()``, ``summary()``) this way, so a branched graph's weights line up with Keras's.
    """
    input_ids = {id(t) for t in flat_inputs}
    finished, in_progress, finish_order, first_seen = set(), set(), [], {}
    stack = [("enter", t) for t in reversed(flat_outputs)]
    while stack:
        step, item = stack.pop()
        if step == "exit":
            in_progress.discard(id(item))
            finished.add(id(item))
            finish_order.append(item)
            continue
        node = item.node
        if node is None or id(node) in finished or id(node) in in_progress:
            continue
        if id(item) in input_ids and not isinstance(node.layer, InputLayer):
            continue  # an intermediate tensor given as a model input: the graph starts there
        first_seen.setdefault(id(node.layer), len(first_seen))
        in_progress.add(id(node))
        stack.append(("exit", node))
        if id(item) not in input_ids:
            stack.extend(("enter", t) for t in reversed(node.flat_inputs))
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(finish_order):  # outputs first: every consumer's depth is known before its inputs'
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = depth
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(node_depth.get(id(parent), 0), depth + 1)
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)], first_seen[id(layer)]))


def _nodes_between(flat_inputs, flat_outputs) -> list:
    """The nodes that compute ``flat_outputs`` from ``flat_inputs``, each after the nodes it reads from."""
    order, visited = [], set()
    stack = [(t.node, False) for t in reversed(flat_outputs)]
    input_ids = {id(t) for t in flat_inputs}
    while stack:
        node, expanded = stack.pop()
        if node is None:
            continue
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for t in reversed(node.flat_inputs):
            if id(t) in input_ids:  # stop at the model's inputs; keep their InputLayer as Keras does
                if t.node is not None and isinstance(t.node.layer, InputLayer):
                    stack.append((t.node, False))
                continue
            if t.node is None:
                raise ValueError(f"Model(inputs, outputs): the output depends on {t!r}, which is not among the inputs")
            stack.append((t.node, False))
    used = {id(t) for node in order for t in node.flat_inputs} | {id(t) for t in flat_outputs}
    for t in flat_inputs:
        if id(t) not in used:
            raise ValueError(f"Model(inputs, outputs): input {t.name} is not connected to the outputs")
    return order
