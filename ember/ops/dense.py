"""``matmul_bias_act``: a Dense layer's ``inputs @ kernel + bias``, then a ReLU when asked, as one op.

Shapes: x (..., k) @ kernel (k, F) + bias (F,) -> (..., F).

The product is a fresh array this op owns, so the bias and the ReLU go into it in place, in one pass
(:func:`ember.ops.activation_kernels.bias_act_forward`), where an add and a relu would each allocate an output and
the relu a mask. The backward masks the output gradient and sums the bias gradient in one pass
(:func:`~ember.ops.activation_kernels.relu_bias_backward`), then runs the product's backward on the masked
gradient; without a ReLU the gradient passes as it is and only the bias's is summed. The numbers are those of
matmul, add and relu one after another, bit for bit (the mask is the output's positive cells, which are the
input's; the bias gradient adds the rows first to last, as NumPy's reduction does).
"""

from __future__ import annotations

import functools

import numpy

from . import activation_kernels, split_matmul
from .arithmetic import Matmul, _lean_matmul

__all__ = ["matmul_bias_act"]


class MatmulBiasAct(Matmul):
    """``maximum(a @ b + bias, 0)`` (``relu``) or ``a @ b + bias``: see the module docstring.

    Under ``create_graph`` the product's saved operands are the graph's tensors (``graph_saved`` as Matmul's);
    the ReLU mask (the output) is a constant of the backward, as relu's own mask is.
    """

    name = "matmul_bias_act"

    def forward(self, a, b, bias, relu=False):
        if b.ndim != 2 or bias.shape != b.shape[1:]:
            f = b.shape[-1] if b.ndim else 0
            raise ValueError(
                f"{self.name}: expected a 2-D kernel and a bias of shape ({f},) (one per output unit), got kernel "
                f"shape {b.shape} and bias shape {bias.shape}"
            )
        if a.ndim == 2 and a.shape[1] == b.shape[0]:  # Matmul's common case, inline (the size test first)
            self.a, self.b = a, b
            n = b.shape[1]
            if a.size * n >= _LEAST_SPLIT:
                out = split_matmul.matmul(a, b)
            elif n > 1 < a.shape[0] or (a.flags.c_contiguous and b.flags.c_contiguous):
                out = a.dot(b)  # (a @ b's bits: see Matmul.forward)
            else:
                out = a @ b
        else:
            out = Matmul.forward(self, a, b)
        self.relu = relu
        if out.dtype is not bias.dtype and out.dtype != bias.dtype:  # (mixed dtypes promote as the add does)
            out = out + bias
            if relu:
                self.xp.maximum(out, 0, out=out)
        elif (
            out.size < activation_kernels.KERNEL_MIN_SIZE
            or not out.flags.c_contiguous  # (reshape gives a view: the kernel writes into out)
            or not activation_kernels.bias_act_forward(out.reshape(-1, b.shape[1]), bias, relu)
        ):
            self.xp.add(out, bias, out=out)
            if relu:
                self.xp.maximum(out, _ZEROS.get(out.dtype, 0) if type(out) is _NDARRAY else 0, out=out)
        if relu and any(self.needs_input_grad):
            self.activated = out  # its positive cells are the ReLU's mask
        return out

    @staticmethod
    def lean(xp, attrs):
        """The inference forward on arrays (ember.compile.forward_plan), ``f(a, b, bias)``: the product, then
        the bias and the ReLU in place on it.

        On NumPy a small batch's cost is its calls (W4: three products of a few hundred multiply-adds), so the
        common case runs first with the fewest tests: a 2-D product too small to split is ``a.dot(b)`` (the
        BLAS call of ``a @ b``, its bits, ~0.3 us less; Matmul.forward says where not), an output too small for
        the one-pass kernel gets ``add`` and ``maximum`` in place (against a 0-d zero of its dtype: the value
        NumPy makes of the 0, ~0.2 us less).
        """
        relu = bool(attrs.get("relu", False))
        if xp is not numpy:
            return functools.partial(_lean_any, xp, Matmul.lean(xp, {}), relu)
        split, add, maximum = _lean_matmul, numpy.add, numpy.maximum
        least, kernels, zeros = _LEAST_SPLIT, activation_kernels, _ZEROS

        def run(a, b, bias):
            if (
                a.ndim == 2
                and a.size * b.shape[1] < least
                and (b.shape[1] > 1 < a.shape[0] or (a.flags.c_contiguous and b.flags.c_contiguous))
            ):
                out = a.dot(b)
            else:
                out = split(a, b)  # (Matmul's lean form: a large product split, a small one a @ b)
            if out.dtype is not bias.dtype and out.dtype != bias.dtype:  # (mixed dtypes promote as the add does)
                out = out + bias
            elif (
                out.size < kernels.KERNEL_MIN_SIZE
                or not out.flags.c_contiguous  # (reshape gives a view: the kernel writes into out)
                or not kernels.bias_act_forward(out.reshape(-1, b.shape[1]), bias, relu)
            ):
                add(out, bias, out)
            else:
                return out
            if relu:
                maximum(out, zeros.get(out.dtype, 0), out=out)
            return out

        return run

    def backward(self, g):
        needs = self.needs_input_grad
        if type(g) is _NDARRAY and g.ndim == 2:  # the common case, on the host: the fewest calls
            gm, gb = g, None
            if self.relu:
                fused = None
                if needs[2] and g.size >= activation_kernels.KERNEL_MIN_SIZE:
                    fused = activation_kernels.relu_bias_backward(g, self.activated)
                if fused is not None:
                    gm, gb = fused
                else:
                    gm = g * (self.activated > 0)
            if needs[2] and gb is None:
                gb = _add_reduce(gm, _ROWS)
        else:  # batch axes, another device, or create_graph (tensors: the mask a constant, the sum an Ember op)
            lead = tuple(range(g.ndim - 1))
            gm = g * (self.activated > 0) if self.relu else g
            gb = gm.sum(axis=lead) if needs[2] else None
        ga = gk = None
        if needs[0] or needs[1]:
            ga, gk = super().backward(gm)
        return ga, gk, gb


def _lean_any(xp, product, relu, a, b, bias):
    """The lean form on another array module's arrays: its product, then the bias and the ReLU (in place)."""
    out = product(a, b)
    if out.dtype is not bias.dtype and out.dtype != bias.dtype:  # (mixed dtypes promote as the add does)
        out = out + bias
    else:
        xp.add(out, bias, out=out)
    if relu:
        xp.maximum(out, 0, out=out)
    return out


_NDARRAY = numpy.ndarray
_add_reduce = numpy.add.reduce
_ROWS = (0,)
_LEAST_SPLIT = split_matmul.LEAST_SPLIT
#: 0-d zeros the ReLU's maximum compares with: the 0 NumPy would make of the Python int for that dtype, without
#: making it at each call (read only)
_ZEROS = {numpy.dtype(t): numpy.zeros((), t) for t in (numpy.float16, numpy.float32, numpy.float64)}


def matmul_bias_act(x, kernel, bias, relu=False):
    """``relu(x @ kernel + bias)`` (or without the ReLU) as one op: what a Dense layer with a bias computes (its
    ``call`` takes this). x (..., k), kernel (k, F), bias (F,) -> (..., F)."""
    return MatmulBiasAct.apply(x, kernel, bias, relu=bool(relu))
