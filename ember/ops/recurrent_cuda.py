"""The LSTM step's gate arithmetic on the GPU: one elementwise kernel forward, one backward.

The GPU forms of :func:`ember.ops.recurrent_kernels.lstm_step` and
:func:`~ember.ops.recurrent_kernels.lstm_backward_step`, called with the same arguments from the same
place in :class:`ember.ops.recurrent.LSTM` (its ``_fused``), for CuPy float32/float64 arrays with Keras's
default activations (tanh, sigmoid as ``tanh(x/2)/2 + 1/2``). The per-step matmul stays
``cupy.matmul`` (cuBLAS); what this fuses is the dozen elementwise passes around it: one thread per
(batch row, unit) reads the four gate pre-activations and writes gates, states and output, so a step is
two launches (plus the saves and the bias add of the adapters) instead of ~15. The kernels take strided
views (``out[:, s]``, the gate blocks of ``z``), which CuPy's ElementwiseKernel indexes itself. Inference
(``save`` False) runs the same forward step.

``forward_step_reference`` / ``backward_step_reference`` are the same formulas in NumPy, with the same
signature; the tests run the LSTM op with them in place of the kernels (checked against the op's own
paths) and, on a GPU, compare the kernels with them.
"""

from __future__ import annotations

import numpy

from ..backend import cuda
from . import recurrent_kernels

FORWARD = cuda.register_elementwise(
    "lstm_forward_step",
    "T zi, T zf, T zg, T zo, T xi, T xf, T xg, T xo, T bi, T bf, T bg, T bo, T c_prev, T h_prev, bool skip, "
    "T factor, int32 masked",
    "T gi, T gf, T gg, T go, T c_new, T tc, T h_new, T out",
    r"""
    const T half = 0.5;
    gi = tanh(((zi + xi) + bi) * half) * half + half;
    gf = tanh(((zf + xf) + bf) * half) * half + half;
    gg = tanh((zg + xg) + bg);
    go = tanh(((zo + xo) + bo) * half) * half + half;
    T c = gf * c_prev + gi * gg;
    T t = tanh(c);
    tc = t;
    T h = go * t;
    if (masked && skip) {
        c = c_prev;
        h = h_prev;
    }
    c_new = c;
    h_new = h;
    out = masked ? h * factor : h;
    """,
)

BACKWARD = cuda.register_elementwise(
    "lstm_backward_step",
    "T dh, T g_out, T factor, T keep, int32 masked, T gi, T gf, T gg, T go, T t, T c_prev",
    "T carry_h, T dc, T di, T df, T dg, T d_o",
    r"""
    const T one = 1;
    T dhn, dc0;
    T drop = one - keep;
    if (masked) {
        T dht = (dh + carry_h) + g_out * factor;
        dhn = dht * keep;
        carry_h = dht * drop;
        dc0 = dc * keep;
    } else {
        dhn = dh + g_out;
        dc0 = dc;
    }
    d_o = (dhn * t) * ((one - go) * go);
    T dcn = (dhn * go) * (one - t * t);
    dcn = dcn + dc0;
    di = (dcn * gg) * ((one - gi) * gi);
    df = (dcn * c_prev) * ((one - gf) * gf);
    dg = (dcn * gi) * (one - gg * gg);
    dc = masked ? dcn * gf + dc * drop : dcn * gf;
    """,
)


def _blocks(a, u):
    return a[:, :u], a[:, u : 2 * u], a[:, 2 * u : 3 * u], a[:, 3 * u :]


def _rows(xp, a, masked, dtype):
    """A per-row argument as a (b, 1) device column when masked, else a scalar the kernel does not read."""
    if not masked:
        return dtype.type(0)
    return xp.asarray(a).reshape(-1, 1)


def _forward_gates(z, x, bias, c_prev, h_prev, gates, c_new, tc, h_new, out, skip, out_factor, masked, exact):
    """One step's gates on the GPU, on the step's slices (``exact`` is unused: CUDA's tanh).

    The pre-activation is ``(z + x) + bias`` in the kernel, in the CPU's order, with no array for the sum.
    """
    cp = cuda.cupy_module()
    u = c_prev.shape[1]
    dt = c_prev.dtype
    skip = _rows(cp, skip, masked, numpy.dtype(bool)) if masked else False
    factor = _rows(cp, out_factor, masked, dt)
    kernel = cuda.elementwise_kernel(FORWARD)
    kernel(*_blocks(z, u), *_blocks(x, u), *_blocks(bias.reshape(1, -1), u), c_prev, h_prev, skip, factor,
           numpy.int32(masked), *_blocks(gates, u), c_new, tc, h_new, out)  # fmt: skip


def _backward_gates(dh, carry_h, g_out, out_factor, keep, masked, gates, tc, c_prev, dc, d):
    """Backward through one step's gates on the GPU, on the step's slices."""
    cp = cuda.cupy_module()
    u = dc.shape[1]
    dt = dc.dtype
    factor, keep = _rows(cp, out_factor, masked, dt), _rows(cp, keep, masked, dt)
    if not masked:
        carry_h = cp.empty_like(dc)  # not read; an output of its own so no input is also written
    kernel = cuda.elementwise_kernel(BACKWARD)
    kernel(dh, g_out, factor, keep, numpy.int32(masked), *_blocks(gates, u), tc, c_prev, carry_h, dc, *_blocks(d, u))


def _as_step(gates_fn):
    """``gates_fn`` (one step's slices) with :func:`~ember.ops.recurrent_kernels.lstm_step`'s arguments."""

    def step(z, proj, t, bias, c, h, gates, tc, out, s, save, hp, cp, skip, out_factor, masked, exact):
        if save:
            hp[:, t] = h
            cp[...] = c
        c_prev, h_prev = c.copy(), h.copy()  # c and h are updated in place
        gates_fn(z, proj[t], bias, c_prev, h_prev, gates, c, tc, h, out[:, s], skip, out_factor, masked, exact)

    return step


def _as_backward_step(gates_fn):
    """``gates_fn`` (one step's slices) with :func:`~ember.ops.recurrent_kernels.lstm_backward_step`'s arguments."""

    def step(dh, carry_h, g_out, s, out_factor, keep, masked, gates, tc, c_prev, dc, dz, t):
        gates_fn(dh, carry_h, g_out[:, s], out_factor, keep, masked, gates, tc, c_prev, dc, dz[:, t])

    return step


forward_step = _as_step(_forward_gates)
backward_step = _as_backward_step(_backward_gates)


_GPU_FORMS = {
    recurrent_kernels.lstm_step: forward_step,
    recurrent_kernels.lstm_backward_step: backward_step,
}


def step_for(kernel, dtype):
    """The GPU form of numba step ``kernel`` for CuPy arrays of ``dtype``, or None (the generic path runs)."""
    if cuda.type_name(dtype) is None:
        return None
    return _GPU_FORMS.get(kernel)


# ---- the same formulas in NumPy (tests) ------------------------------------------------------------------


def _forward_gates_reference(z, x, bias, c_prev, h_prev, gates, c_new, tc, h_new, out, skip, out_factor, masked, exact):
    """:data:`FORWARD`'s body in NumPy, with :func:`_forward_gates`'s arguments."""
    u = c_prev.shape[1]
    half = c_prev.dtype.type(0.5)
    zi, zf, zg, zo = _blocks(z, u)
    xi, xf, xg, xo = _blocks(x, u)
    bi, bf, bg, bo = _blocks(bias.reshape(1, -1), u)
    gi, gf, gg, go = _blocks(gates, u)
    gi[...] = numpy.tanh(((zi + xi) + bi) * half) * half + half
    gf[...] = numpy.tanh(((zf + xf) + bf) * half) * half + half
    gg[...] = numpy.tanh((zg + xg) + bg)
    go[...] = numpy.tanh(((zo + xo) + bo) * half) * half + half
    c = gf * c_prev + gi * gg
    tc[...] = numpy.tanh(c)
    h = go * tc
    if masked:
        s = numpy.asarray(skip, dtype=bool).reshape(-1, 1)
        c = numpy.where(s, c_prev, c)
        h = numpy.where(s, h_prev, h)
    c_new[...] = c
    h_new[...] = h
    out[...] = h * numpy.asarray(out_factor).reshape(-1, 1) if masked else h


def _backward_gates_reference(dh, carry_h, g_out, out_factor, keep, masked, gates, tc, c_prev, dc, d):
    """:data:`BACKWARD`'s body in NumPy, with :func:`_backward_gates`'s arguments."""
    u = dc.shape[1]
    one = dc.dtype.type(1)
    gi, gf, gg, go = _blocks(gates, u)
    if masked:
        k = numpy.asarray(keep).reshape(-1, 1)
        factor = numpy.asarray(out_factor).reshape(-1, 1)
        drop = one - k
        dht = (dh + carry_h) + g_out * factor
        dhn = dht * k
        carry_h[...] = dht * drop
        dc0 = dc * k
    else:
        dhn = dh + g_out
        dc0 = dc.copy()
    di, df, dg, d_o = _blocks(d, u)
    d_o[...] = (dhn * tc) * ((one - go) * go)
    dcn = (dhn * go) * (one - tc * tc) + dc0
    di[...] = (dcn * gg) * ((one - gi) * gi)
    df[...] = (dcn * c_prev) * ((one - gf) * gf)
    dg[...] = (dcn * gi) * (one - gg * gg)
    dc[...] = dcn * gf + dc * drop if masked else dcn * gf


forward_step_reference = _as_step(_forward_gates_reference)
backward_step_reference = _as_backward_step(_backward_gates_reference)
