"""Batch and layer normalization: forward and gradients vs finite differences, PyTorch and Keras 3."""

import os

import numpy as np
import pytest
from oracles import Const, assert_close, check_against_torch, check_gradients, noncontiguous

import ember

EPS = 1e-3


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 defines these layers' semantics; pip install keras")


def _np(t):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(t))


# ---------------------------------------------------------------- batch_norm_train


def _torch_bn_train(axis, with_gamma=True, with_beta=True):
    """Torch oracle: F.batch_norm(training=True) on channels moved to axis 1, plus torch's batch stats."""
    import torch
    from torch.nn import functional

    def fn(x, *params):
        params = list(params)
        gamma = params.pop(0) if with_gamma else None
        beta = params.pop(0) if with_beta else None
        xt = torch.movedim(x, axis, 1)
        y = functional.batch_norm(xt, None, None, gamma, beta, training=True, eps=EPS)
        dims = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
        return torch.movedim(y, 1, axis), x.mean(dims), x.var(dims, unbiased=False)

    return fn


def _ember_bn_train(axis, with_gamma=True, with_beta=True):
    def fn(x, *params):
        params = list(params)
        gamma = params.pop(0) if with_gamma else None
        beta = params.pop(0) if with_beta else None
        return ember.batch_norm_train(x, gamma, beta, axis=axis, epsilon=EPS)

    return fn


# (shape, channel axis): (N, C), NHWC, NCHW with axis=1, size-1 axes, batch of one
BN_SHAPES = [((8, 3), -1), ((4, 3, 5, 2), -1), ((3, 4, 2, 5), 1), ((1, 3, 1, 2), -1), ((5, 1), 1), ((2, 7), 0)]


@pytest.mark.parametrize("shape,axis", BN_SHAPES)
def test_batch_norm_train_against_torch(shape, axis, rng):
    c = shape[axis]
    x = rng.standard_normal(shape) * 2.0 + 0.5
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    check_against_torch(_ember_bn_train(axis), _torch_bn_train(axis), noncontiguous(x), gamma, beta)


@pytest.mark.parametrize("with_gamma,with_beta", [(False, False), (True, False), (False, True)])
def test_batch_norm_train_optional_params_against_torch(with_gamma, with_beta, rng):
    x = rng.standard_normal((6, 2, 3))
    params = [rng.standard_normal(3) for flag in (with_gamma, with_beta) if flag]
    check_against_torch(
        _ember_bn_train(-1, with_gamma, with_beta), _torch_bn_train(-1, with_gamma, with_beta), x, *params
    )


@pytest.mark.parametrize("shape,axis", [((4, 3), -1), ((2, 2, 2, 2), -1), ((2, 3, 2), 1), ((1, 2, 1, 2), -1)])
def test_batch_norm_train_finite_differences(shape, axis, rng):
    c = shape[axis]
    x = rng.standard_normal(shape)
    check_gradients(_ember_bn_train(axis), x, rng.standard_normal(c), rng.standard_normal(c))
    check_gradients(_ember_bn_train(axis, False, False), x)


def test_batch_norm_train_uses_biased_variance_like_keras(rng):
    keras = _keras()
    x = rng.standard_normal((6, 5, 3)).astype(np.float32) * 3 + 1
    gamma = rng.standard_normal(3).astype(np.float32)
    beta = rng.standard_normal(3).astype(np.float32)
    # momentum 0: after one training call the moving statistics are the batch statistics
    layer = keras.layers.BatchNormalization(axis=-1, epsilon=EPS, momentum=0.0)
    layer.build(x.shape)
    layer.set_weights([gamma, beta, np.zeros(3, np.float32), np.ones(3, np.float32)])
    k_y = _np(layer(x, training=True))
    y, mean, var = ember.batch_norm_train(ember.tensor(x), ember.tensor(gamma), ember.tensor(beta), epsilon=EPS)
    assert_close(y.numpy(), k_y)
    assert_close(mean.numpy(), _np(layer.moving_mean))
    assert_close(var.numpy(), _np(layer.moving_variance))
    np.testing.assert_allclose(var.numpy(), x.reshape(-1, 3).var(axis=0, ddof=0), rtol=1e-5)


@pytest.mark.parametrize("shape,axis", [((4, 3, 5, 2), -1), ((3, 4, 2, 5), 1)])
def test_batch_norm_train_against_keras_layer(shape, axis, rng):
    keras = _keras()
    x = rng.standard_normal(shape).astype(np.float32)
    layer = keras.layers.BatchNormalization(axis=axis, epsilon=EPS)
    c = shape[axis]
    layer.build(shape)
    gamma = rng.standard_normal(c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    layer.set_weights([gamma, beta, np.zeros(c, np.float32), np.ones(c, np.float32)])
    y, _, _ = ember.batch_norm_train(ember.tensor(x), ember.tensor(gamma), ember.tensor(beta), axis=axis)
    assert_close(y.numpy(), _np(layer(x, training=True)))


def test_batch_norm_train_errors(rng):
    x = ember.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    with pytest.raises(ValueError, match=r"batch_norm_train: expected gamma of shape \(3,\).*got shape \(4,\)"):
        ember.batch_norm_train(x, ember.ones((4,)))
    with pytest.raises(ValueError, match=r"batch_norm_train: expected beta of shape \(3,\).*got shape \(1, 3\)"):
        ember.batch_norm_train(x, None, ember.ones((1, 3)))
    with pytest.raises(ValueError, match="batch_norm_train: axis 2 is out of range"):
        ember.batch_norm_train(x, axis=2)
    with pytest.raises(ValueError, match=r"batch_norm_train: needs at least one value per channel.*\(0, 3\)"):
        ember.batch_norm_train(ember.zeros((0, 3)))
    with pytest.raises(TypeError, match="batch_norm_train: expected a float tensor"):
        ember.batch_norm_train(ember.tensor([[1, 2]]))


# ---------------------------------------------------------------- batch_norm (inference)


def _torch_bn(axis):
    import torch

    def fn(x, mean, var, offset, scale):
        shape = [1] * x.ndim
        shape[axis] = -1
        return (x - mean.reshape(shape)) * torch.rsqrt(var.reshape(shape) + EPS) * scale.reshape(shape) + (
            offset.reshape(shape)
        )

    return fn


def _stats(rng, c):
    return rng.standard_normal(c), rng.random(c) + 0.5, rng.standard_normal(c), rng.standard_normal(c)


@pytest.mark.parametrize("shape,axis", [((5, 3), -1), ((2, 3, 4, 2), -1), ((2, 3, 4, 2), 1), ((0, 3), -1)])
def test_batch_norm_against_torch(shape, axis, rng):
    import torch
    from torch.nn import functional

    x = rng.standard_normal(shape)
    stats = _stats(rng, shape[axis])

    def ember_fn(x, m, v, o, s):
        return ember.batch_norm(x, m, v, o, s, epsilon=EPS, axis=axis)

    # gradients for every input, against torch's autograd of the same formula
    check_against_torch(ember_fn, _torch_bn(axis), noncontiguous(x), *stats)

    # and the forward against torch's own inference batch_norm
    def torch_eval(x, m, v, o, s):
        y = functional.batch_norm(torch.movedim(x, axis, 1), m, v, s, o, training=False, eps=EPS)
        return torch.movedim(y, 1, axis)

    consts = [Const(a.astype(np.float32)) for a in (x, *stats)]
    check_against_torch(ember_fn, torch_eval, *consts)


def test_batch_norm_finite_differences(rng):
    x = rng.standard_normal((3, 2, 2))
    check_gradients(lambda x, m, v, o, s: ember.batch_norm(x, m, v, o, s, axis=-1), x, *_stats(rng, 2))
    check_gradients(lambda x, m, v, s: ember.batch_norm(x, m, v, scale=s, axis=1), x, *_stats(rng, 2)[:2], [1.5, -2])
    check_gradients(lambda x, m, v: ember.batch_norm(x, m, v, epsilon=0.1), x, *_stats(rng, 2)[:2])


def test_batch_normalization_matches_keras_ops(rng):
    keras = _keras()
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    m, v, o, s = (a.astype(np.float32) for a in _stats(rng, 3))
    expected = _np(keras.ops.batch_normalization(x, m, v, axis=1, offset=o, scale=s, epsilon=EPS))
    got = ember.batch_normalization(ember.tensor(x), m, v, 1, offset=o, scale=s, epsilon=EPS)
    assert_close(got.numpy(), expected)
    expected = _np(keras.ops.batch_normalization(x, m[:1].repeat(4), v[:1].repeat(4), axis=-1))
    assert_close(ember.batch_norm(ember.tensor(x), m[:1].repeat(4), v[:1].repeat(4)).numpy(), expected)


def test_batch_norm_errors(rng):
    x = ember.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    with pytest.raises(ValueError, match=r"batch_norm: expected mean of shape \(3,\).*got shape \(4,\)"):
        ember.batch_norm(x, ember.zeros((4,)), ember.ones((3,)))
    with pytest.raises(ValueError, match=r"batch_norm: expected scale of shape \(4,\).*axis 0"):
        ember.batch_norm(x, ember.zeros((4,)), ember.ones((4,)), scale=ember.ones((3,)), axis=0)
    with pytest.raises(ValueError, match="batch_norm: epsilon must be a non-negative float"):
        ember.batch_norm(x, ember.zeros((3,)), ember.ones((3,)), epsilon=-1.0)


# ---------------------------------------------------------------- layer_norm


def _torch_ln(normalized_shape, with_gamma=True, with_beta=True):
    from torch.nn import functional

    def fn(x, *params):
        params = list(params)
        gamma = params.pop(0) if with_gamma else None
        beta = params.pop(0) if with_beta else None
        return functional.layer_norm(x, normalized_shape, gamma, beta, EPS)

    return fn


def _ember_ln(axis, with_gamma=True, with_beta=True):
    def fn(x, *params):
        params = list(params)
        gamma = params.pop(0) if with_gamma else None
        beta = params.pop(0) if with_beta else None
        return ember.layer_norm(x, gamma, beta, axis=axis, epsilon=EPS)

    return fn


# (shape, axis): torch's F.layer_norm normalises trailing axes
LN_TRAILING = [((4, 6), -1), ((1, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), -1), ((0, 3), -1), ((3, 1, 4), (-2, -1))]


@pytest.mark.parametrize("shape,axis", LN_TRAILING)
def test_layer_norm_against_torch(shape, axis, rng):
    axes = (axis,) if isinstance(axis, int) else axis
    pshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    x = rng.standard_normal(shape) * 3 - 1
    gamma, beta = rng.standard_normal(pshape), rng.standard_normal(pshape)
    check_against_torch(_ember_ln(axis), _torch_ln(pshape), noncontiguous(x), gamma, beta)


@pytest.mark.parametrize("with_gamma,with_beta", [(False, False), (True, False), (False, True)])
def test_layer_norm_optional_params_against_torch(with_gamma, with_beta, rng):
    x = rng.standard_normal((3, 5))
    params = [rng.standard_normal(5) for flag in (with_gamma, with_beta) if flag]
    check_against_torch(_ember_ln(-1, with_gamma, with_beta), _torch_ln((5,), with_gamma, with_beta), x, *params)


def test_layer_norm_non_trailing_axes_against_torch(rng):
    # normalise over axes (1, 3) of (N, H, W, C): move them last for torch, then back
    from torch.nn import functional

    x = rng.standard_normal((2, 3, 4, 2))
    gamma, beta = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))

    def torch_fn(x, g, b):
        xt = x.permute(0, 2, 1, 3)  # (N, W, H, C)
        return functional.layer_norm(xt, (3, 2), g, b, EPS).permute(0, 2, 1, 3)

    check_against_torch(_ember_ln((3, 1)), torch_fn, x, gamma, beta)


@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((2, 2, 3), (1, 2)), ((2, 3, 2), (0, 2)), ((1, 3), 1)])
def test_layer_norm_finite_differences(shape, axis, rng):
    axes = (axis,) if isinstance(axis, int) else axis
    pshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    x = rng.standard_normal(shape)
    check_gradients(_ember_ln(axis), x, rng.standard_normal(pshape), rng.standard_normal(pshape))
    check_gradients(_ember_ln(axis, False, False), x)


# Keras 3.15's torch backend sends any run of adjacent axes to F.layer_norm, which only
# handles trailing ones, so (1, 2) of a 4-D input fails inside Keras; (2, 3) and (1, 3) work
@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((1, 5), -1), ((2, 3, 4, 5), (2, 3)), ((2, 3, 4, 5), (1, 3))])
def test_layer_norm_against_keras_layer(shape, axis, rng):
    keras = _keras()
    x = rng.standard_normal(shape).astype(np.float32)
    layer = keras.layers.LayerNormalization(axis=axis)  # Keras's default epsilon is 1e-3, as ours
    layer.build(shape)
    gamma = rng.standard_normal(layer.gamma.shape).astype(np.float32)
    beta = rng.standard_normal(layer.beta.shape).astype(np.float32)
    layer.set_weights([gamma, beta])
    got = ember.layer_norm(ember.tensor(x), ember.tensor(gamma), ember.tensor(beta), axis=axis)
    assert_close(got.numpy(), _np(layer(x)))


def test_layer_normalization_matches_keras_ops_default_epsilon(rng):
    keras = _keras()
    x = rng.standard_normal((3, 4)).astype(np.float32) * 1e-3  # small spread: epsilon matters
    expected = _np(keras.ops.layer_normalization(x))
    assert_close(ember.layer_normalization(ember.tensor(x)).numpy(), expected)


def test_layer_norm_errors(rng):
    x = ember.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    with pytest.raises(ValueError, match=r"layer_norm: expected gamma of shape \(4,\).*got shape \(3,\)"):
        ember.layer_norm(x, ember.ones((3,)))
    with pytest.raises(ValueError, match=r"layer_norm: expected beta of shape \(3, 4\).*got shape \(4,\)"):
        ember.layer_norm(x, None, ember.ones((4,)), axis=(1, 2))
    with pytest.raises(ValueError, match="layer_norm: axis 3 is out of range"):
        ember.layer_norm(x, axis=3)
    with pytest.raises(ValueError, match="layer_norm: repeated axis"):
        ember.layer_norm(x, axis=(1, -2))
    with pytest.raises(ValueError, match="layer_norm: cannot normalise over empty axes"):
        ember.layer_norm(ember.zeros((2, 0)))
    with pytest.raises(TypeError, match="layer_norm: expected a float tensor"):
        ember.layer_norm(ember.tensor([[1, 2]]))
