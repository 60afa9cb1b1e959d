"""``model_to_dot`` and ``plot_model``: a model's layer graph as Graphviz DOT text, and as a picture.

``model_to_dot`` needs nothing outside Ember: it walks the model (Sequential:
the stack in order; functional: the recorded nodes, so branches, several
inputs/outputs and shared layers show as they are; subclassed: one box)
and writes one box per layer and one arrow per connection.
``plot_model`` renders that text with Graphviz's ``dot`` program, run as a
subprocess; without it, it keeps the DOT text in a ``.dot`` file beside
``to_file`` and raises an ImportError that says how to install Graphviz.
"""

from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["model_to_dot", "plot_model"]

# formats whose output is the DOT text itself (no Graphviz needed)
_TEXT_FORMATS = ("dot", "gv")


def _quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (newlines become DOT's centred line breaks)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_text(shapes) -> str:
    shapes = [tuple(s) for s in shapes]
    if not shapes:
        return "?"
    return str(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(str(s) for s in shapes) + "]"


def _flat(structure) -> list:
    if isinstance(structure, (list, tuple)):
        return [x for s in structure for x in _flat(s)]
    if isinstance(structure, dict):
        return [x for s in structure.values() for x in _flat(s)]
    return [structure]


def _is_model(layer) -> bool:
    return hasattr(layer, "layers") and (hasattr(layer, "_nodes") or hasattr(layer, "_stack"))


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return name


def _layer_node(model, layer):
    """The call of ``layer`` that belongs to ``model``'s graph (its latest call if the model records none)."""
    nodes = getattr(layer, "_inbound_nodes", [])
    in_model = {id(n) for n in getattr(model, "_nodes", None) or []}
    for node in nodes:
        if id(node) in in_model:
            return node
    return nodes[-1] if nodes else None  # Sequential: its latest build


def _label(model, layer, options) -> str:
    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if options["show_layer_names"] else kind]
    if options["show_layer_activations"]:
        act = _activation_name(layer)
        if act is not None:
            lines.append(f"Activation: {act}")
    if options["show_dtype"]:
        dtype = getattr(layer, "dtype", None)
        if dtype is not None:
            lines.append(f"dtype: {dtype}")
    if options["show_shapes"]:
        node = _layer_node(model, layer)
        if node is not None:
            inputs = [t for t in node.flat_inputs if hasattr(t, "shape")]
            outputs = [t for t in node.flat_outputs if hasattr(t, "shape")]
            if inputs:
                lines.append(f"Input shape: {_shape_text(t.shape for t in inputs)}")
            lines.append(f"Output shape: {_shape_text(t.shape for t in outputs)}")
        elif getattr(layer, "_first_output_shapes", None):
            lines.append(f"Output shape: {_shape_text(layer._first_output_shapes)}")
        elif getattr(layer, "batch_shape", None) is not None:  # an InputLayer
            lines.append(f"Output shape: {tuple(layer.batch_shape)}")
    if options["show_trainable"]:
        lines.append(f"Trainable: {'Y' if layer.trainable else 'N'}")
    return "\n".join(lines)


def _layers_and_edges(model):
    """The layers to draw and the (from, to) layer pairs between them."""
    if hasattr(model, "_stack"):  # Sequential: the stack in order (its input layer is not drawn, as in Keras)
        layers = list(model.layers)
        return layers, list(zip(layers, layers[1:]))
    nodes = getattr(model, "_nodes", None)
    if nodes is None:  # subclassed: its call order is unknown, so it is one box, as in Keras
        return [model], []
    layers = list(model.layers)
    edges, seen = [], set()
    for node in nodes:
        for t in node.flat_inputs:
            producer = getattr(t, "node", None)
            if producer is None:
                continue
            key = (id(producer.layer), id(node.layer))
            if key not in seen:
                seen.add(key)
                edges.append((producer.layer, node.layer))
    return layers, edges


def _graph_body(model, options, counter, indent):
    """DOT lines for ``model``'s layers and arrows; returns (lines, entry node ids, exit node ids)."""
    layers, edges = _layers_and_edges(model)
    lines, entries, exits = [], {}, {}
    for layer in layers:
        if options["expand_nested"] and _is_model(layer):
            counter[0] += 1
            cluster = counter[0]
            inner, inner_entries, inner_exits = _graph_body(layer, options, counter, indent + "  ")
            lines.append(f"{indent}subgraph cluster_{cluster} {{")
            lines.append(f"{indent}  label={_quote(f'{layer.name} ({type(layer).__name__})')};")
            lines.extend(inner)
            lines.append(f"{indent}}}")
            entries[id(layer)], exits[id(layer)] = inner_entries, inner_exits
            continue
        node_id = f"n{counter[0]}"
        counter[0] += 1
        lines.append(f"{indent}{node_id} [label={_quote(_label(model, layer, options))}];")
        entries[id(layer)] = exits[id(layer)] = [node_id]
    has_in, has_out = set(), set()
    for src, dst in edges:
        if id(src) not in exits or id(dst) not in entries:
            continue
        has_out.add(id(src))
        has_in.add(id(dst))
        for a in exits[id(src)]:
            for b in entries[id(dst)]:
                lines.append(f"{indent}{a} -> {b};")
    first = [n for layer in layers if id(layer) not in has_in for n in entries[id(layer)]]
    last = [n for layer in layers if id(layer) not in has_out for n in exits[id(layer)]]
    return lines, first, last


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """The layer graph of ``model`` as Graphviz DOT text: one box per layer, one arrow per connection.

    Args:
        model: a built Sequential, functional or subclassed model.
        show_shapes: add each layer's input and output shapes (batch axis as None).
        show_dtype: add each layer's dtype.
        show_layer_names: label boxes "name (Type)" rather than "Type".
        rankdir: Graphviz's direction: "TB" (top to bottom) or "LR" (left to right).
        expand_nested: draw a nested model's layers inside a box of its own.
        dpi: resolution of rendered pictures.
        subgraph: return a ``subgraph cluster_...`` block instead of a whole ``digraph``.
        show_layer_activations: add the activation of layers that have one.
        show_trainable: add whether each layer is trainable.
        splines: Graphviz's edge style ("ortho", "curved", "polyline", "spline", "line").

    Returns:
        The DOT text (a str; ``dot -Tpng`` renders it).
    """
    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments {sorted(kwargs)}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"model_to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if not hasattr(model, "layers"):
        raise TypeError(f"model_to_dot: expected an ember model, got {type(model).__name__}")
    options = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
        "expand_nested": expand_nested,
    }
    body, _, _ = _graph_body(model, options, [0], "  ")
    name = getattr(model, "name", "model")
    if subgraph:
        return "\n".join([f"subgraph {_quote('cluster_' + name)} {{", f"  label={_quote(name)};", *body, "}"]) + "\n"
    head = [
        f"digraph {_quote(name)} {{",
        f"  graph [rankdir={rankdir}, concentrate=true, dpi={int(dpi)}, splines={splines}];",
        '  node [shape=box, fontname="Helvetica"];',
    ]
    return "\n".join([*head, *body, "}"]) + "\n"


def _install_hint() -> str:
    return (
        "install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`; "
        "conda: `conda install graphviz`; others: https://graphviz.org/download/) so that `dot` is on PATH"
    )


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Draw ``model``'s layer graph into ``to_file`` (format from its extension; none means ``.png``).

    The picture is rendered by Graphviz's ``dot`` program. A ``.dot`` or ``.gv`` file is written
    directly, without Graphviz. Arguments are those of :func:`model_to_dot`.

    Raises:
        ValueError: the model is not built yet (its shapes are unknown), or an unknown argument.
        ImportError: Graphviz's ``dot`` is not installed; the DOT text is saved next to ``to_file``
            (same name, ``.dot`` extension) first, and the message says where and how to render it.
        OSError: ``dot`` failed (its message is included); the DOT text is saved the same way.
    """
    if not getattr(model, "built", False):
        raise ValueError(
            f"plot_model: model '{getattr(model, 'name', model)}' is not built yet; build it first by calling "
            f"build(input_shape), calling it on a batch of data, or giving its first layer an input shape"
        )
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: layer_range is not supported by Ember")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword arguments {sorted(kwargs)}")
    text = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
    )
    to_file = os.fspath(to_file)
    root, extension = os.path.splitext(to_file)
    if not extension:
        extension = ".png"
        to_file = root + extension
    fmt = extension[1:].lower()
    if fmt in _TEXT_FORMATS:
        _write_text(to_file, text)
        return None
    dot_file = root + ".dot"
    if os.path.dirname(to_file):
        os.makedirs(os.path.dirname(to_file), exist_ok=True)
    dot = shutil.which("dot")
    if dot is None:
        _write_text(dot_file, text)
        raise ImportError(
            f"plot_model: rendering {to_file!r} needs Graphviz's `dot` program, which was not found; "
            f"{_install_hint()}. The graph was saved as DOT text to {dot_file!r}; render it later with "
            f"`dot -T{fmt} {dot_file} -o {to_file}`."
        )
    try:
        result = subprocess.run([dot, f"-T{fmt}", "-o", to_file], input=text.encode(), capture_output=True)
    except OSError as err:
        _write_text(dot_file, text)
        raise OSError(f"plot_model: could not run {dot!r}: {err}; the DOT text is in {dot_file!r}") from err
    if result.returncode != 0:
        _write_text(dot_file, text)
        message = result.stderr.decode(errors="replace").strip()
        raise OSError(
            f"plot_model: `dot -T{fmt}` failed (exit status {result.returncode}) writing {to_file!r}: {message}; "
            f"the DOT text is in {dot_file!r}"
        )
    return None


def _write_text(path, text):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
