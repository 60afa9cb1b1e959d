"""Higher-order gradients: ``backward(create_graph=True)`` and ``ember.grad``, op family by op family.

Each case differentiates twice: g = d(w . f(x))/dx with create_graph=True, then
h = d(v . g)/dx (a Hessian-vector product of the weighted output). Checked
against ``torch.autograd.grad(..., create_graph=True)`` in float32 and against
central differences of the first gradient in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracles import Const, assert_close

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests; pip install it")
F = torch.nn.functional
rng = np.random.default_rng(0)


def _normal(*shape):
    return rng.standard_normal(shape)


def _positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(*shape):
    """Values with |x| in [0.3, 2]: clear of the kinks of relu, abs, max, ..."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _distinct(*shape):
    """A random permutation of well-separated values: no ties for max/min."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


def _bn_train_terms(y, mean, var):
    """All three outputs of training batch norm in one tensor, each one weighted differently."""
    return y * y + mean * var + var


# the mask ember.dropout(rate 0.5, seed 3) draws for a (3, 4) input, for the torch side of the dropout case
_DROPOUT_MASK = ember.dropout(ember.tensor(np.ones((3, 4))), 0.5, seed=3).numpy()


def _onehot(n, k):
    return np.eye(k)[rng.integers(0, k, n)]


# name -> (ember fn, torch fn, arrays); fns take one tensor per array and return a tensor
CASES = {
    # arithmetic
    "add": (lambda a, b: a + b * a, lambda a, b: a + b * a, [_normal(3, 4), _normal(4)]),
    "subtract": (lambda a, b: (a - b) * (a - b), lambda a, b: (a - b) * (a - b), [_normal(3, 4), _normal(3, 1)]),
    "multiply": (lambda a, b: a * b * a, lambda a, b: a * b * a, [_normal(2, 3), _normal(2, 3)]),
    "divide": (lambda a, b: a / b, lambda a, b: a / b, [_normal(2, 3), _positive(2, 3)]),
    "negative": (lambda a: -(a * a), lambda a: -(a * a), [_normal(5)]),
    "power": (lambda a, b: a**b, lambda a, b: a**b, [_positive(2, 3), _normal(2, 3)]),
    "power_scalar": (lambda a: a**3, lambda a: a**3, [_normal(4)]),
    "matmul": (lambda a, b: (a @ b) * (a @ b), lambda a, b: (a @ b) * (a @ b), [_normal(3, 4), _normal(4, 2)]),
    "matmul_vector": (lambda a, b: (a @ b) ** 2, lambda a, b: (a @ b) ** 2, [_normal(2, 3, 4), _normal(4)]),
    "maximum": (
        lambda a, b: ember.maximum(a, b) * a,
        lambda a, b: torch.maximum(a, b) * a,
        [_away_from_zero(6), _away_from_zero(6)],
    ),
    "where_clip": (
        lambda a: ember.where(a > 0, a * a, ember.clip(a, -1.0, 1.0) * a),
        lambda a: torch.where(a > 0, a * a, torch.clamp(a, -1.0, 1.0) * a),
        [_away_from_zero(8)],
    ),
    "divide_no_nan": (
        lambda a, b, m: ember.divide_no_nan(a, b * m) * a,
        lambda a, b, m: torch.where(b * m == 0, 0.0, a / torch.where(b * m == 0, 1.0, b * m)) * a,
        [_normal(6), _positive(6), Const(np.array([1.0, 0.0, -1.0, 2.0, 0.0, 1.5]))],
    ),
    # elementwise math
    "exp": (ember.exp, torch.exp, [_normal(2, 3)]),
    "log": (ember.log, torch.log, [_positive(2, 3)]),
    "log1p": (ember.log1p, torch.log1p, [_positive(5)]),
    "sqrt": (ember.sqrt, torch.sqrt, [_positive(2, 3)]),
    "rsqrt": (ember.rsqrt, torch.rsqrt, [_positive(5)]),
    "reciprocal": (ember.reciprocal, torch.reciprocal, [_positive(5)]),
    "square": (ember.square, torch.square, [_normal(5)]),
    "abs": (lambda a: ember.abs(a) * a, lambda a: torch.abs(a) * a, [_away_from_zero(6)]),
    "sin": (ember.sin, torch.sin, [_normal(5)]),
    "cos": (ember.cos, torch.cos, [_normal(5)]),
    "tan": (ember.tan, torch.tan, [rng.uniform(-1, 1, 5)]),
    "arctan": (ember.arctan, torch.atan, [_normal(5)]),
    "sinh_cosh": (lambda a: ember.sinh(a) * ember.cosh(a), lambda a: torch.sinh(a) * torch.cosh(a), [_normal(5)]),
    # activations
    "tanh": (ember.tanh, torch.tanh, [_normal(2, 3)]),
    "sigmoid": (ember.sigmoid, torch.sigmoid, [_normal(2, 3)]),
    "relu": (lambda a: ember.relu(a) * a, lambda a: torch.relu(a) * a, [_away_from_zero(8)]),
    "leaky_relu": (
        lambda a: ember.leaky_relu(a, 0.1) * a,
        lambda a: F.leaky_relu(a, 0.1) * a,
        [_away_from_zero(8)],
    ),
    "elu": (ember.elu, F.elu, [_away_from_zero(8)]),
    "selu": (ember.selu, F.selu, [_away_from_zero(8)]),
    "gelu": (ember.gelu, F.gelu, [_normal(8)]),
    "gelu_tanh": (
        lambda a: ember.gelu(a, approximate=True),
        lambda a: F.gelu(a, approximate="tanh"),
        [_normal(8)],
    ),
    "softplus": (ember.softplus, F.softplus, [_normal(8)]),
    "log_sigmoid": (ember.log_sigmoid, F.logsigmoid, [_normal(8)]),
    "silu": (ember.silu, F.silu, [_normal(8)]),
    "softsign": (ember.softsign, F.softsign, [_away_from_zero(8)]),
    "mish": (ember.mish, F.mish, [_normal(8)]),
    "softmax": (lambda a: ember.softmax(a, axis=-1), lambda a: torch.softmax(a, -1), [_normal(3, 5)]),
    "softmax_axis0": (lambda a: ember.softmax(a, axis=0), lambda a: torch.softmax(a, 0), [_normal(3, 5)]),
    "log_softmax": (lambda a: ember.log_softmax(a), lambda a: torch.log_softmax(a, -1), [_normal(3, 5)]),
    # reductions
    "sum": (lambda a: a.sum(axis=1) ** 2, lambda a: a.sum(dim=1) ** 2, [_normal(3, 4)]),
    "sum_keepdims": (
        lambda a: a * a.sum(axis=0, keepdims=True),
        lambda a: a * a.sum(dim=0, keepdim=True),
        [_normal(3, 4)],
    ),
    "mean": (lambda a: a.mean(axis=(0, 2)) ** 2, lambda a: a.mean(dim=(0, 2)) ** 2, [_normal(2, 3, 4)]),
    "max": (lambda a: a.max(axis=1) ** 2, lambda a: a.amax(dim=1) ** 2, [_distinct(3, 4)]),
    "min": (lambda a: a.min(axis=0) * a.min(), lambda a: a.amin(dim=0) * a.amin(), [_distinct(3, 4)]),
    "logsumexp": (
        lambda a: ember.logsumexp(a, axis=-1) ** 2,
        lambda a: torch.logsumexp(a, -1) ** 2,
        [_normal(3, 4)],
    ),
    "var": (lambda a: a.var(axis=1), lambda a: a.var(dim=1, unbiased=False), [_normal(3, 5)]),
    "std": (lambda a: a.std(axis=0, ddof=1), lambda a: a.std(dim=0, unbiased=True), [_normal(4, 3)]),
    "prod": (lambda a: a.prod(axis=1), lambda a: a.prod(dim=1), [_away_from_zero(3, 4)]),
    "cumprod": (lambda a: ember.cumprod(a, axis=1), lambda a: torch.cumprod(a, 1), [_away_from_zero(3, 4)]),
    "cumsum": (lambda a: ember.cumsum(a, axis=1) ** 2, lambda a: torch.cumsum(a, 1) ** 2, [_normal(3, 4)]),
    # shape and indexing
    "reshape_transpose": (
        lambda a: (a.reshape(4, 3).T * a.reshape(3, 4)) ** 2,
        lambda a: (a.reshape(4, 3).T * a.reshape(3, 4)) ** 2,
        [_normal(2, 6)],
    ),
    "broadcast_to": (
        lambda a: ember.broadcast_to(a, (3, 4)) ** 3,
        lambda a: torch.broadcast_to(a, (3, 4)) ** 3,
        [_normal(4)],
    ),
    "concatenate": (
        lambda a, b: ember.concatenate([a, b * a], axis=1) ** 2,
        lambda a, b: torch.cat([a, b * a], 1) ** 2,
        [_normal(2, 3), _normal(2, 3)],
    ),
    "stack": (
        lambda a, b: ember.stack([a * b, b], axis=1) ** 2,
        lambda a, b: torch.stack([a * b, b], 1) ** 2,
        [_normal(2, 3), _normal(2, 3)],
    ),
    "split": (
        lambda a: ember.split(a, [1, 3], axis=1)[0] * ember.split(a, [1, 3], axis=1)[2],
        lambda a: torch.split(a, [1, 2, 1], 1)[0] * torch.split(a, [1, 2, 1], 1)[2],
        [_normal(3, 4)],
    ),
    "getitem": (
        lambda a: a[1:, ::2] * a[:-1, 1::2],
        lambda a: a[1:, ::2] * a[:-1, 1::2],
        [_normal(3, 4)],
    ),
    "getitem_repeats": (
        lambda a: a[np.array([0, 2, 0])] ** 2,
        lambda a: a[torch.tensor([0, 2, 0])] ** 2,
        [_normal(3, 2)],
    ),
    "pad": (
        lambda a: ember.pad(a * a, ((1, 0), (0, 2))),
        lambda a: F.pad(a * a, (0, 2, 1, 0)),
        [_normal(2, 3)],
    ),
    "pad_reflect": (
        lambda a: ember.pad(a * a, ((0, 0), (2, 1)), mode="reflect"),
        lambda a: F.pad((a * a)[None], (2, 1), mode="reflect")[0],
        [_normal(2, 4)],
    ),
    "expand_squeeze_flip": (
        lambda a: ember.flip(ember.squeeze(ember.expand_dims(a * a, 0), 0), 1),
        lambda a: torch.flip((a * a)[None].squeeze(0), [1]),
        [_normal(2, 3)],
    ),
    "take": (
        lambda a: ember.take(a * a, np.array([2, 0, 2]), axis=1),
        lambda a: (a * a)[:, [2, 0, 2]],
        [_normal(2, 3)],
    ),
    "repeat_tile": (
        lambda a: ember.tile(ember.repeat(a * a, 2, axis=0), (1, 2)),
        lambda a: torch.tile(torch.repeat_interleave(a * a, 2, 0), (1, 2)),
        [_normal(2, 3)],
    ),
    "cast": (lambda a: (a * a).astype("float64").astype(a.dtype), lambda a: (a * a).double().to(a.dtype), [_normal(4)]),
    # losses
    "mse": (
        lambda t, p: ember.mean_squared_error(t, p * p),
        lambda t, p: ((t - p * p) ** 2).mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "mae": (
        lambda t, p: ember.mean_absolute_error(t, p * p),
        lambda t, p: (t - p * p).abs().mean(-1),
        [Const(_normal(3, 4) + 5.0), _normal(3, 4)],
    ),
    "mape": (
        lambda t, p: ember.mean_absolute_percentage_error(t, p * p),
        lambda t, p: 100 * ((t - p * p) / t.abs()).abs().mean(-1),
        [_positive(3, 4) + 2.0, _normal(3, 4)],
    ),
    "msle": (
        lambda t, p: ember.mean_squared_logarithmic_error(t, p * p),
        lambda t, p: ((torch.log(p * p + 1) - torch.log(t + 1)) ** 2).mean(-1),
        [_positive(3, 4), _away_from_zero(3, 4)],
    ),
    "huber": (
        lambda t, p: ember.huber(t, p * p, delta=1.0),
        lambda t, p: F.huber_loss(p * p, t, reduction="none", delta=1.0).mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "log_cosh": (
        lambda t, p: ember.log_cosh(t, p * p),
        lambda t, p: torch.log(torch.cosh(p * p - t)).mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "poisson": (
        lambda t, p: ember.poisson(t, p * p + 0.5),
        lambda t, p: (p * p + 0.5 - t * torch.log(p * p + 0.5 + 1e-7)).mean(-1),
        [_positive(3, 4), _normal(3, 4)],
    ),
    "kl_divergence": (
        lambda t, p: ember.kl_divergence(t, ember.softmax(p)),
        lambda t, p: (t * torch.log(t / torch.softmax(p, -1))).sum(-1),
        [rng.dirichlet(np.full(4, 5.0), 3), _normal(3, 4)],  # no tiny t: FD of 1/t^2 terms stays accurate
    ),
    "squared_hinge": (
        lambda t, p: ember.squared_hinge(t, p * p),
        lambda t, p: (torch.clamp(1 - (2 * t - 1) * p * p, min=0) ** 2).mean(-1),
        [Const(rng.integers(0, 2, (3, 4)).astype(float)), _normal(3, 4) * 0.5],
    ),
    "categorical_hinge": (
        lambda t, p: ember.categorical_hinge(t, p * p),
        lambda t, p: torch.clamp(((1 - t) * p * p).amax(-1) - (t * p * p).sum(-1) + 1, min=0),
        [Const(_onehot(4, 3)), _normal(4, 3)],
    ),
    "cosine_similarity": (
        lambda t, p: ember.cosine_similarity(t * t, p),
        lambda t, p: -F.cosine_similarity(t * t, p, dim=-1, eps=0),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "cce_logits": (
        lambda t, z: ember.categorical_crossentropy(t, z, from_logits=True),
        lambda t, z: F.cross_entropy(z, t, reduction="none"),
        [Const(_onehot(4, 5)), _normal(4, 5)],
    ),
    "cce_logits_smoothing": (
        lambda t, z: ember.categorical_crossentropy(t, z, from_logits=True, label_smoothing=0.1),
        lambda t, z: F.cross_entropy(z, t, reduction="none", label_smoothing=0.1),
        [Const(_onehot(4, 5)), _normal(4, 5)],
    ),
    "cce_soft_targets": (
        lambda t, z: ember.categorical_crossentropy(ember.softmax(t), z, from_logits=True),
        lambda t, z: F.cross_entropy(z, torch.softmax(t, -1), reduction="none"),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "sparse_cce_logits": (
        lambda y, z: ember.sparse_categorical_crossentropy(y, z, from_logits=True),
        lambda y, z: F.cross_entropy(z, y, reduction="none"),
        [Const(np.array([0, 3, 1, 4])), _normal(4, 5)],
    ),
    "bce_logits": (
        lambda t, z: ember.binary_crossentropy(t, z, from_logits=True),
        lambda t, z: F.binary_cross_entropy_with_logits(z, t, reduction="none").mean(-1),
        [Const(rng.integers(0, 2, (3, 4)).astype(float)), _normal(3, 4)],
    ),
    "bce_logits_targets": (
        lambda t, z: ember.binary_crossentropy(ember.sigmoid(t), z * z, from_logits=True),
        lambda t, z: F.binary_cross_entropy_with_logits(z * z, torch.sigmoid(t), reduction="none").mean(-1),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "cce_probabilities": (
        lambda t, p: ember.categorical_crossentropy(t, p * p + 0.1),
        lambda t, p: -(t * torch.log((p * p + 0.1) / (p * p + 0.1).sum(-1, keepdim=True))).sum(-1),
        [Const(_onehot(3, 4) * 0.8 + 0.05), _normal(3, 4)],
    ),
    "sparse_cce_probabilities": (
        lambda y, p: ember.sparse_categorical_crossentropy(y, p * p + 0.1),
        lambda y, p: -torch.log((p * p + 0.1) / (p * p + 0.1).sum(-1, keepdim=True))[torch.arange(4), y],
        [Const(np.array([0, 3, 1, 2])), _normal(4, 4)],
    ),
    "bce_probabilities": (
        lambda t, z: ember.binary_crossentropy(t, ember.sigmoid(z)),
        lambda t, z: F.binary_cross_entropy(torch.sigmoid(z), t, reduction="none").mean(-1),
        [Const(rng.integers(0, 2, (3, 4)).astype(float)), _normal(3, 4)],
    ),
    "bce_probabilities_soft_targets": (
        lambda t, z: ember.binary_crossentropy(ember.sigmoid(t), ember.sigmoid(z * z), label_smoothing=0.1),
        lambda t, z: F.binary_cross_entropy(torch.sigmoid(z * z), torch.sigmoid(t) * 0.9 + 0.05, reduction="none").mean(
            -1
        ),
        [_normal(3, 4), _normal(3, 4)],
    ),
    "dropout": (
        lambda x: ember.dropout(x * x, 0.5, seed=3),
        lambda x: x * x * torch.tensor(_DROPOUT_MASK, dtype=x.dtype),
        [_normal(3, 4)],
    ),
    # normalization
    "batch_norm_inference": (
        lambda x, m, v, b, g: ember.batch_norm(x, m, v * v + 0.5, offset=b, scale=g) ** 2,
        lambda x, m, v, b, g: ((x - m) / torch.sqrt(v * v + 0.5 + 1e-3) * g + b) ** 2,
        [_normal(4, 3), _normal(3), _normal(3), _normal(3), _normal(3)],
    ),
    "batch_norm_train": (
        lambda x, g, b: _bn_train_terms(*ember.batch_norm_train(x * x, g, b)),
        lambda x, g, b: _bn_train_terms(
            F.batch_norm(x * x, None, None, g, b, training=True, eps=1e-3), (x * x).mean(0), (x * x).var(0, False)
        ),
        [_normal(5, 3), _normal(3), _normal(3)],
    ),
    "batch_norm_train_plain": (
        lambda x: ember.batch_norm_train(x, axis=1)[0] ** 3,
        lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3) ** 3,
        [_normal(3, 2, 4)],
    ),
    "layer_norm": (
        lambda x, g, b: ember.layer_norm(x, g, b, epsilon=1e-3) ** 2,
        lambda x, g, b: F.layer_norm(x, (4,), g, b, eps=1e-3) ** 2,
        [_normal(3, 4), _normal(4), _normal(4)],
    ),
    "layer_norm_plain_two_axes": (
        lambda x: ember.layer_norm(x * x, axis=(1, 2), epsilon=1e-3) ** 3,
        lambda x: F.layer_norm(x * x, (2, 3), eps=1e-3) ** 3,
        [_normal(2, 2, 3)],
    ),
    # convolutions
    "conv2d_same_strided": (
        lambda x, k: ember.tanh(ember.conv2d(x, k, strides=2, padding="same")),
        lambda x, k: torch.tanh(F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=2, padding=1)).permute(
            0, 2, 3, 1
        ),
        [_normal(2, 5, 5, 2), _normal(3, 3, 2, 3) * 0.5],
    ),
    "conv2d_valid_dilated": (
        lambda x, k: ember.conv2d(x, k, dilation_rate=2) ** 2,
        lambda x, k: F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), dilation=2).permute(0, 2, 3, 1) ** 2,
        [_normal(1, 6, 6, 2), _normal(2, 2, 2, 3) * 0.5],
    ),
    "conv2d_pointwise": (
        lambda x, k: ember.conv2d(x, k) ** 2,
        lambda x, k: F.conv2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1)).permute(0, 2, 3, 1) ** 2,
        [_normal(2, 3, 3, 4), _normal(1, 1, 4, 2)],
    ),
    "depthwise_conv2d": (
        lambda x, k: ember.depthwise_conv2d(x, k, strides=1, padding="same") ** 2,
        lambda x, k: (
            F.conv2d(x.permute(0, 3, 1, 2), k.permute(2, 3, 0, 1).reshape(4, 1, 3, 3), padding=1, groups=2).permute(
                0, 2, 3, 1
            )
            ** 2
        ),
        [_normal(2, 4, 4, 2), _normal(3, 3, 2, 2) * 0.5],
    ),
    "conv2d_transpose": (
        lambda x, k: ember.tanh(ember.conv2d_transpose(x, k, strides=2)),
        lambda x, k: torch.tanh(F.conv_transpose2d(x.permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=2)).permute(
            0, 2, 3, 1
        ),
        [_normal(2, 3, 3, 2), _normal(3, 3, 3, 2) * 0.5],
    ),
    "conv2d_transpose_same": (
        lambda x, k: ember.conv2d_transpose(x * x, k, strides=2, padding="same"),
        lambda x, k: F.conv_transpose2d((x * x).permute(0, 3, 1, 2), k.permute(3, 2, 0, 1), stride=2)[
            :, :, :6, :6
        ].permute(0, 2, 3, 1),
        [_normal(1, 3, 3, 2), _normal(3, 3, 2, 2) * 0.5],
    ),
    "conv1d_same": (
        lambda x, k: ember.sigmoid(ember.conv1d(x, k, padding="same")),
        lambda x, k: torch.sigmoid(F.conv1d(F.pad(x.permute(0, 2, 1), (1, 1)), k.permute(2, 1, 0)).permute(0, 2, 1)),
        [_normal(2, 6, 2), _normal(3, 2, 3) * 0.5],
    ),
    # pooling
    "max_pool2d": (
        lambda x: ember.max_pool2d(x * x, 2),
        lambda x: F.max_pool2d((x * x).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1),
        [_distinct(2, 4, 4, 2)],
    ),
    "max_pool2d_overlapping_same": (
        lambda x: ember.max_pool2d(x, 3, strides=2, padding="same") ** 2,
        lambda x: F.max_pool2d(F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), value=-1e9), 3, 2).permute(0, 2, 3, 1) ** 2,
        [_distinct(1, 5, 5, 2)],
    ),
    "max_pool1d": (
        lambda x: ember.max_pool1d(x, 2) ** 2,
        lambda x: F.max_pool1d(x.permute(0, 2, 1), 2).permute(0, 2, 1) ** 2,
        [_distinct(2, 6, 3)],
    ),
    "avg_pool2d": (
        lambda x: ember.avg_pool2d(x * x, 2),
        lambda x: F.avg_pool2d((x * x).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1),
        [_normal(2, 4, 4, 2)],
    ),
    "avg_pool2d_overlapping": (
        lambda x: ember.avg_pool2d(x, 3, strides=1) ** 2,
        lambda x: F.avg_pool2d(x.permute(0, 3, 1, 2), 3, 1).permute(0, 2, 3, 1) ** 2,
        [_normal(1, 5, 5, 2)],
    ),
    "embedding": (
        lambda i, w: ember.tanh(ember.embedding(i, w * w)),
        lambda i, w: torch.tanh(F.embedding(i, w * w)),
        [Const(np.array([[0, 2, 2], [3, 0, 1]])), _normal(4, 3)],
    ),
    # a dense layer: tanh(x W + b) and a softmax classifier on top
    "dense_stack": (
        lambda x, w, b, v: ember.log_softmax(ember.tanh(x @ w + b) @ v),
        lambda x, w, b, v: torch.log_softmax(torch.tanh(x @ w + b) @ v, -1),
        [_normal(4, 3), _normal(3, 5) * 0.5, _normal(5) * 0.1, _normal(5, 2)],
    ),
}


def _ember_double(fn, arrays, dtype, weights, vs):
    xs = []
    for a in arrays:
        if isinstance(a, Const):
            xs.append(ember.tensor(a.array, dtype=a.array.dtype if a.array.dtype.kind != "f" else dtype))
        else:
            xs.append(ember.tensor(a, dtype=dtype, requires_grad=True))
    wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
    out = fn(*xs)
    loss = (out * ember.tensor(weights, dtype=dtype)).sum()
    grads = ember.grad(loss, wrt, create_graph=True)
    for g in grads:
        assert g.requires_grad, "create_graph=True must give gradients with a graph"
    second = sum((g * ember.tensor(v, dtype=dtype)).sum() for g, v in zip(grads, vs))
    hvp = ember.grad(second, wrt, allow_unused=True)
    hvp = [np.zeros(x.shape) if h is None else h.numpy() for x, h in zip(wrt, hvp)]
    return [g.numpy() for g in grads], hvp


def _torch_double(fn, arrays, dtype, weights, vs):
    tdtype = getattr(torch, dtype)
    xs = []
    for a in arrays:
        if isinstance(a, Const):
            arr = a.array
            xs.append(torch.tensor(arr, dtype=tdtype) if arr.dtype.kind == "f" else torch.from_numpy(arr))
        else:
            xs.append(torch.tensor(a, dtype=tdtype, requires_grad=True))
    wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
    out = fn(*xs)
    loss = (out * torch.tensor(weights, dtype=tdtype)).sum()
    grads = torch.autograd.grad(loss, wrt, create_graph=True)
    second = sum((g * torch.tensor(v, dtype=tdtype)).sum() for g, v in zip(grads, vs))
    hvp = torch.autograd.grad(second, wrt, allow_unused=True)
    hvp = [np.zeros(x.shape) if h is None else h.detach().numpy() for x, h in zip(wrt, hvp)]
    return [g.detach().numpy() for g in grads], hvp


def _draws(fn, arrays, seed):
    r = np.random.default_rng(seed)
    with ember.no_grad():
        xs = [
            ember.tensor(a.array, dtype="float64" if a.array.dtype.kind == "f" else None)
            if isinstance(a, Const)
            else ember.tensor(a, dtype="float64")
            for a in arrays
        ]
        shape = fn(*xs).shape
    weights = r.standard_normal(shape)
    vs = [r.standard_normal(np.shape(a)) for a in arrays if not isinstance(a, Const)]
    return weights, vs


@pytest.mark.parametrize("name", sorted(CASES))
def test_double_backward_matches_torch(name):
    e_fn, t_fn, arrays = CASES[name]
    weights, vs = _draws(e_fn, arrays, 1)
    e_g, e_h = _ember_double(e_fn, arrays, "float32", weights, vs)
    t_g, t_h = _torch_double(t_fn, arrays, "float32", weights, vs)
    for k, (a, b) in enumerate(zip(e_g, t_g)):
        assert_close(a, b, msg=f"{name}: first gradient of input {k} vs torch")
    for k, (a, b) in enumerate(zip(e_h, t_h)):
        assert_close(a, b, msg=f"{name}: second derivative (Hessian-vector product) of input {k} vs torch")


@pytest.mark.parametrize("name", sorted(CASES))
def test_double_backward_matches_finite_differences(name):
    """d(v . g(x))/dx, with g the first gradient, against central differences of v . g in float64."""
    e_fn, _, arrays = CASES[name]
    weights, vs = _draws(e_fn, arrays, 2)
    _, hvp = _ember_double(e_fn, arrays, "float64", weights, vs)

    def first_gradient_dot_v(values):
        xs, it = [], iter(values)
        for a in arrays:
            if isinstance(a, Const):
                xs.append(ember.tensor(a.array, dtype="float64" if a.array.dtype.kind == "f" else None))
            else:
                xs.append(ember.tensor(next(it), dtype="float64", requires_grad=True))
        wrt = [x for x, a in zip(xs, arrays) if not isinstance(a, Const)]
        loss = (e_fn(*xs) * ember.tensor(weights, dtype="float64")).sum()
        grads = ember.grad(loss, wrt)
        return sum(float((g.numpy() * v).sum()) for g, v in zip(grads, vs))

    base = [np.array(a, dtype=np.float64) for a in arrays if not isinstance(a, Const)]
    eps = 1e-6
    for i, b in enumerate(base):
        numeric = np.zeros_like(b)
        for j in range(b.size):
            up = [c.copy() for c in base]
            up[i].reshape(-1)[j] += eps
            down = [c.copy() for c in base]
            down[i].reshape(-1)[j] -= eps
            numeric.reshape(-1)[j] = (first_gradient_dot_v(up) - first_gradient_dot_v(down)) / (2 * eps)
        np.testing.assert_allclose(hvp[i], numeric, rtol=1e-5, atol=1e-6, err_msg=f"{name}: input {i}")


# ---- uses: gradient penalty, Hessian-vector product ------------------------------------------------------------------


def _critic_weights(seed=3):
    r = np.random.default_rng(seed)
    return [
        r.standard_normal((3, 8)) * 0.5,
        r.standard_normal(8) * 0.1,
        r.standard_normal((8, 1)) * 0.5,
        r.standard_normal(1) * 0.1,
    ]


def test_gradient_penalty_trains_a_dense_critic_like_torch():
    """WGAN-GP: loss = D(fake) - D(real) + 10 (||dD(x_hat)/dx_hat|| - 1)^2; one SGD step, weights vs torch."""
    from ember import layers

    r = np.random.default_rng(4)
    real, fake, alpha = r.standard_normal((6, 3)), r.standard_normal((6, 3)) + 1.0, r.uniform(size=(6, 1))
    w1, b1, w2, b2 = _critic_weights()
    lr, lam = 0.05, 10.0

    h1, h2 = layers.Dense(8, activation="tanh"), layers.Dense(1)
    h1.build((None, 3))
    h2.build((None, 8))
    for var, value in zip([h1.kernel, h1.bias, h2.kernel, h2.bias], [w1, b1, w2, b2]):
        var.assign(value.astype("float32"))

    def critic(x):
        return h2(h1(x))

    x_hat = ember.tensor(alpha * real + (1 - alpha) * fake, requires_grad=True)
    (gx,) = ember.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((ember.sqrt((gx * gx).sum(axis=1)) - 1.0) ** 2).mean()
    loss = critic(ember.tensor(fake)).mean() - critic(ember.tensor(real)).mean() + lam * penalty
    weights = [h1.kernel, h1.bias, h2.kernel, h2.bias]
    grads = ember.grad(loss, weights)
    updated = [w.numpy() - lr * g.numpy() for w, g in zip(weights, grads)]

    tw = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (w1, b1, w2, b2)]

    def t_critic(x):
        return torch.tanh(x @ tw[0] + tw[1]) @ tw[2] + tw[3]

    t_hat = torch.tensor(alpha * real + (1 - alpha) * fake, dtype=torch.float32, requires_grad=True)
    (tgx,) = torch.autograd.grad(t_critic(t_hat).sum(), t_hat, create_graph=True)
    t_pen = ((tgx.pow(2).sum(1).sqrt() - 1.0) ** 2).mean()
    t_loss = (
        t_critic(torch.tensor(fake, dtype=torch.float32)).mean()
        - t_critic(torch.tensor(real, dtype=torch.float32)).mean()
        + lam * t_pen
    )
    t_grads = torch.autograd.grad(t_loss, tw)
    assert_close(float(loss.item()), float(t_loss.item()), msg="loss")
    assert abs(float(penalty.item())) > 1e-3, "the penalty must matter for this check to mean something"
    for k, (u, w, g) in enumerate(zip(updated, tw, t_grads)):
        assert_close(grads[k].numpy(), g.numpy(), msg=f"gradient of weight {k} vs torch")
        assert_close(u, (w - lr * g).detach().numpy(), msg=f"weight {k} after one step vs torch")


def test_hessian_vector_product_of_an_mlp_loss_matches_torch():
    r = np.random.default_rng(5)
    x, y = r.standard_normal((5, 3)), r.integers(0, 4, 5)
    w1, w2, v1, v2 = (
        r.standard_normal((3, 6)),
        r.standard_normal((6, 4)),
        r.standard_normal((3, 6)),
        r.standard_normal((6, 4)),
    )

    e_w = [ember.tensor(w1, requires_grad=True), ember.tensor(w2, requires_grad=True)]
    logits = ember.gelu(ember.tensor(x) @ e_w[0]) @ e_w[1]
    loss = ember.sparse_categorical_crossentropy(ember.tensor(y), logits, from_logits=True).mean()
    g = ember.grad(loss, e_w, create_graph=True)
    hv = ember.grad((g[0] * ember.tensor(v1)).sum() + (g[1] * ember.tensor(v2)).sum(), e_w)

    t_w = [torch.tensor(w, dtype=torch.float32) for w in (w1, w2)]

    def t_loss(a, b):
        return F.cross_entropy(F.gelu(torch.tensor(x, dtype=torch.float32) @ a) @ b, torch.tensor(y))

    _, t_hv = torch.autograd.functional.hvp(
        t_loss, tuple(t_w), (torch.tensor(v1, dtype=torch.float32), torch.tensor(v2, dtype=torch.float32))
    )
    for k in range(2):
        assert_close(hv[k].numpy(), t_hv[k].numpy(), msg=f"Hessian-vector product, weight {k}")


def test_backward_with_create_graph_leaves_differentiable_grads():
    x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2, rtol=1e-6)
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy(), rtol=1e-6)


def test_grad_leaves_dot_grad_alone_and_returns_one_per_input():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = ember.grad((x * w).sum(), [x, w])
    assert x.grad is None and w.grad is None
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert gx.grad_fn is None  # without create_graph the gradient is a plain tensor


def test_grad_with_respect_to_an_intermediate_tensor():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    y = (h * 3.0).sum()
    gh, gx = ember.grad(y, [h, x])
    np.testing.assert_array_equal(gh.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(gx.numpy(), [6.0, 12.0])


def test_grad_runs_only_what_reaches_its_inputs_even_past_a_freed_graph():
    """A generator's graph freed by its own backward does not stop grad(D(x), x) for x = G(z)."""
    z = ember.tensor([0.5, -1.0], requires_grad=True)
    x = ember.exp(z) * 2.0
    x.sum().backward()  # frees exp and multiply
    with pytest.raises(RuntimeError, match="already freed"):
        x.sum().backward()
    (gx,) = ember.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_grad_allow_unused():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    unused = ember.tensor([5.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*not used.*allow_unused=True"):
        ember.grad(y, [x, unused], retain_graph=True)
    gx, gu = ember.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    t_x = torch.tensor([1.0, 2.0], requires_grad=True)
    t_u = torch.tensor([5.0], requires_grad=True)
    assert torch.autograd.grad((t_x * t_x).sum(), [t_x, t_u], allow_unused=True)[1] is None


def test_grad_refuses_an_input_that_does_not_require_grad():
    x = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"inputs\[0\].*does not require grad"):
        ember.grad((x * 2).sum(), [ember.tensor([1.0])])


def test_retain_graph_semantics():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (ember.exp(x) * x).sum()
    ember.grad(y, x)
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        ember.grad(y, x)
    # create_graph keeps the graph by default (retain_graph defaults to create_graph), as in torch
    y = (ember.exp(x) * x).sum()
    (g1,) = ember.grad(y, x, create_graph=True)
    (g2,) = ember.grad(y, x)
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()
    # and retain_graph=False with create_graph frees it
    y = (ember.exp(x) * x).sum()
    ember.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="already freed"):
        ember.grad(y, x)


def test_grad_outputs_and_several_outputs():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = x * x, ember.sin(x)
    v = np.array([1.0, -1.0, 0.5])
    (g,) = ember.grad([a, b], [x], grad_outputs=[ember.tensor(v), ember.tensor(np.ones(3))])
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * v + np.cos(x.numpy()), rtol=1e-6)


def test_an_op_without_a_differentiable_backward_is_named():
    x = ember.tensor(rng.standard_normal((1, 5, 5, 2)), requires_grad=True)
    r = np.random.default_rng(9)
    kernel, recurrent = ember.tensor(r.standard_normal((2, 8))), ember.tensor(r.standard_normal((2, 8)))
    y = ember.lstm(x.reshape(1, 25, 2), None, None, kernel, recurrent)[0].sum()
    with pytest.raises(RuntimeError, match=r"create_graph=True: lstm has no differentiable backward"):
        ember.grad(y, x, create_graph=True)
    p = ember.tensor(rng.uniform(0.1, 1, (2, 3)), requires_grad=True)
    loss = ember.gru(p.reshape(1, 2, 3), None, ember.tensor(np.ones((3, 6))), ember.tensor(np.ones((2, 6))))[0].sum()
    with pytest.raises(RuntimeError, match=r"create_graph=True: gru has no differentiable backward"):
        ember.grad(loss, p, create_graph=True)
    # without create_graph both work as before
    assert ember.grad(ember.max_pool2d(x, 2).sum(), x)[0].shape == x.shape


def test_grad_does_not_run_the_graph_upstream_of_its_inputs():
    """grad(D(x), x) for x = G(z) stops at x: an op above x that has no differentiable backward is fine."""
    z = ember.tensor(rng.standard_normal((1, 6, 6, 2)), requires_grad=True)
    x = ember.max_pool2d(z, 2)
    (gx,) = ember.grad((ember.tanh(x) ** 2).sum(), x, create_graph=True)
    assert gx.requires_grad and gx.shape == x.shape


def test_maml_outer_gradient_through_an_inner_step_matches_torch():
    """MAML: w' = w - a dL_train(w)/dw (create_graph); the outer gradient d L_val(w')/dw needs second derivatives."""
    r = np.random.default_rng(6)
    xs, ys, xq, yq = (
        r.standard_normal((5, 2)),
        r.standard_normal((5, 1)),
        r.standard_normal((4, 2)),
        r.standard_normal((4, 1)),
    )
    w1, w2, alpha = r.standard_normal((2, 6)) * 0.7, r.standard_normal((6, 1)) * 0.7, 0.3

    def e_loss(ws, x, y):
        return ember.mean_squared_error(ember.tensor(y), ember.tanh(ember.tensor(x) @ ws[0]) @ ws[1]).mean()

    e_w = [ember.tensor(w1, requires_grad=True), ember.tensor(w2, requires_grad=True)]
    inner = ember.grad(e_loss(e_w, xs, ys), e_w, create_graph=True)
    adapted = [w - alpha * g for w, g in zip(e_w, inner)]
    e_loss(adapted, xq, yq).backward()

    def t_loss(ws, x, y):
        pred = torch.tanh(torch.tensor(x, dtype=torch.float32) @ ws[0]) @ ws[1]
        return ((pred - torch.tensor(y, dtype=torch.float32)) ** 2).mean()

    t_w = [torch.tensor(w, dtype=torch.float32, requires_grad=True) for w in (w1, w2)]
    t_inner = torch.autograd.grad(t_loss(t_w, xs, ys), t_w, create_graph=True)
    t_loss([w - alpha * g for w, g in zip(t_w, t_inner)], xq, yq).backward()
    for k in range(2):
        assert_close(e_w[k].grad.numpy(), t_w[k].grad.numpy(), msg=f"outer gradient of weight {k}")
    # the first-order shortcut (inner gradient detached) differs: the second-order term matters here
    e_w2 = [ember.tensor(w1, requires_grad=True), ember.tensor(w2, requires_grad=True)]
    inner = ember.grad(e_loss(e_w2, xs, ys), e_w2)
    e_loss([w - alpha * g for w, g in zip(e_w2, inner)], xq, yq).backward()
    assert not np.allclose(e_w2[0].grad.numpy(), e_w[0].grad.numpy(), rtol=1e-3)


def test_a_backward_that_computes_on_raw_arrays_is_refused_not_detached():
    class RawDouble(ember.Function):
        name = "raw_double"
        graph_saved = {}

        def forward(self, x):
            return x * 2

        def backward(self, g):
            raw = g.data if isinstance(g, ember.Tensor) else g  # the raw array, on any device
            return raw * 2  # leaves the graph: its result cannot be differentiated

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (RawDouble.apply(x) ** 2).sum()
    with pytest.raises(RuntimeError, match="raw_double's backward returned an array"):
        ember.grad(y, x, create_graph=True)
    np.testing.assert_allclose(ember.grad((RawDouble.apply(x) ** 2).sum(), x)[0].numpy(), [8.0, 16.0])


def test_grad_returns_arrays_of_its_own():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = ember.grad((x + w).sum(), [x, w])  # add hands one array to both, the sum a broadcast
    gx.data += 1.0  # writable, and not shared with gw
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 1.0])
