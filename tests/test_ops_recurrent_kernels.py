"""The fused numba step kernels of ember/ops/recurrent_kernels.py against the NumPy path of the same ops.

The oracle tests in test_ops_recurrent.py run on both paths; these compare the two paths with each other
on the same random problems: the backward kernels must give the NumPy path's bits, the forward kernels
differ only in tanh (float32: a rational approximation, relative error < 4e-7; float64: math.tanh).
"""

import numpy as np
import pytest

import ember
from ember.backend import jit
from ember.ops import recurrent, recurrent_blas, recurrent_kernels

pytestmark = pytest.mark.skipif(
    not jit.available(),
    reason="the numba kernels are off: numba (a default dependency) is missing or EMBER_JIT=0",
)


@pytest.fixture(autouse=True)
def _restore_jit():
    previous = jit.enabled()
    yield
    jit.set_enabled(previous)


def test_tanh_float32_is_within_a_few_ulp():
    x = np.concatenate([np.linspace(-12, 12, 200_001), np.logspace(-30, 1.2, 5000), -np.logspace(-30, 1.2, 5000)])
    x = x.astype(np.float32)
    ours = recurrent_kernels.tanh_float32(x)
    exact = np.tanh(x.astype(np.float64))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, rtol=4e-7, atol=0)
    assert np.all(np.abs(ours) <= 1)
    np.testing.assert_array_equal(ours, -recurrent_kernels.tanh_float32(-x))  # odd


def _problem(rng, dtype, b=4, t=6, f=3, u=5):
    x = rng.standard_normal((b, t, f))
    h0, c0 = rng.standard_normal((b, u)) * 0.5, rng.standard_normal((b, u)) * 0.5
    k, rk = rng.standard_normal((f, 4 * u)) * 0.6, rng.standard_normal((u, 4 * u)) * 0.6
    bias = rng.standard_normal(4 * u) * 0.5
    mask = rng.random((b, t)) < 0.6
    mask[0, 0] = mask[-1, -1] = False
    mask[1] = False  # a fully masked row
    rdm = rng.uniform(0.5, 2.0, (b, u))
    weights = [rng.standard_normal(shape) for shape in ((b, t, u), (b, u), (b, u))]
    return [a.astype(dtype) for a in (x, h0, c0, k, rk, bias)], mask, rdm.astype(dtype), weights


def _run(arrays, mask, rdm, weights, kw, forward_jit, backward_jit):
    """Outputs and gradients of every input, with the kernels switched per pass."""
    dtype = arrays[0].dtype
    tensors = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    rdm_t = None if rdm is None else ember.tensor(rdm, dtype=dtype, requires_grad=True)
    jit.set_enabled(forward_jit)
    outs = ember.lstm(*tensors, mask=mask, recurrent_dropout_mask=rdm_t, **kw)
    jit.set_enabled(backward_jit)
    sum((o * ember.tensor(w, dtype=dtype)).sum() for o, w in zip(outs, weights)).backward()
    grads = [t.grad.numpy() for t in tensors] + ([] if rdm_t is None else [rdm_t.grad.numpy()])
    return [o.numpy() for o in outs], grads


CASES = [
    # (masked, go_backwards, zero_output_for_mask, rdm)
    (False, False, False, False),
    (False, True, False, True),
    (True, False, False, False),
    (True, True, False, True),
    (True, False, True, False),
    (True, True, True, True),
]


@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_backward_kernel_gives_the_numpy_bits(masked, go_backwards, zero_output_for_mask, rdm, dtype, rng):
    arrays, mask, rdm_arr, weights = _problem(rng, dtype)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    mask, rdm_arr = (mask if masked else None), (rdm_arr if rdm else None)
    ref_out, ref_grads = _run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=False)
    out, grads = _run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=True)
    for a, b in zip(out, ref_out):
        np.testing.assert_array_equal(a, b)
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_array_equal(a, b, err_msg=f"gradient {i}")


@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float64", 1e-13)])
def test_lstm_fused_forward_and_backward_match_numpy(masked, go_backwards, zero_output_for_mask, rdm, dtype, rtol, rng):
    arrays, mask, rdm_arr, weights = _problem(rng, dtype)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    mask, rdm_arr = (mask if masked else None), (rdm_arr if rdm else None)
    ref_out, ref_grads = _run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=False)
    out, grads = _run(arrays, mask, rdm_arr, weights, kw, forward_jit=True, backward_jit=True)
    for a, b in zip(out, ref_out):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        # gradients sum many terms: tanh's rounding reaches them through the sums, relative to their size
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(), err_msg=f"gradient {i}")


@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float64", 1e-13)])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_lstm_without_a_graph_gives_the_graph_bits(dtype, rtol, zero_output_for_mask, rng):
    """Under no_grad the LSTM runs the same step kernel with nothing saved: the graph path's bits.

    Against the NumPy path (EMBER_JIT=0) at the tolerance of the fused-vs-NumPy test above (tanh differs).
    """
    arrays, mask, rdm, _ = _problem(rng, dtype)
    no_bias = arrays[:5]
    for args, kw in (
        (arrays, {}),
        (arrays, {"go_backwards": True, "mask": mask, "zero_output_for_mask": zero_output_for_mask}),
        (no_bias, {"mask": mask, "zero_output_for_mask": zero_output_for_mask, "recurrent_dropout_mask": rdm}),
    ):
        jit.set_enabled(True)
        ref = ember.lstm(*[ember.tensor(a, dtype=dtype, requires_grad=True) for a in args], **kw)
        with ember.no_grad():
            res = ember.lstm(ember.tensor(args[0], dtype=dtype), *args[1:], **kw)
        jit.set_enabled(False)
        with ember.no_grad():
            numpy_res = ember.lstm(ember.tensor(args[0], dtype=dtype), *args[1:], **kw)
        for a, b, c in zip(res, ref, numpy_res):
            assert a.dtype == np.dtype(dtype) and a.shape == b.shape
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=rtol, atol=rtol)


def _spy(monkeypatch, name):
    """Replace kernel ``name`` by one that records the arguments of each call and runs the real one."""
    calls = []
    kernel = getattr(recurrent_kernels, name)

    class Spy:
        def compiled(self):
            dispatcher = kernel.compiled()
            return None if dispatcher is None else (lambda *a: calls.append(a) or dispatcher(*a))

    monkeypatch.setattr(recurrent_kernels, name, Spy())
    return calls


def test_lstm_inference_kernel_runs_only_without_a_graph(rng, monkeypatch):
    """Without a graph the step kernel saves nothing (``save`` False, one scratch slot); with one, every step."""
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", False)  # the step loop (the whole-sequence form: below)
    calls = _spy(monkeypatch, "lstm_step")
    arrays, _, rdm, _ = _problem(rng, "float32")
    b, t, u = arrays[0].shape[0], arrays[0].shape[1], arrays[1].shape[1]
    jit.set_enabled(True)
    with ember.no_grad():
        ember.lstm(*arrays)
        ember.lstm(*arrays, recurrent_dropout_mask=rdm)
    assert len(calls) == 2 * t
    for args in calls:
        save, hp = args[10], args[11]
        assert save is False and hp.shape == (b, 1, u)
    calls.clear()
    ember.lstm(*[ember.tensor(a, requires_grad=True) for a in arrays])
    assert len(calls) == t and all(args[10] is True and args[11].shape == (b, t, u) for args in calls)


def test_the_kernels_run_only_where_they_apply(rng, monkeypatch):
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", False)
    calls = _spy(monkeypatch, "lstm_step")
    arrays, _, _, _ = _problem(rng, "float32")
    graph = [ember.tensor(a, requires_grad=True) for a in arrays]
    jit.set_enabled(True)
    ember.lstm(*graph)
    assert calls, "float32 tanh/sigmoid LSTM: the fused kernel"
    calls.clear()
    ember.lstm(*arrays, activation="relu")
    ember.lstm(*[a.astype("float16") for a in arrays])
    jit.set_enabled(False)
    ember.lstm(*graph)
    assert not calls, "other activations, float16 and EMBER_JIT=0 take the NumPy path"


# --------------------------------------------------------------------------- LSTM: the whole-sequence kernels
needs_sequence_kernels = pytest.mark.skipif(
    not (jit.available() and recurrent_kernels.bind_sequence_kernels()),
    reason="the whole-sequence LSTM kernels need NumPy's OpenBLAS with an ILP64 cblas (recurrent_blas.py)",
)


def _sequence_vs_steps(monkeypatch, arrays, mask, rdm, weights, kw, blocks, small_product=None):
    """(outputs, gradients) of the step loop and of the whole-sequence kernels split into ``blocks`` row blocks;
    ``small_product`` 0: every product counts as large (split among the parts, per-step products in one call)."""
    if small_product is not None:
        monkeypatch.setattr(recurrent, "SMALL_PRODUCT", small_product)
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", False)
    ref = _run(arrays, mask, rdm, weights, kw, forward_jit=True, backward_jit=True)
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", True)
    monkeypatch.setattr(recurrent, "_row_blocks", lambda batch, split=None: blocks)
    return ref, _run(arrays, mask, rdm, weights, kw, forward_jit=True, backward_jit=True)


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("blocks", [1, 2, 3])
@pytest.mark.parametrize("small_product", [None, 0])
def test_lstm_sequence_kernels_give_the_step_kernels_bits(
    masked, go_backwards, zero_output_for_mask, rdm, dtype, blocks, small_product, rng, monkeypatch
):
    """One kernel call for every step (the recurrent product inside it), whole or split into row blocks run at
    the same time on worker threads: the step loop's bits, outputs and every gradient, whatever the split (20
    rows: blocks of 8-12 or 8-8-4), with the per-step products in 8-row calls and the large products whole, or
    (``small_product`` 0) the per-step products in one call and the large ones split too."""
    arrays, mask, rdm_arr, weights = _problem(rng, dtype, b=20, t=7, f=3, u=6)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    mask, rdm_arr = (mask if masked else None), (rdm_arr if rdm else None)
    (ref_out, ref_grads), (out, grads) = _sequence_vs_steps(
        monkeypatch, arrays, mask, rdm_arr, weights, kw, blocks, small_product
    )
    for a, b in zip(out, ref_out):
        np.testing.assert_array_equal(a, b)
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_array_equal(a, b, err_msg=f"gradient {i}")


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("blocks", [2, 3])
@pytest.mark.parametrize("small_product", [None, 0])
def test_lstm_split_inference_gives_the_step_kernels_bits(
    masked, go_backwards, zero_output_for_mask, rdm, blocks, small_product, rng, monkeypatch
):
    """Without a graph the batch is split among threads, each block projecting its own rows' inputs when that
    product is large (``small_product`` 0), else reading the whole batch's: the step loop's bits (the same
    products row by row)."""
    if small_product is not None:
        monkeypatch.setattr(recurrent, "SMALL_PRODUCT", small_product)
    arrays, mask, rdm_arr, _ = _problem(rng, "float32", b=20, t=7, f=3, u=6)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    kw.update(mask=mask if masked else None, recurrent_dropout_mask=rdm_arr if rdm else None)
    calls = _spy(monkeypatch, "lstm_forward_rows")
    jit.set_enabled(True)
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", False)
    with ember.no_grad():
        ref = ember.lstm(*arrays, **kw)
    monkeypatch.setattr(recurrent, "SEQUENCE_KERNELS", True)
    monkeypatch.setattr(recurrent, "_row_blocks", lambda batch, split=None: blocks)
    with ember.no_grad():
        res = ember.lstm(*arrays, **kw)
    assert sorted(args[0] for args in calls) == [0, 8, 16][:blocks]
    own = small_product == 0  # each block's own projections (batch row lo at index 0), else the whole batch's
    assert all(args[3] == (args[0] if own else 0) for args in calls)
    for a, r in zip(res, ref):
        np.testing.assert_array_equal(a.numpy(), r.numpy())


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
@pytest.mark.parametrize("batch,blocks", [(32, 2), (40, 3)])
def test_lstm_sequence_kernels_at_the_benchmark_shape(batch, blocks, rng, monkeypatch):
    """W3's shape (batch 32, 80 steps, 128 features and units) in float32, two row blocks (and 40 rows in three
    uneven blocks, 8-16-16): the step loop's bits. Here each step's product is made in 8-row calls (OpenBLAS's
    unpacked small products) and the large products (projection, inputs' and weights' gradients) are split
    among the blocks."""
    arrays, _, rdm, weights = _problem(rng, "float32", b=batch, t=80, f=128, u=128)
    arrays[4] *= 0.15  # a recurrent kernel of a usual scale: the states stay away from saturation
    assert recurrent._product_rows(batch, 128, 512) == recurrent.PRODUCT_ROWS
    assert recurrent._big(recurrent.MIN_CHUNK_ROWS * 80, 128, 512)
    (ref_out, ref_grads), (out, grads) = _sequence_vs_steps(monkeypatch, arrays, None, rdm, weights, {}, blocks)
    for a, b in zip(out + grads, ref_out + ref_grads):
        np.testing.assert_array_equal(a, b)


def test_part_bounds_are_multiples_of_the_product_rows():
    """Parts of the batch start at multiples of MIN_CHUNK_ROWS (the 8-row product calls fall alike whatever the
    count) and, with at most batch // MIN_CHUNK_ROWS parts, each has at least MIN_CHUNK_ROWS rows."""
    rows = recurrent.MIN_CHUNK_ROWS
    assert recurrent._bounds(40, 3, rows) == [0, 8, 24, 40]
    assert recurrent._bounds(32, 2, rows) == [0, 16, 32]
    for n in range(rows, 200):
        for parts in range(1, n // rows + 1):
            bounds = recurrent._bounds(n, parts, rows)
            assert bounds[0] == 0 and bounds[-1] == n and len(bounds) == parts + 1
            assert all(lo % rows == 0 and hi - lo >= rows for lo, hi in zip(bounds[:-1], bounds[1:]))


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
def test_lstm_sequence_kernel_saves_nothing_without_a_graph(rng, monkeypatch):
    """One forward call per op; under no_grad it keeps one scratch slot (``save`` False) and the same bits."""
    calls = _spy(monkeypatch, "lstm_forward_rows")
    monkeypatch.setattr(recurrent, "_row_blocks", lambda batch, split=None: 1)
    arrays, _, _, _ = _problem(rng, "float32")
    b, u = arrays[0].shape[0], arrays[1].shape[1]
    jit.set_enabled(True)
    with ember.no_grad():
        res = ember.lstm(*arrays)
    assert len(calls) == 1
    save, hp, gates = calls[0][19], calls[0][14], calls[0][11]
    assert save is False and hp.shape == (b, 1, u) and gates.shape == (1, b, 4 * u)
    ref = ember.lstm(*[ember.tensor(a, requires_grad=True) for a in arrays])
    assert len(calls) == 2 and calls[1][19] is True
    for a, r in zip(res, ref):
        np.testing.assert_array_equal(a.numpy(), r.numpy())


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
def test_lstm_sequence_kernels_from_several_threads_at_once(rng, monkeypatch):
    """Threads calling the LSTM at once (one splits its batch among the workers, the others run all their rows
    themselves): every result is the lone call's."""
    import threading

    monkeypatch.setattr(recurrent, "_row_blocks", lambda batch, split=None: 2)
    arrays, _, _, _ = _problem(rng, "float32", b=16, t=40, f=8, u=32)
    jit.set_enabled(True)
    with ember.no_grad():
        ref = ember.lstm(*arrays)[0].numpy()
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                with ember.no_grad():
                    results.append(ember.lstm(*arrays)[0].numpy())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(results) == 20
    for res in results:
        np.testing.assert_array_equal(res, ref)


def test_lstm_row_blocks_follow_the_thread_policy(monkeypatch):
    """The parts follow ``workers.split_parts()`` (1 outside a thread-policy scope), at least MIN_CHUNK_ROWS rows
    each; SPLIT_BATCH / SPLIT_INFERENCE, when set, override the count."""
    from ember.backend import workers

    assert recurrent.SPLIT_BATCH is None and recurrent.SPLIT_INFERENCE is None, "the policy decides by default"
    rows = recurrent.MIN_CHUNK_ROWS
    with workers.forced_parts(1):
        assert recurrent._row_blocks(100 * rows) == 1
    with workers.forced_parts(4):
        assert recurrent._row_blocks(rows) == 1
        assert recurrent._row_blocks(2 * rows) == 2
        assert recurrent._row_blocks(100 * rows) == 4
        assert recurrent._row_blocks(100 * rows, 1) == 1
    with workers.forced_parts(1):
        assert recurrent._row_blocks(100 * rows, 3) == 3


@needs_sequence_kernels
@pytest.mark.host_only("checks a numba CPU kernel, which runs only on NumPy arrays")
def test_lstm_training_parts_follow_split_parts(rng, monkeypatch):
    """Under ``forced_parts(2)`` a training call runs the forward and the backward through time in two parts of
    rows (small products: the whole batch's input projection); the bits of the unsplit call."""
    from ember.backend import workers

    fwd, bwd = _spy(monkeypatch, "lstm_forward_rows"), _spy(monkeypatch, "lstm_backward_rows")
    arrays, _, _, weights = _problem(rng, "float32", b=16, t=5, f=3, u=4)
    jit.set_enabled(True)
    ref = _run(arrays, None, None, weights, {}, forward_jit=True, backward_jit=True)
    assert len(fwd) == len(bwd) == 1
    with workers.forced_parts(2):
        res = _run(arrays, None, None, weights, {}, forward_jit=True, backward_jit=True)
    assert sorted((c[0], c[1], c[3]) for c in fwd[1:]) == [(0, 8, 0), (8, 16, 0)]
    assert sorted((c[0], c[1]) for c in bwd[1:]) == [(0, 8), (8, 16)]
    for a, r in zip(res[0] + res[1], ref[0] + ref[1]):
        np.testing.assert_array_equal(a, r)


@needs_sequence_kernels
@pytest.mark.host_only("checks the BLAS bound for the numba kernels")
def test_split_rows_leaves_the_callers_blas_threads_as_they_were(rng, monkeypatch):
    """Each block's products run on one thread (BLAS held at one thread while the blocks run), put back after:
    NumPy outside sees its own count."""
    seen = []
    monkeypatch.setattr(recurrent, "_row_blocks", lambda batch, split=None: 2)
    before = recurrent_blas.blas_threads()
    real = recurrent_kernels.lstm_forward_rows.compiled()

    class Spy:
        def compiled(self):
            return lambda lo, hi, *args: seen.append(recurrent_blas.blas_threads()) or real(lo, hi, *args)

    monkeypatch.setattr(recurrent_kernels, "lstm_forward_rows", Spy())
    arrays, _, _, _ = _problem(rng, "float32", b=16)
    jit.set_enabled(True)
    with ember.no_grad():
        ember.lstm(*arrays)
    assert seen == [1, 1]
    assert recurrent_blas.blas_threads() == before


# --------------------------------------------------------------------------- GRU (reset_after=True)
def _gru_problem(rng, dtype, b=4, t=6, f=3, u=5):
    (x, h0, _, _, _, _), mask, rdm, weights = _problem(rng, dtype, b, t, f, u)
    k, rk = rng.standard_normal((f, 3 * u)) * 0.6, rng.standard_normal((u, 3 * u)) * 0.6
    bias = rng.standard_normal((2, 3 * u)) * 0.5
    return [x, h0] + [a.astype(dtype) for a in (k, rk, bias)], mask, rdm, weights[:2]


def _gru_run(arrays, mask, rdm, weights, kw, forward_jit, backward_jit):
    dtype = arrays[0].dtype
    tensors = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    rdm_t = None if rdm is None else ember.tensor(rdm, dtype=dtype, requires_grad=True)
    jit.set_enabled(forward_jit)
    outs = ember.gru(*tensors, mask=mask, recurrent_dropout_mask=rdm_t, **kw)
    jit.set_enabled(backward_jit)
    sum((o * ember.tensor(w, dtype=dtype)).sum() for o, w in zip(outs, weights)).backward()
    grads = [t.grad.numpy() for t in tensors] + ([] if rdm_t is None else [rdm_t.grad.numpy()])
    return [o.numpy() for o in outs], grads


@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gru_backward_kernel_gives_the_numpy_bits(masked, go_backwards, zero_output_for_mask, rdm, dtype, rng):
    arrays, mask, rdm_arr, weights = _gru_problem(rng, dtype)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    mask, rdm_arr = (mask if masked else None), (rdm_arr if rdm else None)
    ref_out, ref_grads = _gru_run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=False)
    out, grads = _gru_run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=True)
    for a, b in zip(out, ref_out):
        np.testing.assert_array_equal(a, b)
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_array_equal(a, b, err_msg=f"gradient {i}")


@pytest.mark.parametrize("masked,go_backwards,zero_output_for_mask,rdm", CASES)
@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-6), ("float64", 1e-13)])
def test_gru_fused_forward_and_backward_match_numpy(masked, go_backwards, zero_output_for_mask, rdm, dtype, rtol, rng):
    arrays, mask, rdm_arr, weights = _gru_problem(rng, dtype)
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
    mask, rdm_arr = (mask if masked else None), (rdm_arr if rdm else None)
    ref_out, ref_grads = _gru_run(arrays, mask, rdm_arr, weights, kw, forward_jit=False, backward_jit=False)
    out, grads = _gru_run(arrays, mask, rdm_arr, weights, kw, forward_jit=True, backward_jit=True)
    for a, b in zip(out, ref_out):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    for i, (a, b) in enumerate(zip(grads, ref_grads)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(), err_msg=f"gradient {i}")


def test_gru_kernels_run_only_for_reset_after_and_the_default_activations(rng, monkeypatch):
    calls = _spy(monkeypatch, "gru_step")
    arrays, _, _, _ = _gru_problem(rng, "float32")
    jit.set_enabled(True)
    ember.gru(*[ember.tensor(a, requires_grad=True) for a in arrays])
    with ember.no_grad():
        ember.gru(*arrays)
    assert len(calls) == 2 * arrays[0].shape[1], "reset_after=True, tanh/sigmoid: the fused kernel, graph or not"
    calls.clear()
    x, h0, k, rk, bias = arrays
    ember.gru(x, h0, k, rk, bias[0] + bias[1], reset_after=False)
    ember.gru(*arrays, activation="relu")
    jit.set_enabled(False)
    ember.gru(*arrays)
    assert not calls, "reset_after=False, other activations and EMBER_JIT=0 take the NumPy path"


@pytest.mark.host_only("NumPy's OpenBLAS bound into numba kernels")
def test_a_first_bind_while_numba_is_off_does_not_stick(monkeypatch):
    """bind() asked while the kernels are switched off says no, and binds once they are back on (no test order
    decides which LSTM path a process runs)."""
    if not jit.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(recurrent_blas, "_state", None)
    previous = jit.set_enabled(False)
    try:
        assert recurrent_blas.bind() is False
        assert recurrent_blas._state is None
    finally:
        jit.set_enabled(previous)
    assert recurrent_blas.bind() is bool(recurrent_blas._state)
    assert recurrent_blas._state is not None
