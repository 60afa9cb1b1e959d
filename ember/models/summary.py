"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

The layout follows Keras 3 as it prints when the output is not a terminal:
three columns (layer, output shape, parameters) for sequential-like models,
a fourth ("Connected to") for graphs with branches or shared layers, and the
totals below, the optimizer's variables included once it is built.
"""

from __future__ import annotations

# column widths (text, without the one-space padding) Keras 3 prints at its default width
_SEQUENTIAL_WIDTHS = (31, 22, 13)
_GRAPH_WIDTHS = (19, 17, 10, 17)


def _size_text(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} GB"  # pragma: no cover


def _count(weights) -> tuple:
    unique = list({id(w): w for w in weights}.values())
    params = sum(int(w.size) for w in unique)
    n_bytes = sum(int(w.size) * w.dtype.itemsize for w in unique)
    return params, n_bytes


def _shape_text(shapes) -> str:
    if isinstance(shapes, list):
        return ", ".join(str(s) for s in shapes) if len(shapes) > 1 else str(shapes[0])
    return str(shapes)


def _output_shape_text(layer) -> str:
    from ..layers.symbolic import flatten

    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:
        return _shape_text([t.shape for t in flatten(nodes[0].outputs)])
    seen = getattr(layer, "_first_output_shapes", None)  # a layer only ever called on data (subclassed models)
    if seen:
        return _shape_text(list(seen))
    return "?"


def _graph_nodes(model):
    return getattr(model, "_nodes", None)


def _is_sequential_like(model) -> bool:
    """Keras's test: no branches, no node with several inputs, no layer called twice."""
    nodes = _graph_nodes(model)
    if nodes is None:
        return True  # Sequential and subclassed models
    from ..layers.symbolic import flatten

    consumers = {}
    layers_seen = set()
    for node in nodes:
        if len(node.flat_inputs) > 1 or id(node.layer) in layers_seen:
            return False
        layers_seen.add(id(node.layer))
        for t in node.flat_inputs:
            consumers[id(t)] = consumers.get(id(t), 0) + 1
    if any(n > 1 for n in consumers.values()):
        return False
    return len(flatten(model.outputs)) <= 1


def _connections(model, layer) -> str:
    nodes = _graph_nodes(model) or []
    in_model = {id(n) for n in nodes}
    parts = []
    for node in layer._inbound_nodes:
        if id(node) not in in_model:
            continue
        for t in node.flat_inputs:
            producer = getattr(t, "node", None)
            if producer is None:
                continue
            node_index = next(i for i, n in enumerate(producer.layer._inbound_nodes) if n is producer)
            parts.append(f"{producer.layer.name}[{node_index}][{t.index}]")
    return ", ".join(parts) if parts else "-"


def _rows_of(layers, depth, expand_nested, into):
    """``(layer, depth)`` pairs in print order; with ``expand_nested``, a nested model's layers follow it."""
    for layer in layers:
        into.append((layer, depth))
        inner = getattr(layer, "layers", None)
        if expand_nested and isinstance(inner, list | tuple) and inner:
            _rows_of(inner, depth + 1, expand_nested, into)
    return into


def _widths_from_positions(positions, line_length, n_columns):
    """Column text widths from Keras's ``positions``: the right end of each column, as fractions of
    ``line_length`` when all are <= 1, else in characters."""
    positions = list(positions)
    if len(positions) != n_columns:
        raise ValueError(f"summary: positions needs {n_columns} column ends for this model, got {positions}")
    if all(p <= 1 for p in positions):
        positions = [int(line_length * p) for p in positions]
    ends = [int(p) for p in positions]
    if any(b <= a for a, b in zip([0, *ends], ends)):
        raise ValueError(f"summary: positions must increase, got {positions}")
    return [max(4, b - a - 3) for a, b in zip([0, *ends], ends)]  # 3: the bar and two spaces around a cell


def print_summary(
    model, line_length=None, print_fn=None, show_trainable=False, positions=None, expand_nested=False
) -> None:
    """Print (or pass to ``print_fn``) the summary table of ``model``.

    ``positions``: the right end of each column (fractions of ``line_length``, or characters), as in Keras.
    ``expand_nested``: list the layers of nested models under them, indented with ``└``.
    """
    from ..layers.core.input_layer import InputLayer

    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    entries = _rows_of(list(model.layers), 0, expand_nested, [])
    layers = [layer for layer, _ in entries]
    header = ["Layer (type)", "Output Shape", "Param #"]
    rows = []
    for layer, depth in entries:
        shape = str(layer.batch_shape) if isinstance(layer, InputLayer) else _output_shape_text(layer)
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        name = f"{'  ' * (depth - 1)}└ " if depth else ""
        rows.append([f"{name}{layer.name} ({type(layer).__name__})", shape, params])
    widths = list(_SEQUENTIAL_WIDTHS if sequential_like else _GRAPH_WIDTHS)
    if not sequential_like:
        header.append("Connected to")
        for r, (layer, depth) in zip(rows, entries):
            r.append(_connections(model, layer) if depth == 0 else "")
    if show_trainable:
        header.append("Trainable")
        widths.append(9)
        for r, layer in zip(rows, layers):
            r.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    if positions is not None:
        default_length = sum(widths) + 3 * len(widths) + 1
        widths = _widths_from_positions(positions, line_length or default_length, len(widths))
    elif line_length:  # scale the columns to the requested total width
        total = sum(widths) + 3 * len(widths) + 1
        widths = [max(4, int(w * line_length / total)) for w in widths]
    for i in range(len(widths)):  # widen a column rather than cut its text
        widths[i] = max(widths[i], len(header[i]), *(len(r[i]) for r in rows)) if rows else widths[i]
    align = ["l", "l", "r", "l", "c"][: len(widths)]
    if show_trainable:
        align[-1] = "c"

    def rule(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, bar="│"):
        texts = []
        for text, width, a in zip(cells, widths, align):
            texts.append(text.rjust(width) if a == "r" else text.center(width) if a == "c" else text.ljust(width))
        return bar + bar.join(f" {t} " for t in texts) + bar

    lines = [f'Model: "{model.name}"']
    lines.append(rule("┏", "┳", "┓", "━"))
    lines.append(row(header, "┃"))
    lines.append(rule("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        lines.append(row(r))
        if i < len(rows) - 1:
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable, trainable_bytes = _count(model.trainable_weights)
    non_trainable, non_trainable_bytes = _count(model.non_trainable_weights)
    opt_params, opt_bytes, opt_built = 0, 0, False
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        opt_params, opt_bytes = _count(optimizer.variables)
        opt_built = True
    total = trainable + non_trainable + opt_params
    total_bytes = trainable_bytes + non_trainable_bytes + opt_bytes
    lines.append(f" Total params: {total:,} ({_size_text(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({_size_text(trainable_bytes)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_size_text(non_trainable_bytes)})")
    if opt_built:
        lines.append(f" Optimizer params: {opt_params:,} ({_size_text(opt_bytes)})")
    for text in lines:
        print_fn(text)
