"""``einsum``: Einstein summation over any number of operands, differentiable in each.

The equation is first made explicit (``...`` replaced by letters unused
elsewhere, an implicit output written out as NumPy would). The gradient of
operand ``i`` is itself an einsum: of the output gradient with the other
operands, onto operand ``i``'s distinct labels. A label only operand ``i``
carries was summed away, so its gradient is broadcast along it; a label that
repeats within operand ``i`` (a diagonal, as in ``"ii->i"``) gets its gradient
written onto that diagonal; an axis operand ``i`` broadcast (size 1) is summed.
"""

from __future__ import annotations

import string

from ..engine.function import Function

__all__ = ["einsum"]


def _explicit(equation: str, shapes) -> tuple[list[str], str]:
    """The input subscripts and the output subscripts of ``equation``, without ``...``."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} operands but {len(shapes)} were given")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_rank = 0
    for s, shape in zip(ins, shapes):
        if "..." in s:
            ell_rank = max(ell_rank, len(shape) - (len(s) - 3))
    ell = "".join(free[:ell_rank])
    parts = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            k = len(shape) - (len(s) - 3)
            s = s.replace("...", ell[ell_rank - k :] if k else "")
        if len(s) != len(shape):
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape {tuple(shape)}")
        parts.append(s)
    if out is None:
        counts = {}
        for s in parts:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return parts, out


class Einsum(Function):
    """y = einsum(equation, *operands). Shapes: as the equation says."""

    promote = True

    def forward(self, *operands, equation):
        self.ins, self.out = _explicit(equation, [o.shape for o in operands])
        self.operands = operands
        return self.xp.einsum(",".join(self.ins) + "->" + self.out, *operands)

    def backward(self, g):
        xp = self.xp
        sizes = {}
        for s, o in zip(self.ins, self.operands):
            for c, n in zip(s, o.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        grads = []
        for i, (s, x) in enumerate(zip(self.ins, self.operands)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(t, o) for j, (t, o) in enumerate(zip(self.ins, self.operands)) if j != i]
            reachable = set(self.out).union(*[set(t) for t, _ in others]) if others else set(self.out)
            unique = "".join(dict.fromkeys(s))
            present = "".join(c for c in unique if c in reachable)
            eq = ",".join([self.out] + [t for t, _ in others]) + "->" + present
            part = xp.einsum(eq, g, *[o for _, o in others])
            # labels only this operand carries: broadcast the gradient along them
            order = [present.index(c) for c in unique if c in present]
            part = part.transpose(order) if part.ndim else part
            dims = iter(part.shape)
            part = part.reshape(tuple(next(dims) if c in present else 1 for c in unique))
            part = xp.broadcast_to(part, tuple(sizes[c] for c in unique))
            # axes this operand broadcast (size 1 against a larger size): sum them
            own = dict(zip(s, x.shape))
            axes = tuple(k for k, c in enumerate(unique) if own[c] == 1 and sizes[c] != 1)
            if axes:
                part = part.sum(axis=axes, keepdims=True)
            if len(unique) == len(s):
                gx = part.transpose([unique.index(c) for c in s]).astype(g.dtype, copy=True)
            else:
                gx = xp.zeros(x.shape, dtype=g.dtype)
                xp.einsum(s + "->" + unique, gx)[...] = part
            grads.append(gx)
        return tuple(grads)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation as ``numpy.einsum`` (``...`` and implicit outputs included), differentiable.

    ``optimize`` (NumPy's contraction-order hint, which some Keras code passes) is accepted and ignored:
    operands are contracted in one call.
    """
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: the first argument must be the equation string, got {type(subscripts).__name__}")
    return Einsum.apply(*operands, equation=subscripts)
