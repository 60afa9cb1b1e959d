"""Recurrences over a whole sequence: lstm, gru, simple_rnn.

Each op is one :class:`Function` with several outputs. Its forward loops over
the time steps; its backward is backpropagation through time, looping back
over them. Weights use Keras 3's layout and gate order, so the Keras layers can
hand their variables over unchanged:

=============  ==================  ====================  ==========================
op             kernel              recurrent_kernel      bias
=============  ==================  ====================  ==========================
lstm           (features, 4*u)     (u, 4*u)  i f c o     (4*u,)
gru            (features, 3*u)     (u, 3*u)  z r h       (2, 3*u) if reset_after,
                                                         else (3*u,)
simple_rnn     (features, u)       (u, u)                (u,)
=============  ==================  ====================  ==========================

Shapes: inputs (batch, time, features); states (batch, units); outputs
(batch, time, units), in the order the steps were processed (reversed time when
``go_backwards``, as Keras returns them).

Work per call: the input projection of every step is ONE matmul before the
loop, each step does one matmul for the recurrent part (two for GRU with
``reset_after=False``) and the gates are slices of one preallocated buffer;
backward computes the kernel, recurrent-kernel and input gradients in one
matmul each after the loop (the GRU recurrent kernel in two when
``reset_after=False``). Internally everything is time-major so that each
step's slices are contiguous: NumPy's matmul with ``out=`` and its tanh are
many times slower on strided views.

With numba (a default dependency; switch: ``EMBER_JIT``), an LSTM with the default activations
(tanh, recurrent sigmoid) on float32/float64 NumPy arrays runs each step as the matmul plus ONE fused
kernel call (:mod:`ember.ops.recurrent_kernels`) forward, and one kernel call plus the matmul backward;
everything else, and every call without numba, takes the NumPy loop, which computes the same numbers.
Where NumPy's OpenBLAS can be called from a kernel (:mod:`ember.ops.recurrent_blas`), the LSTM runs its
whole forward and its whole backward through time as ONE kernel call each, the per-step products inside
(``recurrent_kernels.lstm_forward_rows`` / ``lstm_backward_rows``): the step loop's bits, without a Python
round trip per step (W3, one thread: predict ~14-38% faster, fit ~2-6%). ``SEQUENCE_KERNELS`` switches that
off. When Ember's thread policy grants several threads (:func:`ember.backend.workers.split_parts`, BLAS then
at one thread), the batch's rows are cut into that many parts run at the same time, each part's products on its
own thread: the input projection and forward, the backward through time and the inputs' gradient, and the
weights' gradient by its rows (``SPLIT_BATCH`` / ``SPLIT_INFERENCE`` override the count; same bits either way).
Without a graph (``predict``, ``no_grad``) the same kernel runs with nothing saved for backward, so
inference gives the training forward's bits. A GRU with ``reset_after=True`` (Keras 3's default) and the
default activations has the same pair of kernels; ``reset_after=False`` and SimpleRNN run the NumPy
loop. The LSTM keeps the gradient of its input projection batch-major (see :class:`LSTM`); GRU and
SimpleRNN are time-major throughout.

Masking (``mask``: (batch, time), True = keep), as Keras 3's ``backend.rnn``:
at a masked step the states are carried over unchanged, and the output repeats
the previous step's output (zeros before the first kept step). With
``zero_output_for_mask=True`` (what ``Bidirectional`` sets) the output of a
masked step is zeros instead.

Recurrent dropout (``recurrent_dropout_mask``: (batch, units), already scaled
by ``1/(1-rate)``) multiplies the previous output h_{t-1} where it enters the
recurrent projection, as Keras 3's cells do in training (GRU and LSTM switch to
``implementation=1`` for it): for LSTM all four gate projections and for GRU
the z, r and candidate projections (with ``reset_after=False`` the candidate
sees ``r * (h_{t-1} * mask)``) and for SimpleRNN its one projection. The state
itself is not masked: the GRU update ``z * h_{t-1}`` uses the unmasked h_{t-1}.
Keras draws a separate mask per gate (4 for LSTM, 3 for GRU); this op takes one
mask shared by the gates, which is Keras with all per-gate masks equal.
"""

from __future__ import annotations

import numpy as np

from ..backend import workers
from ..backend.config import floatx
from ..engine.function import Function
from . import recurrent_cuda
from . import recurrent_kernels as kernels

__all__ = ["lstm", "gru", "simple_rnn"]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid")
# the LSTM's whole-sequence kernels (recurrent_blas): off, the step loop runs (same numbers; for A/B and tests)
SEQUENCE_KERNELS = True
MIN_CHUNK_ROWS = 8  # a part of the batch keeps at least this many rows, its bounds at multiples of it
# NumPy's OpenBLAS (SkylakeX kernels) multiplies a row-major product of at most ~1e6 multiply-adds (m * n * k)
# directly, without packing its operands first, and another way above; measured at W3's per-step products
# (rows x 128 @ 128 x 512 forward, rows x 512 @ 512 x 128 backward, one thread): 32 rows in one call 43.5 / 45.5
# us, in 8-row calls 39.9 / 28.9 us (16 rows: 26.9 / 27.4 in one call, 19.9 / 13.8 in two). So each step's
# product is made PRODUCT_ROWS rows at a time (from row 0, the parts' bounds being multiples of it) when that is
# under SMALL_PRODUCT, and the two ways give each row different bits only across that line: a large product is
# split among parts only when every part's share stays above it (_big), so the bits never depend on the parts.
PRODUCT_ROWS = 8
SMALL_PRODUCT = 1_000_000
# Into how many parts of batch rows the LSTM's whole-sequence kernels cut a call, each part on its own thread
# (ember.backend.workers.run_parts, BLAS at one thread meanwhile): None follows the thread policy
# (workers.split_parts(): 1 unless it grants several threads and holds BLAS at one for the scope); an int forces
# that many parts (tests, A/B). Training (SPLIT_BATCH) splits the input projection, the forward, the backward
# through time with the inputs' gradient, and the weights' gradient (by its rows); inference (SPLIT_INFERENCE)
# the projection and the forward. The numbers are the same whatever the count (each row of a product is computed
# the same way whatever the rows beside it, and rows never mix in a recurrence).
SPLIT_BATCH = None
SPLIT_INFERENCE = None


# --------------------------------------------------------------------------- activations
def _check_activation(op, arg, name):
    if name is None:
        return "linear"
    if name not in ACTIVATIONS:
        raise ValueError(f"{op}: {arg} must be one of {', '.join(ACTIVATIONS)} (or None for linear), got {name!r}")
    return name


def _activate(xp, name, x, out):
    """out = f(x); ``out`` may be ``x`` (in place)."""
    if name == "tanh":
        xp.tanh(x, out=out)
    elif name == "sigmoid":
        # 1/2 + tanh(x/2)/2: no overflow for large |x|, exact derivative y(1-y)
        xp.multiply(x, 0.5, out=out)
        xp.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif name == "relu":
        xp.maximum(x, 0, out=out)
    elif name == "hard_sigmoid":  # Keras 3: clip(x/6 + 1/2, 0, 1)
        xp.multiply(x, 1.0 / 6.0, out=out)
        out += 0.5
        xp.clip(out, 0, 1, out=out)
    elif out is not x:  # linear
        xp.copyto(out, x)


def _activation_grad(xp, name, y, g, out):
    """out = g * f'(x), written from the activation's output ``y = f(x)``; ``out`` may be ``g``."""
    if name == "tanh":
        d = y * y
        xp.subtract(1, d, out=d)
        xp.multiply(g, d, out=out)
    elif name == "sigmoid":
        d = 1 - y
        d *= y
        xp.multiply(g, d, out=out)
    elif name == "relu":
        xp.multiply(g, y > 0, out=out)
    elif name == "hard_sigmoid":
        xp.multiply(g, (y > 0) & (y < 1), out=out)
        out *= 1.0 / 6.0
    elif out is not g:  # linear
        xp.copyto(out, g)


# --------------------------------------------------------------------------- shared set-up
class _Recurrence(Function):
    """Set-up and bookkeeping shared by the three recurrences.

    Subclasses set ``gates`` (gate blocks per unit) and ``states`` (names of
    the state inputs) and write ``forward`` / ``backward``. Inputs arrive in
    the order named by the ``present`` attribute (optional ones left out).
    Saved per-step buffers are time-major, (time, batch, ...), indexed by the
    time index ``t`` of the input step; outputs are (batch, time, units),
    indexed by the processing step ``s``.
    """

    gates = 1
    states = ("initial_h",)

    def _setup(self, arrays, present, go_backwards, zero_output_for_mask, bias_shape):
        xp = self.xp
        op = self.op_name()
        a = dict(zip(present, arrays))
        x, kernel, rk = a["inputs"], a["kernel"], a["recurrent_kernel"]
        if x.ndim != 3:
            raise ValueError(f"{op}: expected inputs of rank 3 (batch, time, features), got shape {x.shape}")
        b, steps, feats = x.shape
        g = self.gates
        gname = f"{g}*units" if g > 1 else "units"
        if rk.ndim != 2 or rk.shape[1] != g * rk.shape[0]:
            raise ValueError(f"{op}: expected recurrent_kernel of shape (units, {gname}), got shape {rk.shape}")
        u = rk.shape[0]
        if kernel.shape != (feats, g * u):
            raise ValueError(
                f"{op}: expected kernel of shape (features, {gname}) = {(feats, g * u)} for inputs of shape "
                f"{x.shape} and recurrent_kernel of shape {rk.shape}, got shape {kernel.shape}"
            )
        dtype = next((arr.dtype for arr in (kernel, rk, x) if arr.dtype.kind == "f"), None)
        dtype = floatx() if dtype is None else dtype  # integer inputs and weights: the default float
        self.dtype = dtype
        x, kernel, rk = (arr if arr.dtype == dtype else arr.astype(dtype) for arr in (x, kernel, rk))

        init = []
        for name in self.states:
            h0 = a.get(name)
            if h0 is None:
                h0 = xp.zeros((b, u), dtype=dtype)
            elif h0.shape != (b, u):
                raise ValueError(
                    f"{op}: expected {name} of shape (batch, units) = {(b, u)} for inputs of shape {x.shape} "
                    f"and recurrent_kernel of shape {rk.shape}, got shape {h0.shape}"
                )
            init.append(h0 if h0.dtype == dtype else h0.astype(dtype))

        bias = a.get("bias")
        if bias is not None:
            if bias.shape != bias_shape(u):
                raise ValueError(f"{op}: expected bias of shape {bias_shape(u)} for {u} units, got shape {bias.shape}")
            bias = bias.astype(dtype, copy=False)

        rdm = a.get("recurrent_dropout_mask")
        if rdm is not None:
            if rdm.shape != (b, u):
                raise ValueError(
                    f"{op}: expected recurrent_dropout_mask of shape (batch, units) = {(b, u)}, got shape {rdm.shape}"
                )
            rdm = rdm.astype(dtype, copy=False)

        mask = a.get("mask")
        self.keep = self.drop = self.skip = self.out_factor = None
        if mask is not None:
            if mask.shape != (b, steps):
                raise ValueError(
                    f"{op}: expected mask of shape (batch, time) = {(b, steps)} for inputs of shape {x.shape}, "
                    f"got shape {mask.shape}"
                )
            mask = mask if mask.dtype == bool else mask != 0
            # (time, batch, 1): 1 where the step counts, by time index
            self.keep = mask.T[:, :, None].astype(dtype)
            self.drop = 1 - self.keep
            self.skip = ~mask.T[:, :, None]
            seen = mask[:, ::-1] if go_backwards else mask  # processing order
            if not zero_output_for_mask:  # output repeats the last kept output: zero until a step is kept
                seen = xp.cumsum(seen, axis=1) > 0
            self.out_factor = seen.T[:, :, None].astype(dtype)  # (steps, batch, 1) by processing step

        self.present = present
        self.b, self.steps, self.feats, self.u = b, steps, feats, u
        # time index of each processed step
        self.order = list(range(steps - 1, -1, -1)) if go_backwards else list(range(steps))
        # where each step keeps its saved values: by time index for backward, or (nothing to
        # differentiate) in two alternating slots, which saves memory and page faults
        if any(self.needs_input_grad):
            self.kept, self.slots = steps, self.order
        else:
            self.kept, self.slots = min(steps, 2), [s % 2 for s in range(steps)]
        self.kernel, self.rk, self.rdm = kernel, rk, rdm
        self.x2d = None
        return self._input_projection(x, kernel), init, bias

    def _input_projection(self, x, kernel):
        """Every step's input projection in one matmul: (time*batch, gates*units), rows by (time index, batch row)."""
        # time-major from here on: every step reads and writes contiguous (batch, ...) slices
        x2d = x.transpose(1, 0, 2).reshape(self.steps * self.b, self.feats)
        self.x2d = x2d if self._needs("kernel") else None
        return self.xp.matmul(x2d, kernel)

    def _fused(self, kernel):
        """``kernel``'s numba dispatcher if this call can use it (NumPy arrays, float32/64, tanh + sigmoid), or None."""
        if self.dtype not in (np.float32, np.float64):
            return None
        if self.act != "tanh" or getattr(self, "rec", "sigmoid") != "sigmoid":
            return None
        if self.xp is not np:  # cuda: the step's GPU form, if it has one (ops/recurrent_cuda.py)
            return recurrent_cuda.step_for(kernel, self.dtype) if self.device.type == "cuda" else None
        return kernel.compiled()

    def _mask_rows(self, keep=False):
        """For the fused kernels: (masked, skip or keep (time, batch) by time index, out_factor (time, batch)).

        Without a mask: False and (time, 1) placeholders the kernels do not read.
        """
        if self.skip is None:
            return (
                False,
                np.zeros((self.steps, 1), dtype=self.dtype if keep else bool),
                np.zeros((self.steps, 1), self.dtype),
            )
        rows = self.keep if keep else self.skip
        return True, rows[:, :, 0], self.out_factor[:, :, 0]

    def _needs(self, name):
        return name in self.present and self.needs_input_grad[self.present.index(name)]

    def _next_slot(self, buf, s, final):
        """Where step ``s`` writes its new state: the slot the next step reads, or the final state."""
        return buf[self.slots[s + 1]] if s + 1 < self.steps else final

    def _write_output(self, out, s, t, h_new, h_prev, extra=()):
        """Carry states over at masked steps and write the step's output."""
        xp = self.xp
        if self.skip is not None:
            skip = self.skip[t]
            xp.copyto(h_new, h_prev, where=skip)
            for new, prev in extra:
                xp.copyto(new, prev, where=skip)
            xp.multiply(h_new, self.out_factor[s], out=out[:, s])
        else:
            out[:, s] = h_new

    def _output_grad(self, dh, g_out, s, t):
        """Add the output gradient of step ``s`` to dh; split dh into (to this step's cell, carried past it)."""
        if self.out_factor is None:
            dh += g_out[:, s]
            return dh, None
        dh += g_out[:, s] * self.out_factor[s]
        return dh * self.keep[t], dh * self.drop[t]

    def _recurrent_input(self, h_prev, buf):
        return h_prev if self.rdm is None else self.xp.multiply(h_prev, self.rdm, out=buf)

    def _recurrent_input_grad(self, dhin, h_prev, drdm):
        """dhin is d(loss)/d(h_prev * rdm); return d(loss)/d(h_prev) through it and accumulate drdm."""
        if self.rdm is None:
            return dhin
        if drdm is not None:
            drdm += dhin * h_prev
        dhin *= self.rdm
        return dhin

    def _all_recurrent_inputs(self, hp):
        """(time*batch, units) matrix of the recurrent inputs of every step, by time index."""
        if self.rdm is not None:
            hp = hp * self.rdm
        return hp.reshape(self.b * self.steps, self.u)

    def _input_grads(self, dz2d, grads):
        """Fill the inputs and kernel gradients from d(loss)/d(input projection), (time*batch, gates*units)."""
        if self._needs("inputs"):
            dx = self.xp.matmul(dz2d, self.kernel.T).reshape(self.steps, self.b, self.feats)
            grads["inputs"] = self.xp.ascontiguousarray(dx.transpose(1, 0, 2))
        if self._needs("kernel"):
            grads["kernel"] = self.xp.matmul(self.x2d.T, dz2d)

    def _collect(self, grads):
        return tuple(grads.get(name) for name in self.present)

    def _clear(self):
        self.x2d = self.kernel = self.rk = self.rdm = None


def _row_blocks(batch, split=None):
    """Into how many parts of batch rows a whole-sequence kernel cuts the batch: ``split`` (an override, see
    :data:`SPLIT_BATCH`) or what the thread policy allows now (:func:`ember.backend.workers.split_parts`), each
    part at least :data:`MIN_CHUNK_ROWS` rows."""
    parts = workers.split_parts() if split is None else int(split)
    return max(1, min(parts, batch // MIN_CHUNK_ROWS))


def _bounds(n, parts, align=1):
    """``parts + 1`` boundaries cutting ``range(n)`` into near-equal pieces, each inner one a multiple of
    ``align``."""
    units = -(-n // align)
    return [min(n, align * ((i * units) // parts)) for i in range(parts + 1)]


def _run_split(part, n, parts, align=1):
    """``part(lo, hi)`` on each piece of ``range(n)`` (:func:`_bounds`), at the same time on Ember's worker threads
    (the kernels and NumPy's products release the GIL; :func:`ember.backend.workers.run_parts`: BLAS held at one
    thread meanwhile, so each piece's products run on its own thread alone)."""
    bounds = _bounds(n, parts, align)
    workers.run_parts(part, list(zip(bounds[:-1], bounds[1:])))


def _product_rows(batch, k, n):
    """How many rows of a per-step product (rows, k) @ (k, n) one BLAS call makes (see :data:`PRODUCT_ROWS`)."""
    return PRODUCT_ROWS if PRODUCT_ROWS * k * n <= SMALL_PRODUCT else max(1, batch)


def _chunked_matmul(a, w, out, rows):
    """``out[...] = a @ w`` in calls of ``rows`` rows from row 0: the whole-sequence kernels' products."""
    for r0 in range(0, len(a), rows):
        np.matmul(a[r0 : r0 + rows], w, out=out[r0 : r0 + rows])
    return out


def _big(rows, k, n):
    """Whether a product of ``rows`` rows (rows, k) @ (k, n) is past :data:`SMALL_PRODUCT` (BLAS's packed way)."""
    return rows * k * n > SMALL_PRODUCT


def _inputs_list(inputs, states, kernel, recurrent_kernel, bias, mask, recurrent_dropout_mask):
    names, values = [], []
    pairs = [("inputs", inputs), *states, ("kernel", kernel), ("recurrent_kernel", recurrent_kernel)]
    pairs += [("bias", bias), ("mask", mask), ("recurrent_dropout_mask", recurrent_dropout_mask)]
    for name, value in pairs:
        if value is not None:
            names.append(name)
            values.append(value)
    return tuple(names), values


# --------------------------------------------------------------------------- LSTM
class LSTM(_Recurrence):
    """Keras LSTM over a whole sequence; gate order i, f, c, o.

    inputs (B, T, F), initial_h / initial_c (B, U), kernel (F, 4U),
    recurrent_kernel (U, 4U), bias (4U,), mask (B, T) bool,
    recurrent_dropout_mask (B, U) -> outputs (B, T, U), final_h (B, U), final_c (B, U).

        z = (x_t @ kernel + (h_{t-1} * rdm) @ recurrent_kernel) + bias
        i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_c)
        c_t = f * c_{t-1} + i * g;  h_t = o * activation(c_t)

    Unlike GRU and SimpleRNN, the gradient of the input projection is batch-major, (B, T, 4U), so that the
    inputs' gradient comes out of one matmul in the inputs' layout and the kernel's gradient reads
    ``inputs`` as they are (no transposed copies); the input projection itself is time-major, (T, B, 4U),
    one contiguous block per step. The running states are two (B, U) buffers updated
    in place; the per-step values backward needs (gates, tanh(c_t), c_{t-1} by time index, h_{t-1} as
    (B, T, U)) are kept only when an input needs a gradient, so inference saves nothing.
    """

    name = "lstm"
    gates = 4
    states = ("initial_h", "initial_c")

    def _input_projection(self, x, kernel):
        """Every step's input projection in one matmul, time-major: (T, B, 4U), bias not added; None when the
        batch is split into parts (``self.parts`` > 1), each part projecting its own rows in its thread.

        Time-major so that each step reads one contiguous block (rows 160 KB apart cost a prefetch restart
        each); the kernel gradient pairs the batch-major gradient with ``inputs`` as they are (no copy).
        """
        self.xh = self.x_blocks = None
        save = any(self.needs_input_grad)
        self.parts = _row_blocks(self.b, SPLIT_BATCH if save else SPLIT_INFERENCE)
        if self.parts < 2 or self._fused(kernels.lstm_step) is None or not self._sequence_kernel(None):
            self.parts = 1
        # the large products (input projection, inputs' and weights' gradients) split too when every part's share
        # is a large product (the smallest part has MIN_CHUNK_ROWS rows)
        split = self.parts > 1 and _big(MIN_CHUNK_ROWS * self.steps, self.feats, 4 * self.u)
        self.split_products = split
        if self._needs("kernel") and self._needs("recurrent_kernel") and self.xp is np and self.steps:
            # both weight gradients from ONE product (about 8% less than two at W3's shape, one thread): the
            # inputs beside the h_{t-1} the forward writes, (B, T, F + U); the parts copy their own rows
            self.xh = np.empty((self.b, self.steps, self.feats + self.u), dtype=x.dtype)
            if not split:
                self.xh[:, :, : self.feats] = x
        elif self._needs("kernel"):
            self.x2d = x.reshape(self.b * self.steps, self.feats)
        if split:
            self.x_blocks = x
            return None
        xt = self.xp.ascontiguousarray(x.transpose(1, 0, 2)).reshape(self.steps * self.b, self.feats)
        return self.xp.matmul(xt, kernel).reshape(self.steps, self.b, 4 * self.u)

    def forward(self, *arrays, present, go_backwards, activation, recurrent_activation, zero_output_for_mask):
        self.act = _check_activation("lstm", "activation", activation)
        self.rec = _check_activation("lstm", "recurrent_activation", recurrent_activation)
        proj, (h0, c0), bias = self._setup(arrays, present, go_backwards, zero_output_for_mask, lambda u: (4 * u,))
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        save = any(self.needs_input_grad)
        kept = steps if save else 1  # slots of the saved per-step values (one scratch slot without a graph)
        gates = xp.empty((kept, b, 4 * u), dtype=dt)  # activated i, f, g, o, by time index
        tc = xp.empty((kept, b, u), dtype=dt)  # activation(c_t) before masking
        cp = xp.empty((kept, b, u), dtype=dt)  # c_{t-1}
        hp = xp.empty((b, steps if save else 1, u), dtype=dt) if self.xh is None else self.xh[:, :, self.feats :]
        # h_{t-1}, batch-major like the gradient dz
        out = xp.empty((b, steps, u), dtype=dt)  # batch-major, processing order
        h, c = h0.copy(), c0.copy()  # the running states, updated in place; returned as the final states
        fused = self._fused(kernels.lstm_step)
        if fused is not None:
            exact = dt != np.float32
            masked, skip, factor = self._mask_rows()
            bias_k = xp.zeros(4 * u, dtype=dt) if bias is None else xp.ascontiguousarray(bias)
            zbuf, hbuf = xp.empty((b, 4 * u), dtype=dt), xp.empty((b, u), dtype=dt)
            rk = self.rk
            sequence = self._sequence_kernel(kernels.lstm_forward_rows)
            rdm = hbuf if self.rdm is None else xp.ascontiguousarray(self.rdm)
            args = (self._order_array(), xp.ascontiguousarray(rk), bias_k, h, c, hbuf, zbuf, gates, tc, cp, hp, out,
                    skip, factor, masked, save, rdm, self.rdm is not None, exact, self._chunk())  # fmt: skip
            if proj is None:  # the batch split into parts, each projecting its own rows' inputs in its thread
                self._blocks_forward(args)
            elif sequence is not None:  # every step in one kernel call (see recurrent_blas)
                if self.parts > 1:  # parts of rows at the same time, the projection made whole above
                    serial = kernels.lstm_forward_rows.compiled()
                    _run_split(lambda lo, hi: serial(lo, hi, proj, 0, *args), b, self.parts, MIN_CHUNK_ROWS)
                else:
                    sequence(proj, 0, *args)
            else:
                for s, t in enumerate(self.order):
                    q = t if save else 0
                    self._step_product(self._recurrent_input(h, hbuf), rk, zbuf)
                    fused(zbuf, proj, t, bias_k, c, h, gates[q], tc[q], out, s, save, hp, cp[q],
                          skip[t], factor[s], masked, exact)  # fmt: skip
        else:
            self._forward_numpy(proj, bias, h, c, gates, tc, cp, hp, out, save)
        if save:
            self.gates_, self.hp, self.cp, self.tc = gates, hp, cp, tc
        else:
            self._clear()
        return out, h, c

    def _blocks_forward(self, args):
        """The forward with the batch cut into ``self.parts`` parts of rows run at the same time: each part
        projects its own rows' inputs (one product on its own thread; BLAS at one thread meanwhile, so OpenBLAS's
        pool stays idle) and runs every step on them; with a graph it also copies its rows' inputs beside the
        h_{t-1} its steps write (``self.xh``)."""
        x, kernel, serial = self.x_blocks, self.kernel, kernels.lstm_forward_rows.compiled()
        steps, feats, xh = self.steps, self.feats, self.xh

        def part(lo, hi):
            if xh is not None:
                xh[lo:hi, :, :feats] = x[lo:hi]
            xt = np.ascontiguousarray(x[lo:hi].transpose(1, 0, 2)).reshape(steps * (hi - lo), feats)
            serial(lo, hi, np.matmul(xt, kernel).reshape(steps, hi - lo, -1), lo, *args)

        _run_split(part, self.b, self.parts, MIN_CHUNK_ROWS)
        self.x_blocks = None

    def _chunk(self):
        """Rows per BLAS call of each step's product (:func:`_product_rows`)."""
        return _product_rows(self.b, self.u, 4 * self.u)

    def _step_product(self, a, w, out):
        """``out[...] = a @ w`` for one step, in the whole-sequence kernels' calls (their bits) on NumPy arrays."""
        if self.xp is not np:
            return self.xp.matmul(a, w, out=out)
        return _chunked_matmul(a, w, out, self._chunk())

    def _order_array(self):
        return np.asarray(self.order, dtype=np.int64)

    def _sequence_kernel(self, rows):
        """The whole-sequence form of a step loop, as ``f(*args)`` running every batch row, or None (the step loop
        then runs). ``rows(lo, hi, *args)`` runs every step on the batch rows ``lo:hi``, its products on the BLAS
        threads Ember's thread policy set; ``rows`` None: only whether the whole-sequence kernels apply. (The
        split into parts of rows is :meth:`_blocks_forward` and :meth:`_split_backward`.)
        """
        if not SEQUENCE_KERNELS or self.xp is not np or not kernels.bind_sequence_kernels():
            return None
        if rows is None:
            return kernels.lstm_forward_rows.compiled() is not None
        serial = rows.compiled()
        if serial is None:
            return None
        b = self.b
        return lambda *args: serial(0, b, *args)

    def _forward_numpy(self, proj, bias, h, c, gates, tc, cp, hp, out, save):
        """The step loop in NumPy calls (any activations, any array module); updates h and c in place."""
        xp, u = self.xp, self.u
        zbuf, hbuf = xp.empty((self.b, 4 * u), dtype=self.dtype), xp.empty_like(h)
        tmp, h_new, c_new = xp.empty_like(h), xp.empty_like(h), xp.empty_like(h)
        act, rec, rk = self.act, self.rec, self.rk
        for s, t in enumerate(self.order):
            q = t if save else 0
            if save:
                hp[:, t] = h
                cp[q] = c
            self._step_product(self._recurrent_input(h, hbuf), rk, zbuf)
            zbuf += proj[t]
            if bias is not None:
                zbuf += bias
            z = gates[q]
            # NumPy's tanh is several times slower on strided views: activate contiguous buffers only
            if act == rec:
                _activate(xp, act, zbuf, z)
            else:
                xp.copyto(tmp, zbuf[:, 2 * u : 3 * u])
                _activate(xp, act, tmp, tmp)
                _activate(xp, rec, zbuf, z)  # all four blocks; the c block is replaced next
                z[:, 2 * u : 3 * u] = tmp
            xp.multiply(z[:, u : 2 * u], c, out=c_new)
            xp.multiply(z[:, :u], z[:, 2 * u : 3 * u], out=tmp)
            c_new += tmp
            _activate(xp, act, c_new, tc[q])
            xp.multiply(z[:, 3 * u :], tc[q], out=h_new)
            if self.skip is not None:
                skip = self.skip[t]
                xp.copyto(h, h_new, where=~skip)
                xp.copyto(c, c_new, where=~skip)
                xp.multiply(h, self.out_factor[s], out=out[:, s])
            else:
                h[...], c[...] = h_new, c_new
                out[:, s] = h

    def backward(self, g_out, g_h, g_c):
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        dh, dc = g_h.astype(dt, order="C", copy=True), g_c.astype(dt, order="C", copy=True)
        dz = xp.empty((b, steps, 4 * u), dtype=dt)  # d(loss)/d(pre-activations), batch-major
        drdm = xp.zeros((b, u), dtype=dt) if self._needs("recurrent_dropout_mask") else None
        # (4U, U) contiguous: BLAS is ~1.4x slower on the transposed view; parts of rows make their own copy
        rk_t = xp.ascontiguousarray(self.rk.T) if self.parts < 2 else None
        fused = self._fused(kernels.lstm_backward_step)
        gin, scaled = None, False  # the inputs' gradient, when the parts compute it; whether they scaled hp
        if fused is not None:
            masked, keep, factor = self._mask_rows(keep=True)
            carry = xp.zeros((b, u), dtype=dt) if masked else dh  # the kernel reads it only when masked
            g_out = xp.ascontiguousarray(g_out, dtype=dt)
            sequence = self._sequence_kernel(kernels.lstm_backward_rows)
            first = steps - 1
            if sequence is not None:  # every step in one kernel call (see recurrent_blas)
                dropped = self.rdm is not None
                rdm = xp.ascontiguousarray(self.rdm) if dropped else dh
                args = (dh, dc, carry, g_out, self._order_array(), factor, keep, masked, self.gates_, self.tc,
                        self.cp, self.hp, dz, rk_t, rdm, dh if drdm is None else drdm, dropped,
                        drdm is not None, self._chunk(), xp.empty((b, 4 * u), dtype=dt))  # fmt: skip
                if self.parts > 1:
                    gin = self._split_backward(args, 13, dz, rdm if dropped else None)  # args[13]: rk_t
                    scaled = dropped and self.xh is not None
                else:
                    sequence(*args)
                first = -1  # no step left for the loop below
            if first >= 0 and rk_t is None:
                rk_t = xp.ascontiguousarray(self.rk.T)
            for s in range(first, -1, -1):
                t = self.order[s]
                fused(dh, carry, g_out, s, factor[s], keep[t], masked, self.gates_[t], self.tc[t], self.cp[t], dc,
                      dz, t)  # fmt: skip
                self._step_product(dz[:, t], rk_t, dh)
                self._recurrent_input_grad(dh, self.hp[:, t], drdm)
            if masked:
                dh += carry
        else:
            rk_t = xp.ascontiguousarray(self.rk.T) if rk_t is None else rk_t
            dh, dc = self._backward_numpy(g_out, dh, dc, dz, drdm, rk_t)
        dz2d = dz.reshape(b * steps, 4 * u)
        grads = {"initial_h": dh, "initial_c": dc, "recurrent_dropout_mask": drdm}
        if gin is not None:  # the parts computed it
            grads["inputs"] = gin
        elif self._needs("inputs"):
            grads["inputs"] = xp.matmul(dz2d, self.kernel.T).reshape(b, steps, self.feats)
        if self.xh is not None:  # [inputs | h_{t-1} * rdm]^T @ dz: both weight gradients in one product
            if self.rdm is not None and not scaled:  # (unless the parts scaled their own rows)
                self.hp *= self.rdm[:, None, :]  # the loop above has read h_{t-1}
            xh2d = self.xh.reshape(b * steps, self.feats + u)
            rows = self.feats + u
            if self.parts > 1 and _big(rows // self.parts, b * steps, 4 * u):  # by rows of the product (see _big)
                both = np.empty((rows, 4 * u), dtype=dt)
                if self._needs("bias"):  # and the bias's by its columns (a column's sum: the same order)
                    grads["bias"] = np.empty(4 * u, dtype=dt)
                rb, cb = _bounds(rows, self.parts), _bounds(4 * u, self.parts)

                def part(i):
                    np.matmul(xh2d[:, rb[i] : rb[i + 1]].T, dz2d, out=both[rb[i] : rb[i + 1]])
                    if "bias" in grads:
                        dz2d[:, cb[i] : cb[i + 1]].sum(axis=0, out=grads["bias"][cb[i] : cb[i + 1]])

                workers.run_parts(part, [(i,) for i in range(self.parts)])
            else:
                both = xp.matmul(xh2d.T, dz2d)
            grads["kernel"], grads["recurrent_kernel"] = both[: self.feats], both[self.feats :]
        else:
            if self._needs("kernel"):
                grads["kernel"] = xp.matmul(self.x2d.T, dz2d)
            if self._needs("recurrent_kernel"):
                hin = self.hp if self.rdm is None else self.hp * self.rdm[:, None, :]
                grads["recurrent_kernel"] = xp.matmul(hin.reshape(b * steps, u).T, dz2d)
        if self._needs("bias") and "bias" not in grads:
            grads["bias"] = dz2d.sum(axis=0)
        self._clear()
        self.gates_ = self.hp = self.cp = self.tc = self.xh = None
        return self._collect(grads)

    def _split_backward(self, args, rk_slot, dz, rdm):
        """The backward through time with the batch cut into ``self.parts`` parts of rows run at the same time
        (``lstm_backward_rows``' arguments ``args``, whose ``args[rk_slot]`` each part fills with its own contiguous
        copy of the transposed recurrent kernel: made on its own core, in its own cache, off the serial path);
        each part then computes its rows of the inputs' gradient (returned, or None when not needed) and scales its
        rows of the saved h_{t-1} by the dropout mask ``rdm`` (None: none) for the weights' gradient."""
        serial = kernels.lstm_backward_rows.compiled()
        steps, feats, u4 = self.steps, self.feats, 4 * self.u
        gin = np.empty((self.b, steps, feats), dtype=self.dtype) if self._needs("inputs") else None
        if not self.split_products:  # made whole after the split (see _big)
            gin = None
        kernel_t, hp, scale = self.kernel.T, self.hp, rdm is not None and self.xh is not None

        rk = self.rk

        def part(lo, hi):
            own = list(args)
            own[rk_slot] = np.ascontiguousarray(rk.T)
            serial(lo, hi, *own)
            if gin is not None:
                np.matmul(dz[lo:hi].reshape(-1, u4), kernel_t, out=gin[lo:hi].reshape(-1, feats))
            if scale:
                hp[lo:hi] *= rdm[lo:hi, None, :]

        _run_split(part, self.b, self.parts, MIN_CHUNK_ROWS)
        return gin

    def _backward_numpy(self, g_out, dh, dc, dz, drdm, rk_t):
        """The step loop of the backward in NumPy calls; returns the gradients of initial_h and initial_c."""
        xp, u = self.xp, self.u
        act, rec = self.act, self.rec
        dcn, tmp = xp.empty_like(dh), xp.empty_like(dh)
        for s in range(self.steps - 1, -1, -1):
            t = self.order[s]
            dhn, carry_h = self._output_grad(dh, g_out, s, t)
            if carry_h is None:
                dcn0, carry_c = dc, None
            else:
                dcn0, carry_c = dc * self.keep[t], dc * self.drop[t]
            z, tc, c_prev, d = self.gates_[t], self.tc[t], self.cp[t], dz[:, t]
            i, f, g, o = z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :]
            xp.multiply(dhn, tc, out=tmp)
            _activation_grad(xp, rec, o, tmp, d[:, 3 * u :])
            xp.multiply(dhn, o, out=dcn)
            _activation_grad(xp, act, tc, dcn, dcn)
            dcn += dcn0  # d(loss)/d(c_t) before masking
            xp.multiply(dcn, g, out=tmp)
            _activation_grad(xp, rec, i, tmp, d[:, :u])
            xp.multiply(dcn, c_prev, out=tmp)
            _activation_grad(xp, rec, f, tmp, d[:, u : 2 * u])
            xp.multiply(dcn, i, out=tmp)
            _activation_grad(xp, act, g, tmp, d[:, 2 * u : 3 * u])
            dc = dcn * f
            dh = self._recurrent_input_grad(self._step_product(d, rk_t, xp.empty_like(dc)), self.hp[:, t], drdm)
            if carry_h is not None:
                dh += carry_h
                dc += carry_c
        return dh, dc


# --------------------------------------------------------------------------- GRU
class GRU(_Recurrence):
    """Keras GRU over a whole sequence; gate order z, r, h.

    inputs (B, T, F), initial_h (B, U), kernel (F, 3U), recurrent_kernel (U, 3U),
    bias (2, 3U) [input row, recurrent row] if reset_after else (3U,),
    mask (B, T) bool, recurrent_dropout_mask (B, U) -> outputs (B, T, U), final_h (B, U).

    With hin = h_{t-1} * rdm, x = x_t @ kernel + input bias:
        reset_after=True:   m = hin @ recurrent_kernel + recurrent bias
                            z, r = recurrent_activation(x_zr + m_zr);  hh = activation(x_h + r * m_h)
        reset_after=False:  z, r = recurrent_activation(x_zr + hin @ recurrent_kernel_zr)
                            hh = activation(x_h + (r * hin) @ recurrent_kernel_h)
        h_t = z * h_{t-1} + (1 - z) * hh
    """

    name = "gru"
    gates = 3

    def forward(
        self, *arrays, present, go_backwards, reset_after, activation, recurrent_activation, zero_output_for_mask
    ):
        self.act = _check_activation("gru", "activation", activation)
        self.rec = _check_activation("gru", "recurrent_activation", recurrent_activation)
        self.reset_after = reset_after = bool(reset_after)
        shape = (lambda u: (2, 3 * u)) if reset_after else (lambda u: (3 * u,))
        proj, (h0,), bias = self._setup(arrays, present, go_backwards, zero_output_for_mask, shape)
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        rbias = None
        if bias is not None:
            if reset_after:
                proj += bias[0]
                rbias = bias[1]
            else:
                proj += bias
        proj = proj.reshape(steps, b, 3 * u)
        gates = xp.empty((self.kept, b, 3 * u), dtype=dt)  # z, r, hh of every kept step
        hp = xp.empty((self.kept, b, u), dtype=dt)  # h_{t-1} read by the step at time t
        # reset_after: recurrent part of the candidate before r; else r * hin
        rh = xp.empty((self.kept, b, u), dtype=dt)
        out = xp.empty((b, steps, u), dtype=dt)  # batch-major, processing order
        h_fin = xp.empty((b, u), dtype=dt)
        if steps == 0:
            h_fin[...] = h0
        else:
            hp[self.slots[0]] = h0
        act, rec, rk = self.act, self.rec, self.rk
        # NumPy's tanh is several times slower on strided views: activate contiguous buffers only
        cbuf, hbuf = xp.empty((b, u), dtype=dt), xp.empty((b, u), dtype=dt)  # candidate, recurrent input
        if reset_after:
            zbuf, pre = xp.empty((b, 3 * u), dtype=dt), xp.empty((b, 3 * u), dtype=dt)
        else:
            zbuf = xp.empty((b, 2 * u), dtype=dt)
            self.rk_zr, self.rk_h = xp.ascontiguousarray(rk[:, : 2 * u]), xp.ascontiguousarray(rk[:, 2 * u :])
        fused = self._fused(kernels.gru_step) if reset_after else None
        if fused is not None:
            exact = dt != np.float32
            masked, skip, factor = self._mask_rows()
            rb = xp.zeros(3 * u, dtype=dt) if rbias is None else xp.ascontiguousarray(rbias)
            for s, (t, q) in enumerate(zip(self.order, self.slots)):
                h_prev, h_new = hp[q], self._next_slot(hp, s, h_fin)
                xp.matmul(self._recurrent_input(h_prev, hbuf), rk, out=zbuf)
                fused(zbuf, rb, proj, t, h_prev, gates[q], rh[q], h_new, out, s, skip[t], factor[s], masked, exact)
            self.gates_, self.hp, self.rh = gates, hp, rh
            return out, h_fin
        for s, (t, q) in enumerate(zip(self.order, self.slots)):
            h_prev, h_new = hp[q], self._next_slot(hp, s, h_fin)
            hin = self._recurrent_input(h_prev, hbuf)
            z, x = gates[q], proj[t]
            if reset_after:
                xp.matmul(hin, rk, out=zbuf)
                if rbias is not None:
                    zbuf += rbias
                rh[q] = zbuf[:, 2 * u :]
                xp.add(x, zbuf, out=pre)
                _activate(xp, rec, pre, z)  # z and r; the candidate block is replaced below
                xp.multiply(z[:, u : 2 * u], rh[q], out=cbuf)
            else:
                xp.matmul(hin, self.rk_zr, out=zbuf)
                zbuf += x[:, : 2 * u]
                _activate(xp, rec, zbuf, zbuf)
                z[:, : 2 * u] = zbuf
                xp.multiply(zbuf[:, u:], hin, out=rh[q])
                xp.matmul(rh[q], self.rk_h, out=cbuf)
            cbuf += x[:, 2 * u :]
            _activate(xp, act, cbuf, cbuf)
            z[:, 2 * u :] = cbuf
            # h = hh + z * (h_prev - hh)
            xp.subtract(h_prev, cbuf, out=h_new)
            h_new *= z[:, :u]
            h_new += cbuf
            self._write_output(out, s, t, h_new, h_prev)
        self.gates_, self.hp, self.rh = gates, hp, rh
        return out, h_fin

    def backward(self, g_out, g_h):
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        act, rec, reset_after = self.act, self.rec, self.reset_after
        dh = g_h.astype(dt, copy=True)
        dz = xp.empty((steps, b, 3 * u), dtype=dt)  # d(loss)/d(input projection)
        # reset_after: d(loss)/d(recurrent projection); it differs from dz only in the candidate block
        dm = xp.empty((steps, b, 3 * u), dtype=dt) if reset_after else None
        drdm = xp.zeros((b, u), dtype=dt) if self._needs("recurrent_dropout_mask") else None
        tmp = xp.empty((b, u), dtype=dt)
        hbuf = xp.empty((b, u), dtype=dt)
        # contiguous transposes: BLAS runs the per-step products ~1.4x slower on the transposed views
        if reset_after:
            rk_t = xp.ascontiguousarray(self.rk.T)
        else:
            rk_zr_t, rk_h_t = xp.ascontiguousarray(self.rk_zr.T), xp.ascontiguousarray(self.rk_h.T)
        fused = self._fused(kernels.gru_backward_step) if reset_after else None
        if fused is not None:
            masked, keep, factor = self._mask_rows(keep=True)
            carry = xp.empty((b, u), dtype=dt) if masked else tmp  # written only when masked
            g_out = xp.ascontiguousarray(g_out, dtype=dt)
            for s in range(steps - 1, -1, -1):
                t = self.order[s]
                fused(dh, carry, g_out, s, factor[s], keep[t], masked, self.gates_[t], self.rh[t], self.hp[t], dz, dm,
                      hbuf, t)  # fmt: skip
                dh = self._recurrent_input_grad(xp.matmul(dm[t], rk_t), self.hp[t], drdm)
                dh += hbuf  # the path through z * h_{t-1}
                if masked:
                    dh += carry
        else:
            for s in range(steps - 1, -1, -1):
                t = self.order[s]
                dhn, carry = self._output_grad(dh, g_out, s, t)
                gt, h_prev, d = self.gates_[t], self.hp[t], dz[t]
                zg, r, hh = gt[:, :u], gt[:, u : 2 * u], gt[:, 2 * u :]
                xp.subtract(h_prev, hh, out=tmp)
                tmp *= dhn
                _activation_grad(xp, rec, zg, tmp, d[:, :u])
                xp.subtract(1, zg, out=tmp)
                tmp *= dhn
                _activation_grad(xp, act, hh, tmp, d[:, 2 * u :])  # d(loss)/d(candidate pre-activation)
                dh_direct = dhn * zg
                if reset_after:
                    xp.multiply(d[:, 2 * u :], self.rh[t], out=tmp)
                    _activation_grad(xp, rec, r, tmp, d[:, u : 2 * u])
                    m = dm[t]
                    m[:, : 2 * u] = d[:, : 2 * u]
                    xp.multiply(d[:, 2 * u :], r, out=m[:, 2 * u :])
                    dhin = xp.matmul(m, rk_t)
                else:
                    hin = self._recurrent_input(h_prev, hbuf)
                    drh = xp.matmul(d[:, 2 * u :], rk_h_t)  # d(loss)/d(r * hin)
                    xp.multiply(drh, hin, out=tmp)
                    _activation_grad(xp, rec, r, tmp, d[:, u : 2 * u])
                    dhin = xp.matmul(d[:, : 2 * u], rk_zr_t)
                    drh *= r
                    dhin += drh
                dh = self._recurrent_input_grad(dhin, h_prev, drdm)
                dh += dh_direct
                if carry is not None:
                    dh += carry
        dz2d = dz.reshape(b * steps, 3 * u)
        grads = {"initial_h": dh, "recurrent_dropout_mask": drdm}
        self._input_grads(dz2d, grads)
        if self._needs("recurrent_kernel"):
            hin2d = self._all_recurrent_inputs(self.hp)
            if reset_after:
                grads["recurrent_kernel"] = xp.matmul(hin2d.T, dm.reshape(b * steps, 3 * u))
            else:
                # two matmuls (z, r from hin; candidate from r * hin); out= with strided operands is slow in NumPy
                grads["recurrent_kernel"] = xp.concatenate(
                    [
                        xp.matmul(hin2d.T, dz2d[:, : 2 * u]),
                        xp.matmul(self.rh.reshape(b * steps, u).T, dz2d[:, 2 * u :]),
                    ],
                    axis=1,
                )
        if self._needs("bias"):
            if reset_after:
                gb = xp.empty((2, 3 * u), dtype=dt)
                dz2d.sum(axis=0, out=gb[0])
                dm.reshape(b * steps, 3 * u).sum(axis=0, out=gb[1])
                grads["bias"] = gb
            else:
                grads["bias"] = dz2d.sum(axis=0)
        self._clear()
        self.gates_ = self.hp = self.rh = self.rk_zr = self.rk_h = None
        return self._collect(grads)


# --------------------------------------------------------------------------- SimpleRNN
class SimpleRNN(_Recurrence):
    """Keras SimpleRNN over a whole sequence.

    inputs (B, T, F), initial_h (B, U), kernel (F, U), recurrent_kernel (U, U),
    bias (U,), mask (B, T) bool, recurrent_dropout_mask (B, U) -> outputs (B, T, U), final_h (B, U).

        h_t = activation(x_t @ kernel + (h_{t-1} * rdm) @ recurrent_kernel + bias)
    """

    name = "simple_rnn"
    gates = 1

    def forward(self, *arrays, present, go_backwards, activation, zero_output_for_mask):
        self.act = _check_activation("simple_rnn", "activation", activation)
        proj, (h0,), bias = self._setup(arrays, present, go_backwards, zero_output_for_mask, lambda u: (u,))
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        if bias is not None:
            proj += bias
        proj = proj.reshape(steps, b, u)
        pre = xp.empty((self.kept, b, u), dtype=dt)  # activation output of every kept step, before masking
        hp = xp.empty((self.kept, b, u), dtype=dt)
        out = xp.empty((b, steps, u), dtype=dt)  # batch-major, processing order
        h_fin = xp.empty((b, u), dtype=dt)
        if steps == 0:
            h_fin[...] = h0
        else:
            hp[self.slots[0]] = h0
        zbuf, hbuf = xp.empty((b, u), dtype=dt), xp.empty((b, u), dtype=dt)
        for s, (t, q) in enumerate(zip(self.order, self.slots)):
            h_prev, h_new = hp[q], self._next_slot(hp, s, h_fin)
            xp.matmul(self._recurrent_input(h_prev, hbuf), self.rk, out=zbuf)
            y = pre[q]
            xp.add(zbuf, proj[t], out=y)
            _activate(xp, self.act, y, y)
            xp.copyto(h_new, y)
            self._write_output(out, s, t, h_new, h_prev)
        self.pre, self.hp = pre, hp
        return out, h_fin

    def backward(self, g_out, g_h):
        xp, dt = self.xp, self.dtype
        b, steps, u = self.b, self.steps, self.u
        dh = g_h.astype(dt, copy=True)
        dz = xp.empty((steps, b, u), dtype=dt)
        drdm = xp.zeros((b, u), dtype=dt) if self._needs("recurrent_dropout_mask") else None
        rk_t = xp.ascontiguousarray(self.rk.T)  # BLAS is ~1.4x slower on the transposed view
        for s in range(steps - 1, -1, -1):
            t = self.order[s]
            dhn, carry = self._output_grad(dh, g_out, s, t)
            _activation_grad(xp, self.act, self.pre[t], dhn, dz[t])
            dh = self._recurrent_input_grad(xp.matmul(dz[t], rk_t), self.hp[t], drdm)
            if carry is not None:
                dh += carry
        dz2d = dz.reshape(b * steps, u)
        grads = {"initial_h": dh, "recurrent_dropout_mask": drdm}
        self._input_grads(dz2d, grads)
        if self._needs("recurrent_kernel"):
            grads["recurrent_kernel"] = xp.matmul(self._all_recurrent_inputs(self.hp).T, dz2d)
        if self._needs("bias"):
            grads["bias"] = dz2d.sum(axis=0)
        self._clear()
        self.pre = self.hp = None
        return self._collect(grads)


# --------------------------------------------------------------------------- public functions
def lstm(
    inputs,
    initial_h,
    initial_c,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    activation="tanh",
    recurrent_activation="sigmoid",
    recurrent_dropout_mask=None,
    zero_output_for_mask=False,
):
    """Run a Keras-layout LSTM over a whole sequence.

    Args:
        inputs: (batch, time, features).
        initial_h, initial_c: (batch, units) starting states (None: zeros).
        kernel: (features, 4*units), gate blocks i, f, c, o.
        recurrent_kernel: (units, 4*units).
        bias: (4*units,) or None.
        mask: (batch, time) bool, True where the step counts; masked steps carry the states over.
        go_backwards: process the sequence from the last step to the first.
        activation, recurrent_activation: one of "tanh", "sigmoid", "relu", "linear", "hard_sigmoid".
        recurrent_dropout_mask: (batch, units) multiplier of h_{t-1} in the recurrent projection.
        zero_output_for_mask: masked steps output zeros instead of repeating the previous output.

    Returns:
        (outputs (batch, time, units) in processing order, final_h (batch, units), final_c (batch, units)).
    """
    states = [("initial_h", initial_h), ("initial_c", initial_c)]
    names, values = _inputs_list(inputs, states, kernel, recurrent_kernel, bias, mask, recurrent_dropout_mask)
    return LSTM.apply(
        *values,
        present=names,
        go_backwards=bool(go_backwards),
        activation=activation,
        recurrent_activation=recurrent_activation,
        zero_output_for_mask=bool(zero_output_for_mask),
    )


def gru(
    inputs,
    initial_h,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    reset_after=True,
    activation="tanh",
    recurrent_activation="sigmoid",
    recurrent_dropout_mask=None,
    zero_output_for_mask=False,
):
    """Run a Keras-layout GRU over a whole sequence.

    Args:
        inputs: (batch, time, features).
        initial_h: (batch, units) starting state (None: zeros).
        kernel: (features, 3*units), gate blocks z, r, h.
        recurrent_kernel: (units, 3*units).
        bias: (2, 3*units) [input bias, recurrent bias] when reset_after, else (3*units,); or None.
        mask: (batch, time) bool, True where the step counts; masked steps carry the state over.
        go_backwards: process the sequence from the last step to the first.
        reset_after: apply the reset gate after the recurrent matmul (Keras 3 default, cuDNN and torch style).
        activation, recurrent_activation: one of "tanh", "sigmoid", "relu", "linear", "hard_sigmoid".
        recurrent_dropout_mask: (batch, units) multiplier of h_{t-1} in the recurrent projections.
        zero_output_for_mask: masked steps output zeros instead of repeating the previous output.

    Returns:
        (outputs (batch, time, units) in processing order, final_h (batch, units)).
    """
    names, values = _inputs_list(
        inputs, [("initial_h", initial_h)], kernel, recurrent_kernel, bias, mask, recurrent_dropout_mask
    )
    return GRU.apply(
        *values,
        present=names,
        go_backwards=bool(go_backwards),
        reset_after=bool(reset_after),
        activation=activation,
        recurrent_activation=recurrent_activation,
        zero_output_for_mask=bool(zero_output_for_mask),
    )


def simple_rnn(
    inputs,
    initial_h,
    kernel,
    recurrent_kernel,
    bias=None,
    mask=None,
    go_backwards=False,
    activation="tanh",
    recurrent_dropout_mask=None,
    zero_output_for_mask=False,
):
    """Run a Keras-layout SimpleRNN over a whole sequence.

    Args:
        inputs: (batch, time, features).
        initial_h: (batch, units) starting state (None: zeros).
        kernel: (features, units).
        recurrent_kernel: (units, units).
        bias: (units,) or None.
        mask: (batch, time) bool, True where the step counts; masked steps carry the state over.
        go_backwards: process the sequence from the last step to the first.
        activation: one of "tanh", "sigmoid", "relu", "linear", "hard_sigmoid".
        recurrent_dropout_mask: (batch, units) multiplier of h_{t-1} in the recurrent projection.
        zero_output_for_mask: masked steps output zeros instead of repeating the previous output.

    Returns:
        (outputs (batch, time, units) in processing order, final_h (batch, units)).
    """
    names, values = _inputs_list(
        inputs, [("initial_h", initial_h)], kernel, recurrent_kernel, bias, mask, recurrent_dropout_mask
    )
    return SimpleRNN.apply(
        *values,
        present=names,
        go_backwards=bool(go_backwards),
        activation=activation,
        zero_output_for_mask=bool(zero_output_for_mask),
    )
