"""What ``fit`` does differently under a DataParallel distribution with several MPI processes.

``fit`` calls these at five points: it shards the batches (:func:`shard_batches`) and keeps the writing
callbacks on rank 0 (:func:`rank_callbacks`); after ``on_train_begin`` (where BackupAndRestore restores,
on rank 0) it broadcasts the epoch, the position in it, the weights and the optimizer's state from rank 0
(:func:`sync_start`); the eager step averages the gradients between backward and the optimizer update
(:func:`average_gradients`); and each epoch's logs are reduced across ranks (:func:`reduce_epoch_logs`).
A distributed fit runs the eager step (the compiled step has no hook for the all-reduce yet).
"""

from __future__ import annotations

import warnings

import numpy

from . import _mpi
from .collectives import all_reduce, broadcast_variables, reduce_values

# callbacks that write files or print: rank 0 runs them, the other ranks leave them out
_ROOT_ONLY = ("ModelCheckpoint", "CSVLogger", "TensorBoard", "BackupAndRestore", "ProgbarLogger", "RemoteMonitor")


def shard_batches(train):
    """This rank's batches: rows ``[g*N*b + r*b, g*N*b + (r+1)*b)`` of each global batch g (arrays), or every
    N-th batch of a dataset. With N ranks and per-rank batch b, each step covers the global batch N*b."""
    from ..training.data_adapter import ArrayBatches
    from .distribution_lib import distribution

    n_ranks, me = _mpi.size(), _mpi.rank()
    if not distribution().auto_shard_dataset:  # each process was given its own shard already
        return train
    if isinstance(train, ArrayBatches):
        n, b = train.num_samples, train.batch_size
        global_b = n_ranks * b
        index, dropped = [], 0
        for start in range(0, n, global_b):
            count = min(global_b, n - start)
            per = count // n_ranks  # the last, short global batch is split evenly; its remainder rows are left out
            dropped += count - per * n_ranks
            if per:
                index.append(numpy.arange(start + me * per, start + (me + 1) * per))
        if dropped and me == 0:
            warnings.warn(
                f"DataParallel fit: {n} samples do not split evenly over {n_ranks} processes; the last "
                f"{dropped} sample(s) of each epoch are left out",
                stacklevel=3,
            )
        index = numpy.concatenate(index)
        take = ArrayBatches._take
        from ..training.data_adapter import _take_one

        return ArrayBatches(
            take(train.x, index), take(train.y, index), _take_one(train.sample_weight, index), b, train.shuffle
        )
    return _ShardedIterable(train, n_ranks, me)


class _ShardedIterable:
    """Every rank reads the whole stream and keeps batch ``g*N + r`` of each full group of N batches."""

    def __init__(self, inner, n_ranks, me):
        self.inner, self.n_ranks, self.me = inner, n_ranks, me
        self.order_state = None
        self._resume_at = None

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def steps(self):
        steps = self.inner.steps
        return None if steps is None else steps // self.n_ranks

    def resume(self, first_step: int, order_state=None) -> None:
        self._resume_at = int(first_step)

    def enumerate_epoch(self):
        first, self._resume_at = self._resume_at or 0, None
        group = []
        step = 0
        for batch in self.inner:
            group.append(batch)
            if len(group) == self.n_ranks:
                if step >= first:
                    yield step, group[self.me]
                step += 1
                group = []

    def __iter__(self):
        for _, batch in self.enumerate_epoch():
            yield batch


def rank_callbacks(callbacks, verbose):
    """The callbacks and verbosity this rank runs: all on rank 0; no writing or printing ones elsewhere."""
    if _mpi.rank() == 0 or callbacks is None or not isinstance(callbacks, (list, tuple)):
        return callbacks, verbose
    kept = [cb for cb in _flatten(callbacks) if not any(c.__name__ in _ROOT_ONLY for c in type(cb).__mro__)]
    return kept, 0


def _flatten(items):
    out = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return out


def sync_start(model, train, initial_epoch: int) -> int:
    """Make every rank start where rank 0 does: epoch, step in it, weights and optimizer state."""
    state = None
    if _mpi.rank() == 0:
        state = {"epoch": int(initial_epoch), "resume_at": getattr(train, "_resume_at", None)}
    state = _mpi.broadcast_object(state, 0, "the start of training (epoch and position)")
    if _mpi.rank() != 0 and state["resume_at"] is not None:
        at = state["resume_at"]
        first, order_state = at if isinstance(at, tuple) else (at, None)
        train.resume(first, order_state)
    optimizer = model.optimizer
    if optimizer is not None and getattr(optimizer, "built", True) is False:
        optimizer.build(model.trainable_variables)  # so every rank has the slots rank 0 may have restored
    variables = list(model.variables)
    if optimizer is not None:
        variables += list(optimizer.variables)
    broadcast_variables(variables, root=0)
    return state["epoch"]


def average_gradients(grads):
    """The gradients averaged over the ranks (in one bucketed all-reduce)."""
    return all_reduce(grads, op="mean")


def reduce_epoch_logs(model) -> dict:
    """Sum the running loss and metric states over the ranks (totals and counts), then read the logs."""
    trackers = [model._loss_tracker]
    if model._compiled_loss is not None:
        trackers += [t for _, _, t in model._compiled_loss.trackers]
    values = reduce_values([v for t in trackers for v in (t.total, t.count)])
    for i, t in enumerate(trackers):
        t.total, t.count = values[2 * i], values[2 * i + 1]
    metrics = [m for _, m, _, _ in (model._compiled_metrics.metrics or [])] if model._compiled_metrics else []
    summed = [v for m in metrics for v in m.variables if getattr(v, "aggregation", "sum") in ("sum", "mean")]
    averaged = {id(v) for v in summed if getattr(v, "aggregation", "sum") == "mean"}
    if summed:
        buffers = [numpy.array(v.numpy(), dtype=numpy.float64, order="C") for v in summed]
        _mpi.allreduce_sum_(buffers, "the metrics' reduction")
        for v, b in zip(summed, buffers):
            v.assign(b / _mpi.size() if id(v) in averaged else b)
    return model._current_logs()


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is set on any rank (so that all ranks stop training together)."""
    return reduce_values([1.0 if flag else 0.0])[0] > 0


def average_step_gradients(grads, layout=None):
    """The compiled step's gradients (arrays) averaged over the ranks: in place in the optimizer's flat
    gradient buffers where ``layout`` holds them (no packing), the others packed in buckets."""
    from .collectives import average_in_place_

    grads = list(grads)
    if layout is not None and layout.holds(grads):
        flat, rest = [group.g for group in layout.groups], list(layout.rest)
    else:
        flat, rest = [], [k for k, g in enumerate(grads) if g is not None]
    if flat:
        average_in_place_(flat)
    if rest:
        dense = [g if isinstance(g, numpy.ndarray) else g.numpy() for g in (grads[k] for k in rest)]
        for k, g in zip(rest, all_reduce(dense, op="mean")):
            grads[k] = g
    return grads
