"""Gluon's ``DataLoader``: batches of NDArrays from a Dataset (MXNet's ``last_batch`` rules)."""

from __future__ import annotations

import numpy as np

from ...ndarray import NDArray, array


def default_batchify_fn(samples):
    """Stack samples into NDArrays (tuples stack field by field); dtypes as NumPy stacks them."""
    first = samples[0]
    if isinstance(first, tuple):
        return [default_batchify_fn(list(field)) for field in zip(*samples)]
    if isinstance(first, NDArray):
        stacked = np.stack([s.asnumpy() for s in samples])
    else:
        stacked = np.asarray(np.stack([np.asarray(s) for s in samples]))
    if stacked.dtype == np.float64:
        stacked = stacked.astype(np.float32)
    return array(stacked, dtype=stacked.dtype)


class DataLoader:
    """Iterate a dataset in batches. ``last_batch``: ``'keep'`` (a short last batch), ``'discard'`` (drop it)
    or ``'rollover'`` (its samples start the next epoch). ``shuffle`` draws a new order each epoch from NumPy's
    global generator (``np.random.seed`` makes it repeatable); ``num_workers`` is accepted and ignored."""

    def __init__(
        self,
        dataset,
        batch_size=None,
        shuffle=False,
        sampler=None,
        last_batch=None,
        batch_sampler=None,
        batchify_fn=None,
        num_workers=0,
        pin_memory=False,
        thread_pool=False,
        prefetch=None,
        timeout=120,
        try_nopython=None,
    ):
        if batch_sampler is None and batch_size is None:
            raise ValueError("DataLoader: batch_size is required (or a batch_sampler)")
        last_batch = last_batch or "keep"
        if last_batch not in ("keep", "discard", "rollover"):
            raise ValueError(f"DataLoader: last_batch must be 'keep', 'discard' or 'rollover', got {last_batch!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: shuffle must be False when a sampler is given")
        self._dataset, self._batch_size, self._shuffle = dataset, batch_size, shuffle
        self._sampler, self._batch_sampler, self._last_batch = sampler, batch_sampler, last_batch
        self._batchify = batchify_fn or default_batchify_fn
        self._carry: list = []

    def _batches(self):
        if self._batch_sampler is not None:
            yield from self._batch_sampler
            return
        n = len(self._dataset)
        if self._sampler is not None:
            order = list(self._sampler)
        elif self._shuffle:
            order = list(np.random.permutation(n))
        else:
            order = list(range(n))
        order = self._carry + order
        self._carry = []
        bs = self._batch_size
        for start in range(0, len(order), bs):
            batch = order[start : start + bs]
            if len(batch) < bs:
                if self._last_batch == "discard":
                    return
                if self._last_batch == "rollover":
                    self._carry = batch
                    return
            yield batch

    def __iter__(self):
        for batch in self._batches():
            yield self._batchify([self._dataset[int(i)] for i in batch])

    def __len__(self):
        n = len(self._dataset) + len(self._carry)
        if self._batch_sampler is not None:
            return len(self._batch_sampler)
        if self._last_batch == "keep":
            return (n + self._batch_size - 1) // self._batch_size
        return n // self._batch_size
