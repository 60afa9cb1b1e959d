"""Lean forms of a plan's steps: an op's forward or backward specialised to the shapes and constants of its trace.

An op's own ``forward``/``backward`` handles every case it may meet (1-D
operands, batch broadcasting, zero divisors), with checks and helper calls
that cost microseconds per call, which a step of a tiny model feels. A plan
knows each step's input shapes and dtypes (``Step.in_meta``) and its
constant inputs, so some steps can skip that work. Each lean form here does
the op's arithmetic on the same arrays in the same order, so the numbers
are the op's bit for bit (tests/test_compile.py compares compiled and eager
fits for equality); where a case is not covered the op's own method runs.

- 2-D matmul: forward ``a @ b`` without the operand checks; backward
  ``g @ b.T`` and ``a.T @ g`` (the op's 1-D promotion and sums over
  broadcast batch axes are identities for 2-D operands).
- ``divide_no_nan`` by a constant without zeros (the loss's mean over the
  batch size): ``a / b`` forward, ``g / b`` backward (the op's ``where``
  calls select ``a / b`` and ``g`` everywhere then).
- add/subtract with a broadcast operand (a bias): the engine's
  ``sum_to_shape`` of its gradient with the axes worked out once
  (:func:`broadcast_sum`).
"""

from __future__ import annotations

from ..ops.arithmetic import Add, DivideNoNan, Matmul, Subtract


def lean_forward(step, plan):
    """A function ``forward(*arrays)`` to run instead of ``step.fn.forward`` (no attrs), or None."""
    fn = step.fn
    kind = type(fn)
    if kind is Matmul and _two_2d(step):

        def forward(a, b):
            fn.a, fn.b = a, b
            return a @ b

        return forward
    if kind is DivideNoNan and _constant_divisor(step, plan):

        def forward(a, b):
            return a / b

        return forward
    return None


def lean_backward(step, plan):
    """A function ``backward(g)`` to run instead of ``step.fn.backward``, or None."""
    fn = step.fn
    kind = type(fn)
    if kind is Matmul and _two_2d(step):
        need_a, need_b = fn.needs_input_grad

        def backward(g):
            return (g @ fn.b.T if need_a else None, fn.a.T @ g if need_b else None)

        return backward
    if kind is DivideNoNan and _constant_divisor(step, plan):
        b = plan.slots[step.in_slots[1]]
        need_a = fn.needs_input_grad[0]

        def backward(g):
            return (g / b if need_a else None, None)

        return backward
    return None


def broadcast_sum(step, position, shape):
    """How to sum the gradient ``step``'s backward gives input ``position`` down to ``shape``, or None.

    For add and subtract, whose backward gives each input a gradient of the
    output's shape: ``(output shape, axes, keepdims)`` with
    ``add.reduce(g, axis=axes, keepdims=keepdims)`` (reshaped to ``shape``
    when ``keepdims``) exactly ``autograd.sum_to_shape(g, shape)``: the same
    reduction over the same axes. None where no sum is needed or the form of
    the gradient is not known.
    """
    if type(step.fn) not in (Add, Subtract) or step.out_meta is None or len(step.out_meta) != 1:
        return None
    out = tuple(step.out_meta[0][0])
    shape = tuple(shape)
    lead = len(out) - len(shape)
    if out == shape or lead < 0:
        return None
    if any(n != 1 and n != out[lead + i] for i, n in enumerate(shape)):
        return None
    ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and out[lead + i] != 1)
    return out, tuple(range(lead)) + ones, bool(ones)


def _two_2d(step):
    meta = step.in_meta
    return meta is not None and len(meta) == 2 and len(meta[0][0]) == 2 and len(meta[1][0]) == 2


def _constant_divisor(step, plan):
    """Whether the divisor is a constant slot without zeros, of the dividend's dtype and no larger shape."""
    from .plan import _CONSTANT

    meta = step.in_meta
    if meta is None or len(meta) != 2 or step.attrs or step.fn.needs_input_grad[1]:
        return False
    slot = step.in_slots[1]
    if plan.kinds[slot] != _CONSTANT:
        return False
    b = plan.slots[slot]
    (a_shape, a_dtype), (b_shape, b_dtype) = meta
    if a_dtype != b_dtype or b.dtype != b_dtype or b.shape != b_shape or len(b_shape) > len(a_shape):
        return False
    if any(n != 1 and n != m for n, m in zip(reversed(b_shape), reversed(a_shape))):
        return False  # b would broadcast a to a larger shape
    return bool((b != 0).all())
