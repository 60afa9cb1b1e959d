"""``graph_to_dot`` and ``plot_graph``: the computational graph behind a tensor, as DOT text and as a picture.

The graph is read from the engine's own records: a tensor's ``grad_fn`` is the
:class:`~ember.engine.function.Function` that made it, and each function's
``_edges`` say where its inputs came from (another function, a leaf tensor, or
nothing: a constant that needs no gradient). ``backward()`` frees the saved
arrays of every function but keeps ``_edges`` and ``_out_meta``, so the graph
can be drawn before or after ``backward()``.

Leaves are drawn as ellipses (their name, shape and dtype), ops as boxes (the op
name and the shape of each output), constants as small grey notes, and the
tensor itself as a double ellipse at the bottom. Rendering goes through the same
Graphviz helpers as :func:`ember.utils.plot_model`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from .model_visualization import _TEXT_FORMATS, _install_hint, _quote, _write_text

__all__ = ["graph_to_dot", "plot_graph"]

_LEAF = 0  # edge kinds of ember.engine.function
_NODE = 1


def _shape(shape) -> str:
    return str(tuple(int(d) for d in shape))


def _leaf_label(tensor, show_shapes: bool, show_dtype: bool) -> str:
    name = getattr(tensor, "path", None) or getattr(tensor, "name", None)
    lines = [name if name else "leaf"]
    if show_shapes:
        lines.append(_shape(tensor.shape))
    if show_dtype:
        lines.append(str(tensor.dtype))
    if tensor.size == 1 and not name:
        lines.append(f"= {float(tensor.data.reshape(()).item()):.6g}")
    return "\n".join(lines)


def _op_label(fn, show_shapes: bool, show_dtype: bool) -> str:
    lines = [fn.op_name()]
    meta = getattr(fn, "_out_meta", ())
    if show_shapes and meta:
        shapes = [_shape(shape) for shape, _ in meta]
        lines.append(shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]")
    if show_dtype and meta:
        lines.append(str(meta[0][1]))
    return "\n".join(lines)


def graph_to_dot(tensor, show_shapes=True, show_dtype=False, rankdir="TB", dpi=96):
    """The computational graph that produced ``tensor``, as Graphviz DOT text.

    Args:
        tensor: an ``ember.Tensor``. A tensor made under ``no_grad`` (or from inputs that need
            no gradient) has no graph and is drawn as a single node.
        show_shapes: write each leaf's and each op output's shape in its node.
        show_dtype: write dtypes too.
        rankdir: Graphviz's direction: "TB", "LR", "BT" or "RL".
        dpi: resolution of rendered pictures.

    Returns:
        The DOT text (a str; ``dot -Tpng`` renders it).
    """
    if not hasattr(tensor, "grad_fn") or not hasattr(tensor, "shape"):
        raise TypeError(f"graph_to_dot: expected an ember Tensor, got {type(tensor).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"graph_to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    lines = [
        'digraph "computational_graph" {',
        f"  graph [rankdir={rankdir}, dpi={int(dpi)}];",
        '  node [fontname="Helvetica"];',
    ]
    ids: dict[int, str] = {}

    def node_id(obj, prefix):
        key = id(obj)
        if key not in ids:
            ids[key] = f"{prefix}{len(ids)}"
        return ids[key]

    out_label = "output" + (f"\n{_shape(tensor.shape)}" if show_shapes else "")
    root = tensor.grad_fn
    if root is None:  # a leaf, or a tensor with no recorded history
        lines.append(f"  t0 [shape=doubleoctagon, label={_quote(_leaf_label(tensor, show_shapes, show_dtype))}];")
        return "\n".join([*lines, "}"]) + "\n"
    lines.append(f"  out [shape=doublecircle, style=filled, fillcolor=lightyellow, label={_quote(out_label)}];")
    lines.append(f"  {node_id(root, 'f')} -> out;")
    # iterative walk (graphs of any depth), each function and leaf drawn once
    seen, stack, constants = set(), [root], 0
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        me = node_id(fn, "f")
        label = _quote(_op_label(fn, show_shapes, show_dtype))
        lines.append(f"  {me} [shape=box, style=filled, fillcolor=lightblue, label={label}];")
        for position, edge in enumerate(getattr(fn, "_edges", ()) or ()):
            tail = "" if len(fn._edges) == 1 else f' [label="{position}"]'
            if edge is None:
                cid = f"c{constants}"
                constants += 1
                lines.append(f'  {cid} [shape=note, style=filled, fillcolor=grey90, fontsize=10, label="constant"];')
                lines.append(f"  {cid} -> {me}{tail};")
                continue
            kind, target = edge[0], edge[1]
            if kind == _LEAF:
                lid = node_id(target, "t")
                if id(target) not in seen:
                    seen.add(id(target))
                    leaf = _quote(_leaf_label(target, show_shapes, show_dtype))
                    lines.append(f"  {lid} [shape=ellipse, style=filled, fillcolor=palegreen, label={leaf}];")
                lines.append(f"  {lid} -> {me}{tail};")
            else:
                lines.append(f"  {node_id(target, 'f')} -> {me}{tail};")
                stack.append(target)
    return "\n".join([*lines, "}"]) + "\n"


def plot_graph(tensor, to_file="graph.png", show_shapes=True, show_dtype=False, rankdir="TB", dpi=96):
    """Draw the computational graph behind ``tensor`` into ``to_file`` (format from its extension).

    Works before and after ``backward()``. A ``.dot``/``.gv`` file is written directly. Other formats
    are rendered by Graphviz's ``dot`` program; where it is not installed, the DOT text is saved
    beside ``to_file`` (same name, ``.dot`` extension) and printed to stderr with the command that
    installs Graphviz, and no exception is raised (so a script that draws its graph still runs).

    Args:
        tensor: an ``ember.Tensor``.
        to_file: the file to write (``.png`` when it has no extension).
        show_shapes, show_dtype, rankdir, dpi: as in :func:`graph_to_dot`.

    Returns:
        The path written: ``to_file``, or the ``.dot`` file when Graphviz is missing.

    Raises:
        OSError: ``dot`` ran but failed (its message is included); the DOT text is saved the same way.
    """
    text = graph_to_dot(tensor, show_shapes=show_shapes, show_dtype=show_dtype, rankdir=rankdir, dpi=dpi)
    to_file = os.fspath(to_file)
    root, extension = os.path.splitext(to_file)
    if not extension:
        extension = ".png"
        to_file = root + extension
    fmt = extension[1:].lower()
    if fmt in _TEXT_FORMATS:
        _write_text(to_file, text)
        return to_file
    dot_file = root + ".dot"
    dot = shutil.which("dot")
    if dot is None:
        _write_text(dot_file, text)
        print(
            f"plot_graph: rendering {to_file!r} needs Graphviz's `dot` program, which was not found; "
            f"{_install_hint()}. The graph was saved as DOT text to {dot_file!r} (render it later with "
            f"`dot -T{fmt} {dot_file} -o {to_file}`):\n{text}",
            file=sys.stderr,
        )
        return dot_file
    if os.path.dirname(to_file):
        os.makedirs(os.path.dirname(to_file), exist_ok=True)
    result = subprocess.run([dot, f"-T{fmt}", "-o", to_file], input=text.encode(), capture_output=True)
    if result.returncode != 0:
        _write_text(dot_file, text)
        message = result.stderr.decode(errors="replace").strip()
        raise OSError(
            f"plot_graph: `dot -T{fmt}` failed (exit status {result.returncode}) writing {to_file!r}: {message}; "
            f"the DOT text is in {dot_file!r}"
        )
    return to_file
