"""Sliding-window helpers shared by convolution and pooling (channels-last layout).

Every windowed op here works on 2-D spatial data ``(batch, height, width,
channels)``; 1-D ops add a height axis of size 1, which costs nothing (a view).

Conventions, per spatial axis:

- ``k`` is the window size, ``d`` its dilation, ``k_eff = (k - 1) * d + 1``
  the span it covers, ``s`` the stride.
- ``"valid"``: no padding, ``out = (n - k_eff) // s + 1``.
- ``"same"`` (TensorFlow/Keras): ``out = ceil(n / s)``; the total padding
  ``max((out - 1) * s + k_eff - n, 0)`` is split with the extra cell at the end
  (bottom/right).
- Window offset ``a`` of output cell ``o`` reads input cell ``o * s + a * d``
  (in padded coordinates); :func:`offset_slice` is that set of cells for all
  ``o`` at once, a strided slice, so ops loop over the ``k`` offsets only.
"""

from __future__ import annotations

import numbers
import threading

import numpy

PADDINGS = ("valid", "same")


def as_tuple(op: str, name: str, value, n: int, minimum: int = 1) -> tuple:
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` ints >= ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}") from None
        if len(values) != n or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        values = tuple(int(v) for v in values)
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return values


def check_padding(op: str, padding) -> str:
    """``padding`` lower-cased, or a ValueError naming the accepted values."""
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in PADDINGS:
        raise ValueError(f"{op}: padding must be 'valid' or 'same', got {padding!r}")
    return mode


def check_rank(op: str, what: str, shape: tuple, rank: int, layout: str) -> None:
    if len(shape) != rank:
        raise ValueError(f"{op}: expected {what} of rank {rank} {layout}, got shape {tuple(shape)}")


def output_and_pads(op: str, mode: str, n: int, k: int, s: int, d: int) -> tuple:
    """``(out, pad_before, pad_after)`` for one spatial axis of size ``n``."""
    k_eff = (k - 1) * d + 1
    if mode == "same":
        out = -(-n // s)
        total = max((out - 1) * s + k_eff - n, 0)
        return out, total // 2, total - total // 2
    if n < k_eff:
        raise ValueError(
            f"{op}: window of size {k} (dilated to {k_eff}) is larger than the input size {n} "
            "with padding 'valid'; use padding='same' or a smaller window"
        )
    return (n - k_eff) // s + 1, 0, 0


def spatial_geometry(op: str, mode: str, in_hw, k_hw, s_hw, d_hw) -> tuple:
    """Output sizes and pads for the two spatial axes: ``((oh, ow), ((top, bottom), (left, right)))``."""
    (oh, t, b), (ow, left, r) = (output_and_pads(op, mode, n, k, s, d) for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw))
    return (oh, ow), ((t, b), (left, r))


def pad_spatial(xp, x, pads, value=0):
    """``x`` (N, H, W, C) padded on H and W by ``pads`` with ``value``; ``x`` itself when no padding."""
    (t, b), (left, r) = pads
    if not (t or b or left or r):
        return x
    n, h, w, c = x.shape
    out = xp.empty((n, h + t + b, w + left + r, c), dtype=x.dtype)
    _pad_into(out, x, pads, value)
    return out


def _pad_into(out, x, pads, value=0):
    """``out`` (N, H + T + B, W + L + R, C) <- ``x`` (N, H, W, C) padded by ``pads`` with ``value``."""
    (t, _), (left, _) = pads
    h, w = x.shape[1:3]
    out[:, :t] = value  # the border only: the interior is written once, by the copy
    out[:, h + t :] = value
    out[:, t : h + t, :left] = value
    out[:, t : h + t, w + left :] = value
    out[:, t : h + t, left : w + left] = x


def pad_in_pieces(xp, x, pads):
    """(``xpad``, ``fill``): ``x`` (N, H, W, C) zero-padded by ``pads``, left for the pieces of images to write.

    ``xpad`` is a new, unwritten array of the padded shape and ``fill(first, end)`` writes images ``first`` to
    ``end - 1`` of it: a split op calls it at the start of each piece (:func:`run_pieces`), so the padding
    copy runs in the parts at once, each piece's images still in the cache when its blocks read them, instead
    of as a serial pass over the batch before the split. With no padding, (``x``, None).
    """
    (t, b), (left, r) = pads
    if not (t or b or left or r):
        return x, None
    n, h, w, c = x.shape
    xpad = xp.empty((n, h + t + b, w + left + r, c), dtype=x.dtype)

    def fill(first, end):
        _pad_into(xpad[first:end], x[first:end], pads)

    return xpad, fill


def offset_slice(a: int, d: int, s: int, out: int) -> slice:
    """The input cells that window offset ``a`` reads for ``out`` output cells."""
    start = a * d
    return slice(start, start + (out - 1) * s + 1, s)


def window_view(xp, x, out_hw, k_hw, s_hw, d_hw):
    """A strided view ``(N, OH, OW, KH, KW, C)`` of the windows of padded ``x`` (no copy; never write to it)."""
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    shape = (n, out_hw[0], out_hw[1], k_hw[0], k_hw[1], c)
    strides = (sn, sh * s_hw[0], sw * s_hw[1], sh * d_hw[0], sw * d_hw[1], sc)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def as_2d_input(x):
    """A 1-D channels-last array (N, W, C) viewed as (N, 1, W, C); 2-D arrays unchanged."""
    return x[:, None] if x.ndim == 3 else x


# ---- im2col in blocks ----------------------------------------------------------------------------------------------

#: Bytes of im2col matrix per block on the CPU. A block of this size stays in the cache between its copy and its
#: matmul, which on a 2-core EPYC made the whole convolution faster than one big im2col + one big matmul (the big
#: matrix streams through memory twice; 1 to 2 MiB measured best), and it bounds the working memory (W2's second
#: convolution: 2 MiB instead of an 81 MiB im2col matrix). Other array modules (CuPy) take the whole batch in one block.
BLOCK_BYTES = 2 << 20

#: An op may keep a whole im2col matrix up to this size for its backward rather than copy it again there (a
#: first convolution's few input channels make the copy slow per byte: W2's first one is 3 MiB).
KEEP_BYTES = 4 << 20


def row_blocks(xp, n: int, out_hw, row_bytes: int, matrix_bytes: int = 0) -> list:
    """Blocks ``(n0, n1, h0, h1)`` of output rows covering ``(n, oh, ow)``, each about ``BLOCK_BYTES`` of im2col.

    ``row_bytes`` is the im2col size of one output row (``ow * kh * kw * c * itemsize``). A block is either
    whole images (``h0, h1 = 0, oh``) or a run of rows of one image, so its output rows are contiguous in
    the ``(n * oh * ow, ...)`` order: rows ``(n0 * oh + h0) * ow`` to ``((n1 - 1) * oh + h1) * ow``.
    ``matrix_bytes``, the size of the other matmul operand (the kernel as a matrix), raises a block to at
    least twice that: each block's matmul packs the whole kernel again, so a large kernel (3x3, 512 -> 512:
    9 MiB) with 2 MiB blocks spent more time packing than multiplying (8x8 images: 30 ms against 21 ms).
    """
    oh = out_hw[0]
    budget = max(BLOCK_BYTES, 2 * matrix_bytes)
    if xp is not numpy or n * oh * row_bytes <= budget:
        return [(0, n, 0, oh)]
    images = budget // (oh * row_bytes)
    if images >= 1:
        return [(i, min(i + images, n), 0, oh) for i in range(0, n, images)]
    rows = max(budget // row_bytes, 1)
    return [(i, i + 1, h, min(h + rows, oh)) for i in range(n) for h in range(0, oh, rows)]


def piece_blocks(xp, first: int, end: int, out_hw, row_bytes: int, matrix_bytes: int = 0) -> list:
    """:func:`row_blocks` of images ``first`` to ``end - 1`` (a piece of the batch, :func:`image_pieces`)."""
    blocks = row_blocks(xp, end - first, out_hw, row_bytes, matrix_bytes)
    return [(n0 + first, n1 + first, h0, h1) for n0, n1, h0, h1 in blocks]


def block_rows(block, out_hw) -> slice:
    """The rows of the ``(n * oh * ow, ...)`` matrix that ``block`` (from :func:`row_blocks`) covers."""
    n0, n1, h0, h1 = block
    oh, ow = out_hw
    return slice((n0 * oh + h0) * ow, ((n1 - 1) * oh + h1) * ow)


_scratch = threading.local()


def scratch(xp, size: int, dtype):
    """A work array of ``size`` elements of ``dtype``, reused by this thread (NumPy) or new (other modules).

    For data that lives within one call only (an im2col block): never return it or keep it on an op.
    The thread's buffer grows to the largest size asked for, which :func:`row_blocks` bounds to about
    ``BLOCK_BYTES`` (or one output row's im2col when that is larger).
    """
    dtype = numpy.dtype(dtype)
    if xp is not numpy:
        return xp.empty(size, dtype=dtype)
    nbytes = size * dtype.itemsize
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _scratch.buf = numpy.empty(max(nbytes, 64), dtype=numpy.uint8)
    return buf[:nbytes].view(dtype)


def im2col_block(xp, xpad, block, out_hw, k_hw, s_hw, d_hw, out=None):
    """The im2col rows of ``block``: ``(rows, kh * kw * c)``, in ``out`` if given.

    Without ``out`` they land in a scratch array, valid until the next call.
    """
    n0, n1, h0, h1 = block
    c = xpad.shape[-1]
    windows = window_view(xp, xpad[n0:n1], out_hw, k_hw, s_hw, d_hw)[:, h0:h1]
    if out is None:
        out = scratch(xp, windows.size, xpad.dtype)
    cols = out.reshape(windows.shape)
    if c < TAP_COPY_CHANNELS:  # one copy per tap: runs along the output row, not of c numbers per cell
        for a in range(k_hw[0]):
            for b in range(k_hw[1]):
                cols[:, :, :, a, b] = windows[:, :, :, a, b]
    else:
        cols[...] = windows
    return out.reshape(-1, k_hw[0] * k_hw[1] * c)


#: Below this many input channels :func:`im2col_block` copies one kernel tap at a time: NumPy's copy of the whole
#: window view runs its inner loop over a cell's C numbers, one number for a single channel (W2's first
#: convolution: 0.32 ms against 0.13 for 32 images' 3x3 windows, one thread); from C = 3 on the whole view's copy
#: wins (3 channels, 4x4 stride 2: 0.16 against 0.53 ms).
TAP_COPY_CHANNELS = 2


# ---- a batch split over images, run on Ember's worker threads --------------------------------------------------------
#
# An op's work over a batch cuts into pieces of whole images, each run block by block on its own (its own im2col
# blocks, its own partial sum of a kernel gradient); the pieces then run in as many parts as the thread policy
# grants (:func:`ember.backend.workers.split_parts`), each part a run of whole pieces on its own thread. The pieces
# depend on the shapes only, never on the part count, and partial sums are added in piece order: 1, 2 or 3 parts
# give the same bits. (Per part pieces would not: a kernel gradient's sums would be grouped by part, and a block's
# matmul shape, which may choose BLAS's kernel, would change with the count.)

#: At most this many pieces of images per op (fewer with fewer images or little work): the most parts an op can
#: run in. More pieces mean smaller blocks (each matmul packs its kernel again) and more partial sums.
SPLIT_PIECES = 4

#: Work (an op's output or input-gradient elements) per piece at least: below, the op is one piece (a thread's
#: start and the partial sums would cost more than the split saves).
SPLIT_MIN_SIZE = 1 << 16


def image_pieces(n: int, size: int) -> list:
    """``(first image, end image)`` of each piece of a batch of ``n`` images whose op has ``size`` elements of work."""
    pieces = max(1, min(n, SPLIT_PIECES, size // max(SPLIT_MIN_SIZE, 1)))
    return [(n * p // pieces, n * (p + 1) // pieces) for p in range(pieces)]


def over_pieces(xp, run, n: int, size: int) -> list:
    """``run(first, end)`` over :func:`image_pieces` of ``n`` images (:func:`run_pieces`); one call over the whole
    batch for other array modules (CuPy: one block, the GPU's own parallelism)."""
    if xp is not numpy:
        return [run(0, n)]
    return run_pieces(run, image_pieces(n, size))


def run_pieces(run, pieces: list, parts: int | None = None) -> list:
    """``[run(first, end) for (first, end) in pieces]``: the pieces in ``parts`` runs of whole pieces (default:
    :func:`ember.backend.workers.split_parts`) on Ember's worker threads at once (the first in this thread).

    ``run`` must touch only its own images' cells of any output and use :func:`scratch` (per thread) for its
    work arrays. Results in piece order, however many parts ran them.
    """
    from ..backend import workers

    if parts is None:
        parts = workers.split_parts()
    parts = min(parts, len(pieces))
    if parts < 2:
        return [run(*piece) for piece in pieces]
    cuts = [len(pieces) * p // parts for p in range(parts + 1)]
    groups = [(pieces[cuts[p] : cuts[p + 1]],) for p in range(parts)]
    results = workers.run_parts(lambda group: [run(*piece) for piece in group], groups)
    return [result for group in results for result in group]
