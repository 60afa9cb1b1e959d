"""ember.activations against keras.activations (torch backend): every name, values, gradients, get/serialize.

Gradients are compared with PyTorch's autograd run through Keras's own
implementation, at points away from the kinks (where frameworks may pick
different one-sided derivatives). The last section checks the Keras backend
helpers of ember.backend.keras_api (image_data_format, backend, get_uid,
clear_session) against keras.config / keras.backend.
"""

import os

import numpy as np
import pytest

import ember
from ember import activations
from ember.backend import keras_api

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines the activations")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _torch():
    return pytest.importorskip("torch", reason="PyTorch differentiates Keras's activations")


KINKS = (-6.0, -3.0, -1.0, -0.5, 0.0, 0.3, 0.5, 1.0, 3.0, 6.0)


def _inputs(shape, dtype, seed=0, avoid_kinks=False):
    x = np.random.default_rng(seed).normal(0.0, 3.0, size=shape)
    if avoid_kinks:
        for k in KINKS:
            near = np.abs(x - k) < 1e-2
            x[near] = k + 0.05
    else:
        x.flat[: len(KINKS)] = KINKS  # the values must agree at the kinks too
    return x.astype(dtype)


# name -> the keyword arguments to try (the defaults first)
CASES = {
    "relu": [{}, {"negative_slope": 0.1}, {"max_value": 6.0}, {"max_value": 2.5}, {"threshold": 0.5}],
    "leaky_relu": [{}, {"negative_slope": 0.01}],
    "elu": [{}, {"alpha": 0.5}],
    "celu": [{}, {"alpha": 2.0}],
    "gelu": [{}, {"approximate": True}],
    "softmax": [{}, {"axis": 0}],
    "log_softmax": [{}, {"axis": 0}],
    "glu": [{}, {"axis": 0}],
    "squareplus": [{}, {"b": 1.0}],
    "hard_shrink": [{}, {"threshold": 1.0}],
    "soft_shrink": [{}, {"threshold": 1.0}],
    "threshold": [{"threshold": 0.3, "default_value": -2.0}],
}
PLAIN = [
    "relu6",
    "selu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "tanh",
    "tanh_shrink",
    "sigmoid",
    "sparse_sigmoid",
    "sparse_plus",
    "exponential",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "linear",
    "mish",
    "log_sigmoid",
]
PARAMS = [(n, kw) for n, kws in CASES.items() for kw in kws] + [(n, {}) for n in PLAIN]


def test_every_keras_activation_name_exists(keras):
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(ALL_OBJECTS_DICT) == set(activations.ALL_ACTIVATIONS)
    public = {n for n in dir(keras.activations) if not n.startswith("_")}
    assert public <= set(dir(activations))
    tested = {n for n, _ in PARAMS} | {"sparsemax"}
    assert tested == set(ALL_OBJECTS_DICT)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", PARAMS, ids=[f"{n}-{kw}" for n, kw in PARAMS])
def test_values_match_keras(keras, name, kwargs, dtype):
    x = _inputs((6, 8), dtype)
    ours = activations.get(name)(ember.tensor(x, dtype=dtype), **kwargs)
    theirs = keras.activations.get(name)(_torch().tensor(x), **kwargs).detach().numpy()
    assert ours.shape == theirs.shape and str(ours.dtype) == dtype
    rtol = RTOL if dtype == "float32" else 1e-12
    atol = ATOL * max(1.0, float(np.abs(theirs).max())) if dtype == "float32" else 1e-13
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name, kwargs", PARAMS, ids=[f"{n}-{kw}" for n, kw in PARAMS])
def test_gradients_match_keras(keras, name, kwargs):
    torch = _torch()
    x = _inputs((6, 8), "float32", seed=1, avoid_kinks=True)
    fn = activations.get(name)
    xe = ember.tensor(x, requires_grad=True)
    ye = fn(xe, **kwargs)
    upstream = np.random.default_rng(2).normal(size=ye.shape).astype("float32")
    if ye is xe:  # linear returns its input itself
        assert name == "linear"
        return
    (ye * ember.tensor(upstream)).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = keras.activations.get(name)(xt, **kwargs)
    (yt * torch.tensor(upstream)).sum().backward()
    expected = xt.grad.numpy()
    np.testing.assert_allclose(xe.grad.numpy(), expected, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(expected).max()))


def test_keras_call_forms(keras):
    """Python lists are accepted, as keras.activations accepts them."""
    values = [-10.0, -5.0, 0.0, 5.0, 10.0]
    for kwargs in ({}, {"negative_slope": 0.5}, {"max_value": 5.0}, {"threshold": 5.0}):
        np.testing.assert_allclose(
            activations.relu(values, **kwargs).numpy(), keras.activations.relu(values, **kwargs).numpy()
        )
    np.testing.assert_allclose(activations.hard_tanh(values).numpy(), keras.activations.hard_tanh(values).numpy())


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match="even"):
        activations.glu(ember.ones((2, 3)))


# ---- sparsemax ---------------------------------------------------------------------------------------------------


def _simplex_projection(v):
    """Euclidean projection of a vector onto the probability simplex, by bisection on tau (a reference)."""
    lo, hi = v.min() - 1.0, v.max()
    for _ in range(200):
        tau = (lo + hi) / 2
        if np.maximum(v - tau, 0).sum() > 1:
            lo = tau
        else:
            hi = tau
    return np.maximum(v - (lo + hi) / 2, 0)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_simplex_projection(axis):
    x = _inputs((5, 7), "float64", seed=4)
    x[2] = [0.4, 0.4, 0.4, 0.1, -1.0, 0.4, 0.0]  # ties in the support
    y = activations.sparsemax(ember.tensor(x, dtype="float64"), axis=axis).numpy()
    ref = np.apply_along_axis(_simplex_projection, axis, x)
    np.testing.assert_allclose(y, ref, atol=1e-12)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-12)


def test_sparsemax_gradient_is_the_projection_jacobian():
    x = _inputs((4, 6), "float64", seed=5, avoid_kinks=True)
    g = np.random.default_rng(6).normal(size=x.shape)
    xe = ember.tensor(x, dtype="float64", requires_grad=True)
    y = activations.sparsemax(xe)
    (y * ember.tensor(g, dtype="float64")).sum().backward()
    support = y.numpy() > 0
    expected = np.where(support, g - (g * support).sum(-1, keepdims=True) / support.sum(-1, keepdims=True), 0.0)
    np.testing.assert_allclose(xe.grad.numpy(), expected, atol=1e-12)


def test_sparsemax_matches_keras_when_one_entry_wins(keras):
    # Keras 3.15 computes tau from the sum of the running sums over the support, which equals the
    # right tau only when the support has one entry (with two or more, its rows do not sum to 1)
    x = np.array([[3.0, 0.5, -1.0, 1.0], [0.2, 2.5, 0.1, -0.3]], dtype="float32")
    ours = activations.sparsemax(ember.tensor(x)).numpy()
    np.testing.assert_allclose(ours, keras.activations.sparsemax(_torch().tensor(x)).numpy(), rtol=RTOL)


# ---- get / serialize / deserialize ---------------------------------------------------------------------------------


def test_get_resolves_like_keras(keras):
    assert activations.get(None) is activations.linear
    assert keras.activations.get(None) is keras.activations.linear
    assert activations.get("relu") is ember.relu is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu

    def custom(x):
        return x * 2

    assert activations.get(custom) is custom
    for bad in ("rellu", "Relu"):
        with pytest.raises(ValueError):
            keras.activations.get(bad)
        with pytest.raises(ValueError, match="unknown activation"):
            activations.get(bad)
    with pytest.raises(ValueError, match="expected None"):
        activations.get(3)


def test_serialize_matches_keras(keras):
    from keras.src.activations import ALL_OBJECTS_DICT
    from keras.src.saving import serialization_lib

    for name in ALL_OBJECTS_DICT:
        ours = activations.serialize(activations.get(name))
        assert ours == keras.activations.serialize(keras.activations.get(name)), name
        # what a Keras config holds comes back as the same function
        assert activations.deserialize(ours) is activations.get(name)
        full = serialization_lib.serialize_keras_object(keras.activations.get(name))
        assert activations.deserialize(full) is activations.get(name)
        assert activations.get(full) is activations.get(name)

    def custom(x):
        return x

    with pytest.raises(ValueError, match="not one of Ember's activations"):
        activations.serialize(custom)
    assert activations.deserialize("custom", custom_objects={"custom": custom}) is custom


# ---- Keras backend helpers (ember.backend.keras_api) ---------------------------------------------------------------


def test_image_data_format_matches_keras(keras):
    assert keras_api.image_data_format() == keras.config.image_data_format() == "channels_last"
    try:
        for value in ("channels_first", "CHANNELS_LAST", "Channels_First"):
            keras_api.set_image_data_format(value)
            keras.config.set_image_data_format(value)
            assert keras_api.image_data_format() == keras.config.image_data_format()
        for bad in ("channels_middle", "nhwc"):
            with pytest.raises(ValueError):
                keras.config.set_image_data_format(bad)
            with pytest.raises(ValueError, match="channels_last"):
                keras_api.set_image_data_format(bad)
    finally:
        keras_api.set_image_data_format("channels_last")
        keras.config.set_image_data_format("channels_last")


def test_backend_name():
    assert keras_api.backend() == "ember"


def test_get_uid_and_clear_session_match_keras(keras):
    calls = []

    def hook():
        calls.append(1)

    assert keras_api.register_clear_session_hook(hook) is hook
    keras_api.register_clear_session_hook(hook)  # once only
    try:
        keras_api.clear_session(free_memory=False)
        keras.backend.clear_session(free_memory=False)
        assert calls == [1]
        seq_ours = [keras_api.get_uid("dense"), keras_api.get_uid("dense"), keras_api.get_uid("conv2d")]
        seq_theirs = [keras.backend.get_uid("dense"), keras.backend.get_uid("dense"), keras.backend.get_uid("conv2d")]
        assert seq_ours == seq_theirs == [1, 2, 1]
        keras_api.clear_session()
        keras.backend.clear_session()
        assert keras_api.get_uid("dense") == keras.backend.get_uid("dense") == 1
        assert calls == [1, 1]
    finally:
        keras_api._CLEAR_SESSION_HOOKS.remove(hook)
    with pytest.raises(TypeError, match="callable"):
        keras_api.register_clear_session_hook("not callable")
