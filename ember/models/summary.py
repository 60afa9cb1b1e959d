"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations


def _size_text(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} GB"  # pragma: no cover


def _count(weights) -> tuple:
    params = sum(int(w.size) for w in weights)
    n_bytes = sum(int(w.size) * w.dtype.itemsize for w in weights)
    return params, n_bytes


def _output_shape_text(layer) -> str:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return "?"
    out = nodes[0].outputs
    if isinstance(out, (list, tuple)):
        return ", ".join(str(t.shape) for t in out)
    return str(out.shape)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False) -> None:
    """Print (or pass to ``print_fn``) the summary table of ``model``."""
    print_fn = print_fn or print
    rows = []
    from ..layers.core.input_layer import InputLayer

    for layer in model.layers:
        if isinstance(layer, InputLayer):
            shape = str(layer.batch_shape)
        else:
            shape = _output_shape_text(layer)
        params = layer.count_params() if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{params:,}" if layer.built else "0 (unbuilt)"))
    widths = [max(31, *(len(r[0]) + 2 for r in rows)), max(22, *(len(r[1]) + 2 for r in rows)), 15]
    if line_length:
        widths[0] = max(widths[0], line_length - widths[1] - widths[2] - 4)

    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, bar="│"):
        texts = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1]), cells[2].rjust(widths[2])]
        return bar + bar.join(f" {t} " for t in texts) + bar

    lines = [f'Model: "{model.name}"']
    lines.append(line("┏", "┳", "┓", "━"))
    lines.append(row(("Layer (type)", "Output Shape", "Param #"), "┃"))
    lines.append(line("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        lines.append(row(r))
        if i < len(rows) - 1:
            lines.append(line("├", "┼", "┤", "─"))
    lines.append(line("└", "┴", "┘", "─"))
    total, total_bytes = _count(model.weights)
    trainable, trainable_bytes = _count(model.trainable_weights)
    non_trainable, non_trainable_bytes = _count(model.non_trainable_weights)
    lines.append(f" Total params: {total:,} ({_size_text(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({_size_text(trainable_bytes)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_size_text(non_trainable_bytes)})")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and getattr(optimizer, "built", False):
        opt_params, opt_bytes = _count(optimizer.variables)
        lines.append(f" Optimizer params: {opt_params:,} ({_size_text(opt_bytes)})")
    for text in lines:
        print_fn(text)
