"""Collectives on Ember tensors for custom training loops: ``all_reduce`` and ``broadcast_variables``.

Gradients travel in buckets: the tensors are packed, in order, into flat float buffers of at most
``bucket_bytes`` each (one buffer per dtype run), every bucket's ``Iallreduce`` is started and then all
are waited for, and the averages are unpacked. Few large messages cost less latency than one per tensor.
"""

from __future__ import annotations

import time

import numpy

from . import _mpi

BUCKET_BYTES = 4 << 20  # 4 MiB: big enough to amortise latency, small enough to pipeline in MPI

# communication counters, read by benchmarks/mpi_scaling.py
stats = {"calls": 0, "bytes": 0, "seconds": 0.0}


def _host(t):
    """The host NumPy array of a Tensor or array (CuPy arrays are copied to the host)."""
    data = getattr(t, "data", t)
    return data if isinstance(data, numpy.ndarray) else data.get() if hasattr(data, "get") else numpy.asarray(data)


def _buckets(arrays, bucket_bytes):
    """Group indices of ``arrays`` into runs of one dtype and at most ``bucket_bytes`` (a big array alone)."""
    groups, current, current_bytes, current_dtype = [], [], 0, None
    for i, a in enumerate(arrays):
        if current and (a.dtype != current_dtype or current_bytes + a.nbytes > bucket_bytes):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(i)
        current_bytes += a.nbytes
        current_dtype = a.dtype
    if current:
        groups.append(current)
    return groups


def all_reduce(tensors, op: str = "mean", bucket_bytes: int = BUCKET_BYTES):
    """Sum or average a list of tensors across all ranks; returns new Tensors in the same order.

    Args:
        tensors: a list of Tensors or NumPy arrays (e.g. ``[w.grad for w in weights]``); None entries
            stay None (every rank must pass None at the same positions).
        op: ``"mean"`` (gradients) or ``"sum"``.
        bucket_bytes: the largest flat buffer sent in one ``Iallreduce``.

    In a single process the values come back unchanged.
    """

    if op not in ("mean", "sum"):
        raise ValueError(f"all_reduce: op must be 'mean' or 'sum', got {op!r}")
    tensors = list(tensors)
    present = [i for i, t in enumerate(tensors) if t is not None]
    arrays = [_host(tensors[i]) for i in present]
    n = _mpi.size()
    if n > 1 and arrays:
        start = time.perf_counter()
        flats = []
        for group in _buckets(arrays, bucket_bytes):
            flats.append((group, numpy.concatenate([arrays[j].ravel() for j in group])))
        _mpi.allreduce_sum_([flat for _, flat in flats], "the gradient all-reduce")
        out_arrays = [None] * len(arrays)
        for group, flat in flats:
            if op == "mean":
                flat /= n
            offset = 0
            for j in group:
                size = arrays[j].size
                out_arrays[j] = flat[offset : offset + size].reshape(arrays[j].shape)
                offset += size
        arrays = out_arrays
        stats["calls"] += 1
        stats["bytes"] += sum(flat.nbytes for _, flat in flats)
        stats["seconds"] += time.perf_counter() - start
    result = [None] * len(tensors)
    for i, a in zip(present, arrays):
        original = tensors[i]
        result[i] = _like(original, a)
    return result if not isinstance(tensors, tuple) else tuple(result)


def _like(original, array):
    from ..engine.tensor import Tensor

    if isinstance(original, Tensor):
        xp = original.device.xp
        return Tensor._wrap(xp.asarray(array, dtype=original.dtype))
    return array


def broadcast_variables(variables, root: int = 0) -> None:
    """Overwrite each Variable (or NumPy array) with rank ``root``'s value, in place, on every rank."""
    variables = [v for v in variables if v is not None]
    if _mpi.size() == 1 or not variables:
        return
    buffers = [numpy.array(_host(v), order="C", copy=True) for v in variables]
    _mpi.broadcast_(buffers, root, "the broadcast of the initial weights")
    for v, b in zip(variables, buffers):
        if isinstance(v, numpy.ndarray):
            v[...] = b
        else:
            v.assign(b)


def reduce_values(values, op: str = "sum"):
    """Sum (or average) a list of Python floats across ranks (metrics' totals and counts)."""
    buffer = numpy.asarray(values, dtype=numpy.float64).copy()
    if _mpi.size() > 1 and buffer.size:
        _mpi.allreduce_sum_([buffer], "the metrics' reduction")
        if op == "mean":
            buffer /= _mpi.size()
    return buffer.tolist()


def average_in_place_(buffers) -> None:
    """Average contiguous NumPy buffers across ranks, in place (the compiled step's flat gradient buffers)."""
    n = _mpi.size()
    if n == 1 or not buffers:
        return
    start = time.perf_counter()
    _mpi.allreduce_sum_(buffers, "the gradient all-reduce")
    for b in buffers:
        numpy.divide(b, n, out=b)
    stats["calls"] += 1
    stats["bytes"] += sum(b.nbytes for b in buffers)
    stats["seconds"] += time.perf_counter() - start
