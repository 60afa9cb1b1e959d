"""The optimizers' elementwise updates: one numba pass over the parameters, or the same arithmetic in NumPy.

Each public function updates arrays of one shape in place (a variable and its
slots, or the flat buffers of :mod:`ember.optimizers.flat`). With numba (see
:mod:`ember.backend.jit`) and C-contiguous NumPy arrays of one float dtype it
runs a compiled loop that reads and writes each element once; otherwise the
NumPy calls below, which round every intermediate exactly as the loop does, so
both paths give the same bits (tests/test_optimizers.py checks it). Scalars
arrive already cast to the arrays' dtype (``numpy.float32`` for float32
weights), so the loop's arithmetic stays in that dtype.

A large update runs in :func:`ember.backend.workers.parts_once_split` parts over
its elements (each part on its own core, :func:`ember.backend.workers.run_parts`)
when the thread policy's splits are engaged (a convolution or an LSTM split first): the rule is elementwise, so the
bits are the same at any count. The update is memory-bound (W1's 784x512
kernel: five 1.6 MB streams, ~0.17 ms on one core, the time a plain
three-array copy loop takes), so more cores, each with its own share of the
cache and memory bandwidth, are what makes it faster.

The update rules are Keras 3's (see each optimizer's docstring).
"""

from __future__ import annotations

import sys

import numpy

from ..backend import jit, workers
from . import flat_cuda

# Below this many elements the NumPy calls cost a few microseconds and the kernel would save little, while
# importing numba costs ~100 MiB of memory: tiny models stay on NumPy (tests lower it to run the kernels).
# Once something else has imported numba (a big variable's update, a layer's kernel) the memory is spent and the
# kernel, one call of ~2 us, beats the NumPy path's ten or so calls (~30 us on W1's 5642-element flat buffer),
# so from then on every size takes it.
KERNEL_MIN_SIZE = 1 << 15

# An update of at least this many elements is cut into parts_once_split() parts (each >= half of this): below it the
# hand-off to a worker thread (~10-20 us) costs more than the part saves.
SPLIT_MIN_SIZE = 1 << 17

# ---- numba kernels (plain loops over 1-D arrays; numba's subset) ---------------------------------------


@jit.kernel
def _adam_kernel(w, g, m, v, v_hat, amsgrad, alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon):
    for i in range(w.shape[0]):
        gi = g[i]
        mi = m[i] * beta_1 + gi * one_minus_beta_1
        vi = v[i] * beta_2 + (gi * gi) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        if amsgrad:
            h = v_hat[i]
            if vi > h or vi != vi:  # numpy.maximum: NaN wins
                h = vi
            v_hat[i] = h
            vi = h
        w[i] -= (mi * alpha) / (numpy.sqrt(vi) + epsilon)


@jit.kernel
def _adam_rows_kernel(w, m, v, position, values, alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon):
    # w, m, v: (rows, cols); position[r]: the row of ``values`` holding row r's gradient, or -1
    for r in range(w.shape[0]):
        j = position[r]
        for c in range(w.shape[1]):
            mi = m[r, c] * beta_1
            vi = v[r, c] * beta_2
            if j >= 0:
                gi = values[j, c]
                mi = mi + gi * one_minus_beta_1
                vi = vi + (gi * gi) * one_minus_beta_2
            m[r, c] = mi
            v[r, c] = vi
            w[r, c] -= (mi * alpha) / (numpy.sqrt(vi) + epsilon)


@jit.kernel
def _rmsprop_kernel(w, g, v, a, m, centered, use_momentum, rho, one_minus_rho, epsilon, learning_rate, momentum):
    for i in range(w.shape[0]):
        gi = g[i]
        vi = v[i] * rho + (gi * gi) * one_minus_rho
        v[i] = vi
        d = vi + epsilon
        if centered:
            ai = a[i] * rho + gi * one_minus_rho
            a[i] = ai
            d = d - ai * ai
        increment = (gi * learning_rate) / numpy.sqrt(d)
        if use_momentum:
            mi = m[i] * momentum + increment
            m[i] = mi
            w[i] -= mi
        else:
            w[i] -= increment


@jit.kernel
def _adadelta_kernel(w, g, acc_grad, acc_delta, rho, one_minus_rho, epsilon, learning_rate):
    for i in range(w.shape[0]):
        gi = g[i]
        eg = acc_grad[i] * rho + (gi * gi) * one_minus_rho
        acc_grad[i] = eg
        delta = -((numpy.sqrt(acc_delta[i] + epsilon) * gi) / numpy.sqrt(eg + epsilon))
        acc_delta[i] = acc_delta[i] * rho + (delta * delta) * one_minus_rho
        w[i] += delta * learning_rate


@jit.kernel
def _sgd_kernel(w, g, m, use_momentum, nesterov, learning_rate, momentum):
    for i in range(w.shape[0]):
        step = g[i] * learning_rate
        if not use_momentum:
            w[i] -= step
        else:
            mi = m[i] * momentum - step
            m[i] = mi
            if nesterov:
                w[i] = (w[i] - step) + mi * momentum
            else:
                w[i] += mi


def _compiled(kernel, *arrays):
    """The kernel's dispatcher when every array suits it (NumPy, C order, one float dtype, big enough or numba
    already imported), else None."""
    if arrays[0].size < KERNEL_MIN_SIZE and "numba" not in sys.modules:
        return None
    dispatcher = kernel.compiled()
    if dispatcher is None:
        return None
    dtype = arrays[0].dtype
    if dtype != numpy.float32 and dtype != numpy.float64:
        return None
    for a in arrays:
        if type(a) is not numpy.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return None
    return dispatcher


def _flat(a):
    return a if a.ndim == 1 else a.reshape(-1)


def _launch(kernel, arrays, scalars):
    """``kernel(*arrays, *scalars)`` on 1-D ``arrays`` of one length, in ``parts_once_split()`` parts of whole
    elements at once when the arrays are large (an elementwise rule: the same bits at any count).

    The parts' bounds are multiples of 1024 elements, so no two parts write into one cache line.
    """
    n = arrays[0].shape[0]
    parts = workers.parts_once_split() if n >= SPLIT_MIN_SIZE else 1
    if parts < 2:
        kernel(*arrays, *scalars)
        return
    parts = min(parts, n // (SPLIT_MIN_SIZE // 2))
    step = -(-n // parts // 1024) * 1024
    bounds = [(lo, min(lo + step, n)) for lo in range(0, n, step)]

    def run(lo, hi):
        kernel(*[a[lo:hi] for a in arrays], *scalars)

    workers.run_parts(run, bounds)


# ---- the updates -----------------------------------------------------------------------------------------


def adam(w, g, m, v, v_hat, constants, scratch):
    """Adam (``v_hat``: AMSGrad's running maximum, or None). ``constants``: (alpha, beta_1, 1 - beta_1,
    beta_2, 1 - beta_2, epsilon) in the dtype of the arrays; ``scratch(k)``: a work array like ``w``."""
    alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon = constants
    arrays = (w, g, m, v) if v_hat is None else (w, g, m, v, v_hat)
    kernel = _compiled(_adam_kernel, *arrays)
    if kernel is None and type(w) is not numpy.ndarray and flat_cuda.adam(w, g, m, v, v_hat, constants):
        return  # cuda: one fused launch (optimizers/flat_cuda.py)
    if kernel is not None:
        f = _flat(m)
        arrays = (_flat(w), _flat(g), f, _flat(v), f if v_hat is None else _flat(v_hat))
        _launch(kernel, arrays, (v_hat is not None, *constants))
        return
    xp = _xp(w)
    tmp = scratch(0)
    m *= beta_1
    v *= beta_2
    m += xp.multiply(g, one_minus_beta_1, out=tmp)
    xp.multiply(g, g, out=tmp)
    tmp *= one_minus_beta_2
    v += tmp
    if v_hat is not None:
        xp.maximum(v_hat, v, out=v_hat)
        v = v_hat
    denominator = xp.sqrt(v, out=scratch(1))
    denominator += epsilon
    step = xp.multiply(m, alpha, out=tmp)
    step /= denominator
    w -= step


def adam_rows(w, m, v, v_hat, rows, values, constants, scratch, position=None, fill=None):
    """Adam with a row-sparse gradient (sorted unique ``rows``, ``values`` (len(rows), *row)): the moments
    decay on every row, the gradient terms are added on ``rows`` only; exactly the dense update.

    From :meth:`RowSparseGrad.coalesce_lazily`: ``position`` (rows of w,) each row's row of ``values`` or -1, and
    ``fill(lo, hi)``, which sums the gradients of rows ``lo:hi`` into ``values`` (each part fills its own rows)."""
    alpha, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, epsilon = constants
    kernel = _compiled(_adam_rows_kernel, w, m, v, values) if v_hat is None and w.ndim >= 1 else None
    if fill is not None and (kernel is None or w.shape[0] == 0):
        fill(0, w.shape[0])  # the sums made whole for the paths below
        fill = None
    if kernel is not None and w.shape[0] > 0:
        n = w.shape[0]
        if position is None:
            position = numpy.full(n, -1, dtype=numpy.int64)
            position[rows] = numpy.arange(rows.shape[0], dtype=numpy.int64)
        shape2 = (n, w.size // n)
        w2, m2, v2, rows2 = w.reshape(shape2), m.reshape(shape2), v.reshape(shape2), values.reshape(-1, shape2[1])
        # in parts_once_split() parts of whole rows when large (as _launch; elementwise: the same bits at any count)
        parts = min(workers.parts_once_split(), w.size // (SPLIT_MIN_SIZE // 2), n) if w.size >= SPLIT_MIN_SIZE else 1
        bounds = [((i * n) // parts, ((i + 1) * n) // parts) for i in range(max(1, parts))]

        def part(lo, hi):
            if fill is not None:
                fill(lo, hi)
            kernel(w2[lo:hi], m2[lo:hi], v2[lo:hi], position[lo:hi], rows2, *constants)

        workers.run_parts(part, bounds)
        return
    xp = _xp(w)
    m *= beta_1
    v *= beta_2
    m[rows] += values * one_minus_beta_1
    squared = values * values
    squared *= one_minus_beta_2
    v[rows] += squared
    if v_hat is not None:
        xp.maximum(v_hat, v, out=v_hat)
        v = v_hat
    denominator = xp.sqrt(v, out=scratch(1))
    denominator += epsilon
    step = xp.multiply(m, alpha, out=scratch(0))
    step /= denominator
    w -= step


def rmsprop(w, g, v, a, m, rho, one_minus_rho, epsilon, learning_rate, momentum, scratch):
    """RMSprop (``a``: the centered average or None; ``m``: the momentum or None)."""
    arrays = [w, g, v] + [x for x in (a, m) if x is not None]
    kernel = _compiled(_rmsprop_kernel, *arrays)
    cuda_args = (w, g, v, a, m, rho, one_minus_rho, epsilon, learning_rate, momentum)
    if kernel is None and type(w) is not numpy.ndarray and flat_cuda.rmsprop(*cuda_args):
        return  # cuda: one fused launch (optimizers/flat_cuda.py)
    if kernel is not None:
        fv = _flat(v)
        arrays = (_flat(w), _flat(g), fv, fv if a is None else _flat(a), fv if m is None else _flat(m))
        _launch(kernel, arrays, (a is not None, m is not None, rho, one_minus_rho, epsilon, learning_rate, momentum))
        return
    xp = _xp(w)
    tmp = xp.multiply(g, g, out=scratch(0))
    tmp *= one_minus_rho
    v *= rho
    v += tmp
    denominator = xp.add(v, epsilon, out=scratch(1))
    if a is not None:
        a *= rho
        a += xp.multiply(g, one_minus_rho, out=tmp)
        denominator -= xp.multiply(a, a, out=tmp)
    xp.sqrt(denominator, out=denominator)
    increment = xp.multiply(g, learning_rate, out=tmp)
    increment /= denominator
    if m is not None:
        m *= momentum
        m += increment
        w -= m
    else:
        w -= increment


def adadelta(w, g, acc_grad, acc_delta, rho, one_minus_rho, epsilon, learning_rate, scratch):
    """Adadelta."""
    kernel = _compiled(_adadelta_kernel, w, g, acc_grad, acc_delta)
    cuda_args = (w, g, acc_grad, acc_delta, rho, one_minus_rho, epsilon, learning_rate)
    if kernel is None and type(w) is not numpy.ndarray and flat_cuda.adadelta(*cuda_args):
        return  # cuda: one fused launch (optimizers/flat_cuda.py)
    if kernel is not None:
        arrays = (_flat(w), _flat(g), _flat(acc_grad), _flat(acc_delta))
        _launch(kernel, arrays, (rho, one_minus_rho, epsilon, learning_rate))
        return
    xp = _xp(w)
    tmp = xp.multiply(g, g, out=scratch(0))
    tmp *= one_minus_rho
    acc_grad *= rho
    acc_grad += tmp
    delta = xp.add(acc_delta, epsilon, out=scratch(1))
    xp.sqrt(delta, out=delta)
    delta *= g
    rms_grad = xp.add(acc_grad, epsilon, out=tmp)
    xp.sqrt(rms_grad, out=rms_grad)
    delta /= rms_grad
    xp.negative(delta, out=delta)
    acc_delta *= rho
    xp.multiply(delta, delta, out=tmp)
    tmp *= one_minus_rho
    acc_delta += tmp
    delta *= learning_rate
    w += delta


def sgd(w, g, m, nesterov, learning_rate, momentum, scratch):
    """SGD (``m``: the momentum, or None without momentum)."""
    arrays = (w, g) if m is None else (w, g, m)
    kernel = _compiled(_sgd_kernel, *arrays)
    if kernel is None and type(w) is not numpy.ndarray and flat_cuda.sgd(w, g, m, nesterov, learning_rate, momentum):
        return  # cuda: one fused launch (optimizers/flat_cuda.py)
    if kernel is not None:
        fw = _flat(w)
        arrays = (fw, _flat(g), fw if m is None else _flat(m))
        _launch(kernel, arrays, (m is not None, bool(nesterov), learning_rate, momentum))
        return
    xp = _xp(w)
    step = xp.multiply(g, learning_rate, out=scratch(0))
    if m is None:
        w -= step
        return
    m *= momentum
    m -= step
    if nesterov:
        w -= step
        w += xp.multiply(m, momentum, out=step)
    else:
        w += m


def _xp(a):
    if type(a) is numpy.ndarray:
        return numpy
    from ..backend.device import device_of_array

    return device_of_array(a).xp
