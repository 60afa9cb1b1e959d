"""``Batcher``: merges concurrent prediction requests into one model call.

Requests wait in a queue; a single worker task takes the first one, then keeps
taking requests for up to ``batch_timeout_s`` or until ``max_batch_size``
examples are gathered, concatenates their inputs along the example axis, and
runs one prediction in a worker thread (so the event loop keeps answering).
Only requests whose examples have the same shapes are merged. Model calls are
serialised by a lock, since an Ember model is not safe to call from two threads
at once; one request larger than ``max_batch_size`` runs alone (the model
splits it into batches of that size itself).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np  # host-side: concatenating request arrays and splitting results


class Batcher:
    """Run ``predict_fn`` on merged batches of concurrent requests.

    Args:
        predict_fn: ``predict_fn(arrays) -> list of arrays``: one array per
            model input in, one per model output out, the examples first.
        max_batch_size: the most examples merged into one call.
        batch_timeout_s: how long the first request of a batch waits for
            others to join it (0: merge only what is already queued).

    Attributes:
        requests: how many requests were answered.
        calls: how many times ``predict_fn`` was called.
    """

    def __init__(self, predict_fn, max_batch_size: int = 32, batch_timeout_s: float = 0.002):
        if not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ValueError(f"Batcher: max_batch_size must be a positive int, got {max_batch_size!r}")
        if batch_timeout_s < 0:
            raise ValueError(f"Batcher: batch_timeout_s must be >= 0, got {batch_timeout_s!r}")
        self.predict_fn = predict_fn
        self.max_batch_size = max_batch_size
        self.batch_timeout_s = batch_timeout_s
        self.requests = 0
        self.calls = 0
        self.lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ember-serving-predict")
        self._queue = None
        self._worker = None
        self._held = None  # a request taken from the queue that did not fit the previous batch

    async def predict(self, arrays: list) -> list:
        """The outputs for one request's inputs (``arrays``), once its batch has run."""
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.done() or self._worker.get_loop() is not loop:
            self._queue = asyncio.Queue()
            self._held = None
            self._worker = loop.create_task(self._run())
        future = loop.create_future()
        await self._queue.put((arrays, future))
        outputs = await future
        self.requests += 1
        return outputs

    def call(self, arrays: list) -> list:
        """Run ``predict_fn`` under the model lock (in the calling thread)."""
        with self.lock:
            self.calls += 1
            return self.predict_fn(arrays)

    def close(self) -> None:
        """Stop the worker task and the prediction thread."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _key(arrays: list) -> tuple:
        return tuple((a.shape[1:], a.dtype.str) for a in arrays)

    async def _next(self, timeout=None):
        if self._held is not None:
            item, self._held = self._held, None
            return item
        if timeout is None:
            return await self._queue.get()
        if timeout <= 0:
            return self._queue.get_nowait()  # raises QueueEmpty
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._next()
            batch = [first]
            key = self._key(first[0])
            rows = len(first[0][0])
            deadline = loop.time() + self.batch_timeout_s
            while rows < self.max_batch_size:
                try:
                    item = await self._next(deadline - loop.time())
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                n = len(item[0][0])
                if self._key(item[0]) != key or rows + n > self.max_batch_size:
                    self._held = item
                    break
                batch.append(item)
                rows += n
            batch = [(arrays, future) for arrays, future in batch if not future.done()]  # drop cancelled
            if batch:
                await self._run_batch(loop, batch)

    async def _run_batch(self, loop, batch: list) -> None:
        if len(batch) == 1:
            merged = batch[0][0]
        else:
            merged = [np.concatenate(parts) for parts in zip(*(arrays for arrays, _ in batch))]
        try:
            outputs = await loop.run_in_executor(self._executor, self.call, merged)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            for arrays, future in batch:  # find which request the model refused; answer the others
                try:
                    _settle(future, await loop.run_in_executor(self._executor, self.call, arrays))
                except Exception as single_exc:
                    _settle(future, exc=single_exc)
            return
        start = 0
        for arrays, future in batch:
            n = len(arrays[0])
            _settle(future, [o[start : start + n] for o in outputs])
            start += n


def _settle(future, result=None, exc=None) -> None:
    if future.done():  # the client went away
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
