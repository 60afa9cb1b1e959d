"""Embedding and Masking against Keras 3: lookups, sparse gradients, masks, configs, Keras 2 spellings."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the embedding layers")
torch = pytest.importorskip("torch", reason="Keras 3 runs on its torch backend here")

import ember  # noqa: E402
from ember import layers as el  # noqa: E402
from ember.engine.sparse_grad import RowSparseGrad  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _close(a, b):
    a, b = _np(a), _np(b)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(b).max(initial=0))))


def _pair(*args, **kwargs):
    k, e = keras.layers.Embedding(*args, **kwargs), el.Embedding(*args, **kwargs)
    k.build()
    e.build()
    e.set_weights(k.get_weights())
    return k, e


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("shape", [(4,), (3, 5), (2, 3, 4)])
def test_lookup_matches_keras(shape, rng):
    k, e = _pair(11, 6)
    idx = rng.integers(0, 11, size=shape).astype("int32")
    _close(e(idx), k(idx))
    assert e(idx).dtype == np.float32
    assert e.compute_output_shape(shape) == tuple(k.compute_output_shape(shape))
    _close(e(idx.astype("float32")), k(idx.astype("float32")))  # float indices are cast, as Keras does
    _close(e(idx.astype("int64")), k(idx.astype("int64")))


def test_gradient_is_row_sparse_and_matches_keras(rng):
    k, e = _pair(9, 4, embeddings_initializer="random_normal")
    idx = np.array([[1, 3, 3], [0, 1, 8]], dtype="int32")
    w = rng.standard_normal((2, 3, 4)).astype("float32")
    k_grad = torch.autograd.grad((k(idx) * torch.tensor(w)).sum(), [k.embeddings.value])[0]
    (e(idx) * ember.tensor(w)).sum().backward()
    grad = e.embeddings.grad
    assert isinstance(grad, RowSparseGrad)
    _close(grad.numpy(), k_grad)


def test_mask_zero(rng):
    idx = np.array([[0, 2, 3, 0], [4, 0, 0, 0]], dtype="int32")
    k, e = _pair(5, 3, mask_zero=True)
    out_k, out_e = k(idx), e(idx)
    _close(out_e, out_k)
    np.testing.assert_array_equal(_np(out_e._keras_mask), _np(out_k._keras_mask))
    np.testing.assert_array_equal(_np(e.compute_mask(ember.tensor(idx))), idx != 0)
    assert e.supports_masking
    plain = el.Embedding(5, 3)
    assert plain.compute_mask(ember.tensor(idx)) is None
    assert getattr(plain(idx), "_keras_mask", None) is None


def test_mask_zero_reaches_a_dense_head_and_the_loss():
    """The mask flows through Dense (as in Keras) and the loss averages over the kept steps only."""

    def build(lib):
        L = lib.layers
        return lib.Sequential([L.Input(shape=(4,), dtype="int32"), L.Embedding(6, 3, mask_zero=True), L.Dense(1)])

    k, e = build(keras), build(ember)
    e.set_weights(k.get_weights())
    idx = np.array([[1, 2, 0, 0], [3, 0, 4, 5]], dtype="int32")
    y = np.ones((2, 4, 1), dtype="float32")
    k.compile(loss="mse", optimizer="sgd")
    e.compile(loss="mse", optimizer="sgd")
    _close(e.predict(idx, verbose=0), k.predict(idx, verbose=0))
    _close(e.evaluate(idx, y, verbose=0), k.evaluate(idx, y, verbose=0))


def test_config_matches_keras_and_round_trips():
    k = keras.layers.Embedding(20, 4, embeddings_regularizer="l2", mask_zero=True)
    e = el.Embedding(20, 4, embeddings_regularizer="l2", mask_zero=True)
    kc, ec = k.get_config(), e.get_config()
    assert set(ec) == set(kc)
    for key in ("input_dim", "output_dim", "mask_zero", "activity_regularizer", "quantization_config", "trainable"):
        assert ec[key] == kc[key], key
    assert ec["embeddings_initializer"]["class_name"] == kc["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert ec["embeddings_initializer"]["config"]["minval"] == kc["embeddings_initializer"]["config"]["minval"]
    assert ec["embeddings_regularizer"]["class_name"] == "L2"
    again = el.Embedding.from_config(ec)
    assert again.get_config() == ec


def test_initializer_range_regularizer_loss_and_weights_argument(rng):
    e = el.Embedding(1000, 8)
    e.build()
    table = e.get_weights()[0]
    assert table.shape == (1000, 8) and table.min() >= -0.05 and table.max() <= 0.05 and table.std() > 0.02
    k, e = _pair(7, 3, embeddings_regularizer="l2")
    e(np.array([[1]]))
    k(np.array([[1]]))
    _close(sum(e.losses), sum(k.losses))
    matrix = rng.standard_normal((7, 3)).astype("float32")
    for weights in (matrix, [matrix]):
        layer = el.Embedding(7, 3, weights=weights)
        np.testing.assert_array_equal(layer.get_weights()[0], matrix)
        assert layer.built
    with pytest.raises(ValueError, match="weight shape"):
        el.Embedding(7, 4, weights=[matrix])


def test_arguments_are_checked_and_bad_indices_named():
    with pytest.raises(ValueError, match=r"`input_dim` must be a positive integer. Received: input_dim=0"):
        el.Embedding(0, 3)
    with pytest.raises(ValueError, match=r"`output_dim` must be a positive integer"):
        el.Embedding(3, 2.5)
    with pytest.raises(IndexError, match=r"index 5 is out of range for a vocabulary of size 5"):
        el.Embedding(5, 2)(np.array([[1, 5]]))


def test_keras_legacy_spellings():
    with pytest.warns(DeprecationWarning, match="input_length"):
        model = ember.Sequential([el.Embedding(100, 8, input_length=10), el.LSTM(4)])
    assert model.built and model.layers[0].output.shape == (None, 10, 8)
    assert model.count_params() == 800 + 4 * 4 * (8 + 4 + 1)
    with pytest.warns(DeprecationWarning, match="embeddings_initializer"):
        layer = el.Embedding(10, 2, init="zeros")
    layer.build()
    assert not layer.get_weights()[0].any()


def test_summary_parameter_counts_match_keras():
    def build(lib):
        L = lib.layers
        return lib.Sequential([L.Input(shape=(80,), dtype="int32"), L.Embedding(20000, 128), L.Embedding(20000, 2)])

    k, e = build(keras), build(ember)
    assert [layer.count_params() for layer in e.layers] == [layer.count_params() for layer in k.layers]
    lines = []
    e.summary(print_fn=lines.append)
    assert "2,560,000" in "\n".join(lines)


def test_one_training_step_on_an_embedding_model_matches_keras(rng):
    """SGD and Adam steps with a row-sparse embedding gradient give Keras's (dense) updates."""

    def build(lib):
        L = lib.layers
        return lib.Sequential([L.Input(shape=(5,), dtype="int32"), L.Embedding(12, 4), L.Flatten(), L.Dense(1)])

    idx = rng.integers(0, 12, size=(6, 5)).astype("int32")
    y = rng.standard_normal((6, 1)).astype("float32")
    for opt in ("sgd", "adam"):
        k, e = build(keras), build(ember)
        e.set_weights(k.get_weights())
        k.compile(loss="mse", optimizer=opt)
        e.compile(loss="mse", optimizer=opt)
        for _ in range(2):
            _close(e.train_on_batch(idx, y), k.train_on_batch(idx, y))
        for a, b in zip(e.get_weights(), k.get_weights()):
            _close(a, b)


# ---- Masking ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_value", [0.0, -1.0])
def test_masking_matches_keras(mask_value, rng):
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    x[0, 1] = mask_value
    x[2, 3:] = mask_value
    x[1, 2, 0] = mask_value  # only one feature equal: not masked
    k, e = keras.layers.Masking(mask_value=mask_value), el.Masking(mask_value=mask_value)
    out_k, out_e = k(x), e(x)
    _close(out_e, out_k)
    expected = np.any(x != mask_value, axis=-1)
    np.testing.assert_array_equal(_np(out_e._keras_mask), expected)
    np.testing.assert_array_equal(_np(out_k._keras_mask), expected)
    np.testing.assert_array_equal(_np(e.compute_mask(ember.tensor(x))), expected)
    assert e.compute_output_shape((None, 5, 2)) == (None, 5, 2)
    assert e.get_config().keys() == k.get_config().keys() and e.get_config()["mask_value"] == mask_value

    w = rng.standard_normal(x.shape).astype("float32")
    xt = torch.tensor(x, requires_grad=True)
    (k_grad,) = torch.autograd.grad((k(xt) * torch.tensor(w)).sum(), [xt])
    xe = ember.tensor(x, requires_grad=True)
    (e(xe) * ember.tensor(w)).sum().backward()
    _close(xe.grad, k_grad)


def test_masking_in_a_functional_model_feeding_gru(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0

    def build(lib):
        inp = lib.Input(shape=(4, 3))
        seq = lib.layers.GRU(2, return_sequences=True)(lib.layers.Masking()(inp))
        return lib.Model(inp, lib.layers.TimeDistributed(lib.layers.Dense(1))(seq))

    k, e = build(keras), build(ember)
    e.set_weights(k.get_weights())
    _close(e.predict(x, verbose=0), k.predict(x, verbose=0))
