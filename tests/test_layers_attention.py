"""Attention layers and EinsumDense: forward, masks, gradients, fit, config and .keras files against real Keras 3."""

import os

import numpy as np
import pytest

import ember
from ember.ops.einsum import einsum
from tests.oracles import check_against_torch, check_gradients

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for the attention layers")


def _np(x):
    return np.asarray(x.detach().cpu()) if hasattr(x, "detach") else np.asarray(x)


def _close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"shapes {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, float(np.abs(b).max())))


RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 5, 8)).astype("float32")
V = RNG.normal(size=(2, 4, 6)).astype("float32")


# ---- the einsum op -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "equation,shapes",
    [
        ("ab,bc->ac", [(3, 4), (4, 2)]),
        ("abc,cde->abde", [(2, 3, 4), (4, 2, 3)]),
        ("...b,bc->...c", [(2, 3, 4), (4, 5)]),
        ("abcd,aecd->acbe", [(2, 3, 2, 4), (2, 5, 2, 4)]),
        ("ab,cd->a", [(3, 2), (2, 2)]),  # b, c, d each summed within one operand only
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ],
)
def test_einsum_gradients_match_finite_differences(equation, shapes):
    arrays = [RNG.normal(size=s) for s in shapes]
    check_gradients(lambda *xs: einsum(equation, *xs), *arrays)


def test_einsum_matches_torch():
    a, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 2, 3))
    check_against_torch(
        lambda x, y: einsum("abc,cde->abde", x, y), lambda x, y: __import__("torch").einsum("abc,cde->abde", x, y), a, b
    )


def test_einsum_takes_a_diagonal_with_its_gradient():
    # the layers use ember.ops.einsum, which handles repeated indices (the private copy refused them)
    x = ember.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    y = einsum("aa->a", x)
    np.testing.assert_array_equal(y.numpy(), np.diagonal(x.numpy()))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3))


# ---- forward against Keras ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"value_dim": 3, "output_shape": 7}, {"use_bias": False}, {"use_gate": True}, {"output_shape": (2, 3)}],
)
def test_multi_head_attention_matches_keras(kwargs):
    keras = _keras()
    k = keras.layers.MultiHeadAttention(2, 4, **kwargs)
    e = ember.layers.MultiHeadAttention(2, 4, **kwargs)
    k(Q, V)
    e(Q, V)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights(k.get_weights())
    _close(e(Q, V).numpy(), _np(k(Q, V)))
    _close(e(Q, V, use_causal_mask=True).numpy(), _np(k(Q, V, use_causal_mask=True)))
    mask = RNG.uniform(size=(2, 5, 4)) > 0.3
    ko, ks = k(Q, V, attention_mask=mask, return_attention_scores=True)
    eo, es = e(query=Q, value=V, attention_mask=mask, return_attention_scores=True)
    _close(eo.numpy(), _np(ko))
    _close(es.numpy(), _np(ks))
    assert es.shape == (2, 2, 5, 4)


def test_multi_head_attention_key_and_input_masks_match_keras():
    keras = _keras()
    key = RNG.normal(size=(2, 4, 3)).astype("float32")
    k = keras.layers.MultiHeadAttention(3, 2, value_dim=5)
    e = ember.layers.MultiHeadAttention(3, 2, value_dim=5)
    k(Q, V, key)
    e(Q, V, key=key)
    e.set_weights(k.get_weights())
    qm = np.ones((2, 5), bool)
    qm[1, 3:] = False
    vm = np.array([[1, 1, 0, 1], [1, 0, 0, 1]], bool)
    ko = k(Q, V, key, query_mask=qm, value_mask=vm, key_mask=vm, use_causal_mask=True)
    eo = e(Q, V, key, query_mask=qm, value_mask=vm, key_mask=vm, use_causal_mask=True)
    _close(eo.numpy(), _np(ko))


def test_multi_head_attention_over_two_axes_matches_keras():
    keras = _keras()
    x = RNG.normal(size=(2, 3, 4, 6)).astype("float32")
    k = keras.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    e = ember.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2))
    k(x, x)
    e(x, x)
    e.set_weights(k.get_weights())
    ko, ks = k(x, x, return_attention_scores=True)
    eo, es = e(x, x, return_attention_scores=True)
    _close(eo.numpy(), _np(ko))
    _close(es.numpy(), _np(ks))


@pytest.mark.parametrize(
    "cls,kwargs",
    [("Attention", {}), ("Attention", {"use_scale": True, "score_mode": "concat"}), ("AdditiveAttention", {})],
)
def test_attention_layers_match_keras(cls, kwargs):
    keras = _keras()
    q = RNG.normal(size=(2, 5, 6)).astype("float32")
    k = getattr(keras.layers, cls)(**kwargs)
    e = getattr(ember.layers, cls)(**kwargs)
    k([q, V])
    e([q, V])
    weights = [np.asarray(w) + 0.3 for w in k.get_weights()]  # not the initial ones
    k.set_weights(weights)
    e.set_weights(weights)
    _close(e([q, V]).numpy(), _np(k([q, V])))
    vm = np.array([[1, 1, 0, 1], [1, 0, 0, 1]], bool)
    qm = np.ones((2, 5), bool)
    qm[0, 1] = False
    ko, ks = k([q, V, V * 2], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    eo, es = e([q, V, V * 2], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    _close(eo.numpy(), _np(ko))
    _close(es.numpy(), _np(ks))


def test_attention_refuses_a_single_tensor():
    with pytest.raises(ValueError, match="list of inputs"):
        ember.layers.Attention()(Q)


@pytest.mark.parametrize(
    "equation,output_shape,bias_axes",
    [("abc,cde->abde", (None, 3, 4), "de"), ("...b,bc->...c", 4, "c"), ("ab...,bc->ac...", (4,), None)],
)
def test_einsum_dense_matches_keras(equation, output_shape, bias_axes):
    keras = _keras()
    k = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    e = ember.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, activation=None)
    x = Q if "..." not in equation or equation.startswith("...") else np.moveaxis(Q, 2, 1)
    k(x)
    e(x)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights(k.get_weights())
    _close(e(x).numpy(), _np(k(x)))


def test_einsum_dense_bad_equation_names_the_forms():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        ember.layers.EinsumDense("ab,bc", output_shape=3)
    with pytest.raises(ValueError, match="Weight dimension 'z'"):
        ember.layers.EinsumDense("ab,bz->ab", output_shape=3)


def test_identity_passes_inputs_and_masks():
    x = ember.tensor(Q)
    x._keras_mask = ember.tensor(np.ones((2, 5), bool))
    out = ember.layers.Identity()(x)
    np.testing.assert_array_equal(out.numpy(), Q)
    assert out._keras_mask is not None


# ---- a transformer block: functional graph, fit, files ----------------------------------------------
def _block(k):
    inp = k.Input((5, 6))
    ctx = k.Input((4, 6))
    a = k.layers.MultiHeadAttention(2, 3, name="cross")(inp, ctx)
    a = k.layers.LayerNormalization()(k.layers.Add()([a, inp]))
    b = k.layers.MultiHeadAttention(2, 3, name="self")(a, a, use_causal_mask=True)
    c = k.layers.Attention()([b, ctx])
    out = k.layers.Dense(3)(k.layers.GlobalAveragePooling1D()(k.layers.EinsumDense("abc,cd->abd", (5, 4))(c)))
    return k.Model([inp, ctx], out)


def test_transformer_block_fits_as_keras_with_sgd():
    keras = _keras()
    x = [RNG.normal(size=(8, 5, 6)).astype("float32"), RNG.normal(size=(8, 4, 6)).astype("float32")]
    y = RNG.normal(size=(8, 3)).astype("float32")
    kmodel, emodel = _block(keras), _block(ember)
    emodel.set_weights(kmodel.get_weights())
    _close(emodel.predict(x, verbose=0), _np(kmodel.predict(x, verbose=0)))
    kmodel.compile(keras.optimizers.SGD(0.1), "mse")
    emodel.compile(ember.optimizers.SGD(0.1), "mse")
    kmodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    emodel.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(emodel.get_weights(), kmodel.get_weights()):
        _close(a, _np(b))


def test_transformer_block_keras_files_both_ways(tmp_path):
    keras = _keras()
    x = [RNG.normal(size=(3, 5, 6)).astype("float32"), RNG.normal(size=(3, 4, 6)).astype("float32")]
    kmodel = _block(keras)
    kmodel.save(tmp_path / "k.keras")
    loaded = ember.saving.load_model(tmp_path / "k.keras")
    _close(loaded.predict(x, verbose=0), _np(kmodel.predict(x, verbose=0)))
    emodel = _block(ember)
    emodel.save(tmp_path / "e.keras")
    kloaded = keras.saving.load_model(tmp_path / "e.keras")
    _close(_np(kloaded.predict(x, verbose=0)), emodel.predict(x, verbose=0))


@pytest.mark.parametrize(
    "make",
    [
        lambda ly: ly.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=5, attention_axes=1),
        lambda ly: ly.Attention(use_scale=True, score_mode="concat", dropout=0.2),
        lambda ly: ly.AdditiveAttention(use_scale=False),
        lambda ly: ly.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d", activation="relu"),
        lambda ly: ly.Identity(),
    ],
)
def test_config_round_trips_and_matches_keras(make):
    keras = _keras()
    layer = make(ember.layers)
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    kconfig = make(keras.layers).get_config()
    ours = {k: v for k, v in config.items() if k not in ("name", "dtype")}
    theirs = {k: v for k, v in kconfig.items() if k not in ("name", "dtype")}
    assert set(ours) == set(theirs), set(ours) ^ set(theirs)
    for key in ("num_heads", "key_dim", "value_dim", "dropout", "use_scale", "score_mode", "equation", "bias_axes"):
        if key in theirs:
            assert ours[key] == theirs[key], key


@pytest.mark.parametrize(
    "kwargs",
    [
        {"head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2},
        {"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 1, "use_bias": False, "use_gate": True},
        {"head_dim": 2, "num_query_heads": 2, "num_key_value_heads": 2, "sliding_window": 2},
    ],
)
def test_group_query_attention_matches_keras(kwargs):
    keras = _keras()
    q = RNG.normal(size=(2, 5, 8)).astype("float32")
    v = RNG.normal(size=(2, 4, 8)).astype("float32")
    k = keras.layers.GroupQueryAttention(**kwargs)
    e = ember.layers.GroupQueryAttention(**kwargs)
    k(q, v)
    e(q, v)
    assert [w.shape for w in e.get_weights()] == [tuple(w.shape) for w in k.get_weights()]
    e.set_weights(k.get_weights())
    _close(e(q, v).numpy(), _np(k(q, v)))
    ko, ks = k(q, v, use_causal_mask=True, return_attention_scores=True)
    eo, es = e(query=q, value=v, use_causal_mask=True, return_attention_scores=True)
    _close(eo.numpy(), _np(ko))
    _close(es.numpy(), _np(ks))
    mask = RNG.uniform(size=(2, 5, 4)) > 0.3
    _close(e(q, v, attention_mask=mask).numpy(), _np(k(q, v, attention_mask=mask)))
    assert set(e.get_config()) == set(k.get_config())


def test_group_query_attention_keras_files_both_ways(tmp_path):
    keras = _keras()
    x = [RNG.normal(size=(2, 5, 8)).astype("float32"), RNG.normal(size=(2, 4, 8)).astype("float32")]

    def make(k):
        a, b = k.Input((5, 8)), k.Input((4, 8))
        return k.Model([a, b], k.layers.GroupQueryAttention(2, 4, 2)(a, b, use_causal_mask=True))

    kmodel = make(keras)
    kmodel.save(tmp_path / "k.keras")
    _close(ember.saving.load_model(tmp_path / "k.keras").predict(x, verbose=0), _np(kmodel.predict(x, verbose=0)))
    emodel = make(ember)
    emodel.save(tmp_path / "e.keras")
    _close(_np(keras.saving.load_model(tmp_path / "e.keras").predict(x, verbose=0)), emodel.predict(x, verbose=0))


@pytest.mark.parametrize("cls", ["MultiHeadAttention", "GroupQueryAttention"])
def test_a_fully_masked_query_row_matches_keras_on_both_of_its_paths(cls):
    # Keras's fused path (no dropout, no scores returned) spreads such a row's attention evenly; its
    # softmax path (scores returned) gives the row zero attention
    keras = _keras()
    args = (2, 4) if cls == "MultiHeadAttention" else (2, 4, 2)
    k, e = getattr(keras.layers, cls)(*args), getattr(ember.layers, cls)(*args)
    q = RNG.normal(size=(2, 5, 8)).astype("float32")
    v = RNG.normal(size=(2, 4, 8)).astype("float32")
    k(q, v)
    e(q, v)
    e.set_weights(k.get_weights())
    mask = RNG.uniform(size=(2, 5, 4)) > 0.3
    mask[0, 2] = False
    _close(e(q, v, attention_mask=mask).numpy(), _np(k(q, v, attention_mask=mask)))
    ko, ks = k(q, v, attention_mask=mask, return_attention_scores=True)
    eo, es = e(q, v, attention_mask=mask, return_attention_scores=True)
    _close(eo.numpy(), _np(ko))
    _close(es.numpy(), _np(ks))
