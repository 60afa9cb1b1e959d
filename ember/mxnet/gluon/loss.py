# ruff: noqa: N802, N803, N812, A002  (MXNet's own names: F, T, N, ord)
"""``gluon.loss``: MXNet's losses. Each returns one value per sample: the elementwise loss, times
``sample_weight`` (broadcast) and the scalar ``weight``, averaged over every axis except ``batch_axis``."""

from __future__ import annotations

import numpy as np

import ember

from .. import nd as F
from ..ndarray import _nd
from .block import HybridBlock


def _apply_weighting(loss, weight=None, sample_weight=None):
    if sample_weight is not None:
        loss = loss * sample_weight
    if weight is not None:
        if not np.isscalar(weight):
            raise TypeError(f"loss: weight must be a number, got {type(weight).__name__}")
        loss = loss * weight
    return loss


def _reshape_like(label, pred):
    if not isinstance(label, ember.Tensor):
        label = F.array(label)
    if label.size != pred.size:
        raise ValueError(f"loss: label of shape {label.shape} cannot be reshaped to the prediction's {pred.shape}")
    return ember.reshape(label, pred.shape)


class Loss(HybridBlock):
    """Base: ``weight`` scales the loss; ``batch_axis`` is the axis kept in the output."""

    def __init__(self, weight, batch_axis, **kwargs):
        super().__init__(**kwargs)
        self._weight, self._batch_axis = weight, batch_axis

    def _alias(self):
        return type(self).__name__.lower()

    def _per_sample(self, loss):
        return F.mean(_nd(loss), axis=self._batch_axis, exclude=True)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        """The built-in losses: ``elementwise`` then the mean over every axis but ``batch_axis``.
        A custom loss overrides this (MXNet's way) and returns what it likes."""
        return self._per_sample(self.elementwise(pred, label, sample_weight))


class L2Loss(Loss):
    """``weight / 2 * (label - pred)^2`` (weight 1: half the squared error)."""

    def __init__(self, weight=1.0, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def elementwise(self, pred, label, sample_weight):
        loss = ember.square(_reshape_like(label, pred) - pred)
        return _apply_weighting(loss, self._weight / 2, sample_weight)


class L1Loss(Loss):
    """``weight * |label - pred|``."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def elementwise(self, pred, label, sample_weight):
        loss = ember.abs(_reshape_like(label, pred) - pred)
        return _apply_weighting(loss, self._weight, sample_weight)


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy on logits (the stable form ``max(x, 0) - x*z + log(1 + exp(-|x|))``), or on
    probabilities when ``from_sigmoid=True`` (with MXNet's 1e-12 inside the logs)."""

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def elementwise(self, pred, label, sample_weight):
        label = _reshape_like(label, pred)
        if not self._from_sigmoid:
            loss = ember.relu(pred) - pred * label + ember.softplus(-ember.abs(pred))
        else:
            eps = 1e-12
            loss = -(ember.log(pred + eps) * label + ember.log(1.0 - pred + eps) * (1.0 - label))
        return _apply_weighting(loss, self._weight, sample_weight)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


class SoftmaxCrossEntropyLoss(Loss):
    """Cross-entropy of ``log_softmax(pred, axis)`` (or ``pred`` itself when ``from_logits=True``: already
    log-probabilities) with integer labels (``sparse_label=True``) or a distribution over ``axis``."""

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis, self._sparse, self._from_logits = axis, sparse_label, from_logits

    def elementwise(self, pred, label, sample_weight):
        logp = pred if self._from_logits else ember.log_softmax(pred, self._axis)
        if self._sparse:
            loss = -F.pick(_nd(logp), label, axis=self._axis, keepdims=True)
        else:
            label = _reshape_like(label, pred)
            loss = -ember.sum(logp * label, axis=self._axis, keepdims=True)
        return _apply_weighting(loss, self._weight, sample_weight)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class KLDivLoss(Loss):
    """``label * (log(label + 1e-12) - pred)`` with ``pred`` log-probabilities (``from_logits=True``)."""

    def __init__(self, from_logits=True, axis=-1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits, self._axis = from_logits, axis

    def elementwise(self, pred, label, sample_weight):
        if not self._from_logits:
            pred = ember.log_softmax(pred, self._axis)
        loss = label * (ember.log(label + 1e-12) - pred)
        return _apply_weighting(loss, self._weight, sample_weight)


class HuberLoss(Loss):
    """``|d| - rho/2`` where ``|d| > rho``, else ``d^2 / (2 rho)``, with d = label - pred."""

    def __init__(self, rho=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._rho = rho

    def elementwise(self, pred, label, sample_weight):
        d = ember.abs(_reshape_like(label, pred) - pred)
        loss = ember.where(ember.greater(d, self._rho), d - 0.5 * self._rho, (0.5 / self._rho) * ember.square(d))
        return _apply_weighting(loss, self._weight, sample_weight)


class HingeLoss(Loss):
    """``max(0, margin - pred * label)`` with labels -1 / 1."""

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def elementwise(self, pred, label, sample_weight):
        loss = ember.relu(self._margin - pred * _reshape_like(label, pred))
        return _apply_weighting(loss, self._weight, sample_weight)


class SquaredHingeLoss(HingeLoss):
    """``max(0, margin - pred * label)^2`` with labels -1 / 1."""

    def elementwise(self, pred, label, sample_weight):
        loss = ember.square(ember.relu(self._margin - pred * _reshape_like(label, pred)))
        return _apply_weighting(loss, self._weight, sample_weight)


class LogisticLoss(Loss):
    """Binary logistic loss on logits, ``log(1 + exp(-pred * label))`` for labels -1 / 1 (``label_format='signed'``)
    or 0 / 1 (``'binary'``), in the stable form ``max(x, 0) - x * z + log(1 + exp(-|x|))``."""

    def __init__(self, weight=None, batch_axis=0, label_format="signed", **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if label_format not in ("signed", "binary"):
            raise ValueError(f"LogisticLoss: label_format must be 'signed' or 'binary', got {label_format!r}")
        self._label_format = label_format

    def elementwise(self, pred, label, sample_weight):
        label = _reshape_like(label, pred)
        if self._label_format == "signed":
            label = (label + 1.0) / 2.0
        loss = ember.relu(pred) - pred * label + ember.softplus(-ember.abs(pred))
        return _apply_weighting(loss, self._weight, sample_weight)


class TripletLoss(Loss):
    """``max(0, sum(|positive - pred|^2 - |negative - pred|^2) + margin)`` over every axis but ``batch_axis``."""

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, positive, negative, sample_weight=None):
        positive, negative = _reshape_like(positive, pred), _reshape_like(negative, pred)
        gap = ember.square(positive - pred) - ember.square(negative - pred)
        loss = F.sum(_nd(gap), axis=self._batch_axis, exclude=True)
        return _nd(_apply_weighting(ember.relu(loss + self._margin), self._weight, None))


class CosineEmbeddingLoss(Loss):
    """``1 - cos(input1, input2)`` for label 1, ``max(0, cos - margin)`` for label -1; one value per sample,
    shape (N, 1) as MXNet (cosine over the last axis, the norms' product floored at 1e-12)."""

    def __init__(self, weight=None, batch_axis=0, margin=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, input1, input2, label, sample_weight=None):
        input1 = _reshape_like(input1, input2)
        label = ember.reshape(label if isinstance(label, ember.Tensor) else F.array(label), (-1, 1))
        norms = ember.reshape(
            ember.sqrt(ember.sum(input1 * input1, axis=-1)) * ember.sqrt(ember.sum(input2 * input2, axis=-1)),
            (-1, 1),
        )
        dot = ember.reshape(ember.sum(input1 * input2, axis=-1), (-1, 1))
        cos = dot / ember.maximum(norms, 1e-12)
        positive = ember.cast(ember.equal(label, 1), cos.dtype)
        negative = ember.cast(ember.equal(label, -1), cos.dtype)
        loss = (1 - cos) * positive + ember.maximum(negative * (cos - self._margin), 0.0)
        return _nd(_apply_weighting(loss, self._weight, sample_weight))


class PoissonNLLLoss(Loss):
    """Poisson negative log-likelihood: ``exp(pred) - target * pred`` (``from_logits=True``) or
    ``pred - target * log(pred + epsilon)``; ``compute_full`` adds Stirling's term where target > 1. Returns the
    mean over every element (one number), as MXNet."""

    def __init__(self, weight=None, from_logits=True, batch_axis=0, compute_full=False, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits, self._compute_full = from_logits, compute_full

    def hybrid_forward(self, F, pred, target, sample_weight=None, epsilon=1e-08):
        target = _reshape_like(target, pred)
        if self._from_logits:
            loss = ember.exp(pred) - target * pred
        else:
            loss = pred - target * ember.log(pred + epsilon)
        if self._compute_full:
            above = ember.greater(target, 1)
            t = ember.where(above, target, 1.0)  # the term is used only above 1: no log(0) warnings below
            stirling = t * ember.log(t) - t + 0.5 * ember.log(2 * t * np.pi)
            loss = loss + ember.where(above, stirling, 0.0)
        loss = _apply_weighting(loss, self._weight, sample_weight)
        return F.mean(_nd(loss))  # shape (1,), as MXNet


class CTCLoss(Loss):
    """Connectionist temporal classification loss per sample, as MXNet's Gluon CTCLoss: ``pred`` unnormalised
    scores (``layout`` 'NTC' or 'TNC'), ``label`` class indices (``label_layout`` 'NT' or 'TN') padded with -1,
    the blank the last class (MXNet's ``blank_label='last'``); optional ``pred_lengths`` / ``label_lengths``
    (else every step counts, and each label runs to its first -1)."""

    def __init__(self, layout="NTC", label_layout="NT", weight=None, **kwargs):
        if layout not in ("NTC", "TNC"):
            raise ValueError(f"CTCLoss: layout must be 'NTC' or 'TNC', got {layout!r}")
        if label_layout not in ("NT", "TN"):
            raise ValueError(f"CTCLoss: label_layout must be 'NT' or 'TN', got {label_layout!r}")
        self._layout, self._label_layout = layout, label_layout
        super().__init__(weight, label_layout.find("N"), **kwargs)

    def hybrid_forward(self, F, pred, label, pred_lengths=None, label_lengths=None, sample_weight=None):
        if self._layout == "TNC":
            pred = ember.swapaxes(pred, 0, 1)
        labels = np.asarray(label.numpy() if isinstance(label, ember.Tensor) else label)
        if self._label_layout == "TN":
            labels = labels.T
        labels = labels.astype(np.int64)
        n, steps, classes = pred.shape
        if label_lengths is None:
            padded = labels < 0
            label_len = np.where(padded.any(axis=1), padded.argmax(axis=1), labels.shape[1])
        else:
            label_len = np.asarray(label_lengths.numpy() if isinstance(label_lengths, ember.Tensor) else label_lengths)
        if pred_lengths is None:
            pred_len = np.full(n, steps)
        else:
            pred_len = np.asarray(pred_lengths.numpy() if isinstance(pred_lengths, ember.Tensor) else pred_lengths)
        loss = ember.ctc_loss(
            np.maximum(labels, 0), pred, label_len.astype(np.int64), pred_len.astype(np.int64), classes - 1
        )
        return _nd(_apply_weighting(loss, self._weight, sample_weight))
