"""Recurrent layers (SimpleRNN, LSTM, GRU, RNN(cell), Bidirectional, TimeDistributed) against Keras 3.

Each test builds the same layer in Keras 3 (torch backend) and in Ember, copies
the weights with get_weights/set_weights and compares outputs, gradients,
masks, shapes, parameter counts and configs.
"""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the recurrent layers")
torch = pytest.importorskip("torch", reason="Keras 3 runs on its torch backend here")

import ember  # noqa: E402
from ember import layers as el  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _flat(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _close(ember_out, keras_out, rtol=RTOL, atol=ATOL):
    e, k = _flat(ember_out), _flat(keras_out)
    assert len(e) == len(k)
    for a, b in zip(e, k):
        b = _np(b)
        np.testing.assert_allclose(_np(a), b, rtol=rtol, atol=atol * max(1.0, float(np.abs(b).max(initial=0))))


def _pair(name, *args, **kwargs):
    return getattr(keras.layers, name)(*args, **kwargs), getattr(el, name)(*args, **kwargs)


def _built_pair(name, x, *args, **kwargs):
    """Keras and Ember layers, both built on ``x``, Ember holding Keras's weights."""
    k, e = _pair(name, *args, **kwargs)
    k(x)
    e(x)
    e.set_weights(k.get_weights())
    return k, e


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


CONFIGS = [
    ("SimpleRNN", {}),
    ("SimpleRNN", {"activation": "relu", "use_bias": False}),
    ("SimpleRNN", {"activation": "softsign"}),  # not a fused-op activation: the per-step path
    ("LSTM", {}),
    ("LSTM", {"unit_forget_bias": False, "bias_initializer": "random_normal"}),
    ("LSTM", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    ("LSTM", {"activation": "softsign", "use_bias": False}),
    ("GRU", {}),
    ("GRU", {"reset_after": False, "bias_initializer": "random_normal"}),
    ("GRU", {"activation": "softsign", "bias_initializer": "random_normal"}),
    ("GRU", {"reset_after": False, "recurrent_activation": "softsign"}),
]
VARIANTS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True, "return_sequences": True},
    {"return_state": True, "go_backwards": True},
]


@pytest.mark.parametrize("name,kwargs", CONFIGS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_outputs_match_keras(name, kwargs, variant, rng):
    x = rng.standard_normal((3, 6, 5)).astype("float32")
    k, e = _built_pair(name, x, 4, **kwargs, **variant)
    assert [w.shape for w in e.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.name for w in e.weights] == [w.name for w in k.weights]
    _close(e(x), k(x))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SimpleRNN", {}),
        ("LSTM", {"return_sequences": True}),
        ("LSTM", {"activation": "softsign", "go_backwards": True}),
        ("GRU", {"return_state": True}),
        ("GRU", {"reset_after": False, "return_sequences": True, "go_backwards": True}),
    ],
)
def test_gradients_match_keras(name, kwargs, rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    k, e = _built_pair(name, x, 4, bias_initializer="random_normal", **kwargs)
    k_out, e_out = _flat(k(torch.tensor(x))), _flat(e(x))
    weights = [rng.standard_normal(tuple(o.shape)).astype("float32") for o in k_out]

    xt = torch.tensor(x, requires_grad=True)
    k_loss = sum((o * torch.tensor(w)).sum() for o, w in zip(_flat(k(xt)), weights))
    k_grads = torch.autograd.grad(k_loss, [xt] + [w.value for w in k.trainable_weights])

    xe = ember.tensor(x, requires_grad=True)
    e_loss = sum((o * ember.tensor(w)).sum() for o, w in zip(_flat(e(xe)), weights))
    e_loss.backward()
    _close(e_loss, k_loss)
    _close([xe.grad] + [w.grad for w in e.trainable_weights], list(k_grads))
    assert len(e_out) == len(k_out)


def test_rnn_wrapper_with_ember_cells_equals_the_layers(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    for cell_name, layer_name in [("LSTMCell", "LSTM"), ("GRUCell", "GRU"), ("SimpleRNNCell", "SimpleRNN")]:
        k = keras.layers.RNN(getattr(keras.layers, cell_name)(5), return_sequences=True)
        e = el.RNN(getattr(el, cell_name)(5), return_sequences=True)
        k(x)
        e(x)
        e.set_weights(k.get_weights())
        _close(e(x), k(x))
        direct = getattr(el, layer_name)(5, return_sequences=True)
        direct(x)
        direct.set_weights(k.get_weights())
        _close(direct(x), k(x))


class _MinimalCell(el.Layer):
    """The custom cell of Keras's RNN docstring, written against Ember."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform", name="rk")
        self.built = True

    def call(self, inputs, states):
        h = ember.matmul(inputs, self.kernel) + ember.matmul(states[0], self.recurrent_kernel)
        return h, [h]


def test_custom_cell_with_mask_matches_keras(rng):
    class KerasMinimalCell(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform", name="rk")

        def call(self, inputs, states):
            h = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(states[0], self.recurrent_kernel)
            return h, [h]

    x = rng.standard_normal((3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 0, 1, 0, 1]], dtype=bool)
    for kwargs in [{"return_sequences": True}, {"return_state": True, "go_backwards": True}]:
        k = keras.layers.RNN(KerasMinimalCell(3), **kwargs)
        e = el.RNN(_MinimalCell(3), **kwargs)
        k(x)
        e(x)
        e.set_weights(k.get_weights())
        _close(e(x, mask=ember.tensor(mask)), k(x, mask=torch.tensor(mask)))


# ---- masks ------------------------------------------------------------------------------------------
TOKENS = np.array([[0, 0, 3, 4, 5, 6], [7, 8, 9, 0, 0, 0], [1, 0, 2, 0, 3, 4]], dtype="int32")


def _masked_models(rnn_name, rnn_kwargs, head="embedding"):
    """Keras and Ember Sequential models Embedding(mask_zero)/Masking -> RNN, Ember holding Keras's weights."""

    def build(lib):
        L = lib.layers
        if head == "embedding":
            first = [L.Input(shape=(6,), dtype="int32"), L.Embedding(10, 3, mask_zero=True)]
        else:
            first = [L.Input(shape=(6, 3)), L.Masking(mask_value=0.0)]
        return lib.Sequential([*first, getattr(L, rnn_name)(4, **rnn_kwargs)])

    k, e = build(keras), build(ember)
    e.set_weights(k.get_weights())
    return k, e


@pytest.mark.parametrize("rnn_name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("rnn_kwargs", [{}, {"return_sequences": True}, {"go_backwards": True}])
def test_embedding_mask_zero_feeds_the_recurrence(rnn_name, rnn_kwargs):
    k, e = _masked_models(rnn_name, rnn_kwargs)
    _close(e(TOKENS), k(TOKENS))
    _close(e.predict(TOKENS, verbose=0), k.predict(TOKENS, verbose=0))


def test_masking_layer_feeds_lstm_and_output_mask(rng):
    x = rng.standard_normal((3, 6, 3)).astype("float32")
    x[0, :2] = 0.0
    x[1, 3:] = 0.0
    x[2, 2] = 0.0
    k, e = _masked_models("LSTM", {"return_sequences": True}, head="masking")
    k_out, e_out = k(x), e(x)
    _close(e_out, k_out)
    expected = np.any(x != 0, axis=-1)
    np.testing.assert_array_equal(_np(e_out._keras_mask), expected)
    np.testing.assert_array_equal(_np(k_out._keras_mask), expected)


def test_compute_mask_with_return_state_and_sequences():
    mask = ember.tensor(np.array([[True, False]]))
    layer = el.LSTM(2, return_sequences=True, return_state=True)
    out = layer.compute_mask(None, mask)
    assert out[0] is mask and out[1:] == [None, None]
    assert el.GRU(2).compute_mask(None, mask) is None
    k = keras.layers.LSTM(2, return_sequences=True, return_state=True)
    assert len(k.compute_mask(None, torch.tensor([[True, False]]))) == 3


def test_masked_gradients_match_keras():
    k, e = _masked_models("GRU", {"return_sequences": True})
    w = np.linspace(-1, 1, 6 * 4, dtype="float32").reshape(1, 6, 4)
    k_loss = (k(TOKENS) * torch.tensor(w)).sum()
    k_grads = torch.autograd.grad(k_loss, [v.value for v in k.trainable_weights])
    e_loss = (e(TOKENS) * ember.tensor(w)).sum()
    e_loss.backward()
    _close(e_loss, k_loss)
    _close([v.grad.numpy() for v in e.trainable_weights], list(k_grads))


# ---- functional models: return_state, initial_state ---------------------------------------------------
def test_return_state_in_functional_model(rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")

    def build(lib):
        inp = lib.Input(shape=(5, 3))
        seq, h, c = lib.layers.LSTM(4, return_sequences=True, return_state=True)(inp)
        return lib.Model(inp, [seq, h, c])

    k, e = build(keras), build(ember)
    assert [t.shape for t in e.outputs] == [tuple(t.shape) for t in k.outputs]
    e.set_weights(k.get_weights())
    _close(e.predict(x, verbose=0), k.predict(x, verbose=0))


def test_initial_state_from_symbolic_inputs(rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    h0 = rng.standard_normal((2, 4)).astype("float32")
    c0 = rng.standard_normal((2, 4)).astype("float32")

    def build(lib):
        inp, h, c = lib.Input(shape=(5, 3)), lib.Input(shape=(4,)), lib.Input(shape=(4,))
        out = lib.layers.LSTM(4, return_sequences=True)(inp, initial_state=[h, c])
        out2 = lib.layers.GRU(4)(out, initial_state=h)
        return lib.Model([inp, h, c], [out, out2])

    k, e = build(keras), build(ember)
    e.set_weights(k.get_weights())
    _close(e.predict([x, h0, c0], verbose=0), k.predict([x, h0, c0], verbose=0))
    # eager call with a concrete initial state
    layer_k, layer_e = _built_pair("SimpleRNN", x, 4)
    _close(layer_e(x, initial_state=[h0]), layer_k(x, initial_state=[torch.tensor(h0)]))


def test_wrong_initial_state_and_rank_errors(rng):
    layer = el.LSTM(4)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    with pytest.raises(ValueError, match=r"expects 2 initial state"):
        layer(x, initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"\(batch, 4\) = \(2, 4\).*got shape \(2, 3\)"):
        layer(x, initial_state=[np.zeros((2, 3), "float32")] * 2)
    with pytest.raises(ValueError, match=r'layer "lstm.*expected ndim=3, found ndim=2. Full shape received: \(2, 5\)'):
        layer(x[:, :, 0])
    model = ember.Sequential([el.Input(shape=(5, 3)), el.GRU(2)])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 5, 3\), found shape=\(5, 3\)"):
        model.predict(x[0], verbose=0)


# ---- stateful ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_stateful_keeps_states_across_calls(name, rng):
    x1 = rng.standard_normal((2, 3, 4)).astype("float32")
    x2 = rng.standard_normal((2, 3, 4)).astype("float32")

    def build(lib):
        return lib.Sequential([lib.Input(batch_shape=(2, 3, 4)), getattr(lib.layers, name)(5, stateful=True)])

    k, e = build(keras), build(ember)
    assert len(e.weights) == len(k.weights) == 3  # the states are not weights
    e.set_weights(k.get_weights())
    for x in (x1, x2):
        _close(e(x), k(x))
    _close(e.layers[0].states, [v.value for v in k.layers[0].states])
    # a stateless layer would start from zeros: the second call depends on the first
    fresh = build(ember)
    fresh.set_weights(k.get_weights())
    assert not np.allclose(_np(fresh(x2)), _np(e(x2)))
    k.layers[0].reset_states()
    e.layers[0].reset_states()
    assert all(not np.any(_np(s)) for s in e.layers[0].states)
    _close(e(x1), k(x1))
    with pytest.raises(ValueError, match="batch size"):
        e.layers[0](x1[:1])


def test_stateful_needs_a_static_batch():
    with pytest.raises(ValueError, match="batch size must be static"):
        ember.Sequential([el.Input(shape=(3, 4)), el.LSTM(2, stateful=True)])


# ---- dropout --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("LSTM", {"dropout": 0.3}),
        ("LSTM", {"dropout": 0.3, "recurrent_dropout": 0.4}),
        ("GRU", {"dropout": 0.3, "recurrent_dropout": 0.4}),
        ("GRU", {"recurrent_dropout": 0.4, "reset_after": False}),
        ("SimpleRNN", {"dropout": 0.3, "recurrent_dropout": 0.4}),
    ],
)
def test_dropout_with_the_same_masks_matches_keras(name, kwargs, rng):
    """Keras's masks set to Ember's (the same mask for every gate): the training outputs agree."""
    x = rng.standard_normal((3, 5, 4)).astype("float32")
    k, e = _built_pair(name, x, 6, return_sequences=True, **kwargs)
    per_gate = {"LSTM": 4, "GRU": 3}.get(name) if kwargs.get("recurrent_dropout") else None
    for _ in range(2):
        dp = e.cell.get_dropout_mask(ember.zeros((3, 4)))
        rdp = e.cell.get_recurrent_dropout_mask(ember.zeros((3, 6)))
        for attr, m in (("_dropout_mask", dp), ("_recurrent_dropout_mask", rdp)):
            value = None if m is None else torch.tensor(_np(m))
            setattr(k.cell, attr, [value] * per_gate if (per_gate and value is not None) else value)
        _close(e(x, training=True), k(x, training=True))
        assert e.cell._dropout_mask is None and e.cell._recurrent_dropout_mask is None  # fresh masks next call
    _close(e(x, training=False), k(x, training=False))


def test_dropout_masks_are_seeded_scaled_and_drawn_per_call(rng):
    x = rng.standard_normal((8, 5, 4)).astype("float32")
    a = el.LSTM(6, dropout=0.5, recurrent_dropout=0.5, seed=7)
    b = el.LSTM(6, dropout=0.5, recurrent_dropout=0.5, seed=7)
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    first = _np(a(x, training=True))
    np.testing.assert_array_equal(first, _np(b(x, training=True)))  # same seed, same masks
    assert not np.allclose(first, _np(a(x, training=True)))  # a new draw on the next call
    mask = _np(a.cell.get_dropout_mask(ember.zeros((8, 4))))
    assert set(np.unique(mask)) <= {0.0, 2.0}
    a.cell.reset_dropout_mask()


# ---- Bidirectional ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("inner", [("LSTM", {"return_sequences": True}), ("GRU", {}), ("SimpleRNN", {})])
def test_bidirectional_merge_modes_match_keras(merge_mode, inner, rng):
    name, kwargs = inner
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    k = keras.layers.Bidirectional(getattr(keras.layers, name)(4, **kwargs), merge_mode=merge_mode)
    e = el.Bidirectional(getattr(el, name)(4, **kwargs), merge_mode=merge_mode)
    k(x)
    e(x)
    assert [w.shape for w in e.weights] == [tuple(w.shape) for w in k.weights]
    e.set_weights(k.get_weights())
    _close(e(x), k(x))
    assert e.compute_output_shape((None, 5, 3)) == k.compute_output_shape((None, 5, 3))


def test_bidirectional_with_mask_state_and_functional_model():
    def build(lib):
        inp = lib.Input(shape=(6,), dtype="int32")
        emb = lib.layers.Embedding(10, 3, mask_zero=True)(inp)
        seq = lib.layers.Bidirectional(lib.layers.LSTM(4, return_sequences=True))(emb)
        out = lib.layers.Bidirectional(lib.layers.LSTM(2, return_state=True), merge_mode="ave")(seq)
        return lib.Model(inp, list(out))

    k, e = build(keras), build(ember)
    assert [t.shape for t in e.outputs] == [tuple(t.shape) for t in k.outputs]
    e.set_weights(k.get_weights())
    _close(e.predict(TOKENS, verbose=0), k.predict(TOKENS, verbose=0))


def test_bidirectional_backward_layer_config_and_errors(rng):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    k = keras.layers.Bidirectional(
        keras.layers.LSTM(3, return_sequences=True),
        backward_layer=keras.layers.GRU(3, go_backwards=True, return_sequences=True),
    )
    e = el.Bidirectional(
        el.LSTM(3, return_sequences=True), backward_layer=el.GRU(3, go_backwards=True, return_sequences=True)
    )
    k(x)
    e(x)
    e.set_weights(k.get_weights())
    _close(e(x), k(x))
    kc, ec = k.get_config(), e.get_config()
    assert set(ec) == set(kc)
    assert ec["layer"]["class_name"] == "LSTM" and ec["backward_layer"]["class_name"] == "GRU"
    assert ec["layer"]["config"]["name"].startswith("forward_")
    clone = el.Bidirectional.from_config(ec)
    clone(x)
    clone.set_weights(e.get_weights())
    _close(clone(x), e(x))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        el.Bidirectional(el.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        el.Bidirectional(el.LSTM(2), backward_layer=el.LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        el.Bidirectional(el.LSTM(2), backward_layer=el.LSTM(2, go_backwards=True, return_sequences=True))


# ---- TimeDistributed ----------------------------------------------------------------------------------------------
def test_time_distributed_dense_and_dropout(rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    k = keras.layers.TimeDistributed(keras.layers.Dense(4, activation="tanh"))
    e = el.TimeDistributed(el.Dense(4, activation="tanh"))
    k(x)
    e(x)
    e.set_weights(k.get_weights())
    _close(e(x), k(x))
    assert e.compute_output_shape((None, 5, 3)) == k.compute_output_shape((None, 5, 3)) == (None, 5, 4)
    w = rng.standard_normal((2, 5, 4)).astype("float32")
    xt = torch.tensor(x, requires_grad=True)
    k_grads = torch.autograd.grad((k(xt) * torch.tensor(w)).sum(), [xt] + [v.value for v in k.trainable_weights])
    xe = ember.tensor(x, requires_grad=True)
    (e(xe) * ember.tensor(w)).sum().backward()
    _close([xe.grad] + [v.grad for v in e.trainable_weights], list(k_grads))
    assert set(e.get_config()) == set(k.get_config())
    assert e.get_config()["layer"]["class_name"] == "Dense"

    dropout = el.TimeDistributed(el.Dropout(0.5))
    np.testing.assert_array_equal(_np(dropout(x, training=False)), x)
    dropped = _np(dropout(x, training=True))
    assert set(np.unique(np.round(dropped / np.where(x == 0, 1, x), 5))) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        el.TimeDistributed(el.Dense(2))(x[:, 0])


def test_time_distributed_in_sequential_with_lstm(rng):
    x = rng.standard_normal((3, 4, 2)).astype("float32")

    def build(lib):
        L = lib.layers
        return lib.Sequential(
            [L.Input(shape=(4, 2)), L.LSTM(5, return_sequences=True), L.TimeDistributed(L.Dense(3)), L.GRU(2)]
        )

    k, e = build(keras), build(ember)
    assert e.count_params() == k.count_params()
    assert [layer.output.shape for layer in e.layers] == [tuple(layer.output.shape) for layer in k.layers]
    e.set_weights(k.get_weights())
    _close(e.predict(x, verbose=0), k.predict(x, verbose=0))


# ---- summary, configs, Keras 2 spellings --------------------------------------------------------------------------
@pytest.mark.slow
def test_imdb_model_parameter_counts_and_summary():
    def build(lib):
        L = lib.layers
        model = lib.Sequential()
        model.add(L.Input(shape=(80,), dtype="int32"))
        model.add(L.Embedding(20000, 128))
        model.add(L.LSTM(128, dropout=0.2, recurrent_dropout=0.2))
        model.add(L.Dense(1, activation="sigmoid"))
        return model

    k, e = build(keras), build(ember)
    assert [layer.count_params() for layer in e.layers] == [layer.count_params() for layer in k.layers]
    assert e.count_params() == 2_560_000 + 131_584 + 129
    lines = []
    e.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 80, 128)" in text and "131,584" in text and "Total params: 2,691,713" in text


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SimpleRNN", {"dropout": 0.1}),
        ("LSTM", {"recurrent_dropout": 0.2, "unit_forget_bias": False, "seed": 3, "return_state": True}),
        ("GRU", {"reset_after": False, "go_backwards": True, "kernel_regularizer": "l2", "stateful": True}),
    ],
)
def test_get_config_matches_keras(name, kwargs):
    k, e = _pair(name, 3, **kwargs)
    kc, ec = k.get_config(), e.get_config()
    assert set(ec) == set(kc)
    for key, value in kc.items():
        if key in ("name", "dtype") or isinstance(value, dict):
            continue
        assert ec[key] == value, key
    assert ec["kernel_initializer"]["class_name"] == kc["kernel_initializer"]["class_name"]
    assert ec["recurrent_initializer"]["class_name"] == "Orthogonal"
    again = type(e).from_config(ec)
    assert again.get_config() == ec


def test_keras2_spellings_warn_and_apply():
    with pytest.warns(DeprecationWarning) as record:
        layer = el.LSTM(
            output_dim=8, dropout_W=0.2, dropout_U=0.3, inner_init="glorot_normal", inner_activation="hard_sigmoid"
        )
    names = " ".join(str(w.message) for w in record)
    for new in ("units", "dropout", "recurrent_dropout", "recurrent_initializer", "recurrent_activation"):
        assert f"`{new}`" in names
    assert (layer.units, layer.dropout, layer.recurrent_dropout) == (8, 0.2, 0.3)
    assert layer.get_config()["recurrent_activation"] == "hard_sigmoid"
    assert layer.get_config()["recurrent_initializer"]["class_name"] == "GlorotNormal"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert el.GRU(output_dim=3, init="zeros").get_config()["kernel_initializer"]["class_name"] == "Zeros"
    with pytest.raises(TypeError, match="units"):
        el.SimpleRNN()
    with pytest.raises(ValueError, match="positive integer"):
        el.GRU(0)


def test_unroll_accepted_and_regularizer_losses(rng):
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    k, e = _built_pair("LSTM", x, 3, unroll=True, kernel_regularizer="l2", activity_regularizer="l1")
    _close(e(x), k(x))
    assert e.get_config()["unroll"] is True
    _close(sum(e.losses), sum(k.losses))


# ---- the seed program: Embedding -> LSTM(dropout, recurrent_dropout) -> Dense trains ----------------------
def test_imdb_lstm_model_trains_on_a_small_task():
    ember.random.seed(0)
    data = np.random.default_rng(0)
    x = data.integers(2, 30, size=(256, 10)).astype("int32")
    y = (x == 7).any(axis=1)  # does word 7 occur?
    x[:40, -3:] = 0  # some padding
    model = ember.Sequential()
    model.add(el.Embedding(30, 16))
    model.add(el.LSTM(16, dropout=0.2, recurrent_dropout=0.2))
    model.add(el.Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=ember.optimizers.Adam(0.01), metrics=["accuracy"])
    history = model.fit(x, y.astype("float32"), batch_size=32, epochs=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    loss, acc = model.evaluate(x, y.astype("float32"), verbose=0)
    assert np.isfinite(loss) and acc > 0.9


@pytest.mark.parametrize("name", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_cells_one_step_and_rnn_config_round_trip(name, rng):
    x = rng.standard_normal((2, 3)).astype("float32")
    k, e = _pair(name, 4, bias_initializer="random_normal")
    n_states = 2 if name == "LSTMCell" else 1
    states = [rng.standard_normal((2, 4)).astype("float32") for _ in range(n_states)]
    k_out, k_states = k(x, [torch.tensor(s) for s in states])
    e(x, states)
    e.set_weights(k.get_weights())
    e_out, e_states = e(x, states)
    _close([e_out, *e_states], [k_out, *k_states])
    assert set(e.get_config()) == set(k.get_config())
    layer = el.RNN(getattr(el, name)(4, dropout=0.25), go_backwards=True)
    config = layer.get_config()
    assert set(config) == set(keras.layers.RNN(getattr(keras.layers, name)(4)).get_config())
    again = el.RNN.from_config(config)
    assert type(again.cell).__name__ == name and again.cell.dropout == 0.25 and again.get_config() == config
