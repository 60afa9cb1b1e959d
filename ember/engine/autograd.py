"""Reverse-mode differentiation: walk the graph once, from the outputs back.

``backward(root)`` orders the functions behind ``root`` topologically with an
explicit stack (no recursion, so graphs of any depth work), then visits each
function once, root first, summing the gradients that reach each output before
calling its ``backward``. Leaf tensors accumulate into ``.grad``. Unless
``retain_graph`` is set, each function drops its saved arrays after use, and a
second backward through it raises.

``grad(outputs, inputs)`` walks the same way but only through the functions
that lead to ``inputs``, and returns their gradients instead of touching
``.grad``.

With ``create_graph=True`` the walk itself is recorded: gradients are tensors
with a ``grad_fn``, so they can be differentiated again (gradient penalties,
Hessian-vector products). Each op runs its one backward formula on tensors
instead of arrays: the engine hands it a copy of the function whose saved
arrays are replaced by tensors linked to the graph (as the op's
``graph_saved`` declares) and whose ``xp`` is :data:`graph_xp.GRAPH_XP`, the
NumPy-named functions on tensors. An op without a ``graph_saved`` declaration
has no differentiable backward and is refused by name.

Before an op's backward runs, the engine checks that no array it saved was
written in place since its forward (``x += 1`` in between would make the
gradient wrong): it raises instead, naming the op and the versions
(engine/inplace.py).

A gradient may arrive as a :class:`RowSparseGrad` (an embedding's rows); it
stays sparse on its way to a leaf and is made dense only where an op's
backward needs a dense array.
"""

from __future__ import annotations

import numpy

from .function import _LEAF, _write_epoch
from .grad_mode import enable_grad
from .inplace import check_writes
from .sparse_grad import RowSparseGrad

# bound at the end of the import of engine/tensor.py (which imports this module's importers)
Tensor = None


def backward(root, grad=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Args:
        root: the tensor to differentiate. Without ``grad`` it must hold one element.
        grad: d(loss)/d(root), same shape as ``root`` (defaults to ones for a scalar).
        retain_graph: keep saved arrays so backward can run through the graph again
            (defaults to ``create_graph``).
        create_graph: record the backward pass, so the gradients (``.grad``) are
            tensors with a graph that can be differentiated again.
    """
    if retain_graph is None:
        retain_graph = create_graph
    _run("backward", [root], [grad], bool(retain_graph), bool(create_graph), None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Args:
        outputs: a tensor or a sequence of tensors to differentiate.
        inputs: a tensor or a sequence of tensors (leaves or intermediate results).
        grad_outputs: the vector(s) in the vector-Jacobian product, one per output, same shapes
            (None: ones, allowed for one-element outputs only).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass so the returned gradients can be differentiated again.
        allow_unused: return None for an input the outputs do not depend on (otherwise an error).

    Returns:
        a tuple with one gradient tensor per input (shape of the input), or None for an unused input
        when ``allow_unused``. ``.grad`` of the leaves is left untouched.

    Example:
        >>> (gx,) = ember.grad((x ** 3).sum(), x, create_graph=True)   # 3 x^2, with a graph
        >>> (gxx,) = ember.grad(gx.sum(), x)                            # 6 x
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] must be a tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: inputs[{i}] (shape {t.shape}) does not require grad; create it with requires_grad=True"
            )
    if retain_graph is None:
        retain_graph = create_graph
    found = _run("grad", outputs, grad_outputs, bool(retain_graph), bool(create_graph), inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):  # each array its own (see BackwardWalk.gradients)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: inputs[{i}] (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
        elif isinstance(g, RowSparseGrad):
            g = Tensor._wrap(g.dense_array())
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(g)
        result.append(g)
    return tuple(result)


def _seed(op, root, grad, create_graph):
    """The starting gradient d(out)/d(root): an array, or a tensor under ``create_graph``."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{op}: expected tensors to differentiate, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            f"{op}: this tensor does not require grad and has no graph; "
            "create its inputs with requires_grad=True (and outside no_grad())"
        )
    xp = root.device.xp
    if grad is None:
        if root.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implied only for a tensor with one element, got shape {root.shape}; "
                "pass grad= with the same shape"
            )
        seed = xp.ones(root.shape, dtype=root.dtype)
    elif isinstance(grad, Tensor) and create_graph:
        if grad.shape != root.shape:
            raise ValueError(f"{op}: grad has shape {grad.shape}, expected the tensor's shape {root.shape}")
        return grad if grad.dtype == root.dtype else grad.astype(root.dtype)
    else:
        seed = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=root.dtype)
        if seed.shape != root.shape:
            raise ValueError(f"{op}: grad has shape {seed.shape}, expected the tensor's shape {root.shape}")
        seed = seed.astype(root.dtype, copy=False)
    return Tensor._wrap(seed) if create_graph else seed


def _run(op, roots, grads, retain_graph, create_graph, inputs):
    """The shared walk of ``backward`` and ``grad``; returns the gradients of ``inputs`` (a list) when given."""
    seeds = [_seed(op, r, g, create_graph) for r, g in zip(roots, grads)]
    if inputs is None and not create_graph:  # a leaf's .grad owns its array: never the caller's seed
        seeds = [s.copy() if r.grad_fn is None else s for r, s in zip(roots, seeds)]
    walk = BackwardWalk(roots, inputs)
    slots = walk.run(walk.entries, seeds, create_graph=create_graph, release=not retain_graph, op=op)
    gradients = walk.gradients(slots)
    if inputs is not None:
        return gradients
    for leaf, g in zip(walk.targets, gradients):
        if g is not None:
            _accumulate_leaf(leaf, g, create_graph)
    return None


class BackwardWalk:
    """The backward pass behind ``roots``, worked out once and run any number of times.

    Building it orders the functions behind the roots (:func:`_topological_order`: each before those it depends
    on) and numbers every gradient the pass carries as a *slot* of one flat list: one per output of a function
    (the sum of what its consumers send back) and one per target (a leaf, or a tensor ``grad()`` asks for).
    Each function becomes an entry of an edge table::

        (function, first output's slot, all output slots (None for one output), out (shape, dtype)s,
         number of inputs, edges)
        edge: (input position, slot it feeds, shape, dtype, broadcast sum or None, whether it feeds a leaf)

    :meth:`run` walks the entries once, root first, summing gradients per slot; :meth:`gradients` hands out
    the targets'. The table names the graph only through the entries' function objects: :meth:`rebind` puts
    those of another graph of the same shape in their place (ember.compile's StepPlan replays a traced
    step's backward on its per-step functions this way). Per function a run sums nothing but what the
    table names: no dict, no set, no sort.

    Args:
        roots: the tensors differentiated (each a leaf or the output of a function).
        targets: the tensors whose gradients are wanted (``grad()``'s inputs, or a plan's weights); the walk
            skips the functions through which no gradient reaches one. None: every leaf behind the roots,
            found on the way (``backward()``).
        inside: optional ids of the functions the walk may go through (a part of a larger graph: hybridize's
            traced call); it neither starts at nor expands any other. A target made by a function outside is an
            input of the part: it gets what reaches it, or None (no zeros for its function's other outputs: the
            walk of the larger graph sums those).

    After building: ``order`` (the functions, each before those it depends on), ``entries`` (one per function
    the pass goes through), ``targets`` (the leaves found, or the targets given).
    """

    __slots__ = ("order", "entries", "positions", "targets", "target_slots", "root_slots", "n_slots", "keep")
    __slots__ += ("siblings", "_buffers")

    def __init__(self, roots, targets=None, inside=None):
        base = {}  # id(function) -> its first output slot (its outputs' slots are consecutive)
        leaf_slot = {}  # id(leaf) -> slot
        n = 0  # slots so far
        self.targets, self.target_slots, self.root_slots = [], [], []
        self.siblings = {}  # grad(): a wanted function output's slot -> all its function's output slots
        wanted = None  # grad(): the keys of the targets (id(leaf) or (id(function), output index))
        if targets is not None:
            wanted = set()
            for t in targets:
                fn = t.grad_fn
                if fn is None:
                    wanted.add(id(t))
                    if id(t) not in leaf_slot:
                        leaf_slot[id(t)], n = n, n + 1
                    self.target_slots.append(leaf_slot[id(t)])
                else:
                    wanted.add((id(fn), t._out_index))
                    if id(fn) not in base:
                        base[id(fn)], n = n, n + len(fn._out_meta)
                    first = base[id(fn)]
                    if inside is None or id(fn) in inside:
                        self.siblings[first + t._out_index] = tuple(range(first, first + len(fn._out_meta)))
                    self.target_slots.append(first + t._out_index)
            self.targets = list(targets)
        self.keep = bool(self.siblings)  # grad() of intermediate tensors: their slots are read after the walk
        starts = []
        for r in roots:
            fn = r.grad_fn
            if fn is None:  # a leaf: its seed is its gradient
                if id(r) not in leaf_slot and wanted is None:
                    leaf_slot[id(r)], n = n, n + 1
                    self.targets.append(r)
                    self.target_slots.append(leaf_slot[id(r)])
                self.root_slots.append(leaf_slot.get(id(r)))
                continue
            if id(fn) not in base:
                base[id(fn)], n = n, n + len(fn._out_meta)
            self.root_slots.append(base[id(fn)] + r._out_index)
            starts.append(fn)
        self.order = order = _topological_order(starts, inside) if starts else []
        useful = None if wanted is None else _leading_to(order, wanted)
        self.entries, self.positions = [], []
        for k, fn in enumerate(order):
            if useful is not None and id(fn) not in useful:
                continue
            metas = fn._out_meta
            out_shape = metas[0][0] if len(metas) == 1 else None
            edges = []
            for position, edge in enumerate(fn._edges):
                if edge is None:
                    continue
                kind, target, index, shape, dtype = edge
                if kind == _LEAF:
                    slot = leaf_slot.get(id(target))
                    if slot is None:
                        if wanted is not None:  # a leaf grad() does not ask for
                            continue
                        slot = leaf_slot[id(target)] = n
                        n += 1
                        self.targets.append(target)
                        self.target_slots.append(slot)
                elif useful is not None and id(target) not in useful and (id(target), index) not in wanted:
                    continue
                else:
                    first = base.get(id(target))
                    if first is None:
                        first = base[id(target)] = n
                        n += len(target._out_meta)
                    slot = first + index
                summed = None if out_shape is None or out_shape == shape else _broadcast_sum(out_shape, shape)
                edges.append((position, slot, shape, dtype, summed, kind == _LEAF))
            first = base[id(fn)]  # (given by a consumer's edge or a root)
            outs = None if out_shape is not None else tuple(range(first, first + len(metas)))
            self.entries.append((fn, first, outs, metas, len(fn._edges), tuple(edges)))
            self.positions.append(k)
        self.n_slots = n
        self._buffers = None  # (into, its buffers by slot) of the last run given one

    def rebind(self, fns):
        """The entries on other function objects: ``fns`` aligned with ``order`` (a graph of the same shape)."""
        return [(fns[k], *entry[1:]) for k, entry in zip(self.positions, self.entries)]

    def run(self, entries, seeds, create_graph=False, release=False, op=None, into=None):
        """Walk the table (``entries``, or :meth:`rebind`'s on other functions) from ``seeds``.

        ``seeds``: one gradient per root.

        Returns the list of slots: the targets' gradients are at ``target_slots`` (see :meth:`gradients`).

        Args:
            create_graph: run each backward on tensors, recorded (see :func:`_graph_backward`).
            release: drop what each function saved once its backward has run (``backward()`` without
                ``retain_graph``).
            op: ``"backward"``/``"grad"`` when ``entries`` are the graph's own: the engine's checks run (a graph
                freed by an earlier backward, saved arrays written in place since) and tensors marked with
                ``retain_grad()`` get theirs. None for a replay on other function objects.
            into: optional, one entry per target: an array of its shape and dtype that its dense gradient is
                written into as it arrives (the op's array freed at once), or None (see :meth:`gradients`).
        """
        g = [None] * self.n_slots
        buffers = None
        if into is not None:  # by slot; a plan passes the same list each step
            buffers = self._buffers
            if buffers is None or buffers[0] is not into:
                buffers = [None] * self.n_slots
                for slot, buffer in zip(self.target_slots, into):
                    buffers[slot] = buffer
                self._buffers = buffers = (into, buffers)
            buffers = buffers[1]
        for slot, seed in zip(self.root_slots, seeds):
            if slot is not None:  # (None: a leaf root grad() does not ask for)
                g[slot] = seed if g[slot] is None else g[slot] + seed
        clear = not self.keep  # a slot is read once: drop it as its function's backward runs
        engine = (create_graph, release, op) if op is not None or create_graph or release else None
        nd = _NDARRAY
        for fn, out, outs, metas, n_in, edges in entries:
            if outs is None:  # one output, its gradient in slot ``out``
                grad_out = g[out]
                if grad_out is None:  # no gradient reached this function
                    continue
                if clear:
                    g[out] = None
                if type(grad_out) is not nd:
                    grad_out = _dense(fn, grad_out, *metas[0], create_graph)
                grads_in = fn.backward(grad_out) if engine is None else _call(fn, [grad_out], n_in, *engine)
            else:
                grads_out = [g[s] for s in outs]
                if all(x is None for x in grads_out):
                    continue
                grads_out = [_dense(fn, x, *meta, create_graph) for x, meta in zip(grads_out, metas)]
                if clear:
                    for s in outs:
                        g[s] = None
                grads_in = fn.backward(*grads_out) if engine is None else _call(fn, grads_out, n_in, *engine)
            if type(grads_in) is not tuple:
                grads_in = (grads_in,)
            for position, slot, shape, dtype, summed, leaf in edges:
                e = grads_in[position]
                if e is None:
                    continue
                if type(e) is nd:
                    if summed is not None and e.shape == summed[0]:
                        e = _sum_add(e, summed[1], None, None, summed[2])
                        if summed[2]:
                            e = e.reshape(shape)
                    if e.shape != shape or (e.dtype is not dtype and e.dtype != dtype):
                        e = fit_gradient(e, shape, dtype, fn)
                else:
                    e = fit_gradient(e, shape, dtype, fn)
                old = g[slot]
                if old is None:
                    if leaf and buffers is not None and buffers[slot] is not None and type(e) is nd:
                        buffers[slot][...] = e  # (same shape and dtype: a copy; cheaper than numpy.copyto)
                        e = buffers[slot]
                    elif leaf and type(e) is nd and e.base is not None:
                        e = e.copy()  # a view (a transpose's gradient): copied now, so the op's array behind it is
                        # freed here, not held to the end of the walk (gradients() would copy it there)
                    g[slot] = e
                elif leaf and buffers is not None and old is buffers[slot] and type(e) is nd:
                    _add(old, e, out=old)  # the same sum as old + e, in the caller's buffer
                else:
                    g[slot] = old + e
        return g

    def straight(self, entries):
        """``walk(seed, into)``: ``gradients(run(entries, [seed], into=into), into)`` as one generated function.

        The same walk, sums, copies and hand-out as :meth:`run` then :meth:`gradients` (checks and recording
        off, as a replay runs them), with what the table fixes decided once: each slot a local variable, each
        entry's edges unrolled with their shapes, dtypes, broadcast sums and whether they feed a target. A
        plan runs it every step (ember.compile's StepPlan, where the walk's own per-entry bookkeeping was a
        few microseconds of a tiny model's step); a walk run once uses :meth:`run`. For a walk with one root
        and no sibling outputs to hand out (``keep`` False); ``into`` must then be None or one entry per target.
        """
        if len(self.root_slots) != 1 or self.keep:
            raise ValueError(
                f"BackwardWalk.straight: expected one root and no intermediate targets, got "
                f"{len(self.root_slots)} roots{' and intermediate targets' if self.keep else ''}"
            )
        env = {"_nd": _NDARRAY, "_fit": fit_gradient, "_dense": _dense, "_sum_add": _sum_add, "_add": _add}
        env["_owned"] = self._owned
        n_targets = len(self.target_slots)
        buffer_of = {slot: i for i, slot in enumerate(self.target_slots)}  # (the last target of a slot, as run's)
        body = []
        root = self.root_slots[0]
        if root is not None:  # (None: a leaf root that is no target)
            body.append(f"    g{root} = seed")
        for k, (fn, out, outs, metas, _, edges) in enumerate(entries):
            env[f"f{k}"], env[f"m{k}"] = fn, metas
            if outs is None:  # one output
                body += [f"    x = g{out}", "    if x is not None:", f"        g{out} = None"]
                body += ["        if type(x) is not _nd:", f"            x = _dense(f{k}, x, *m{k}[0])"]
                body.append(f"        r = f{k}.backward(x)")
            else:
                names = ", ".join(f"g{s}" for s in outs)
                body += [f"    xs = ({names},)", "    if not all(x is None for x in xs):"]
                body.append(f"        xs = [_dense(f{k}, x, *meta) for x, meta in zip(xs, m{k})]")
                body.append(f"        {names} = {', '.join('None' for _ in outs)}")
                body.append(f"        r = f{k}.backward(*xs)")
            body += ["        if type(r) is not tuple:", "            r = (r,)"]
            for position, slot, shape, dtype, summed, leaf in edges:
                s, d = f"s{k}_{position}", f"d{k}_{position}"
                env[s], env[d] = shape, dtype
                body += [f"        e = r[{position}]", "        if e is not None:", "            if type(e) is _nd:"]
                if summed is not None:
                    o, a = f"o{k}_{position}", f"a{k}_{position}"
                    env[o], env[a] = summed[0], summed[1]
                    body += [
                        f"                if e.shape == {o}:",
                        f"                    e = _sum_add(e, {a}, None, None, {summed[2]})",
                    ]
                    if summed[2]:
                        body.append(f"                    e = e.reshape({s})")
                body += [f"                if e.shape != {s} or (e.dtype is not {d} and e.dtype != {d}):"]
                body += [f"                    e = _fit(e, {s}, {d}, f{k})", "            else:"]
                body += [f"                e = _fit(e, {s}, {d}, f{k})"]
                if not leaf:
                    body.append(f"            g{slot} = e if g{slot} is None else g{slot} + e")
                    continue
                b = f"b{slot}" if slot in buffer_of else "None"
                body += [f"            old = g{slot}", "            if old is None:"]
                body += [f"                if {b} is not None and type(e) is _nd:", f"                    {b}[...] = e"]
                body += [f"                    e = {b}", "                elif type(e) is _nd and e.base is not None:"]
                body += ["                    e = e.copy()", f"                g{slot} = e"]
                body += [f"            elif {b} is not None and old is {b} and type(e) is _nd:"]
                body += [
                    "                _add(old, e, out=old)",
                    "            else:",
                    f"                g{slot} = old + e",
                ]
        lines = ["def walk(seed, into):"]
        if self.n_slots:
            lines.append(f"    {' = '.join(f'g{s}' for s in range(self.n_slots))} = None")
        if buffer_of:
            lines += ["    if into is None:", f"        {' = '.join(f'b{s}' for s in buffer_of)} = None", "    else:"]
            lines += [f"        b{s} = into[{i}]" for s, i in buffer_of.items()]
        lines += body
        # gradients(): with ``into``, each dense gradient in its target's buffer; the rest owned by the caller
        values = [f"g{s}" for s in self.target_slots]
        lines += ["    if into is None:", f"        return _owned([{', '.join(values)}], None)", "    others = False"]
        for i, v in enumerate(values):
            lines += [f"    i = into[{i}]", f"    if i is not None and type({v}) is _nd:", f"        if {v} is not i:"]
            lines += [f"            i[...] = {v}", f"        h{i} = i", "    else:", f"        h{i} = {v}"]
            lines += [f"        others = others or {v} is not None"]
        out = f"[{', '.join(f'h{i}' for i in range(n_targets))}]"
        lines += [f"    return _owned({out}, into) if others else {out}"]
        source = "\n".join(lines) + "\n"
        exec(compile(source, "<ember straight backward walk>", "exec"), env)  # noqa: S102 - source generated above
        walk = env["walk"]
        walk.source = source
        return walk

    def gradients(self, slots, into=None):
        """The targets' gradients after :meth:`run` (None where none arrived), each owned by the caller.

        A gradient that is a view (a broadcast, a slice) or the same array as another target's is copied, so
        a caller (an optimizer) may change each in place. ``into`` (optional, one entry per target): an array
        of the target's shape to write its dense gradient into (it is then the entry returned), or None.
        """
        if into is not None and not self.siblings:  # a plan's step: the dense ones in their buffers
            out, others = [], False
            for slot, buffer in zip(self.target_slots, into):
                g = slots[slot]
                if buffer is not None and type(g) is _NDARRAY:
                    if g is not buffer:  # (run without ``into``, or a gradient that was not dense first)
                        buffer[...] = g
                    out.append(buffer)
                else:
                    out.append(g)
                    others = others or g is not None
            return self._owned(out, into) if others else out
        return self._owned([slots[s] for s in self.target_slots], into, slots)

    def _owned(self, out, into, slots=None):
        """``out`` with each array not written into a buffer an array of its own (zeros where eager has them)."""
        given = None
        for i, g in enumerate(out):
            if g is None:
                slot = self.target_slots[i]
                if slots is not None and any(slots[s] is not None for s in self.siblings.get(slot, ())):
                    out[i] = _dense_zeros(self.targets[i])  # another output of its function got one: zeros, as eager
            elif not isinstance(g, (RowSparseGrad, Tensor)) and (into is None or g is not into[i]):
                given = set() if given is None else given
                if g.base is not None or id(g) in given:
                    g = out[i] = g.copy()
                given.add(id(g))
        return out


_NDARRAY = numpy.ndarray
_sum_add = numpy.add.reduce
_add = numpy.add


def _dense_zeros(t):
    return t.device.xp.zeros(t.shape, dtype=t.dtype)


def _broadcast_sum(out, shape):
    """How to sum a gradient of a function's output shape ``out`` down to its input's ``shape``, or None.

    ``(output shape, axes, keepdims)``: ``add.reduce(g, axes, keepdims=keepdims)`` (reshaped to ``shape``
    when ``keepdims``) is :func:`sum_to_shape`'s reduction over the same axes, worked out once per edge
    (a bias's gradient, a broadcast operand's). None where ``shape`` does not broadcast to ``out``.
    """
    lead = len(out) - len(shape)
    if lead < 0:
        return None
    axes, keepdims = list(range(lead)), False
    for i, n in enumerate(shape):
        if n != out[lead + i]:
            if n != 1:
                return None
            axes.append(lead + i)
            keepdims = True
    return (tuple(out), tuple(axes), keepdims) if axes else None


def _call(fn, grads_out, n_in, create_graph, release, op):
    """``fn``'s backward as the engine runs it on its graph: checked (``op``), recorded (``create_graph``), its
    saved arrays dropped after (``release``). A replay calls the backwards the engine checked when traced."""
    if op is not None:
        _visit(fn, grads_out, create_graph, op)
    grads_in = _graph_backward(fn, grads_out) if create_graph else fn.backward(*grads_out)
    if type(grads_in) is not tuple:
        grads_in = (grads_in,)
    if len(grads_in) != n_in:
        raise RuntimeError(f"{fn.op_name()}: backward returned {len(grads_in)} gradients for {n_in} inputs")
    if release:
        fn._release()
    return grads_in


def _visit(fn, grads_out, create_graph, op):
    """The eager walk's checks before ``fn``'s backward runs, and the gradients of its retained outputs."""
    if fn._retained:
        for i, ref in fn._retained.items():
            t = ref()
            if t is not None:
                t.grad = grads_out[i] if create_graph else Tensor._wrap(grads_out[i])
    if fn._freed:
        raise RuntimeError(
            f"{op}: the graph through {fn.op_name()} was already freed by an earlier backward(); "
            "pass retain_graph=True to the first backward() to run it again"
        )
    if fn._epoch is not None and fn._epoch != _write_epoch[0]:  # something was written in place since
        check_writes(fn)


def _leading_to(order, wanted):
    """Ids of the functions through which a gradient reaches a wanted tensor (the rest is skipped).

    ``order`` has every function before those it depends on, so walking it
    backwards sees a function's producers before the function itself.
    """
    useful = set()
    for fn in reversed(order):
        for edge in fn._edges:
            if edge is None:
                continue
            if edge[0] == _LEAF:
                if id(edge[1]) in wanted:
                    useful.add(id(fn))
                    break
            elif id(edge[1]) in useful or (id(edge[1]), edge[2]) in wanted:
                useful.add(id(fn))
                break
    return useful


def _graph_backward(fn, grads_out):
    """Run ``fn``'s backward formula on tensors, recording it; raise if the op has none."""
    from . import graph_xp

    cls = type(fn)
    spec = getattr(cls, "graph_saved", None)
    if spec is None:
        raise RuntimeError(
            f"backward with create_graph=True: {fn.op_name()} has no differentiable backward, "
            "so gradients through it cannot be differentiated again; use create_graph=False, "
            "or keep this op out of the part of the model that is differentiated twice"
        )
    shadow = cls.__new__(cls)
    state = shadow.__dict__
    state.update(fn.__dict__)
    state["xp"] = graph_xp.GRAPH_XP
    for name, where in spec.items():
        array = state.get(name)
        if array is None or isinstance(array, Tensor):
            continue
        state[name] = _saved_tensor(fn, where, array)
    grads_out = [g if isinstance(g, Tensor) else Tensor._wrap(g) for g in grads_out]
    derive = getattr(shadow, "graph_derive", None)
    try:
        with enable_grad():
            if derive is not None:  # saved values computed from the inputs, rebuilt as tensors
                derive()
            grads_in = shadow.backward(*grads_out)
    except graph_xp.NoGraphFormError as err:
        raise RuntimeError(
            f"backward with create_graph=True: {fn.op_name()}'s backward uses {err.args[0]}, which has no "
            "differentiable form; use create_graph=False for this op"
        ) from None
    if not isinstance(grads_in, tuple):
        grads_in = (grads_in,)
    for g in grads_in:
        if g is not None and not isinstance(g, Tensor):  # computed on raw arrays: it would be detached
            raise RuntimeError(
                f"backward with create_graph=True: {fn.op_name()}'s backward returned an array, not a tensor of "
                "the graph, so its gradient cannot be differentiated again; use create_graph=False for this op"
            )
    return grads_in


def graph_input(fn, k, array):
    """For an op's ``graph_derive``: input ``k`` of ``fn`` as a tensor of the graph, holding ``array``.

    ``array`` must hold the input's values (an op that did not keep the input rebuilds them from what it kept).
    """
    return _saved_tensor(fn, k, array)


def _saved_tensor(fn, where, array):
    """The tensor, linked into the graph, whose array ``fn`` saved: input ``where`` (an int) or output ``where[1]``."""
    if isinstance(where, int):
        edge = fn._edges[where]
        if edge is None:
            return Tensor._wrap(array)
        if edge[0] == _LEAF:
            return edge[1]  # the leaf itself, so gradients reach it
        return Tensor._wrap(array, edge[1], edge[2])
    return Tensor._wrap(array, fn, where[1])


def fit_gradient(g, shape, dtype, fn=None):
    """An input's gradient as its edge wants it (``fn``: the function whose backward gave it, for messages).

    NumPy's 0-d scalars become arrays, a broadcast gradient is summed down to ``shape``
    (:func:`sum_to_shape`; row-sparse ones are kept), and the dtype is the input's.
    """
    if isinstance(g, numpy.generic):  # NumPy turns 0-d results into scalars
        g = numpy.asarray(g)
    if not isinstance(g, RowSparseGrad) and g.shape != shape:
        g = sum_to_shape(g, shape, "backward" if fn is None else fn.op_name())
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _dense(fn, g, shape, dtype, create_graph=False):
    """The gradient for one output of ``fn`` as a dense array (zeros if nothing reached it)."""
    if g is None:
        zeros = fn.xp.zeros(shape, dtype=dtype)
        if create_graph:
            return Tensor._wrap(zeros)
        return zeros
    if isinstance(g, RowSparseGrad):
        return g.dense_array()
    return g


def _accumulate_leaf(leaf, g, create_graph=False) -> None:
    """Add ``g`` to ``leaf.grad``; a row-sparse gradient stays sparse until it meets a dense one."""
    old = leaf.grad
    if create_graph:
        if isinstance(old, RowSparseGrad):
            old = Tensor._wrap(old.dense_array())
        leaf.grad = g if old is None else old + g
        return
    if isinstance(g, Tensor):  # a seed given as a tensor for a root that is itself a leaf
        g = g.data
    if old is None:
        leaf.grad = g if isinstance(g, RowSparseGrad) else Tensor._wrap(g)
    elif isinstance(old, RowSparseGrad):
        total = old + g
        leaf.grad = total if isinstance(total, RowSparseGrad) else Tensor._wrap(total)
    else:
        leaf.grad = Tensor._wrap(old.data + g)  # a new array: g may alias another buffer


def _topological_order(starts, inside=None):
    """Functions reachable from ``starts`` (a list), each before every function it depends on.

    ``inside``: optional ids of functions to keep; the walk neither starts at nor expands any other (hybridize
    walks only the functions its trace recorded).
    """
    order, visited = [], set()
    stack = [(fn, False) for fn in reversed(starts) if inside is None or (fn is not None and id(fn) in inside)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for edge in fn._edges:
            if edge is not None and edge[0] != _LEAF and id(edge[1]) not in visited:
                if inside is None or id(edge[1]) in inside:
                    stack.append((edge[1], False))
    order.reverse()
    return order


def sum_to_shape(g, shape, op: str = "backward"):
    """Sum a broadcast gradient ``g`` (an array, or a tensor under create_graph) back down to ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"{op}: gradient of shape {g.shape} cannot be reduced to input shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(g.shape[lead:])
    if g.shape != shape:
        raise RuntimeError(f"{op}: gradient of shape {g.shape} does not match input shape {shape}")
    return g
