"""Keras 3 ``keras.ops`` signal and segment functions: fft, fft2, ifft2, rfft, irfft, stft, istft,
extract_sequences, segment_sum/max/min/prod.

Ember tensors are real, so complex values travel as ``(real, imag)`` pairs, as
Keras's own functions take and return them. Transforms are products with
cosine and sine matrices (the discrete Fourier transform written out, O(n^2)
per axis), so they are differentiable through ``matmul`` with no backward code
of their own; so are the segment reductions (``segment_sum`` is a scatter-add,
the others reduce a masked copy per segment).
"""

from __future__ import annotations

import numpy

from ..backend.config import floatx
from ..engine.tensor import Tensor, tensor
from . import arithmetic as _ar
from . import reduction as _rd
from . import shaping as _sh
from .indexing import getitem
from .keras_core import scatter

__all__ = [
    "fft",
    "fft2",
    "ifft2",
    "rfft",
    "irfft",
    "stft",
    "istft",
    "extract_sequences",
    "segment_sum",
    "segment_max",
    "segment_min",
    "segment_prod",
]


def _float(x) -> Tensor:
    x = x if isinstance(x, Tensor) else tensor(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def _pair(op, x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{op}: expected a (real, imag) pair of tensors, got {type(x).__name__}")
    re, im = _float(x[0]), _float(x[1])
    if re.shape != im.shape:
        raise ValueError(f"{op}: real part {re.shape} and imaginary part {im.shape} must have one shape")
    return re, im


def _cos_sin(n_in, n_out, n, dtype):
    """cos and sin of 2 pi j k / n for j < n_in (rows) and k < n_out (columns)."""
    jk = numpy.outer(numpy.arange(n_in), numpy.arange(n_out)) % n
    angle = 2.0 * numpy.pi * jk / n
    return numpy.cos(angle).astype(dtype), numpy.sin(angle).astype(dtype)


def _dft_last(re, im, inverse=False):
    """The (inverse) DFT of (re, im) along the last axis."""
    n = re.shape[-1]
    c, s = _cos_sin(n, n, n, re.dtype)
    if not inverse:
        out_re = _ar.add(_ar.matmul(re, c), _ar.matmul(im, s))
        out_im = _ar.subtract(_ar.matmul(im, c), _ar.matmul(re, s))
        return out_re, out_im
    out_re = _ar.divide(_ar.subtract(_ar.matmul(re, c), _ar.matmul(im, s)), n)
    out_im = _ar.divide(_ar.add(_ar.matmul(im, c), _ar.matmul(re, s)), n)
    return out_re, out_im


def fft(x):
    """The discrete Fourier transform along the last axis of ``x = (real, imag)``; returns (real, imag)."""
    return _dft_last(*_pair("fft", x))


def _two_axes(op, x, inverse):
    re, im = _pair(op, x)
    if re.ndim < 2:
        raise ValueError(f"{op}: expected at least 2-D parts, got shape {re.shape}")
    re, im = _dft_last(re, im, inverse)
    re, im = _sh.swapaxes(re, -1, -2), _sh.swapaxes(im, -1, -2)
    re, im = _dft_last(re, im, inverse)
    return _sh.swapaxes(re, -1, -2), _sh.swapaxes(im, -1, -2)


def fft2(x):
    """The 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``."""
    return _two_axes("fft2", x, inverse=False)


def ifft2(x):
    """The inverse 2-D discrete Fourier transform over the last two axes of ``x = (real, imag)``."""
    return _two_axes("ifft2", x, inverse=True)


def _fit_last(x, n):
    """``x`` cut or zero-padded to length ``n`` along its last axis."""
    m = x.shape[-1]
    if m > n:
        return x[..., :n]
    if m < n:
        return _sh.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - m)])
    return x


def rfft(x, fft_length=None):
    """The DFT of real ``x`` along its last axis, the ``fft_length // 2 + 1`` non-negative frequencies."""
    x = _float(x)
    n = x.shape[-1] if fft_length is None else int(fft_length)
    x = _fit_last(x, n)
    c, s = _cos_sin(n, n // 2 + 1, n, x.dtype)
    return _ar.matmul(x, c), _ar.negative(_ar.matmul(x, s))


def irfft(x, fft_length=None):
    """The real inverse of :func:`rfft`: ``x = (real, imag)`` of the non-negative frequencies -> a real signal."""
    re, im = _pair("irfft", x)
    m = re.shape[-1]
    n = 2 * (m - 1) if fft_length is None else int(fft_length)
    bins = n // 2 + 1
    re, im = _fit_last(re, bins), _fit_last(im, bins)
    c, s = _cos_sin(bins, n, n, re.dtype)
    weights = numpy.full((bins, 1), 2.0, dtype=re.dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    c, s = c * weights / n, s * weights / n
    return _ar.subtract(_ar.matmul(re, c), _ar.matmul(im, s))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis.

    Shapes: (..., n) -> (..., frames, sequence_length).
    """
    x = x if isinstance(x, Tensor) else tensor(x)
    n = x.shape[-1]
    length, stride = int(sequence_length), int(sequence_stride)
    if length > n:
        raise ValueError(f"extract_sequences: sequence_length {length} exceeds the signal length {n}")
    frames = 1 + (n - length) // stride
    index = numpy.arange(frames)[:, None] * stride + numpy.arange(length)[None, :]
    return getitem(x, (Ellipsis, index))


def _window(op, window, sequence_length, dtype):
    if window is None:
        return numpy.ones(sequence_length, dtype=dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"{op}: window must be 'hann', 'hamming', None or an array, got {window!r}")
        k = numpy.arange(sequence_length)
        a = 0.5 if window == "hann" else 0.54
        # periodic windows, as torch.hann_window / hamming_window give them
        return (a - (1 - a) * numpy.cos(2 * numpy.pi * k / sequence_length)).astype(dtype)
    win = numpy.asarray(window.numpy() if isinstance(window, Tensor) else window, dtype=dtype)
    if win.shape != (sequence_length,):
        raise ValueError(f"{op}: window must have shape ({sequence_length},), got {win.shape}")
    return win


def _centred_window(op, window, sequence_length, fft_length, dtype):
    win = _window(op, window, sequence_length, dtype)
    left = (fft_length - sequence_length) // 2
    return numpy.pad(win, (left, fft_length - sequence_length - left))


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """The short-time Fourier transform along the last axis: (..., n) -> (real, imag), each (..., frames, bins).

    As torch.stft: with ``center`` the signal is reflect-padded by ``fft_length // 2``; the window
    (``sequence_length`` long) is centred in each ``fft_length`` frame.
    """
    x = _float(x)
    if fft_length < sequence_length:
        raise ValueError(f"stft: fft_length {fft_length} must be >= sequence_length {sequence_length}")
    if center:
        half = fft_length // 2
        x = _sh.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    win = _centred_window("stft", window, sequence_length, fft_length, x.dtype)
    return rfft(_ar.multiply(frames, win), fft_length)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """The inverse of :func:`stft`: overlap-add of the windowed inverse transforms, normalised by the
    summed squared window (as Keras's own implementation)."""
    frames = irfft(x, fft_length)  # (..., count, fft_length)
    count = frames.shape[-2]
    stride = int(sequence_stride)
    if window is not None:
        win = _centred_window("istft", window, sequence_length, fft_length, frames.dtype)
        overlaps = -(-fft_length // stride)
        sq = numpy.pad(win * win, (0, overlaps * stride - fft_length))
        denom = numpy.tile(sq.reshape(overlaps, stride).sum(axis=0), overlaps)[:fft_length]
        frames = _ar.multiply(frames, win / denom)
    total = fft_length + stride * (count - 1)
    # overlap-add: scatter every frame sample to its position in the signal
    positions = (numpy.arange(count)[:, None] * stride + numpy.arange(fft_length)[None, :]).reshape(-1, 1)
    lead = frames.shape[:-2]
    values = _sh.reshape(frames, lead + (count * fft_length,))
    values = _sh.moveaxis(values, -1, 0)
    signal = _sh.moveaxis(scatter(positions, values, (total,) + lead), 0, -1)
    start = fft_length // 2 if center else 0
    end = total - (fft_length // 2 if center else 0) if length is None else start + int(length)
    out = signal[..., start:end]
    if length is not None and out.shape[-1] < int(length):
        out = _sh.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, int(length) - out.shape[-1])])
    return out


def _segments(op, data, segment_ids, num_segments):
    data = data if isinstance(data, Tensor) else tensor(data)
    ids = numpy.asarray(segment_ids.numpy() if isinstance(segment_ids, Tensor) else segment_ids)
    if ids.ndim != 1 or data.ndim < 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"{op}: segment_ids must be 1-D with one id per row of data; got ids {ids.shape} for data {data.shape}"
        )
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: segment_ids must be integers, got dtype {ids.dtype}")
    n = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    return data, ids, n


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras's argument name
    """The sum of the rows of ``data`` sharing each segment id (ids outside [0, num_segments) are dropped)."""
    data, ids, n = _segments("segment_sum", data, segment_ids, num_segments)
    keep = (ids >= 0) & (ids < n)
    rows = data if keep.all() else getitem(data, keep)
    return scatter(ids[keep][:, None], rows, (n,) + data.shape[1:])


def _segment_reduce(op, reduce, empty, data, segment_ids, num_segments):
    data, ids, n = _segments(op, data, segment_ids, num_segments)
    if data.dtype.kind in "iu" and empty in (numpy.inf, -numpy.inf):
        info = numpy.iinfo(data.dtype)
        empty = info.max if empty > 0 else info.min
    outs = []
    for s in range(n):
        rows = numpy.nonzero(ids == s)[0]
        if rows.size:
            outs.append(reduce(getitem(data, rows), axis=0))
        else:
            outs.append(tensor(numpy.full(data.shape[1:], empty, dtype=data.dtype)))
    if not outs:
        return tensor(numpy.zeros((0,) + data.shape[1:], dtype=data.dtype))
    return _sh.stack(outs, axis=0)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras's argument name
    """The maximum of the rows of ``data`` sharing each segment id (-inf for an empty segment)."""
    return _segment_reduce("segment_max", _rd.max, -numpy.inf, data, segment_ids, num_segments)


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras's argument name
    """The minimum of the rows of ``data`` sharing each segment id (+inf for an empty segment)."""
    return _segment_reduce("segment_min", _rd.min, numpy.inf, data, segment_ids, num_segments)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002 - Keras's argument name
    """The product of the rows of ``data`` sharing each segment id (1 for an empty segment)."""
    return _segment_reduce("segment_prod", _rd.prod, 1, data, segment_ids, num_segments)
