"""``Block.summary(*inputs)``: one call of the network with a forward hook on every layer, printed as MXNet's
table (layer ``Type-n`` in call order, its output shape, its own parameter count; totals, trainable and shared
parameters). Sequential containers get no row of their own; a hybridized block is refused, as MXNet."""

from __future__ import annotations

from ember.engine.tensor import Tensor

_LINE = "{:>20}  {:>42} {:>15}"


def _shapes(value):
    """Shapes in the nesting of ``value`` (lists/tuples kept as lists), printed as MXNet prints them."""

    def walk(v):
        if isinstance(v, (list, tuple)):
            return [walk(e) for e in v]
        return tuple(v.shape) if isinstance(v, Tensor) else v

    shapes = walk(value)
    return str(shapes)[1:-1] if isinstance(shapes, list) else str(shapes)


def print_summary(block, inputs):
    from .block import HybridBlock
    from .nn import HybridSequential, Sequential

    rows = [("Input", _shapes(list(inputs) if len(inputs) != 1 else inputs[0]), 0, 0, 0)]
    seen, handles = set(), []

    def record(layer, _inputs, outputs):
        total = trainable = shared = 0
        for p in layer.params.values():
            size = p.data().size
            total += size
            trainable += 0 if p.grad_req == "null" else size
            if id(p) in seen:
                shared += size
            seen.add(id(p))
        rows.append((f"{type(layer).__name__}-{len(rows)}", _shapes(outputs), total, trainable, shared))

    def attach(layer):
        if isinstance(layer, HybridBlock) and layer._cached_call is not None:
            raise RuntimeError(f"summary: {layer.name!r} is hybridized; call summary() before hybridize()")
        if not isinstance(layer, (Sequential, HybridSequential)):
            handles.append(layer.register_forward_hook(record))

    try:
        block.apply(attach)
        block(*inputs)
    finally:
        for handle in handles:
            handle.detach()
    print("-" * 80)
    print(_LINE.format("Layer (type)", "Output Shape", "Param #"))
    print("=" * 80)
    for name, shape, total, _, _ in rows:
        print(_LINE.format(name, shape, total))
    total = sum(r[2] for r in rows)
    trainable = sum(r[3] for r in rows)
    shared = sum(r[4] for r in rows)
    print("=" * 80)
    print("Parameters in forward computation graph, duplicate included")
    print(f"   Total params: {total}")
    print(f"   Trainable params: {trainable}")
    print(f"   Non-trainable params: {total - trainable}")
    print(f"Shared params in forward computation graph: {shared}")
    print(f"Unique parameters in model: {total - shared}")
    print("-" * 80)
