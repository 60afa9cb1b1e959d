"""Fused numba kernels for one time step of the recurrences (see :mod:`ember.backend.jit`).

:mod:`ember.ops.recurrent` runs each step as one matrix product (NumPy, BLAS) plus the gate arithmetic. In
NumPy that arithmetic is a dozen small array calls per step (each a Python round trip and a pass over
memory); here it is one loop that reads and writes each element once. The kernels (LSTM; GRU with
``reset_after=True``) cover Keras's default
activations (tanh, with sigmoid as the recurrent activation); other activations, non-NumPy arrays and
dtypes other than float32/float64 take the NumPy path in ``recurrent.py``, which computes the same numbers.

What is identical and what is not: the backward kernels do exactly the NumPy path's float operations in the
same order, so they give the same bits for the same inputs. The forward kernels differ only in tanh: numba
has no vectorised tanh (``math.tanh`` is a scalar libm call, ~30 ns an element, slower than the whole NumPy
step), so float32 uses Eigen's rational approximation (what Eigen/TensorFlow use on CPU; relative error
below 4e-7, a few float32 ulp, and vectorised by LLVM), while float64 calls ``math.tanh`` (exact to an ulp,
used by the float64 gradient tests). The sigmoid is ``tanh(x/2)/2 + 1/2`` as in the NumPy path. The LSTM's
forward kernels also let LLVM fuse a multiply and an add into one FMA (``fastmath={"contract"}``, one rounding
instead of two: about 7% faster on W3's forward, the NumPy path's numbers to float32 rounding); its step and
whole-sequence forms do so alike, so they give the same bits.

The LSTM's whole-sequence kernels (``lstm_forward_rows`` / ``lstm_backward_rows``, at the end) run every
step in one call, the recurrent product included (:mod:`ember.ops.recurrent_blas`), on a block of batch
rows: the step kernels' arithmetic and the same products, so the same bits.

Layout (b = batch, u = units): the LSTM's outputs and the gradient of its input projection ``dz`` are
batch-major, (b, time, ...), as the matmuls after the loop read them (no transposed copies); its input
projection ``proj`` and what only the kernels read (gates, tanh(c), c_{t-1}) are time-major, one contiguous
(b, ...) block per step. A kernel gets the whole array and the step's index, so that numba knows the inner
loops run over contiguous rows. Gate order i, f, c, o (Keras), written i, f, g, o here.

Mask arguments: ``skip`` (b,) bool, True where the step is masked (states carried over); ``out_factor``
(b,) the output multiplier (0 before the first kept step, see ``recurrent.py``); ``keep`` (b,) 1.0 where the
step counts, else 0.0. Unused (any 1-element arrays) when ``masked`` is False.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import jit

# float32 constants: in a float32 kernel they keep the arithmetic in float32 (a Python float would widen
# it to float64); in a float64 kernel they widen exactly.
_HALF = np.float32(0.5)
_ONE = np.float32(1.0)
# Eigen's fast float32 tanh (Eigen/src/Core/MathFunctionsImpl.h): x * P(x^2) / Q(x^2) on [-c, c].
_CLAMP = np.float32(7.90531110763549805)
_A1 = np.float32(4.89352455891786e-03)
_A3 = np.float32(6.37261928875436e-04)
_A5 = np.float32(1.48572235717979e-05)
_A7 = np.float32(5.12229709037114e-08)
_A9 = np.float32(-8.60467152213735e-11)
_A11 = np.float32(2.00018790482477e-13)
_A13 = np.float32(-2.76076847742355e-16)
_B0 = np.float32(4.89352518554385e-03)
_B2 = np.float32(2.26843463243900e-03)
_B4 = np.float32(1.18534705686654e-04)
_B6 = np.float32(1.19825839466702e-06)


def tanh_float32(x):
    """Eigen's rational tanh, in NumPy: the float32 kernels' tanh, for tests (x: float32 array)."""
    x = np.clip(x, -_CLAMP, _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    for a in (_A9, _A7, _A5, _A3, _A1):
        p = x2 * p + a
    p = x * p
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return p / q


# --------------------------------------------------------------------------- LSTM
@jit.kernel(fastmath={"contract"})
def lstm_step(z, proj, t, bias, c, h, gates, tc, out, s, save, hp, cp, skip, out_factor, masked, exact):
    """One LSTM step, row by row: gates, new states (in place) and output; ``exact``: math.tanh (float64).

    z (b, 4u) in: ``(h_{t-1} * rdm) @ recurrent_kernel``; proj (time, b, 4u) in: every step's input
    projection, time-major (this step's is ``proj[t]``); bias (4u,) (zeros when the op has none);
    c, h (b, u) in/out: the running states, replaced by c_t, h_t (kept where ``skip``);
    gates (b, 4u) out: activated i, f, g, o; tc (b, u) out: tanh(c_t) before masking;
    out (b, time, u): writes ``out[:, s]`` = h_t (* out_factor if masked);
    ``save`` (a graph will run backward): also writes hp[:, t] = h_{t-1} (hp (b, time, u)) and
    cp (b, u) = c_{t-1}; without it hp and cp are not touched (any arrays of that rank).

    One pass per gate block and one for the states, row by row: each value is written once and read back
    from L1. The branches (``exact``, the masked row) sit outside the loops, which LLVM vectorises (a branch
    or a libm call inside a loop would keep it scalar); float64's math.tanh loops stay scalar (tests only).
    The pre-activation is ``(z + proj) + bias``, in that order, as the NumPy path adds them.
    """

    def rtanh(v):  # the rational float32 tanh (see tanh_float32)
        v = min(max(v, -_CLAMP), _CLAMP)
        v2 = v * v
        p = v2 * _A13 + _A11
        p = v2 * p + _A9
        p = v2 * p + _A7
        p = v2 * p + _A5
        p = v2 * p + _A3
        p = v2 * p + _A1
        p = v * p
        q = v2 * _B6 + _B4
        q = v2 * q + _B2
        q = v2 * q + _B0
        return p / q

    def gate_block(n, lo, hi, sigmoid):
        """gates[n, lo:hi] from the pre-activations: sigmoid(v) = tanh(v/2)/2 + 1/2, or tanh(v)."""
        if sigmoid:
            if exact:
                for j in range(lo, hi):
                    gates[n, j] = math.tanh(((z[n, j] + proj[t, n, j]) + bias[j]) * _HALF) * _HALF + _HALF
            else:
                for j in range(lo, hi):
                    gates[n, j] = rtanh(((z[n, j] + proj[t, n, j]) + bias[j]) * _HALF) * _HALF + _HALF
        elif exact:
            for j in range(lo, hi):
                gates[n, j] = math.tanh((z[n, j] + proj[t, n, j]) + bias[j])
        else:
            for j in range(lo, hi):
                gates[n, j] = rtanh((z[n, j] + proj[t, n, j]) + bias[j])

    b, u = c.shape
    for n in range(b):
        gate_block(n, 0, 2 * u, True)  # i, f
        gate_block(n, 2 * u, 3 * u, False)  # g
        gate_block(n, 3 * u, 4 * u, True)  # o
        if save:
            for j in range(u):
                hp[n, t, j] = h[n, j]
                cp[n, j] = c[n, j]
        if masked and skip[n]:  # states carried over; tc (used by backward) still from this step's gates
            if exact:
                for j in range(u):
                    tc[n, j] = math.tanh(gates[n, u + j] * c[n, j] + gates[n, j] * gates[n, 2 * u + j])
            else:
                for j in range(u):
                    tc[n, j] = rtanh(gates[n, u + j] * c[n, j] + gates[n, j] * gates[n, 2 * u + j])
        elif exact:
            for j in range(u):
                cn = gates[n, u + j] * c[n, j] + gates[n, j] * gates[n, 2 * u + j]
                c[n, j] = cn
                th = math.tanh(cn)
                tc[n, j] = th
                h[n, j] = gates[n, 3 * u + j] * th
        else:
            for j in range(u):
                cn = gates[n, u + j] * c[n, j] + gates[n, j] * gates[n, 2 * u + j]
                c[n, j] = cn
                th = rtanh(cn)
                tc[n, j] = th
                h[n, j] = gates[n, 3 * u + j] * th
        if masked:
            factor = out_factor[n]
            for j in range(u):
                out[n, s, j] = h[n, j] * factor
        else:
            for j in range(u):
                out[n, s, j] = h[n, j]


@jit.kernel
def lstm_backward_step(dh, carry_h, g_out, s, out_factor, keep, masked, gates, tc, c_prev, dc, dz, t):
    """Backward through one LSTM step's gates (before the recurrent matmul ``dz[:, t] @ recurrent_kernel.T``).

    dh (b, u) in: d(loss)/d(h_t) through the next step's recurrent matmul; carry_h (b, u) in/out (masked
    only): the part of d(loss)/d(h) carried past masked later steps, out: past this one; g_out (b, time, u)
    the outputs' gradient (this step's is ``g_out[:, s]``); dc (b, u) in: d(loss)/d(c_t), out:
    d(loss)/d(c_{t-1}); gates (b, 4u), tc, c_prev (b, u) saved by the forward; writes dz[:, t] of dz
    (b, time, 4u) = d(loss)/d(pre-activations).
    """
    u = dc.shape[1]
    for n in range(dh.shape[0]):
        if masked:
            k = keep[n]
            drop = _ONE - k
            factor = out_factor[n]
        for j in range(u):
            if masked:
                dht = (dh[n, j] + carry_h[n, j]) + g_out[n, s, j] * factor
                dhn = dht * k
                carry_h[n, j] = dht * drop
                dc0 = dc[n, j] * k
            else:
                dhn = dh[n, j] + g_out[n, s, j]
                dc0 = dc[n, j]
            i = gates[n, j]
            f = gates[n, u + j]
            g = gates[n, 2 * u + j]
            o = gates[n, 3 * u + j]
            th = tc[n, j]
            dz[n, t, 3 * u + j] = (dhn * th) * ((_ONE - o) * o)
            dcn = (dhn * o) * (_ONE - th * th)
            dcn = dcn + dc0
            dz[n, t, j] = (dcn * g) * ((_ONE - i) * i)
            dz[n, t, u + j] = (dcn * c_prev[n, j]) * ((_ONE - f) * f)
            dz[n, t, 2 * u + j] = (dcn * i) * (_ONE - g * g)
            if masked:
                dc[n, j] = dcn * f + dc[n, j] * drop
            else:
                dc[n, j] = dcn * f


# --------------------------------------------------------------------------- GRU (reset_after=True)
@jit.kernel
def gru_step(m, rbias, proj, t, h_prev, gates, rh, h_new, out, s, skip, out_factor, masked, exact):
    """One GRU step (Keras's ``reset_after=True``, the cuDNN form): gates, new state and output.

    m (b, 3u) in: ``(h_{t-1} * rdm) @ recurrent_kernel``; rbias (3u,) the recurrent bias (zeros when none);
    proj (time, b, 3u) in: every step's input projection with the input bias, time-major (this step's is
    ``proj[t]``); h_prev (b, u) in; writes gates (b, 3u) = activated z, r, hh, rh (b, u) = the candidate's
    recurrent part ``m_h + rbias_h`` (saved for backward), h_new (b, u) (h_prev where ``skip``) and
    ``out[:, s]`` of out (b, time, u) = h_new (* out_factor if masked). The float operations and their order
    are the NumPy path's (``recurrent.GRU``); only float32's tanh differs (see the module docstring).
    """

    def rtanh(v):  # the rational float32 tanh (see tanh_float32)
        v = min(max(v, -_CLAMP), _CLAMP)
        v2 = v * v
        p = v2 * _A13 + _A11
        p = v2 * p + _A9
        p = v2 * p + _A7
        p = v2 * p + _A5
        p = v2 * p + _A3
        p = v2 * p + _A1
        p = v * p
        q = v2 * _B6 + _B4
        q = v2 * q + _B2
        q = v2 * q + _B0
        return p / q

    b, u = h_prev.shape
    for n in range(b):
        # z and r: sigmoid(v) = tanh(v/2)/2 + 1/2 of x + (m + rbias)
        if exact:
            for j in range(2 * u):
                gates[n, j] = math.tanh((proj[t, n, j] + (m[n, j] + rbias[j])) * _HALF) * _HALF + _HALF
        else:
            for j in range(2 * u):
                gates[n, j] = rtanh((proj[t, n, j] + (m[n, j] + rbias[j])) * _HALF) * _HALF + _HALF
        # the candidate: hh = tanh(r * (m_h + rbias_h) + x_h)
        for j in range(u):
            r = m[n, 2 * u + j] + rbias[2 * u + j]
            rh[n, j] = r
            gates[n, 2 * u + j] = gates[n, u + j] * r + proj[t, n, 2 * u + j]
        if exact:
            for j in range(2 * u, 3 * u):
                gates[n, j] = math.tanh(gates[n, j])
        else:
            for j in range(2 * u, 3 * u):
                gates[n, j] = rtanh(gates[n, j])
        if masked and skip[n]:
            for j in range(u):
                h_new[n, j] = h_prev[n, j]
        else:  # h = (h_prev - hh) * z + hh
            for j in range(u):
                hh = gates[n, 2 * u + j]
                h_new[n, j] = (h_prev[n, j] - hh) * gates[n, j] + hh
        if masked:
            factor = out_factor[n]
            for j in range(u):
                out[n, s, j] = h_new[n, j] * factor
        else:
            for j in range(u):
                out[n, s, j] = h_new[n, j]


@jit.kernel
def gru_backward_step(dh, carry, g_out, s, out_factor, keep, masked, gates, rh, h_prev, dz, dm, dh_direct, t):
    """Backward through one GRU step's gates (``reset_after=True``), before the matmul ``dm[t] @ rk.T``.

    dh (b, u) in: d(loss)/d(h_t) from the later steps; g_out (b, time, u) the outputs' gradient (this step's
    is ``g_out[:, s]``); gates (b, 3u), rh, h_prev (b, u) saved by the forward; writes dz[t] of dz
    (time, b, 3u) = d(loss)/d(input projection), dm[t] (same shape) = d(loss)/d(recurrent projection),
    dh_direct (b, u) = the part of d(loss)/d(h_{t-1}) through ``z * h_{t-1}`` and (masked only) carry (b, u)
    = the part carried past the step. The caller adds ``dm[t] @ rk.T`` (times the dropout mask), dh_direct
    and carry. Same float operations in the same order as the NumPy path: same bits.
    """
    u = dh.shape[1]
    for n in range(dh.shape[0]):
        if masked:
            k = keep[n]
            drop = _ONE - k
            factor = out_factor[n]
        for j in range(u):
            if masked:
                dht = dh[n, j] + g_out[n, s, j] * factor
                dhn = dht * k
                carry[n, j] = dht * drop
            else:
                dhn = dh[n, j] + g_out[n, s, j]
            zg = gates[n, j]
            r = gates[n, u + j]
            hh = gates[n, 2 * u + j]
            dzg = ((h_prev[n, j] - hh) * dhn) * ((_ONE - zg) * zg)
            dhh = ((_ONE - zg) * dhn) * (_ONE - hh * hh)
            dr = (dhh * rh[n, j]) * ((_ONE - r) * r)
            dz[t, n, j] = dzg
            dz[t, n, u + j] = dr
            dz[t, n, 2 * u + j] = dhh
            dm[t, n, j] = dzg
            dm[t, n, u + j] = dr
            dm[t, n, 2 * u + j] = dhh * r
            dh_direct[n, j] = dhn * zg


# --------------------------------------------------------------------------- LSTM: the whole sequence in one call
# The step kernels above, with the recurrent product called from inside the loop (NumPy's OpenBLAS, bound by
# ops/recurrent_blas.py), so that one kernel call runs every step: no Python between steps, and the batch's rows
# (which never mix in a recurrence) can be split among cores, each worker running every step on its own rows.
# Same products, same gate arithmetic in the same order as the step kernels: the same bits.
_gemm32 = _gemm64 = None  # numba ExternalFunctions, set by bind_sequence_kernels()


def bind_sequence_kernels() -> bool:
    """Make the whole-sequence LSTM kernels callable; False when they are not (no numba, no bindable BLAS)."""
    global _gemm32, _gemm64
    from . import recurrent_blas

    if not recurrent_blas.bind():
        return False
    if _gemm32 is None:
        _gemm32, _gemm64 = recurrent_blas.external_functions()
    return True


@jit.kernel(fastmath={"contract"})
def lstm_forward_rows(lo, hi, proj, p0, order, rk, bias, h, c, hin, z, gates, tc, cp, hp, out, skip, out_factor,
                      masked, save, rdm, dropped, exact, chunk):  # fmt: skip
    """Every step of an LSTM's forward for batch rows ``lo:hi`` (``lstm_step``'s arithmetic, its product inside).

    proj (time, rows, 4u): the input projections, time-major, of batch rows ``p0:`` (batch row n at
    ``proj[:, n - p0]``: the whole batch's with p0 = 0, or a block's own); order (time,) int64: the time index of each
    processed step; rk (u, 4u) C-contiguous; bias (4u,); h, c (b, u) in: the initial states, out: the final
    ones; hin (b, u), z (b, 4u): scratch (the dropped-out h_{t-1}, the recurrent product); gates (kept, b, 4u),
    tc, cp (kept, b, u): as ``lstm_step`` writes them, at index t when ``save`` else 0; hp (b, time, u): h_{t-1}
    when ``save``; out (b, time, u); skip (time, b) bool, out_factor (time, b): read only when ``masked``;
    rdm (b, u): the recurrent dropout mask, read only when ``dropped``; chunk: each step's product is made
    ``chunk`` rows at a time from ``lo`` (see ``recurrent._product_rows``).
    """

    def rtanh(v):  # the rational float32 tanh (see tanh_float32)
        v = min(max(v, -_CLAMP), _CLAMP)
        v2 = v * v
        p = v2 * _A13 + _A11
        p = v2 * p + _A9
        p = v2 * p + _A7
        p = v2 * p + _A5
        p = v2 * p + _A3
        p = v2 * p + _A1
        p = v * p
        q = v2 * _B6 + _B4
        q = v2 * q + _B2
        q = v2 * q + _B0
        return p / q

    u = c.shape[1]
    u4 = 4 * u
    rows = hi - lo
    if rows <= 0:
        return
    for s in range(order.shape[0]):
        t = order[s]
        q = t if save else 0
        a = hin if dropped else h
        # a chunk of rows at a time: its product, then its gates while z's rows are still in L1
        for r0 in range(lo, hi, chunk):
            r1 = min(r0 + chunk, hi)
            if dropped:
                for n in range(r0, r1):
                    hr, rr, dst = h[n], rdm[n], hin[n]
                    for j in range(u):
                        dst[j] = hr[j] * rr[j]
            if h.itemsize == 4:  # z[r0:r1] = a[r0:r1] @ rk
                _gemm32(101, 111, 111, r1 - r0, u4, u, np.float32(1.0), a[r0:].ctypes.data, u, rk.ctypes.data, u4,
                        np.float32(0.0), z[r0:].ctypes.data, u4)  # fmt: skip
            else:
                _gemm64(101, 111, 111, r1 - r0, u4, u, 1.0, a[r0:].ctypes.data, u, rk.ctypes.data, u4, 0.0,
                        z[r0:].ctypes.data, u4)  # fmt: skip
            for n in range(r0, r1):
                # 1-D row views: indices known non-negative, so LLVM vectorises the loops (a 2-D index with an
                # offset of unknown sign kept them scalar, 2-3x slower)
                zr, pr, gr = z[n], proj[t, n - p0], gates[q, n]
                hr, cr, tcr = h[n], c[n], tc[q, n]
                if exact:
                    for j in range(2 * u):
                        gr[j] = math.tanh(((zr[j] + pr[j]) + bias[j]) * _HALF) * _HALF + _HALF
                    for j in range(2 * u, 3 * u):
                        gr[j] = math.tanh((zr[j] + pr[j]) + bias[j])
                    for j in range(3 * u, u4):
                        gr[j] = math.tanh(((zr[j] + pr[j]) + bias[j]) * _HALF) * _HALF + _HALF
                else:
                    for j in range(2 * u):
                        gr[j] = rtanh(((zr[j] + pr[j]) + bias[j]) * _HALF) * _HALF + _HALF
                    zs, ps, bs, gs = zr[2 * u : 3 * u], pr[2 * u : 3 * u], bias[2 * u : 3 * u], gr[2 * u : 3 * u]
                    for j in range(u):
                        gs[j] = rtanh((zs[j] + ps[j]) + bs[j])
                    zs, ps, bs, gs = zr[3 * u :], pr[3 * u :], bias[3 * u :], gr[3 * u :]
                    for j in range(u):
                        gs[j] = rtanh(((zs[j] + ps[j]) + bs[j]) * _HALF) * _HALF + _HALF
                ig, fg, gg, og = gr[:u], gr[u : 2 * u], gr[2 * u : 3 * u], gr[3 * u :]
                if save:
                    hpr, cpr = hp[n, t], cp[q, n]
                    for j in range(u):
                        hpr[j] = hr[j]
                        cpr[j] = cr[j]
                if masked and skip[t, n]:  # states carried over; tc (used by backward) still from this step's gates
                    if exact:
                        for j in range(u):
                            tcr[j] = math.tanh(fg[j] * cr[j] + ig[j] * gg[j])
                    else:
                        for j in range(u):
                            tcr[j] = rtanh(fg[j] * cr[j] + ig[j] * gg[j])
                elif exact:
                    for j in range(u):
                        cn = fg[j] * cr[j] + ig[j] * gg[j]
                        cr[j] = cn
                        th = math.tanh(cn)
                        tcr[j] = th
                        hr[j] = og[j] * th
                else:
                    for j in range(u):
                        cn = fg[j] * cr[j] + ig[j] * gg[j]
                        cr[j] = cn
                        th = rtanh(cn)
                        tcr[j] = th
                        hr[j] = og[j] * th
                outr = out[n, s]
                if masked:
                    factor = out_factor[s, n]
                    for j in range(u):
                        outr[j] = hr[j] * factor
                else:
                    for j in range(u):
                        outr[j] = hr[j]


@jit.kernel
def lstm_backward_rows(lo, hi, dh, dc, carry, g_out, order, out_factor, keep, masked, gates, tc, cp, hp, dz, rk_t,
                       rdm, drdm, dropped, grad_rdm, chunk, dzs):  # fmt: skip
    """Every step of an LSTM's backward through time for batch rows ``lo:hi`` (``lstm_backward_step``, then
    ``dh = (dz[:, t] @ rk_t) * rdm``).

    dh, dc (b, u) in: the final states' gradients, out: the initial states' (dh without ``carry``, which the
    caller adds when ``masked``); carry (b, u): as ``lstm_backward_step`` (zeros in, read only when masked);
    g_out (b, time, u) C-contiguous; order, out_factor (time, b), keep (time, b): as the forward's; gates, tc,
    cp (time, b, ...), hp (b, time, u): saved by the forward; dz (b, time, 4u) out; rk_t (4u, u) C-contiguous;
    rdm (b, u) read when ``dropped``; drdm (b, u) accumulated when ``grad_rdm``; chunk: as ``lstm_forward_rows``;
    dzs (b, 4u) C-contiguous scratch: each step's dz rows, written there first and copied into ``dz`` (the product
    reads them contiguous: from dz's rows, 160 KB apart at W3, it took 40 us a step instead of 29).
    """
    u = dc.shape[1]
    u4 = 4 * u
    steps = order.shape[0]
    rows = hi - lo
    if rows <= 0:
        return
    for s in range(steps - 1, -1, -1):
        t = order[s]
        # a chunk of rows at a time: its gates' gradient into dzs, then its product while those rows are in L1
        for r0 in range(lo, hi, chunk):
            r1 = min(r0 + chunk, hi)
            for n in range(r0, r1):
                # 1-D row views (see lstm_forward_rows), the mask's branch outside the loops
                gr, thr, cpr, dzr = gates[t, n], tc[t, n], cp[t, n], dzs[n]
                ig, fg, gg, og = gr[:u], gr[u : 2 * u], gr[2 * u : 3 * u], gr[3 * u :]
                di, df, dg, do = dzr[:u], dzr[u : 2 * u], dzr[2 * u : 3 * u], dzr[3 * u :]
                dhr, dcr, gor = dh[n], dc[n], g_out[n, s]
                if masked:
                    k = keep[t, n]
                    drop = _ONE - k
                    factor = out_factor[s, n]
                    car = carry[n]
                    for j in range(u):
                        dht = (dhr[j] + car[j]) + gor[j] * factor
                        dhn = dht * k
                        car[j] = dht * drop
                        dc0 = dcr[j] * k
                        i, f, g, o, th = ig[j], fg[j], gg[j], og[j], thr[j]
                        do[j] = (dhn * th) * ((_ONE - o) * o)
                        dcn = (dhn * o) * (_ONE - th * th)
                        dcn = dcn + dc0
                        di[j] = (dcn * g) * ((_ONE - i) * i)
                        df[j] = (dcn * cpr[j]) * ((_ONE - f) * f)
                        dg[j] = (dcn * i) * (_ONE - g * g)
                        dcr[j] = dcn * f + dcr[j] * drop
                else:
                    for j in range(u):
                        dhn = dhr[j] + gor[j]
                        dc0 = dcr[j]
                        i, f, g, o, th = ig[j], fg[j], gg[j], og[j], thr[j]
                        do[j] = (dhn * th) * ((_ONE - o) * o)
                        dcn = (dhn * o) * (_ONE - th * th)
                        dcn = dcn + dc0
                        di[j] = (dcn * g) * ((_ONE - i) * i)
                        df[j] = (dcn * cpr[j]) * ((_ONE - f) * f)
                        dg[j] = (dcn * i) * (_ONE - g * g)
                        dcr[j] = dcn * f
                dzt = dz[n, t]
                for j in range(u4):
                    dzt[j] = dzr[j]
            if dh.itemsize == 4:  # dh[r0:r1] = dzs[r0:r1] @ rk_t
                _gemm32(101, 111, 111, r1 - r0, u, u4, np.float32(1.0), dzs[r0:].ctypes.data, u4, rk_t.ctypes.data,
                        u, np.float32(0.0), dh[r0:].ctypes.data, u)  # fmt: skip
            else:
                _gemm64(101, 111, 111, r1 - r0, u, u4, 1.0, dzs[r0:].ctypes.data, u4, rk_t.ctypes.data, u, 0.0,
                        dh[r0:].ctypes.data, u)  # fmt: skip
            if dropped:
                for n in range(r0, r1):
                    dhr, rr = dh[n], rdm[n]
                    if grad_rdm:
                        dr, hpr = drdm[n], hp[n, t]
                        for j in range(u):
                            dr[j] += dhr[j] * hpr[j]
                    for j in range(u):
                        dhr[j] *= rr[j]
