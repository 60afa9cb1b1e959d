"""Fused numba kernels for one time step of the recurrences (see :mod:`ember.backend.jit`).

:mod:`ember.ops.recurrent` runs each step as one matrix product (NumPy, BLAS) plus the gate arithmetic. In
NumPy that arithmetic is a dozen small array calls per step (each a Python round trip and a pass over
memory); here it is one loop that reads and writes each element once. The kernels cover Keras's default
activations (tanh, with sigmoid as the recurrent activation); other activations, non-NumPy arrays and
dtypes other than float32/float64 take the NumPy path in ``recurrent.py``, which computes the same numbers.

What is identical and what is not: the backward kernels do exactly the NumPy path's float operations in the
same order, so they give the same bits for the same inputs. The forward kernels differ only in tanh: numba
has no vectorised tanh (``math.tanh`` is a scalar libm call, ~30 ns an element, slower than the whole NumPy
step), so float32 uses Eigen's rational approximation (what Eigen/TensorFlow use on CPU; relative error
below 4e-7, a few float32 ulp, and vectorised by LLVM), while float64 calls ``math.tanh`` (exact to an ulp,
used by the float64 gradient tests). The sigmoid is ``tanh(x/2)/2 + 1/2`` as in the NumPy path.

Shapes (b = batch, u = units), all (b, ...) slices of the op's time-major buffers:

- z (b, 4u): ``h_{t-1} @ recurrent_kernel``; x (b, 4u): the step's input projection with the bias;
- gates (b, 4u): activated i, f, g, o (Keras gate order i, f, c, o); c/h (b, u) the states;
- mask arguments: ``skip`` (b,) bool, True where the step is masked (states carried over);
  ``out_factor`` (b,) the output multiplier (0 before the first kept step, see ``recurrent.py``);
  ``keep`` (b,) 1.0 where the step counts, else 0.0. Unused (any 1-element arrays) when ``masked`` is False.
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
@jit.kernel
def lstm_forward_step(z, x, c_prev, h_prev, gates, c_new, tc, h_new, out, skip, out_factor, masked, exact):
    """One LSTM step: gates, new states and output; ``exact``: math.tanh (float64) instead of the rational one.

    z, x (b, 4u) in; c_prev, h_prev (b, u) in; writes gates (b, 4u), tc = tanh(c_t) (b, u) before masking,
    c_new, h_new (b, u) (the previous states where ``skip``) and out (b, u) = h_new (* out_factor if masked).
    """

    def tanh_in_place(a):
        # the branch outside the loops: each loop alone vectorises (the rational one) or calls libm
        if exact:
            for n in range(a.shape[0]):
                for j in range(a.shape[1]):
                    a[n, j] = math.tanh(a[n, j])
        else:
            for n in range(a.shape[0]):
                for j in range(a.shape[1]):
                    v = min(max(a[n, j], -_CLAMP), _CLAMP)
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
                    a[n, j] = p / q

    u = c_prev.shape[1]
    b = z.shape[0]
    # pre-activations, halved for the sigmoid gates: sigmoid(v) = tanh(v/2)/2 + 1/2
    for n in range(b):
        for j in range(4 * u):
            gates[n, j] = z[n, j] + x[n, j]
        for j in range(2 * u):
            gates[n, j] *= _HALF
        for j in range(3 * u, 4 * u):
            gates[n, j] *= _HALF
    tanh_in_place(gates)
    for n in range(b):
        for j in range(2 * u):
            gates[n, j] = gates[n, j] * _HALF + _HALF
        for j in range(3 * u, 4 * u):
            gates[n, j] = gates[n, j] * _HALF + _HALF
        for j in range(u):
            tc[n, j] = gates[n, u + j] * c_prev[n, j] + gates[n, j] * gates[n, 2 * u + j]
            c_new[n, j] = tc[n, j]
    tanh_in_place(tc)
    for n in range(b):
        if masked and skip[n]:
            for j in range(u):
                c_new[n, j] = c_prev[n, j]
                h_new[n, j] = h_prev[n, j]
        else:
            for j in range(u):
                h_new[n, j] = gates[n, 3 * u + j] * tc[n, j]
        if masked:
            factor = out_factor[n]
            for j in range(u):
                out[n, j] = h_new[n, j] * factor
        else:
            for j in range(u):
                out[n, j] = h_new[n, j]


@jit.kernel
def lstm_backward_step(dh, carry_h, g_out, out_factor, keep, masked, gates, tc, c_prev, dc, d):
    """Backward through one LSTM step's gates (before the recurrent matmul ``d @ recurrent_kernel.T``).

    dh (b, u) in: d(loss)/d(h_t) through the next step's recurrent matmul; carry_h (b, u) in/out (masked
    only): the part of d(loss)/d(h) carried past masked later steps, out: past this one; g_out (b, u) the
    output gradient of this step; dc (b, u) in: d(loss)/d(c_t), out: d(loss)/d(c_{t-1});
    gates (b, 4u), tc, c_prev (b, u) saved by the forward; writes d (b, 4u) = d(loss)/d(pre-activations).
    """
    u = dc.shape[1]
    for n in range(dh.shape[0]):
        if masked:
            k = keep[n]
            drop = _ONE - k
            factor = out_factor[n]
        for j in range(u):
            if masked:
                dht = (dh[n, j] + carry_h[n, j]) + g_out[n, j] * factor
                dhn = dht * k
                carry_h[n, j] = dht * drop
                dc0 = dc[n, j] * k
            else:
                dhn = dh[n, j] + g_out[n, j]
                dc0 = dc[n, j]
            i = gates[n, j]
            f = gates[n, u + j]
            g = gates[n, 2 * u + j]
            o = gates[n, 3 * u + j]
            t = tc[n, j]
            d[n, 3 * u + j] = (dhn * t) * ((_ONE - o) * o)
            dcn = (dhn * o) * (_ONE - t * t)
            dcn = dcn + dc0
            d[n, j] = (dcn * g) * ((_ONE - i) * i)
            d[n, u + j] = (dcn * c_prev[n, j]) * ((_ONE - f) * f)
            d[n, 2 * u + j] = (dcn * i) * (_ONE - g * g)
            if masked:
                dc[n, j] = dcn * f + dc[n, j] * drop
            else:
                dc[n, j] = dcn * f


@jit.kernel
def lstm_inference_step(zt, projt, t, bias, ct, ht, work, out, s, skip, out_factor, masked, exact):
    """One LSTM step without a graph (nothing saved for backward), on feature-major states, in place.

    Feature-major so that the step's matmul is ``recurrent_kernel.T @ h`` ((4u, u) @ (u, b)), which BLAS runs
    faster than ``h @ recurrent_kernel`` for an LSTM's small batch, and so that each gate row is contiguous.
    zt (4u, b) in: ``recurrent_kernel.T @ ht``, overwritten with the activated gates; projt (time, 4u, b) in:
    every step's input projection by time index (this step's is ``projt[t]``, contiguous: read row by row
    from a (4u, time*b) matrix it costs a cache miss a row);
    bias (4u,) (zeros when the op has none); ct, ht (u, b) in/out: the states (kept where ``skip``);
    work (u, b) scratch; writes out[:, s, :] of out (b, time, u) = h_t (* out_factor if masked).
    ``skip``/``out_factor`` (b,) as in :func:`lstm_forward_step`. Each pass is a loop of its own so that
    LLVM vectorises it (a branch or a strided store inside the tanh loop keeps it scalar, 6x slower).
    """

    def tanh_in_place(a):  # a: 1-D (flat views of the 2-D buffers: one long loop vectorises best)
        if exact:
            for m in range(a.shape[0]):
                a[m] = math.tanh(a[m])
        else:
            for m in range(a.shape[0]):
                v = min(max(a[m], -_CLAMP), _CLAMP)
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
                a[m] = p / q

    u, b = ct.shape
    # pre-activations, halved for the sigmoid gates i, f, o: sigmoid(v) = tanh(v/2)/2 + 1/2
    for r in range(4 * u):
        br = bias[r]
        if r < 2 * u or r >= 3 * u:
            for n in range(b):
                zt[r, n] = ((zt[r, n] + projt[t, r, n]) + br) * _HALF
        else:
            for n in range(b):
                zt[r, n] = (zt[r, n] + projt[t, r, n]) + br
    flat = zt.reshape(4 * u * b)  # blocks i, f, g, o are contiguous ranges of it
    tanh_in_place(flat)
    for m in range(2 * u * b):
        flat[m] = flat[m] * _HALF + _HALF
    for m in range(3 * u * b, 4 * u * b):
        flat[m] = flat[m] * _HALF + _HALF
    for j in range(u):  # c_t into work (tanh'd next), kept in zt's f block until the masked write-back
        for n in range(b):
            c = zt[u + j, n] * ct[j, n] + zt[j, n] * zt[2 * u + j, n]
            zt[u + j, n] = c
            work[j, n] = c
    tanh_in_place(work.reshape(u * b))
    for j in range(u):
        for n in range(b):
            work[j, n] = zt[3 * u + j, n] * work[j, n]  # h_t
    if masked:
        for j in range(u):
            for n in range(b):
                if not skip[n]:
                    ct[j, n] = zt[u + j, n]
                    ht[j, n] = work[j, n]
        for n in range(b):
            factor = out_factor[n]
            for j in range(u):
                out[n, s, j] = ht[j, n] * factor
    else:
        for j in range(u):
            for n in range(b):
                ct[j, n] = zt[u + j, n]
                ht[j, n] = work[j, n]
        for n in range(b):
            for j in range(u):
                out[n, s, j] = ht[j, n]
