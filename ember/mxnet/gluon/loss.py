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
