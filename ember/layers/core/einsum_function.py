"""A differentiable ``einsum`` for the layers that are written with it (EinsumDense, the attention layers).

The gradient of operand ``i`` is itself an einsum: the upstream gradient
(subscripts of the output) contracted with the other operands, written to
operand ``i``'s subscripts. An index that appears only in operand ``i`` (summed
out of it alone) does not reach that einsum; the gradient is constant along it
and is broadcast back. Subscripts are made explicit first (an ellipsis becomes
letters that no operand uses), so every einsum the backward runs is plain.
"""

from __future__ import annotations

import string

from ...engine.function import Function

_LETTERS = string.ascii_letters


def _parse(equation: str, shapes) -> tuple[list[str], str]:
    """Explicit subscripts for each operand and the output of ``equation`` (no ellipsis, output spelled out)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise ValueError(
            f"einsum: the equation '{equation}' names {len(subs)} operand(s), but {len(shapes)} were given"
        )
    used = set(eq) - set(".,->")
    free = [c for c in _LETTERS if c not in used]
    ell_rank = 0
    for s, shape in zip(subs, shapes):
        if "..." in s:
            ell_rank = max(ell_rank, len(shape) - (len(s) - 3))
    ell = "".join(free[:ell_rank])
    explicit = []
    for s, shape in zip(subs, shapes):
        if "..." in s:
            n = len(shape) - (len(s) - 3)
            s = s.replace("...", ell[ell_rank - n :] if n else "")
        if len(s) != len(shape):
            raise ValueError(
                f"einsum: operand subscripts '{s}' of '{equation}' do not match the operand's shape {tuple(shape)}"
            )
        if len(set(s)) != len(s):
            raise NotImplementedError(
                f"einsum: a repeated index within one operand ('{s}' in '{equation}', a diagonal) is not supported"
            )
        explicit.append(s)
    if out is None:  # NumPy's implicit output: the letters used once, in alphabetical order, after the ellipsis
        counts = {}
        for s in subs:
            for c in s.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out = out.replace("...", ell)
    return explicit, out


class Einsum(Function):
    """out = einsum(equation, *operands); one gradient per operand, itself an einsum."""

    promote = True

    def forward(self, *operands, equation):
        xp = self.xp
        self.subs, self.out = _parse(equation, [o.shape for o in operands])
        self.operands = operands
        spec = ",".join(self.subs) + "->" + self.out
        self.spec = spec
        return xp.asarray(xp.einsum(spec, *operands, optimize=len(operands) > 2))

    def backward(self, g):
        xp = self.xp
        grads = []
        for i, sub in enumerate(self.subs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.subs) if j != i]
            reachable = set(self.out).union(*others) if others else set(self.out)
            target = "".join(c for c in sub if c in reachable)
            spec = ",".join([self.out, *others]) + "->" + target
            operands = [g, *[o for j, o in enumerate(self.operands) if j != i]]
            gi = xp.einsum(spec, *operands, optimize=len(operands) > 2)
            if target != sub:  # broadcast along the indices only this operand had
                shape = self.operands[i].shape
                for axis, c in enumerate(sub):
                    if c not in reachable:
                        gi = xp.expand_dims(gi, axis)
                gi = xp.broadcast_to(gi, shape)
            grads.append(xp.ascontiguousarray(gi, dtype=self.operands[i].dtype))
        return tuple(grads)


def einsum(equation: str, *operands):
    """``numpy.einsum(equation, *operands)`` as a differentiable op (subscripts as Keras's ``ops.einsum``)."""
    return Einsum.apply(*operands, equation=equation)
