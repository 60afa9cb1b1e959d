"""Dense products in row parts (ember/ops/split_matmul.py): the same bits as the one-thread product of the whole."""

import numpy as np
import pytest

import ember as keras
from ember.backend import workers
from ember.ops import split_matmul

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl holds BLAS at one thread for the reference")


@pytest.fixture(autouse=True)
def one_part_outside():
    previous = workers.set_split_parts(1)
    yield
    workers.set_split_parts(previous)


@pytest.fixture
def counted(monkeypatch):
    """The part lists handed to run_parts."""
    calls = []
    real = workers.run_parts

    def spy(run, parts):
        calls.append(list(parts))
        return real(run, parts)

    monkeypatch.setattr(workers, "run_parts", spy)
    return calls


@pytest.mark.parametrize(
    "rows, parts, align", [(128, 2, 16), (784, 2, 48), (1000, 3, 24), (500, 4, 16), (97, 2, 48), (128, 8, 16)]
)
def test_row_cuts_fall_on_the_alignment_cover_the_rows_and_balance(rows, parts, align):
    cuts = split_matmul.row_cuts(rows, 512, 512, parts, align)
    assert cuts[0][0] == 0 and cuts[-1][1] == rows
    assert all(hi == lo2 for (_, hi), (lo2, _) in zip(cuts[:-1], cuts[1:]))
    assert all(lo % align == 0 for lo, _ in cuts)
    if rows >= parts * max(align, split_matmul.MIN_PART_ROWS):
        assert len(cuts) == parts
        assert max(hi - lo for lo, hi in cuts) <= rows / parts + align
    else:
        assert len(cuts) < parts


def test_no_part_is_smaller_than_the_least_work():
    least = split_matmul.MIN_PART_MACS
    rows = 2 * least // (64 * 64)  # two parts' worth in all, of 64 x 64 per row
    assert split_matmul.row_cuts(rows - 16, 64, 64, 2, 16) == [(0, rows - 16)]
    cuts = split_matmul.row_cuts(2 * rows, 64, 64, 4, 16)  # four parts' worth: four parts
    assert len(cuts) == 4 and all((hi - lo) * 64 * 64 >= least for lo, hi in cuts)
    cuts = split_matmul.row_cuts(rows, 64, 64, 4, 16)  # two parts' worth: two parts, not four
    assert len(cuts) == 2 and all((hi - lo) * 64 * 64 >= least for lo, hi in cuts)


SHAPES = [(128, 784, 512), (784, 128, 512), (128, 512, 784), (300, 700, 200), (1000, 64, 257)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("parts", [2, 3])
def test_parts_give_the_bits_of_the_one_thread_product(m, k, n, dtype, parts, counted):
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    bt = rng.standard_normal((n, k)).astype(dtype)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        for left, right in [(a, bt.T), (a.T.copy().T, bt.T.copy())]:  # transposed and plain operands
            whole = left @ right
            with workers.forced_parts(parts):
                got = split_matmul.matmul(left, right)
            assert got.dtype == whole.dtype and got.shape == whole.shape
            np.testing.assert_array_equal(got, whole)
    assert len(counted) == 2 and all(len(cuts) >= 2 for cuts in counted)  # it did split


def test_small_odd_and_foreign_products_are_left_whole(counted):
    rng = np.random.default_rng(0)
    with workers.forced_parts(2):
        small = rng.standard_normal((64, 32)), rng.standard_normal((32, 16))
        np.testing.assert_array_equal(split_matmul.matmul(*small), small[0] @ small[1])
        ints = np.ones((512, 512), np.int64), np.ones((512, 512), np.int64)
        assert split_matmul.matmul(*ints).dtype == np.int64
        mixed = rng.standard_normal((512, 512)).astype(np.float32), rng.standard_normal((512, 512))
        assert split_matmul.matmul(*mixed).dtype == np.float64
        column = rng.standard_normal((4096, 512)), rng.standard_normal((512, 1))
        np.testing.assert_array_equal(split_matmul.matmul(*column), column[0] @ column[1])
    assert counted == []


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64"])
def test_products_too_small_to_split_are_a_at_b_bit_for_bit(dtype, counted):
    """Matmul takes ``a.dot(b)`` for a 2-D product under LEAST_SPLIT (forward, its lean form, both gradients):
    the BLAS call of ``a @ b``, so its bits, for plain, transposed and strided operands."""
    from ember.ops.arithmetic import Matmul, _lean_matmul

    rng = np.random.default_rng(1)
    lean = Matmul.lean(np, {})
    for m, k, n in [(8, 4, 8), (8, 6, 1), (1, 9, 4), (128, 64, 10), (33, 100, 47), (3, 1, 7), (40, 30, 1)]:
        wide = (rng.standard_normal((m, 2 * k)) * 4).astype(dtype)
        for a in (wide[:, :k].copy(), wide[:, :k], wide[:, ::2], np.asfortranarray(wide[:, :k]), wide[::-1, :k]):
            tall = (rng.standard_normal((k, 2 * n)) * 4).astype(dtype)
            b = tall[:, ::2] if m == 1 else tall[:, :n].copy()  # (a row times strided columns: the other case)
            assert a.size * n < split_matmul.LEAST_SPLIT
            np.testing.assert_array_equal(Matmul().forward(a, b), a @ b)
            np.testing.assert_array_equal(lean(a, b), a @ b)
            assert lean is _lean_matmul
            if dtype == "int64":
                continue
            g = (rng.standard_normal((m, n)) * 4).astype(dtype)
            ta, tb = (keras.tensor(v, dtype=dtype, requires_grad=True) for v in (a, b))
            a2, b2 = ta.numpy(), tb.numpy()  # (what the op gets: the tensor may hold a contiguous copy)
            y = keras.matmul(ta, tb)
            np.testing.assert_array_equal(y.numpy(), a2 @ b2)
            y.backward(keras.tensor(g, dtype=dtype))
            np.testing.assert_array_equal(ta.grad.numpy(), g @ b2.T)
            np.testing.assert_array_equal(tb.grad.numpy(), a2.T @ g)
    assert counted == []


def test_outside_a_split_it_is_the_plain_product(counted):
    a = np.ones((512, 512), np.float32)
    assert split_matmul.matmul(a, a).shape == (512, 512)
    assert counted == []


_HOST = "the split runs on NumPy host arrays only (other devices' products are left whole)"


def _mlp(seed=3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((300,)), keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    return model


@pytest.mark.host_only(_HOST)
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_a_dense_models_fit_and_predict_with_split_products_match_the_one_thread_run_bit_for_bit(run_eagerly, counted):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 300)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    results = []
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        for parts in (1, 2):
            model = _mlp()
            model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", run_eagerly=run_eagerly)
            with workers.forced_parts(parts):
                history = model.fit(x, y, batch_size=128, epochs=2, verbose=0, shuffle=False)
                predicted = model.predict(x, batch_size=128, verbose=0)
            results.append((history.history["loss"], predicted, model.get_weights()))
    assert counted, "the products were not split"
    (loss1, pred1, weights1), (loss2, pred2, weights2) = results
    assert loss1 == loss2
    np.testing.assert_array_equal(pred1, pred2)
    for w1, w2 in zip(weights1, weights2):
        np.testing.assert_array_equal(w1, w2)


@pytest.mark.host_only(_HOST)
def test_matmul_gradients_with_split_products_equal_the_unsplit_ones(counted):
    from ember.engine.tensor import tensor

    rng = np.random.default_rng(2)
    a0 = rng.standard_normal((256, 384)).astype(np.float32)
    b0 = rng.standard_normal((384, 192)).astype(np.float32)
    grads = []
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        for parts in (1, 2):
            with workers.forced_parts(parts):
                ta, tb = tensor(a0, requires_grad=True), tensor(b0, requires_grad=True)
                out = keras.ops.matmul(ta, tb)
                (out * out).sum().backward()
            grads.append((out.numpy(), ta.grad.numpy(), tb.grad.numpy()))
    assert len(counted) == 3  # the forward and both backward products were split
    for first, second in zip(*grads):
        np.testing.assert_array_equal(first, second)


def test_fewer_rows_than_columns_cut_the_columns_where_that_keeps_the_bits(counted):
    if not split_matmul.column_alignment(np.float32):
        pytest.skip("this BLAS's kernels keep the bits only for row cuts (columns: float32 on SkylakeX's kernels)")
    rng = np.random.default_rng(5)
    a = rng.standard_normal((128, 784)).astype(np.float32)  # W1's first product
    b = rng.standard_normal((784, 512)).astype(np.float32)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        whole = a @ b
        with workers.forced_parts(2):
            got = split_matmul.matmul(a, b)
    np.testing.assert_array_equal(got, whole)
    assert got.flags.c_contiguous
    assert counted == [[(0, 256), (256, 512)]]  # runs of the 512 columns, not of the 128 rows
    assert split_matmul.column_alignment(np.float64) == 0  # float64: rows only
