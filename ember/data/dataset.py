"""``Dataset``: an input pipeline in the spirit of ``tf.data`` that yields NumPy arrays.

A pipeline is a chain of datasets, each wrapping the one before it::

    ds = Dataset.from_tensor_slices((x, y)).shuffle(60000, seed=1).batch(128).prefetch(2)
    for x_batch, y_batch in ds:          # one epoch; iterate again for the next (reshuffled)
        ...

How it stays fast. Inside the pipeline, datasets that have not been batched pass *chunks* around: one NumPy
array per component holding many consecutive elements (an in-memory array, a CSV or SQL chunk). ``batch`` cuts
batches out of chunks with slices, and after ``shuffle`` on in-memory arrays it gathers each batch with one
``numpy.take`` per array from a permutation of indices: no per-sample Python work. ``map`` and ``filter`` before
``batch`` call your function once per element (that is what they mean); put them after ``batch`` to run them
once per batch.

What a trainer (``Model.fit``/``evaluate``/``predict``) can rely on, for a batched dataset:

- ``iter(ds)`` starts one epoch; every new ``iter`` starts a new one (``shuffle`` reshuffles by default).
  An epoch may be abandoned at any point: closing the iterator (or dropping it) stops background threads and
  closes files and database connections.
- Each batch is ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, where ``x`` is an array, or a tuple or
  dict of arrays (:func:`ember.data.unpack_x_y_sample_weight` splits it). Every array is a C-contiguous NumPy
  array whose first axis is the batch (the last batch may be smaller unless ``drop_remainder=True``). Float
  data are Ember's floatx (float32) unless a ``map`` you wrote says otherwise; integer labels stay integer.
- Batches may be read-only views of the source arrays: copy before writing to them in place.
- ``cardinality()`` is the number of batches per epoch when known, ``INFINITE_CARDINALITY`` (-1) after
  ``repeat()``, ``UNKNOWN_CARDINALITY`` (-2) for streams (CSV, SQL, generators, ``filter``); a trainer then
  counts steps as it goes or needs ``steps_per_epoch``.
"""

from __future__ import annotations

import queue
import threading
from contextlib import closing

import numpy as np

from .structure import flatten, unflatten

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2

_GATHER_ROWS = 16384  # rows gathered per chunk when a shuffled in-memory dataset feeds something other than batch


def _call(fn, element):
    """Call a user function the way tf.data does: a tuple element is unpacked into positional arguments."""
    return fn(*element) if isinstance(element, tuple) else fn(element)


def _rows(leaves):
    return len(leaves[0])


class Dataset:
    """An iterable pipeline of elements (NumPy arrays, or tuples/dicts of them). Build one with a ``from_*``
    constructor and chain transformations; each returns a new ``Dataset`` and leaves this one unchanged.

    Subclasses implement ``_iter()`` and set ``_chunked``: when true the dataset is unbatched and ``_iter``
    yields *chunks* (a list of arrays, one per component of ``_spec``, with a common first axis of consecutive
    elements); otherwise ``_iter`` yields elements as they are. ``_indexed()`` returns ``(arrays, order)`` for
    datasets that are in-memory arrays read in the order ``order`` (``None``: in order), else ``None``.
    """

    _chunked = False
    _spec = None

    # ----------------------------------------------------------------- constructors
    @staticmethod
    def from_tensor_slices(tensors):
        """A dataset whose elements are the slices of ``tensors`` along their first axis.

        Args:
            tensors: an array (or anything ``numpy.asarray`` takes, Ember tensors included), or a tuple, list or
                dict of them, all with the same first dimension. float64 arrays become floatx (float32); other
                dtypes are kept. The arrays are held in memory (C-contiguous, read-only views).

        Example: ``Dataset.from_tensor_slices((x_train, y_train))`` yields ``(x_train[i], y_train[i])``.
        """
        from .sources.slices import TensorSlicesDataset

        return TensorSlicesDataset(tensors)

    @staticmethod
    def from_generator(generator, output_signature=None):
        """A dataset whose elements come from ``generator()``, called anew for each epoch.

        Args:
            generator: a callable returning an iterator (a generator function, or a lambda returning one).
            output_signature: optional structure of :class:`ember.data.TensorSpec` matching each element;
                elements are then converted to its dtypes and their shapes checked (``None`` = any size).
                Without it, elements are converted with ``numpy.asarray`` and float64 becomes floatx.
        """
        from .sources.generator import GeneratorDataset

        return GeneratorDataset(generator, output_signature)

    @staticmethod
    def from_csv(path, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000, sep=","):
        """A dataset streamed from a CSV file with a header line, read with pandas in chunks.

        Elements are ``features`` (a 1-D array of the feature columns in ``columns`` order) or, with ``label``,
        ``(features, label)``. See :class:`ember.data.sources.csv.CSVDataset`. Needs ``pip install 'ember[data]'``.
        """
        from .sources.csv import CSVDataset

        return CSVDataset(path, label=label, columns=columns, dtype=dtype, label_dtype=label_dtype,
                          chunksize=chunksize, sep=sep)  # fmt: skip

    @staticmethod
    def from_sql(url, query, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000):
        """A dataset streamed from a SQL query through SQLAlchemy, fetched in chunks.

        ``url`` is a SQLAlchemy URL (``"sqlite:///data.db"``, ``"postgresql://..."``), a plain file path (an
        SQLite database, the embedded default) or a SQLAlchemy ``Engine``. Elements are as in :meth:`from_csv`.
        See :class:`ember.data.sources.sql.SQLDataset`. Needs ``pip install 'ember[data]'``.
        """
        from .sources.sql import SQLDataset

        return SQLDataset(url, query, label=label, columns=columns, dtype=dtype, label_dtype=label_dtype,
                          chunksize=chunksize)  # fmt: skip

    # ----------------------------------------------------------------- transformations
    def map(self, map_func):
        """Apply ``map_func`` to each element (tuple elements are unpacked into arguments). After ``batch``
        an element is a batch, so the function runs once per batch on whole arrays."""
        return _MapDataset(self, map_func)

    def filter(self, predicate):
        """Keep the elements for which ``predicate`` is true (tuple elements are unpacked into arguments)."""
        return _FilterDataset(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True):
        """Shuffle elements with a buffer of ``buffer_size`` elements.

        Streams (CSV, SQL, generators) keep a buffer of ``buffer_size`` elements and emit from it at random.
        In-memory arrays (``from_tensor_slices``, or after ``cache()``) are already in memory, so they are
        permuted uniformly whatever ``buffer_size`` is (what a buffer at least as large as the data gives),
        by permuting indices. ``seed`` makes the sequence of epochs reproducible; with
        ``reshuffle_each_iteration`` each epoch has a different order.
        """
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False):
        """Stack consecutive elements into batches of ``batch_size`` (the last one smaller unless
        ``drop_remainder``). Elements of different shapes cannot be batched (pad them first)."""
        return _BatchDataset(self, batch_size, drop_remainder)

    def prefetch(self, buffer_size=AUTOTUNE):
        """Produce up to ``buffer_size`` elements ahead in a background thread (``AUTOTUNE``: 2). An exception
        raised there is re-raised in the consumer; stopping iteration early stops the thread."""
        return _PrefetchDataset(self, buffer_size)

    def repeat(self, count=None):
        """Repeat the dataset ``count`` times (``None`` or -1: forever). Each pass is a new epoch of the
        datasets before it (a new shuffle order)."""
        return _RepeatDataset(self, count)

    def take(self, count):
        """The first ``count`` elements (-1: all of them)."""
        return _TakeDataset(self, count)

    def shard(self, num_shards, index):
        """Every ``num_shards``-th element, starting at element ``index`` (``tf.data``'s rule): the part one of
        ``num_shards`` workers reads. Shard before shuffling, so the shards stay disjoint."""
        return _ShardDataset(self, num_shards, index)

    def cache(self):
        """Keep the elements in memory after the first complete pass; later passes replay them (and an
        unbatched cached dataset shuffles and batches as fast as in-memory arrays). A pass stopped early
        caches nothing."""
        return _CacheDataset(self)

    # ----------------------------------------------------------------- iteration
    def __iter__(self):
        if not self._chunked:
            yield from self._iter()
            return
        spec = self._spec
        with closing(self._iter()) as it:
            for leaves in it:
                for i in range(_rows(leaves)):
                    yield unflatten(spec, [a[i] for a in leaves])

    def as_numpy_iterator(self):
        """An iterator over the elements as NumPy arrays (they already are; for tf.data compatibility)."""
        return iter(self)

    def cardinality(self):
        """The number of elements (batches, after ``batch``) when known; ``INFINITE_CARDINALITY`` (-1) or
        ``UNKNOWN_CARDINALITY`` (-2) otherwise."""
        return self._cardinality()

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite (it repeats forever); len() is undefined.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown (a stream or a filter); use cardinality().")
        return n

    def __bool__(self):
        return True

    def __repr__(self):
        n = self._cardinality()
        size = {INFINITE_CARDINALITY: "infinite", UNKNOWN_CARDINALITY: "unknown"}.get(n, str(n))
        return f"<{type(self).__name__.lstrip('_')} cardinality={size}>"

    # ----------------------------------------------------------------- subclass interface
    def _iter(self):
        raise NotImplementedError

    def _indexed(self):
        return None

    def _cardinality(self):
        return UNKNOWN_CARDINALITY


class _UnaryDataset(Dataset):
    def __init__(self, upstream):
        if not isinstance(upstream, Dataset):
            raise TypeError(f"expected a Dataset, got {type(upstream).__name__}")
        self._up = upstream
        self._chunked = upstream._chunked
        self._spec = upstream._spec

    def _cardinality(self):
        return self._up._cardinality()


class _MapDataset(_UnaryDataset):
    def __init__(self, upstream, fn):
        super().__init__(upstream)
        if not callable(fn):
            raise TypeError(f"map: map_func must be callable, got {type(fn).__name__}")
        self._fn = fn
        self._chunked = False

    def _iter(self):
        fn, spec = self._fn, self._up._spec
        with closing(self._up._iter()) as it:
            if self._up._chunked:
                for leaves in it:
                    for i in range(_rows(leaves)):
                        yield _call(fn, unflatten(spec, [a[i] for a in leaves]))
            else:
                for element in it:
                    yield _call(fn, element)


class _FilterDataset(_UnaryDataset):
    def __init__(self, upstream, predicate):
        super().__init__(upstream)
        if not callable(predicate):
            raise TypeError(f"filter: predicate must be callable, got {type(predicate).__name__}")
        self._pred = predicate

    def _cardinality(self):
        return INFINITE_CARDINALITY if self._up._cardinality() == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _iter(self):
        pred, spec = self._pred, self._spec
        with closing(self._up._iter()) as it:
            if self._chunked:  # one boolean mask per chunk, so batching downstream stays vectorised
                for leaves in it:
                    n = _rows(leaves)
                    rows = (unflatten(spec, [a[i] for a in leaves]) for i in range(n))
                    keep = np.fromiter((bool(_call(pred, r)) for r in rows), dtype=bool, count=n)
                    if keep.all():
                        yield leaves
                    elif keep.any():
                        yield [a[keep] for a in leaves]
            else:
                for element in it:
                    if bool(_call(pred, element)):
                        yield element


class _ShuffleDataset(_UnaryDataset):
    def __init__(self, upstream, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(upstream)
        buffer_size = int(buffer_size)
        if buffer_size < 1:
            raise ValueError(f"shuffle: buffer_size must be at least 1, got {buffer_size}")
        self._buffer = buffer_size
        self._seed = seed
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        # without a seed, the base is drawn from NumPy's global generator when the pipeline is built, so
        # ``set_random_seed`` (which seeds it) makes two runs shuffle alike, as a global seed does in Keras
        self._fixed_entropy = int(np.random.randint(0, 2**63 - 1, dtype=np.int64)) if seed is None else None
        self._epoch = 0

    def _rng(self):
        """A generator for the next epoch: reproducible from ``seed`` (or the global seed), different each
        epoch if reshuffling."""
        base = self._seed if self._seed is not None else self._fixed_entropy
        if self._reshuffle:
            epoch, self._epoch = self._epoch, self._epoch + 1
            return np.random.default_rng([base, epoch])
        return np.random.default_rng([base, 0])

    def _indexed(self):
        up = self._up._indexed()
        if up is None:
            return None
        arrays, order = up
        n = _rows(arrays) if order is None else len(order)
        perm = self._rng().permutation(n)
        return arrays, (perm if order is None else order[perm])

    def _iter(self):
        indexed = self._indexed()
        if indexed is not None:  # in-memory: gather chunks of a permutation
            arrays, order = indexed
            for s in range(0, len(order), _GATHER_ROWS):
                idx = order[s : s + _GATHER_ROWS]
                yield [np.take(a, idx, axis=0) for a in arrays]
            return
        rng = self._rng()
        with closing(self._up._iter()) as it:
            if self._chunked:
                yield from self._shuffle_chunks(it, rng)
            else:
                yield from self._shuffle_items(it, rng)

    def _shuffle_chunks(self, it, rng):
        """A buffer of up to ``buffer_size`` rows; each incoming chunk of k rows lets k random rows of
        (buffer + chunk) out, the others stay. Vectorised: one permutation and one gather per chunk."""
        buf = None
        for leaves in it:
            pool = leaves if buf is None else [np.concatenate([b, a]) for b, a in zip(buf, leaves)]
            n = _rows(pool)
            keep = min(self._buffer, n)
            out = n - keep
            perm = rng.permutation(n)
            if out:
                yield [np.take(a, perm[:out], axis=0) for a in pool]
            buf = [np.take(a, perm[out:], axis=0) for a in pool]
        if buf is not None and _rows(buf):
            perm = rng.permutation(_rows(buf))
            yield [np.take(a, perm, axis=0) for a in buf]

    def _shuffle_items(self, it, rng):
        """tf.data's algorithm: fill a buffer, then emit a random slot and refill it with the next element."""
        buf = []
        for element in it:
            if len(buf) < self._buffer:
                buf.append(element)
                continue
            j = int(rng.integers(len(buf)))
            yield buf[j]
            buf[j] = element
        rng.shuffle(buf)
        yield from buf


class _BatchDataset(_UnaryDataset):
    def __init__(self, upstream, batch_size, drop_remainder):
        super().__init__(upstream)
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch: batch_size must be at least 1, got {batch_size}")
        self._size = batch_size
        self._drop = bool(drop_remainder)
        self._chunked = False
        self._spec = None

    def _cardinality(self):
        n = self._up._cardinality()
        if n < 0:
            return n
        return n // self._size if self._drop else -(-n // self._size)

    def _iter(self):
        up, bs, drop = self._up, self._size, self._drop
        if not up._chunked:
            yield from self._stack_items(up, bs, drop)
            return
        spec = up._spec
        indexed = up._indexed()
        if indexed is not None:  # in-memory fast path: one slice or one take per array per batch
            arrays, order = indexed
            n = _rows(arrays) if order is None else len(order)
            end = n - n % bs if drop else n
            for s in range(0, end, bs):
                if order is None:
                    yield unflatten(spec, [a[s : s + bs] for a in arrays])
                else:
                    idx = order[s : s + bs]
                    yield unflatten(spec, [np.take(a, idx, axis=0) for a in arrays])
            return
        yield from self._rechunk(up, spec, bs, drop)

    @staticmethod
    def _rechunk(up, spec, bs, drop):
        """Cut batches out of a stream of chunks; only the rows straddling two chunks are copied."""
        rest = None
        with closing(up._iter()) as it:
            for leaves in it:
                start = 0
                n = _rows(leaves)
                if rest is not None:
                    need = bs - _rows(rest)
                    if n < need:
                        rest = [np.concatenate([r, a]) for r, a in zip(rest, leaves)]
                        continue
                    yield unflatten(spec, [np.concatenate([r, a[:need]]) for r, a in zip(rest, leaves)])
                    rest, start = None, need
                while n - start >= bs:
                    yield unflatten(spec, [np.ascontiguousarray(a[start : start + bs]) for a in leaves])
                    start += bs
                if start < n:
                    rest = [a[start:] for a in leaves]
        if rest is not None and not drop:
            yield unflatten(spec, [np.ascontiguousarray(r) for r in rest])

    @staticmethod
    def _stack_items(up, bs, drop):
        pending = []
        with closing(up._iter()) as it:
            for element in it:
                pending.append(element)
                if len(pending) == bs:
                    yield _stack(pending)
                    pending = []
        if pending and not drop:
            yield _stack(pending)


def _stack(elements):
    """Stack a list of elements (same structure) into one batch."""
    flat = [flatten(e) for e in elements]
    spec = flat[0][1]
    for leaves, s in flat:
        if s != spec:
            raise ValueError(f"batch: elements have different structures: {elements[0]!r} and {leaves!r}")
    out = []
    for k in range(len(flat[0][0])):
        column = [np.asarray(leaves[k]) for leaves, _ in flat]
        shape = column[0].shape
        for c in column:
            if c.shape != shape:
                raise ValueError(
                    f"batch: cannot batch elements of different shapes {shape} and {c.shape} in component {k}; "
                    "pad them to one length first (ember.preprocessing.sequence.pad_sequences)"
                )
        out.append(np.stack(column))
    return unflatten(spec, out)


class _PrefetchDataset(_UnaryDataset):
    _POLL = 0.05  # seconds between checks of the stop flag while the queue is full

    def __init__(self, upstream, buffer_size):
        super().__init__(upstream)
        buffer_size = int(buffer_size)
        if buffer_size == AUTOTUNE:
            buffer_size = 2
        if buffer_size < 1:
            raise ValueError(f"prefetch: buffer_size must be at least 1 or AUTOTUNE (-1), got {buffer_size}")
        self._buffer = buffer_size

    def _iter(self):
        q = queue.Queue(maxsize=self._buffer)
        stop = threading.Event()

        def put(msg):
            while not stop.is_set():
                try:
                    q.put(msg, timeout=self._POLL)
                    return True
                except queue.Full:
                    continue
            return False

        def produce():
            try:
                with closing(self._up._iter()) as it:
                    for item in it:
                        if not put(("item", item)):
                            return
                put(("done", None))
            except BaseException as e:  # noqa: BLE001 - handed to the consumer, which re-raises it
                put(("error", e))

        thread = threading.Thread(target=produce, name="ember-data-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = q.get()
                if kind == "item":
                    yield value
                elif kind == "done":
                    return
                else:
                    raise value
        finally:
            stop.set()
            thread.join()


class _RepeatDataset(_UnaryDataset):
    def __init__(self, upstream, count):
        super().__init__(upstream)
        count = -1 if count is None else int(count)
        if count < -1:
            raise ValueError(f"repeat: count must be -1 (forever), None or non-negative, got {count}")
        self._count = count

    def _cardinality(self):
        n = self._up._cardinality()
        if n == 0 or self._count == 0:
            return 0
        if self._count == -1:
            return INFINITE_CARDINALITY
        return n if n < 0 else n * self._count

    def _iter(self):
        epoch = 0
        while self._count == -1 or epoch < self._count:
            produced = False
            with closing(self._up._iter()) as it:
                for item in it:
                    produced = produced or not self._chunked or _rows(item) > 0
                    yield item
            if not produced:  # repeating an empty dataset forever would never return
                return
            epoch += 1


class _TakeDataset(_UnaryDataset):
    def __init__(self, upstream, count):
        super().__init__(upstream)
        count = int(count)
        if count < -1:
            raise ValueError(f"take: count must be -1 (all) or non-negative, got {count}")
        self._count = count

    def _cardinality(self):
        n = self._up._cardinality()
        if self._count == -1:
            return n
        if n == INFINITE_CARDINALITY:
            return self._count
        if n == UNKNOWN_CARDINALITY:
            return UNKNOWN_CARDINALITY
        return min(n, self._count)

    def _indexed(self):
        up = self._up._indexed()
        if up is None or self._count == -1:
            return up
        arrays, order = up
        if order is None:
            return [a[: self._count] for a in arrays], None
        return arrays, order[: self._count]

    def _iter(self):
        left = self._count  # -1: all
        if left == 0:
            return
        with closing(self._up._iter()) as it:
            for item in it:
                if self._chunked:
                    n = _rows(item)
                    if left != -1 and n >= left:
                        yield [a[:left] for a in item]
                        return
                    yield item
                    if left != -1:
                        left -= n
                else:
                    yield item
                    if left != -1:
                        left -= 1
                        if left == 0:
                            return


class _ShardDataset(_UnaryDataset):
    def __init__(self, upstream, num_shards, index):
        super().__init__(upstream)
        for name, value in (("num_shards", num_shards), ("index", index)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"shard: {name} must be an integer, got {value!r}")
        if num_shards < 1 or not 0 <= index < num_shards:
            raise ValueError(f"shard: expected num_shards >= 1 and 0 <= index < num_shards, got {num_shards}, {index}")
        self._n, self._index = int(num_shards), int(index)

    def _cardinality(self):
        n = self._up._cardinality()
        if n < 0:  # INFINITE or UNKNOWN stay so
            return n
        return max(0, (n - self._index + self._n - 1) // self._n)

    def _indexed(self):
        up = self._up._indexed()
        if up is None:
            return None
        arrays, order = up
        if order is None:
            return [a[self._index :: self._n] for a in arrays], None
        return arrays, order[self._index :: self._n]

    def _iter(self):
        position = 0  # the upstream element number of the next row
        with closing(self._up._iter()) as it:
            for item in it:
                if self._chunked:
                    n = _rows(item)
                    first = (self._index - position) % self._n
                    if first < n:
                        yield [a[first :: self._n] for a in item]
                    position += n
                else:
                    if position % self._n == self._index:
                        yield item
                    position += 1


class _CacheDataset(_UnaryDataset):
    def __init__(self, upstream):
        super().__init__(upstream)
        self._store = None  # after a complete pass: a list of arrays (chunked) or a list of elements

    def _cardinality(self):
        if self._store is not None:
            return _rows(self._store) if self._chunked else len(self._store)
        return self._up._cardinality()

    def _indexed(self):
        if self._store is not None and self._chunked:
            return self._store, None
        return None

    def _iter(self):
        if self._store is not None:
            if self._chunked:
                yield self._store
            else:
                yield from self._store
            return
        seen = []
        with closing(self._up._iter()) as it:
            for item in it:
                seen.append(item)
                yield item
        if self._chunked:
            if not seen:
                return
            arrays = []
            for k in range(len(seen[0])):
                a = np.ascontiguousarray(np.concatenate([leaves[k] for leaves in seen]))
                a.flags.writeable = False
                arrays.append(a)
            self._store = arrays
        else:
            self._store = seen
