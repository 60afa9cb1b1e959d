"""Models (Sequential, functional, subclassed) against real Keras 3: weights, predict, summary, errors.

Each test builds the same model in Keras (torch backend) and in Ember, copies
Keras's weights into Ember with ``get_weights``/``set_weights`` and compares
what both give back, at float32-honest tolerances.
"""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the model API")

import ember  # noqa: E402

RTOL = 1e-5
ATOL = 1e-6


def assert_close(actual, expected):
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=ATOL * scale)


def copy_weights(k_model, e_model):
    k_weights = k_model.get_weights()
    assert [w.shape for w in e_model.get_weights()] == [w.shape for w in k_weights]
    e_model.set_weights(k_weights)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lambda text, *args, **kwargs: lines.extend(str(text).splitlines()))
    return [line.rstrip() for line in lines if line.strip()]


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(37, 8)).astype("float32")


# ---- the seed MLP and the three ways to start a Sequential -------------------------------
def seed_mlp(m):
    model = m.Sequential(name="seed_mlp")
    model.add(m.layers.Dense(512, activation="relu", input_shape=(28 * 28,), name="hidden"))
    model.add(m.layers.Dense(10, activation="softmax", name="probs"))
    return model


def test_seed_mlp_summary_matches_keras():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about input_shape on a layer
        k_model = seed_mlp(keras)
    e_model = seed_mlp(ember)
    assert [layer.count_params() for layer in e_model.layers] == [401_920, 5_130]
    assert e_model.count_params() == 407_050 == k_model.count_params()
    assert summary_lines(e_model) == summary_lines(k_model)
    assert e_model.output_shape == k_model.output_shape == (None, 10)


def test_seed_mlp_predict_matches_keras():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(50, 784)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_model = seed_mlp(keras)
    e_model = seed_mlp(ember)
    copy_weights(k_model, e_model)
    assert_close(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0))
    assert_close(e_model.predict(x, batch_size=7, verbose=0), k_model.predict(x, verbose=0))
    assert_close(e_model(x).numpy(), k_model(x).detach().numpy())


@pytest.mark.parametrize("start", ["input_first", "deferred"])
def test_sequential_variants_match_keras(start, data):
    def build(m):
        layers = [m.layers.Dense(6, activation="tanh", name="a"), m.layers.Dense(3, name="b")]
        if start == "input_first":
            layers = [m.Input(shape=(8,))] + layers
        return m.Sequential(layers, name="stack")

    k_model, e_model = build(keras), build(ember)
    assert e_model.built == k_model.built == (start == "input_first")
    if start == "deferred":
        k_model.predict(data[:2], verbose=0)
        e_model.predict(data[:2], verbose=0)
    copy_weights(k_model, e_model)
    assert_close(e_model.predict(data, verbose=0), k_model.predict(data, verbose=0))
    assert e_model.count_params() == k_model.count_params() == 8 * 6 + 6 + 6 * 3 + 3
    if start == "input_first":
        assert summary_lines(e_model) == summary_lines(k_model)


def test_sequential_add_pop(data):
    model = ember.Sequential([ember.Input(shape=(8,)), ember.layers.Dense(4), ember.layers.Dense(2)])
    assert model.output_shape == (None, 2)
    popped = model.pop()
    assert isinstance(popped, ember.layers.Dense) and len(model.layers) == 1
    assert model.predict(data, verbose=0).shape == (37, 4)


# ---- functional: two inputs, two outputs, a shared layer -----------------------------------
def two_in_two_out(m):
    a = m.Input(shape=(8,), name="a")
    b = m.Input(shape=(8,), name="b")
    shared = m.layers.Dense(5, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)
    reg = m.layers.Dense(2, name="reg")(ha)
    cls = m.layers.Dense(3, activation="softmax", name="cls")(hb)
    return m.Model([a, b], [reg, cls], name="two_heads")


def test_functional_shared_layer_matches_keras(data):
    rng = np.random.default_rng(1)
    xb = rng.normal(size=data.shape).astype("float32")
    k_model, e_model = two_in_two_out(keras), two_in_two_out(ember)
    assert [layer.name for layer in e_model.layers] == [layer.name for layer in k_model.layers]
    copy_weights(k_model, e_model)
    k_out, e_out = k_model.predict([data, xb], verbose=0), e_model.predict([data, xb], verbose=0)
    assert isinstance(e_out, list) and len(e_out) == 2
    for e, k in zip(e_out, k_out):
        assert_close(e, k)
    k_dict = k_model.predict({"a": data, "b": xb}, verbose=0)
    e_dict = e_model.predict({"a": data, "b": xb}, verbose=0)
    for e, k in zip(e_dict, k_dict):
        assert_close(e, k)
    assert summary_lines(e_model) == summary_lines(k_model)
    assert e_model.count_params() == k_model.count_params() == 45 + 12 + 18


def test_functional_chain_summary_matches_keras():
    def build(m):
        x = m.Input(shape=(6,), name="x")
        return m.Model(x, m.layers.Dense(3, name="d")(m.layers.Dense(4, name="c")(x)), name="chain")

    assert summary_lines(build(ember)) == summary_lines(build(keras))


# ---- subclassed --------------------------------------------------------------------------------
def subclassed(m):
    class TwoLayers(m.Model):
        def __init__(self):
            super().__init__(name="two_layers")
            self.hidden = m.layers.Dense(7, activation="relu", name="hidden")
            self.out = m.layers.Dense(2, name="out")

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    return TwoLayers()


def test_subclassed_model_matches_keras(data):
    k_model, e_model = subclassed(keras), subclassed(ember)
    k_model.predict(data[:4], verbose=0)
    e_model.predict(data[:4], verbose=0)
    copy_weights(k_model, e_model)
    assert_close(e_model.predict(data, verbose=0), k_model.predict(data, verbose=0))
    assert [w.shape for w in e_model.trainable_weights] == [tuple(w.shape) for w in k_model.trainable_weights]
    # both show the shapes of the first call, (4, 7) and (4, 2), and the same counts
    assert summary_lines(e_model) == summary_lines(k_model)


# ---- weights ---------------------------------------------------------------------------------------
def test_set_weights_checks_count_and_shape():
    model = ember.Sequential([ember.Input(shape=(3,)), ember.layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="length 1.*expecting 2"):
        model.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4, 2\)"):
        model.set_weights([np.zeros((4, 2)), np.zeros(2)])


def test_trainable_false_freezes_weights():
    model = ember.Sequential([ember.Input(shape=(3,)), ember.layers.Dense(2, name="d")])
    model.layers[0].trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 2


# ---- errors -------------------------------------------------------------------------------------------
def test_wrong_input_shape_names_layer_and_shapes(data):
    model = ember.Sequential([ember.layers.Dense(3, input_shape=(5,), name="first_dense")])
    with pytest.raises(ValueError) as err:
        model.predict(data, verbose=0)
    text = str(err.value)
    assert "first_dense" in text and "expected shape=(None, 5)" in text and "found shape=(32, 8)" in text


def test_direct_layer_call_with_wrong_shape_names_layer(data):
    layer = ember.layers.Dense(3, name="lonely")
    layer(np.zeros((2, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r'"lonely".*value 5.*\(37, 8\)'):
        layer(data)


def test_batch_axis_in_input_shape_is_explained():
    x = np.zeros((60, 784), dtype="float32")
    model = ember.Sequential([ember.layers.Dense(10, input_shape=(60, 784), name="too_many_axes")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError) as err:
        model.fit(x, np.zeros((60, 10), dtype="float32"), verbose=0)
    text = str(err.value)
    assert "too_many_axes" in text
    assert "without the batch axis" in text and "input_shape=(784,)" in text


def test_non_layer_added_to_sequential():
    with pytest.raises(ValueError, match="Only instances of"):
        ember.Sequential().add("dense")


# ---- Keras 2 spellings ------------------------------------------------------------------------------------
def test_predict_classes_warns_and_works(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, activation="softmax")])
        k_bin = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(1, activation="sigmoid")])
    e_model = ember.Sequential([ember.Input(shape=(8,)), ember.layers.Dense(4, activation="softmax")])
    e_bin = ember.Sequential([ember.Input(shape=(8,)), ember.layers.Dense(1, activation="sigmoid")])
    copy_weights(k_model, e_model)
    copy_weights(k_bin, e_bin)
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        classes = e_model.predict_classes(data, verbose=0)
    np.testing.assert_array_equal(classes, np.argmax(k_model.predict(data, verbose=0), axis=-1))
    with pytest.warns(DeprecationWarning):
        binary = e_bin.predict_classes(data, verbose=0)
    np.testing.assert_array_equal(binary, (k_bin.predict(data, verbose=0) > 0.5).astype("int32"))


def test_one_dimensional_data_for_an_input_declared_with_one_feature():
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0], dtype="float32")

    def build(m):
        return m.Sequential([m.layers.Dense(2, input_shape=[1])])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_model = build(keras)
    e_model = build(ember)
    copy_weights(k_model, e_model)
    assert_close(e_model.predict(xs, verbose=0), k_model.predict(xs, verbose=0))
    assert_close(e_model.predict(xs[:, None, None], verbose=0), k_model.predict(xs[:, None], verbose=0))


def test_summary_positions_and_expand_nested():
    layer = ember.layers.Dense
    inner = ember.Sequential([ember.Input((4,)), layer(3, name="dense"), layer(2, name="dense_1")], name="inner")
    model = ember.Sequential([ember.Input((4,)), inner, layer(1, name="dense_2")])
    lines = []
    model.summary(print_fn=lines.append)
    assert not any("└ dense" in line for line in lines)
    nested = []
    model.summary(print_fn=nested.append, expand_nested=True)
    names = [line.split("│")[1].strip() for line in nested if line.startswith("│")]
    assert names == ["inner (Sequential)", "└ dense (Dense)", "└ dense_1 (Dense)", "dense_2 (Dense)"]
    narrow = []
    model.summary(print_fn=narrow.append, positions=[0.4, 0.7, 1.0], line_length=60)
    row = next(line for line in narrow if line.startswith("│"))
    assert [len(cell) for cell in row.split("│")[1:-1]] == [21 + 2, 15 + 2, 15 + 2]  # 60 x (.4, .7, 1) ends
    with pytest.raises(ValueError, match="positions needs 3 column ends"):
        model.summary(positions=[0.5, 1.0])
