"""A dense matrix product cut into row parts that run on Ember's worker threads (the Matmul op's 2-D products).

When Ember's thread policy grants several threads in its split mode and the scope's splits are engaged
(:func:`ember.backend.workers.parts_once_split`: a convolution or an LSTM has split its work, and BLAS is held at
one thread from then on; a model of dense layers alone leaves BLAS its threads, whose shared packing and hot
threads beat these parts on W1), a large ``a @ b`` is cut into that many runs of the output's rows, each computed
by a one-thread BLAS product ``a[lo:hi] @ b`` into its rows of the output, at the same time on Ember's worker
threads (:func:`ember.backend.workers.run_parts`). Everything else is plain ``a @ b``.

Same bits. A one-thread OpenBLAS product computes each output element from its row of ``a`` and column of ``b``
in an order fixed by the inner dimension's blocking, which does not depend on the row count, except in two places,
both measured on this project's machine (random shapes up to 2500 x 1500 x 2500, both operands plain or
transposed, float32 and float64, 2-4 parts): the micro-kernel handles the rows in blocks (16 or 24 rows on
SkylakeX, 24 or 48 on Haswell), and a tail block shorter than that sums differently, so the cuts fall on multiples
of :func:`row_alignment`; and products under about a million multiply-adds go to OpenBLAS's small-matrix kernel,
which also sums differently, so no part is smaller than :data:`MIN_PART_MACS` (larger than that). With both
rules every part gives the bits of the same rows of the whole one-thread product (tests/test_matmul_split.py).

Rows or columns. Each row part packs all of ``b`` for itself (OpenBLAS's own threads share one packing): W1's
128 x 784 @ 784 x 512 in two row parts cost 910-1,003 us of CPU against 803-872 whole. A product with fewer rows
than columns is cut into runs of columns instead (each part packs all of ``a``, the smaller) where that keeps the
bits: float32 on SkylakeX's kernels, cuts at multiples of 64 columns (1,200 random shapes, 2-4 parts, exact); not
float64 there, nor float32 on Haswell's kernels, which keep the row cuts. That product in two column parts: 471 us
(fastest of 60 rounds, load 1.7), on two BLAS threads 405 (its threads spinning, hot), on one 685-704.
"""

from __future__ import annotations

import numpy

from ..backend import workers

__all__ = [
    "LEAST_SPLIT",
    "MIN_PART_MACS",
    "MIN_PART_ROWS",
    "column_alignment",
    "matmul",
    "row_alignment",
    "row_cuts",
]

#: The least work (multiply-adds) of one part, about 70 us of one core. Below about 1e6 OpenBLAS's small-matrix
#: kernel takes the product (other bits); and a split costs 25-60 us of CPU time more than the whole product
#: (the hand-off, and each part packing all of ``b``), so smaller parts gain nothing (docs/performance.md, "Threads").
MIN_PART_MACS = 2**22
#: The fewest rows of one part: each part packs all of ``b`` for itself (OpenBLAS's threads share one packing), which
#: costs about what 19 rows of W1's 784 x 512 product compute; at 64 rows a part pays at most ~30% for it.
MIN_PART_ROWS = 64
#: The least product (multiply-adds, ``m * k * n``) worth two parts. Below it :func:`matmul` is ``a @ b``, so a
#: caller on a hot path (Matmul, Dense's op) tests ``a.size * b.shape[1] < LEAST_SPLIT`` itself and skips the call.
LEAST_SPLIT = 2 * MIN_PART_MACS
_NDARRAY = numpy.ndarray

_SKYLAKE_LIKE = ("skylakex", "cooperlake", "sapphirerapids")
_alignment = None  # {dtype: rows}, found once from the BLAS's kernel set


def row_alignment(dtype) -> int:
    """Rows per cut: the multiple of the BLAS micro-kernel's row blocks that keeps each part's bits (48 where the
    kernel set is not known: a multiple of both SkylakeX's and Haswell's blocks)."""
    global _alignment
    if _alignment is None:
        from ..backend.threads import blas_libraries

        arch = ""
        try:
            libs = blas_libraries()
            arch = str(getattr(libs[0], "architecture", "") or "").lower() if len(libs) == 1 else ""
        except Exception:
            pass
        if arch in _SKYLAKE_LIKE:
            _alignment = {numpy.dtype(numpy.float32): 16, numpy.dtype(numpy.float64): 24, "columns": 64}
        else:
            _alignment = {}
    return _alignment.get(numpy.dtype(dtype), 48)


def column_alignment(dtype) -> int:
    """Columns per cut where cutting the columns keeps the bits (float32 on SkylakeX's kernels: 64), else 0."""
    row_alignment(dtype)  # (finds the kernel set)
    return _alignment.get("columns", 0) if numpy.dtype(dtype) == numpy.float32 else 0


def row_cuts(rows: int, inner: int, cols: int, parts: int, align: int) -> list:
    """``[(lo, hi), ...]``: at most ``parts`` runs of ``rows`` rows, cut at multiples of ``align`` as evenly as those
    allow, at most one per :data:`MIN_PART_ROWS` rows, each at least :data:`MIN_PART_MACS` of work (``inner * cols``
    per row); one run when no cut fits."""
    parts = min(parts, rows // max(align, MIN_PART_ROWS), rows * inner * cols // MIN_PART_MACS)
    while parts >= 2:
        bounds = [0]
        for p in range(1, parts):
            cut = round(rows * p / parts / align) * align
            if cut > bounds[-1]:
                bounds.append(cut)
        bounds.append(rows)
        sizes = [hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])]
        if len(sizes) >= 2 and min(sizes) * inner * cols >= MIN_PART_MACS:
            return list(zip(bounds[:-1], bounds[1:]))
        parts -= 1
    return [(0, rows)]


def matmul(a, b):
    """``a @ b`` for 2-D ``a`` (m, k) and ``b`` (k, n) -> (m, n), cut into row parts on Ember's worker threads when
    the scope's splits are engaged (:func:`ember.backend.workers.parts_once_split`) and the product is large enough;
    the same bits as the one-thread ``a @ b`` either way."""
    m, k = a.shape
    n = b.shape[1]
    if m * k * n < LEAST_SPLIT or workers._parts < 2 or n < 8:  # (the size first: most products are small)
        return a @ b
    if type(a) is not _NDARRAY or type(b) is not _NDARRAY:
        return a @ b
    dtype = a.dtype
    parts = workers.parts_once_split()  # (1 inside a part of another split, and until the scope splits)
    if parts < 2 or b.dtype != dtype or dtype.char not in "fd":
        return a @ b
    if m < n and column_alignment(dtype):  # fewer rows than columns: cut the columns (each part packs all of a)
        cuts = row_cuts(n, k, m, parts, column_alignment(dtype))
        if len(cuts) < 2:
            return a @ b
        out = numpy.empty((m, n), dtype=dtype)

        def columns(lo, hi):
            numpy.matmul(a, b[:, lo:hi], out=out[:, lo:hi])

        workers.run_parts(columns, cuts)
        return out
    cuts = row_cuts(m, k, n, parts, row_alignment(dtype))
    if len(cuts) < 2:
        return a @ b
    out = numpy.empty((m, n), dtype=dtype)

    def part(lo, hi):
        numpy.matmul(a[lo:hi], b, out=out[lo:hi])

    workers.run_parts(part, cuts)
    return out
