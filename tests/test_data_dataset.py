"""ember.data.Dataset: from_tensor_slices / from_generator and every transformation, vs plain NumPy."""

import gc
import threading

import numpy as np
import pytest

import ember
from ember.data import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset, TensorSpec, unpack_x_y_sample_weight


def _xy(n=10, d=3):
    x = np.arange(n * d, dtype=np.float64).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return x, y


def test_from_tensor_slices_elements_and_dtypes():
    x, y = _xy()
    elements = list(Dataset.from_tensor_slices((x, y)))
    assert len(elements) == 10
    for i, (xi, yi) in enumerate(elements):
        np.testing.assert_array_equal(xi, x[i])
        assert xi.dtype == np.float32  # float64 becomes floatx
        assert yi == y[i] and yi.dtype == np.int64  # integer labels stay integer


def test_from_tensor_slices_dict_and_single_array():
    x, y = _xy()
    (e0,) = list(Dataset.from_tensor_slices({"a": x, "b": y}).take(1))
    assert set(e0) == {"a", "b"}
    np.testing.assert_array_equal(e0["a"], x[0])
    batches = list(Dataset.from_tensor_slices({"a": x, "b": y}).batch(4))
    assert [b["a"].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert [b.tolist() for b in Dataset.from_tensor_slices(y).batch(5)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_batch_in_order_is_plain_slicing_and_contiguous():
    x, y = _xy(11)
    batches = list(Dataset.from_tensor_slices((x, y)).batch(4))
    assert len(batches) == 3
    for k, (xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(xb, x[4 * k : 4 * k + 4].astype(np.float32))
        np.testing.assert_array_equal(yb, y[4 * k : 4 * k + 4])
        assert xb.flags.c_contiguous and xb.dtype == np.float32
    assert [b[0].shape[0] for b in Dataset.from_tensor_slices((x, y)).batch(4, drop_remainder=True)] == [4, 4]


def test_batches_are_read_only_views_of_the_source():
    x = np.zeros((6, 2), np.float32)
    (xb,) = list(Dataset.from_tensor_slices(x).batch(6))
    with pytest.raises(ValueError):
        xb[0, 0] = 1.0
    assert x.flags.writeable  # the caller's array is untouched


def test_shuffle_batch_is_a_permutation_and_seeded():
    x, y = _xy(50)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(50, seed=3).batch(8)
    epoch1 = np.concatenate([b[1] for b in ds])
    epoch2 = np.concatenate([b[1] for b in ds])
    assert sorted(epoch1) == list(range(50)) and sorted(epoch2) == list(range(50))
    assert not np.array_equal(epoch1, epoch2)  # reshuffled each epoch
    for xb, yb in ds:  # features stay paired with their labels
        np.testing.assert_array_equal(xb, x[yb].astype(np.float32))
        assert xb.flags.c_contiguous
    again = Dataset.from_tensor_slices((x, y)).shuffle(50, seed=3).batch(8)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in again]), epoch1)  # same seed, same epochs
    fixed = Dataset.from_tensor_slices(y).shuffle(50, seed=3, reshuffle_each_iteration=False)
    assert list(fixed) == list(fixed)


def test_shuffle_fast_path_gathers_once_per_array_per_batch(monkeypatch):
    x, y = _xy(40)
    calls = []
    real_take = np.take

    def counting_take(a, idx, axis=None):
        calls.append(len(idx))
        return real_take(a, idx, axis=axis)

    ds = Dataset.from_tensor_slices((x, y)).shuffle(100, seed=0).batch(16)
    monkeypatch.setattr(np, "take", counting_take)
    batches = list(ds)
    assert len(batches) == 3
    assert calls == [16, 16, 16, 16, 8, 8]  # one gather per array per batch, nothing per sample


def test_streaming_shuffle_buffer_is_a_permutation():
    y = np.arange(100)
    ds = Dataset.from_generator(lambda: iter(y)).shuffle(10, seed=0)
    out = [int(v) for v in ds]
    assert sorted(out) == list(range(100)) and out != list(range(100))
    assert max(abs(i - v) for i, v in enumerate(out)) < 100  # buffer of 10: local moves, yet every element out
    chunked = Dataset.from_tensor_slices(y).repeat(2).shuffle(10, seed=0)  # chunked stream, not in-memory
    out = [int(v) for v in chunked]
    assert sorted(out) == sorted(list(range(100)) * 2)


def test_map_filter_per_element_and_per_batch():
    x, y = _xy(10)
    ds = Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a * 2, b + 1)).batch(4)
    xb, yb = next(iter(ds))
    np.testing.assert_array_equal(xb, 2 * x[:4]) and np.testing.assert_array_equal(yb, y[:4] + 1)
    ds = Dataset.from_tensor_slices((x, y)).filter(lambda a, b: b % 3 == 0).batch(2)
    assert [b[1].tolist() for b in ds] == [[0, 3], [6, 9]]
    seen = []
    ds = Dataset.from_tensor_slices((x, y)).batch(4).map(lambda a, b: seen.append(len(b)) or (a, b))
    list(ds)
    assert seen == [4, 4, 2]  # after batch: once per batch
    assert [len(b[1]) for b in Dataset.from_tensor_slices((x, y)).batch(4).filter(lambda a, b: len(b) == 4)] == [4, 4]


def test_take_repeat_cache_cardinality():
    x, y = _xy(10)
    ds = Dataset.from_tensor_slices((x, y))
    assert ds.cardinality() == 10 and len(ds) == 10
    assert len(ds.batch(3)) == 4 and len(ds.batch(3, drop_remainder=True)) == 3
    assert [int(b) for _, b in ds.take(3)] == [0, 1, 2]
    assert len(ds.take(3)) == 3 and len(ds.take(30)) == 10 and len(ds.take(-1)) == 10
    assert [b.tolist() for _, b in ds.take(3).repeat(2).batch(4)] == [[0, 1, 2, 0], [1, 2]]
    assert ds.repeat().cardinality() == INFINITE_CARDINALITY and len(ds.repeat().take(25)) == 25
    assert [len(b) for _, b in ds.repeat().batch(4).take(5)] == [4] * 5
    assert ds.filter(lambda a, b: True).cardinality() == UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(ds.filter(lambda a, b: True))
    assert list(Dataset.from_tensor_slices(np.zeros((0, 2))).repeat()) == []  # an empty dataset repeated is empty
    assert list(ds.take(0)) == []


def test_cache_replays_and_is_indexed_after_first_pass():
    calls = []

    def gen():
        calls.append(1)
        yield from (np.float64(i) for i in range(6))

    ds = Dataset.from_generator(gen).cache()
    assert [float(v) for v in ds] == [float(i) for i in range(6)]
    assert [float(v) for v in ds] == [float(i) for i in range(6)]
    assert len(calls) == 1 and len(ds) == 6
    src = Dataset.from_tensor_slices(np.arange(12)).filter(lambda v: v % 2 == 0).cache()
    list(src.take(2))  # an early stop caches nothing
    assert src.cardinality() == UNKNOWN_CARDINALITY
    list(src)
    assert len(src) == 6
    assert src._indexed() is not None  # a cached stream shuffles and batches like in-memory arrays
    out = np.concatenate(list(src.shuffle(6, seed=0).batch(4)))
    assert sorted(out.tolist()) == [0, 2, 4, 6, 8, 10]


def test_from_generator_signature_and_batching():
    def gen():
        for i in range(5):
            yield np.full(3, i, dtype=np.float64), i

    ds = Dataset.from_generator(gen, output_signature=(TensorSpec((3,), "float32"), TensorSpec((), "int32")))
    xb, yb = next(iter(ds.batch(5)))
    assert xb.shape == (5, 3) and xb.dtype == np.float32 and yb.dtype == np.int32
    xb, _ = next(iter(Dataset.from_generator(gen).batch(2)))
    assert xb.dtype == np.float32  # float64 becomes floatx without a signature too
    bad = Dataset.from_generator(gen, output_signature=(TensorSpec((4,), "float32"), TensorSpec((), "int32")))
    with pytest.raises(ValueError, match=r"element 0: expected shape \(4,\)"):
        list(bad)
    with pytest.raises(TypeError, match="callable"):
        Dataset.from_generator(gen())
    ragged = Dataset.from_generator(lambda: iter([[1, 2], [3]])).batch(2)
    with pytest.raises(ValueError, match=r"different shapes \(2,\) and \(1,\)"):
        list(ragged)


def test_prefetch_order_errors_and_no_leaked_threads():
    x, y = _xy(100)
    base = threading.active_count()
    ds = Dataset.from_tensor_slices((x, y)).batch(7).prefetch(2)
    assert [b[1].tolist() for b in ds] == [b[1].tolist() for b in Dataset.from_tensor_slices((x, y)).batch(7)]
    assert threading.active_count() == base

    def failing():
        yield np.zeros(2)
        raise RuntimeError("broken source")

    with pytest.raises(RuntimeError, match="broken source"):
        list(Dataset.from_generator(failing).prefetch(1))
    it = iter(Dataset.from_tensor_slices((x, y)).repeat().batch(4).prefetch(1))
    next(it)
    next(it)
    it.close()  # an infinite stream abandoned early: the producer stops
    for _ in Dataset.from_tensor_slices((x, y)).repeat().prefetch(3):
        break
    gc.collect()
    assert threading.active_count() == base
    closed = []

    def tracked():
        try:
            yield from (np.zeros(1) for _ in range(1000))
        finally:
            closed.append(True)

    it = iter(Dataset.from_generator(tracked).prefetch(2))
    next(it)
    it.close()
    assert closed == [True]  # the source is closed when the consumer stops


def test_bad_arguments():
    x, y = _xy()
    with pytest.raises(ValueError, match=r"same first dimension, got \(10, 3\), \(9,\)"):
        Dataset.from_tensor_slices((x, y[:9]))
    with pytest.raises(ValueError, match="scalar"):
        Dataset.from_tensor_slices(np.float32(1))
    ds = Dataset.from_tensor_slices(y)
    with pytest.raises(ValueError, match="batch_size"):
        ds.batch(0)
    with pytest.raises(ValueError, match="buffer_size"):
        ds.shuffle(0)
    with pytest.raises(ValueError, match="prefetch"):
        ds.prefetch(0)
    with pytest.raises(TypeError, match="callable"):
        ds.map(3)


def test_unpack_x_y_sample_weight():
    assert unpack_x_y_sample_weight("x") == ("x", None, None)
    assert unpack_x_y_sample_weight(("x",)) == ("x", None, None)
    assert unpack_x_y_sample_weight(("x", "y")) == ("x", "y", None)
    assert unpack_x_y_sample_weight(["x", "y", "w"]) == ("x", "y", "w")
    with pytest.raises(ValueError):
        unpack_x_y_sample_weight((1, 2, 3, 4))


def test_import_without_extras(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pandas'] = None; sys.modules['sqlalchemy'] = None\n"
        "import ember, ember.data, ember.preprocessing\n"
        "try:\n    ember.data.Dataset.from_csv('x.csv')\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'ember[data]'" in out


def test_unseeded_shuffle_follows_set_random_seed():
    """shuffle(seed=None) after keras.utils.set_random_seed(s) gives the same epochs in two runs, as Keras's does."""
    y = np.arange(40)

    def two_epochs():
        ember.utils.set_random_seed(5)
        ds = Dataset.from_tensor_slices(y).shuffle(40)
        return [np.array(list(ds)) for _ in range(2)]

    first, second = two_epochs(), two_epochs()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])  # still a new order each epoch
    ember.utils.set_random_seed(6)
    assert not np.array_equal(np.array(list(Dataset.from_tensor_slices(y).shuffle(40))), first[0])


def test_shard_splits_a_dataset_into_disjoint_parts_as_tf_data_does():
    y = np.arange(23)
    for source in (
        Dataset.from_tensor_slices(y),  # in memory
        Dataset.from_generator(lambda: iter(y)),  # a stream of elements
        Dataset.from_tensor_slices(y).repeat(1),  # a chunked stream
    ):
        parts = [np.array([int(v) for v in source.shard(3, k)]) for k in range(3)]
        for k, part in enumerate(parts):
            np.testing.assert_array_equal(part, y[k::3])
    assert Dataset.from_tensor_slices(y).shard(3, 2).cardinality() == 7
    batches = list(Dataset.from_tensor_slices((y, y * 2)).shard(2, 1).batch(4))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), y[1::2])
    with pytest.raises(ValueError, match="0 <= index < num_shards"):
        Dataset.from_tensor_slices(y).shard(2, 2)
    with pytest.raises(TypeError, match="num_shards must be an integer"):
        Dataset.from_tensor_slices(y).shard(2.0, 0)
