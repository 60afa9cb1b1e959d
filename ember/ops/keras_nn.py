"""Keras 3 ``keras.ops.nn`` names not covered elsewhere: adaptive pooling, depth/space rearrangement,
``unfold``/``fold``, CTC loss and greedy decoding, ``polar``.

All but ``ctc_decode`` are compositions of differentiable Ember ops (``fold`` is
a scatter-add, the adjoint of ``unfold``'s gather; the CTC loss runs the
forward (alpha) recursion in log space, one step per time frame), so they need
no backward code of their own.
"""

from __future__ import annotations

import math

import numpy

from ..backend.config import floatx
from ..backend.keras_api import image_data_format
from ..engine.tensor import Tensor, tensor
from . import activation as _act
from . import arithmetic as _ar
from . import reduction as _rd
from . import shaping as _sh
from .indexing import getitem, take_along_axis
from .keras_core import scatter

__all__ = [
    "adaptive_average_pool",
    "adaptive_max_pool",
    "depth_to_space",
    "space_to_depth",
    "unfold",
    "fold",
    "ctc_loss",
    "ctc_decode",
    "polar",
]

# log-space "minus infinity" that keeps gradients finite (exp(NEG - NEG) = 1, never nan)
_NEG = -1e30


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _float(x) -> Tensor:
    x = _t(x)
    return x if x.dtype.kind == "f" else x.astype(floatx())


def _data_format(op, data_format):
    fmt = image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return fmt


def _adaptive_pool(op, reduce, inputs, output_size, data_format):
    x = _float(inputs)
    fmt = _data_format(op, data_format)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{op}: expected a 3-D, 4-D or 5-D input (batch, spatial..., channels), got {x.shape}")
    sizes = (output_size,) * rank if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != rank:
        raise ValueError(f"{op}: output_size {output_size} must give {rank} sizes for an input of shape {x.shape}")
    first = 1 if fmt == "channels_last" else 2
    # a box reduction is separable: reduce one spatial axis at a time
    for k, out in enumerate(sizes):
        axis = first + k
        n = x.shape[axis]
        pieces = []
        for i in range(int(out)):
            start, end = (i * n) // out, math.ceil((i + 1) * n / out)
            index = (slice(None),) * axis + (slice(start, end),)
            pieces.append(reduce(getitem(x, index), axis=axis, keepdims=True))
        x = _sh.concatenate(pieces, axis=axis)
    return x


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size``; bin i covers [floor(i*n/out), ceil((i+1)*n/out))."""
    return _adaptive_pool("adaptive_average_pool", _rd.mean, inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` with the bins of :func:`adaptive_average_pool`."""
    return _adaptive_pool("adaptive_max_pool", _rd.max, inputs, output_size, data_format)


def depth_to_space(x, block_size, data_format="channels_last"):
    """Channels moved into ``block_size`` x ``block_size`` spatial blocks. (n, h, w, c*b*b) -> (n, h*b, w*b, c)."""
    x = _t(x)
    b = int(block_size)
    if x.ndim != 4:
        raise ValueError(f"depth_to_space: expected a 4-D input, got shape {x.shape}")
    if _data_format("depth_to_space", data_format) == "channels_last":
        n, h, w, c = x.shape
        if c % (b * b):
            raise ValueError(f"depth_to_space: channels {c} must be a multiple of block_size**2 = {b * b}")
        y = _sh.reshape(x, (n, h, w, b, b, c // (b * b)))
        y = _sh.transpose(y, (0, 1, 3, 2, 4, 5))
        return _sh.reshape(y, (n, h * b, w * b, c // (b * b)))
    n, c, h, w = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels {c} must be a multiple of block_size**2 = {b * b}")
    y = _sh.reshape(x, (n, c // (b * b), b, b, h, w))
    y = _sh.transpose(y, (0, 1, 4, 2, 5, 3))
    return _sh.reshape(y, (n, c // (b * b), h * b, w * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Spatial ``block_size`` x ``block_size`` blocks moved into channels: the inverse of depth_to_space."""
    x = _t(x)
    b = int(block_size)
    if x.ndim != 4:
        raise ValueError(f"space_to_depth: expected a 4-D input, got shape {x.shape}")
    if _data_format("space_to_depth", data_format) == "channels_last":
        n, h, w, c = x.shape
        if h % b or w % b:
            raise ValueError(f"space_to_depth: height {h} and width {w} must be multiples of block_size {b}")
        y = _sh.reshape(x, (n, h // b, b, w // b, b, c))
        y = _sh.transpose(y, (0, 1, 3, 2, 4, 5))
        return _sh.reshape(y, (n, h // b, w // b, c * b * b))
    n, c, h, w = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be multiples of block_size {b}")
    y = _sh.reshape(x, (n, c, h // b, b, w // b, b))
    y = _sh.transpose(y, (0, 1, 3, 5, 2, 4))
    return _sh.reshape(y, (n, c * b * b, h // b, w // b))


def _pair(op, name, v):
    v = (v, v) if isinstance(v, int) else tuple(v)
    if len(v) != 2:
        raise ValueError(f"{op}: {name} must be an int or a pair, got {v}")
    return tuple(int(i) for i in v)


def _patch_index(op, h, w, kernel_size, dilation, padding, stride):
    """Row/column index arrays (k, L) into the padded image, and the output grid size."""
    kh, kw = _pair(op, "kernel_size", kernel_size)
    dh, dw = _pair(op, "dilation", dilation)
    ph, pw = _pair(op, "padding", padding)
    sh, sw = _pair(op, "stride", stride)
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{op}: a kernel of {(kh, kw)} does not fit an input of {(h, w)} with padding {(ph, pw)}")
    ki, kj = numpy.meshgrid(numpy.arange(kh) * dh, numpy.arange(kw) * dw, indexing="ij")
    oi, oj = numpy.meshgrid(numpy.arange(oh) * sh, numpy.arange(ow) * sw, indexing="ij")
    rows = ki.reshape(-1, 1) + oi.reshape(1, -1)
    cols = kj.reshape(-1, 1) + oj.reshape(1, -1)
    return rows, cols, (ph, pw), (oh, ow), kh * kw


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels-first image as columns: (n, c, h, w) -> (n, c*kh*kw, L), as torch's unfold."""
    x = _t(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected a 4-D (batch, channels, height, width) input, got shape {x.shape}")
    n, c, h, w = x.shape
    rows, cols, (ph, pw), _, k = _patch_index("unfold", h, w, kernel_size, dilation, padding, stride)
    if ph or pw:
        x = _sh.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    patches = getitem(x, (slice(None), slice(None), rows, cols))  # (n, c, k, L)
    return _sh.reshape(patches, (n, c * k, rows.shape[1]))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns summed back into an image, the adjoint of :func:`unfold`: (n, c*kh*kw, L) -> (n, c, h, w)."""
    x = _t(x)
    if x.ndim != 3:
        raise ValueError(f"fold: expected a 3-D (batch, channels*kernel, blocks) input, got shape {x.shape}")
    h, w = _pair("fold", "output_size", output_size)
    rows, cols, (ph, pw), _, k = _patch_index("fold", h, w, kernel_size, dilation, padding, stride)
    n, ck, blocks = x.shape
    if ck % k or blocks != rows.shape[1]:
        raise ValueError(
            f"fold: input of shape {x.shape} does not match kernel {kernel_size} ({k} positions) "
            f"and {rows.shape[1]} blocks for output {(h, w)}"
        )
    c = ck // k
    cols4 = _sh.reshape(x, (n, c, k, blocks))
    # move (k, L) to the front so scatter indexes the padded image's rows and columns
    values = _sh.transpose(cols4, (2, 3, 0, 1))
    index = numpy.stack([rows, cols], axis=-1)
    image = scatter(index, values, (h + 2 * ph, w + 2 * pw, n, c))
    image = _sh.transpose(image, (2, 3, 0, 1))
    return getitem(image, (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w)))


def _logsumexp3(a, b, c):
    m = _ar.maximum(_ar.maximum(a, b), c).detach()
    from . import elementwise as _el

    total = _ar.add(_ar.add(_el.exp(_ar.subtract(a, m)), _el.exp(_ar.subtract(b, m))), _el.exp(_ar.subtract(c, m)))
    return _ar.add(_el.log(total), m)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC negative log-likelihood per batch element. Shapes: target (b, s) ints, output (b, t, classes) logits.

    ``output`` is normalised with log-softmax; ``mask_index`` is the blank class. Returns (b,).
    """
    logits = _float(output)
    labels = numpy.asarray(target.numpy() if isinstance(target, Tensor) else target).astype(numpy.int64)
    t_len = numpy.asarray(target_length.numpy() if isinstance(target_length, Tensor) else target_length).astype(int)
    o_len = numpy.asarray(output_length.numpy() if isinstance(output_length, Tensor) else output_length).astype(int)
    if logits.ndim != 3 or labels.ndim != 2 or labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"ctc_loss: expected target (batch, max_label_length) and output (batch, time, classes); "
            f"got {labels.shape} and {logits.shape}"
        )
    batch, steps, _ = logits.shape
    s = labels.shape[1]
    width = 2 * s + 1
    blank = int(mask_index)
    ext = numpy.full((batch, width), blank, dtype=numpy.int64)
    ext[:, 1::2] = labels
    # a skip from s-2 to s is allowed onto a label that differs from the label two back
    skip = numpy.zeros((batch, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    log_probs = _act.log_softmax(logits, axis=-1)
    emit = take_along_axis(log_probs, numpy.broadcast_to(ext[:, None, :], (batch, steps, width)), axis=2)
    neg = numpy.float32(_NEG) if logits.dtype == numpy.float32 else _NEG
    start = numpy.full((batch, width), neg, dtype=logits.dtype)
    start[:, :2] = 0.0
    alpha = _ar.add(emit[:, 0, :], start)
    for t in range(1, steps):
        prev1 = _sh.pad(alpha[:, :-1], ((0, 0), (1, 0)), constant_values=neg)
        prev2 = _sh.pad(alpha[:, :-2], ((0, 0), (2, 0)), constant_values=neg)
        prev2 = _ar.where(skip, prev2, neg)
        new = _ar.add(_logsumexp3(alpha, prev1, prev2), emit[:, t, :])
        alpha = _ar.where((t < o_len)[:, None], new, alpha)
    last = (2 * t_len)[:, None]
    ends = take_along_axis(alpha, numpy.concatenate([last, numpy.maximum(last - 1, 0)], axis=1), axis=1)
    # with an empty label only the final blank ends a path
    ends = _ar.where(numpy.stack([numpy.ones(batch, bool), t_len > 0], axis=1), ends, neg)
    m = _rd.max(ends, axis=1, keepdims=True).detach()
    from . import elementwise as _el

    total = _el.log(_rd.sum(_el.exp(_ar.subtract(ends, m)), axis=1))
    return _ar.negative(_ar.add(total, _sh.squeeze(m, 1)))


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Greedy CTC decoding: ``(decoded, log_probabilities)``, decoded (1, batch, time) padded with -1.

    ``inputs`` (batch, time, classes) are unnormalised logits; each frame's best class is kept,
    repeats merged (``merge_repeated``) and blanks (``mask_index``, default the last class) dropped.
    The score is minus the sum of each frame's best logit, as Keras computes it. Beam search is not built.
    """
    if strategy != "greedy":
        raise NotImplementedError(f"ctc_decode: strategy={strategy!r} is not built in Ember; use strategy='greedy'")
    logp = _float(inputs).numpy()
    if mask_index is None:
        mask_index = logp.shape[-1] - 1
    lengths = numpy.asarray(sequence_lengths.numpy() if isinstance(sequence_lengths, Tensor) else sequence_lengths)
    batch, steps, _ = logp.shape
    best = logp.argmax(axis=-1)
    decoded = numpy.full((batch, steps), -1, dtype=numpy.int32)
    scores = numpy.zeros((batch, 1), dtype=logp.dtype)
    for b in range(batch):
        n = int(lengths[b])
        path = best[b, :n]
        scores[b, 0] = -logp[b, numpy.arange(n), path].sum()
        keep = numpy.ones(n, dtype=bool)
        if merge_repeated and n > 1:
            keep[1:] = path[1:] != path[:-1]
        keep &= path != mask_index
        out = path[keep]
        decoded[b, : out.shape[0]] = out
    return tensor(decoded[None]), tensor(scores)


def polar(abs_, angle):
    raise NotImplementedError(
        "polar: Ember has no complex tensors; use (abs_ * cos(angle), abs_ * sin(angle)) as a (real, imag) pair"
    )


# ``keras.ops.gelu`` and ``keras.ops.binary_crossentropy`` differ from Ember's engine functions of the same
# name (``ember.gelu`` defaults to the exact form, ``ember.binary_crossentropy`` is the per-sample loss of
# ``keras.losses``); ``ember.ops.nn`` gives Keras's ops versions under the Keras names.


def keras_gelu(x, approximate=True):
    """``keras.ops.gelu``: the tanh approximation unless ``approximate=False``."""
    return _act.gelu(x, approximate=approximate)


def keras_binary_crossentropy(target, output, from_logits=False):
    """``keras.ops.binary_crossentropy``: the elementwise loss (no reduction). Shapes: as ``target``."""
    from . import elementwise as _el

    t, o = _float(target), _float(output)
    if t.shape != o.shape:
        raise ValueError(f"binary_crossentropy: target {t.shape} and output {o.shape} must have one shape")
    if from_logits:
        # log(1 + exp(-|o|)) + max(o, 0) - o * t, stable for large |o|
        return _ar.add(
            _ar.subtract(_ar.maximum(o, 0.0), _ar.multiply(o, t)), _el.log1p(_el.exp(_ar.negative(_el.abs(o))))
        )
    from ..backend.config import epsilon

    eps = epsilon()
    o = _ar.clip(o, eps, 1.0 - eps)
    return _ar.negative(
        _ar.add(_ar.multiply(t, _el.log(o)), _ar.multiply(_ar.subtract(1.0, t), _el.log(_ar.subtract(1.0, o))))
    )


def keras_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``keras.ops.categorical_crossentropy``: the crossentropy per sample, ``axis`` reduced."""
    from .loss import categorical_crossentropy

    return categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def keras_sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``keras.ops.sparse_categorical_crossentropy``: the crossentropy per sample from integer labels."""
    from .loss import sparse_categorical_crossentropy

    return sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)
