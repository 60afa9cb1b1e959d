"""Mixed precision as Keras 3 has it (docs/mixed_precision.md): policies, autocasting, loss scaling.

The oracle is real Keras 3 on its torch backend (CPU): the same models under ``mixed_float16`` give Keras's
variable and output dtypes and, with the same weights, outputs within float16-honest tolerances; a fit moves
the dynamic loss scale as Keras's does (overflowing steps skipped, the scale halved; growth after
``dynamic_growth_steps``). Tolerances: float16 has an 11-bit significand (a relative step of 2**-11 ~ 4.9e-4);
the two frameworks round intermediate results in different places, so outputs of order one agree to a few
float16 steps (rtol 1e-2 / atol 1e-2 on values up to ~10), and trained weights to that after a few steps.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

import ember
from ember import layers

os.environ.setdefault("KERAS_BACKEND", "torch")

F16_TOL = {"rtol": 1e-2, "atol": 1e-2}


def _keras():
    keras = pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for mixed precision")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras oracle runs with KERAS_BACKEND=torch")
    return keras


@pytest.fixture(autouse=True)
def _float32_policy_after():
    """Every test leaves the global policy (Ember's and Keras's, if loaded) as float32."""
    yield
    ember.config.set_dtype_policy("float32")
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].config.set_dtype_policy("float32")


def _host(a):
    return np.asarray(a.detach().cpu()) if hasattr(a, "detach") else np.asarray(a)


# ---------------------------------------------------------------------------------------------- policies
def test_one_policy_class_exported_where_keras_exports_it():
    cls = ember.dtype_policies.DTypePolicy
    assert ember.DTypePolicy is cls and ember.mixed_precision.DTypePolicy is cls and ember.mixed_precision.Policy is cls
    assert ember.config.DTypePolicy is cls  # kept importable from where it used to be a second class
    assert issubclass(ember.dtype_policies.FloatDTypePolicy, cls)
    assert ember.config.dtype_policy is ember.mixed_precision.global_policy is ember.dtype_policies.dtype_policy


@pytest.mark.parametrize("name", ["mixed_float16", "float16", "float32", "float64"])
def test_policies_match_keras(name):
    keras = _keras()
    ours, theirs = ember.DTypePolicy(name), keras.DTypePolicy(name)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (
        theirs.name,
        theirs.compute_dtype,
        theirs.variable_dtype,
    )
    assert repr(ours) == repr(theirs)
    assert ember.dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert ember.dtype_policies.deserialize(keras.dtype_policies.serialize(theirs)) == ours


def test_bfloat16_policies_are_refused_naming_the_missing_dtype():
    for name in ("mixed_bfloat16", "bfloat16"):
        with pytest.raises(NotImplementedError, match="no bfloat16 dtype"):
            ember.DTypePolicy(name)
        with pytest.raises(NotImplementedError, match="no bfloat16 dtype"):
            ember.mixed_precision.set_global_policy(name)
        with pytest.raises(NotImplementedError, match="no bfloat16 dtype"):
            layers.Dense(2, dtype=name)
    assert ember.config.dtype_policy().name == "float32"


def test_global_policy_and_per_layer_dtype_as_in_keras():
    keras = _keras()
    for fw in (ember, keras):
        fw.mixed_precision.set_global_policy("mixed_float16")
    try:
        assert ember.mixed_precision.global_policy().name == "mixed_float16"
        assert ember.config.floatx() == "float32"  # a mixed policy leaves floatx alone, as in Keras
        made = {}
        for fw in (ember, keras):
            made[fw.__name__] = [
                fw.layers.Dense(2),
                fw.layers.Dense(2, dtype="float32"),
                fw.layers.Dense(2, dtype=fw.DTypePolicy("float64")),
                fw.layers.Dense(2, dtype="mixed_float16"),
            ]
        for ours, theirs in zip(made["ember"], made["keras"]):
            assert ours.dtype_policy.name == theirs.dtype_policy.name
            assert (ours.dtype, ours.compute_dtype, ours.variable_dtype) == (
                theirs.dtype,
                theirs.compute_dtype,
                theirs.variable_dtype,
            )
    finally:
        for fw in (ember, keras):
            fw.mixed_precision.set_global_policy("float32")
    assert layers.Dense(2).dtype_policy.name == "float32"


def test_clear_session_drops_a_global_mixed_policy_as_keras():
    keras = _keras()
    for fw in (ember, keras):
        fw.mixed_precision.set_global_policy("mixed_float16")
        fw.backend.clear_session()
    assert ember.mixed_precision.global_policy().name == keras.mixed_precision.global_policy().name == "float32"


def test_policy_in_get_config_and_from_config():
    keras = _keras()
    dense = layers.Dense(3, dtype="mixed_float16")
    assert dense.get_config()["dtype"] == "mixed_float16"
    again = layers.Dense.from_config(dense.get_config())
    assert again.dtype_policy == ember.DTypePolicy("mixed_float16")
    # Keras writes the policy as its serialized dict: a Keras config builds the same Ember layer
    kconfig = keras.layers.Dense(3, dtype="mixed_float16").get_config()
    assert isinstance(kconfig["dtype"], dict)
    from ember.saving.serialization import clean_layer_config

    rebuilt = layers.Dense.from_config(clean_layer_config(layers.Dense, kconfig))
    assert (rebuilt.compute_dtype, rebuilt.variable_dtype) == ("float16", "float32")


# ---------------------------------------------------------------------------------- autocasting vs Keras
def _image_model(fw):
    L = fw.layers
    inputs = fw.Input((8, 8, 3))
    x = L.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.Flatten(name="flat")(x)
    x = L.Dense(6, activation="tanh", name="dense")(x)
    x = L.Dense(3, name="logits")(x)
    outputs = L.Activation("softmax", dtype="float32", name="probs")(x)
    return fw.Model(inputs, outputs)


def _sequence_model(fw):
    L = fw.layers
    inputs = fw.Input((5,), dtype="int32")
    x = L.Embedding(12, 4, name="emb")(inputs)
    x = L.LSTM(6, return_sequences=True, name="lstm")(x)
    x = L.LayerNormalization(name="ln")(x)
    x = L.GRU(3, name="gru")(x)
    outputs = L.Dense(2, name="out")(x)
    return fw.Model(inputs, outputs)


def _pair(builder):
    """The same model built under mixed_float16 in Ember and in Keras, Keras holding Ember's initial weights."""
    keras = _keras()
    ember.mixed_precision.set_global_policy("mixed_float16")
    keras.mixed_precision.set_global_policy("mixed_float16")
    ember.utils.set_random_seed(0)
    ours, theirs = builder(ember), builder(keras)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.parametrize("builder", [_image_model, _sequence_model], ids=["conv_bn_dense", "emb_lstm_ln_gru"])
def test_mixed_float16_model_dtypes_and_outputs_match_keras(builder):
    ours, theirs = _pair(builder)
    rng = np.random.default_rng(1)
    if builder is _image_model:
        x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    else:
        x = rng.integers(0, 12, size=(4, 5)).astype("int32")
    # variables are float32, each layer's symbolic output has Keras's dtype (float16, float32 for the softmax)
    assert [str(w.dtype) for w in ours.weights] == [str(w.dtype) for w in theirs.weights]
    assert {str(w.dtype) for w in ours.weights} == {"float32"}
    for a, b in zip(ours.layers[1:], theirs.layers[1:]):  # after the InputLayer (a tensor's dtype, no policy)
        assert a.dtype_policy.name == b.dtype_policy.name, a.name
        assert str(a.output.dtype) == str(b.output.dtype), a.name
    # inference and training-mode outputs, same weights: float16-honest agreement, Keras's dtypes
    for training in (False, True):
        got = ours(x, training=training)
        want = theirs(x, training=training)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_allclose(got.numpy().astype("float32"), _host(want).astype("float32"), **F16_TOL)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0).astype("float32"), theirs.predict(x, verbose=0).astype("float32"), **F16_TOL
    )


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda fw: fw.layers.Rescaling(1 / 255.0), (2, 3)),
        (lambda fw: fw.layers.Normalization(mean=2.0, variance=4.0), (2, 3)),
        (lambda fw: fw.layers.Dropout(0.5), (2, 3)),
        (lambda fw: fw.layers.GroupNormalization(groups=1), (2, 4, 3)),
        (lambda fw: fw.layers.Conv1D(2, 2), (2, 4, 3)),
        (lambda fw: fw.layers.SimpleRNN(2), (2, 4, 3)),
        (lambda fw: fw.layers.Bidirectional(fw.layers.LSTM(2)), (2, 4, 3)),
        (lambda fw: fw.layers.GlobalAveragePooling1D(), (2, 4, 3)),
    ],
    ids=["rescaling", "normalization", "dropout", "group_norm", "conv1d", "simple_rnn", "bidirectional", "gap1d"],
)
def test_layer_output_dtypes_match_keras(make, shape):
    keras = _keras()
    x = np.random.default_rng(11).uniform(size=shape).astype("float32")
    dtypes = []
    for fw in (ember, keras):
        fw.mixed_precision.set_global_policy("mixed_float16")
        layer = make(fw)
        dtypes.append(
            (str(layer(x, training=True).dtype).replace("torch.", ""), sorted(str(w.dtype) for w in layer.weights))
        )
    assert dtypes[0] == dtypes[1]


def test_multi_head_attention_sublayers_take_the_policy_as_keras():
    keras = _keras()
    x = np.random.default_rng(12).uniform(size=(2, 5, 4)).astype("float32")
    seen = []
    for fw in (ember, keras):
        fw.mixed_precision.set_global_policy("mixed_float16")
        mha = fw.layers.MultiHeadAttention(2, 4)
        out = mha(x, x)
        seen.append(
            (str(out.dtype).replace("torch.", ""), mha._softmax.dtype_policy.name, mha._query_dense.compute_dtype)
        )
    assert seen[0] == seen[1] == ("float16", "mixed_float16", "float16")


def test_gradients_reach_float32_variables_in_float32_and_match_keras():
    keras = _keras()
    import torch

    ours, theirs = _pair(_image_model)
    x = np.random.default_rng(2).normal(size=(4, 8, 8, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    loss = ember.losses.CategoricalCrossentropy()(y, ours(x, training=True))
    loss.backward()
    theirs.zero_grad()
    kloss = keras.losses.CategoricalCrossentropy()(torch.tensor(y), theirs(x, training=True))
    kloss.backward()
    for w, kw in zip(ours.trainable_weights, theirs.trainable_weights):
        assert w.grad.dtype == np.float32, w.path
        kgrad = _host(kw.value.grad)
        np.testing.assert_allclose(w.grad.numpy(), kgrad, rtol=2e-2, atol=2e-3 * max(1.0, np.abs(kgrad).max()))


def test_autocast_rules():
    ember.mixed_precision.set_global_policy("mixed_float16")
    x = np.ones((2, 3), "float32")
    # float inputs are cast, integer inputs are not; autocast=False keeps both inputs and weights as they are
    assert layers.Dense(2)(x).dtype == np.float16
    assert layers.Dense(2)(x.astype("float64")).dtype == np.float16
    assert layers.Identity()(np.ones((2, 3), "int32")).dtype == np.int32
    plain = layers.Dense(2, autocast=False)
    assert plain(ember.tensor(x)).dtype == np.float32  # float32 in, float32 kernel read as it is
    # a float32 layer inside a mixed model computes in float32 (the guide's last layer)
    last = layers.Activation("softmax", dtype="float32")
    assert last(ember.tensor(x, dtype="float16")).dtype == np.float32

    class Scaled(layers.Layer):  # a custom layer: its weight is read in float16 inside call
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.raw = self.add_weight(shape=(input_shape[-1],), initializer="ones", autocast=False)

        def call(self, inputs):
            return inputs * self.w, self.raw + 0.0

    scaled, raw = Scaled()(x)
    assert scaled.dtype == np.float16 and raw.dtype == np.float32


def test_float32_models_are_unchanged_by_the_autocast_machinery():
    # a float32 model: no scope opens, no cast is recorded, outputs and gradients keep float32
    model = ember.Sequential([layers.Input((3,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(1)])
    out = model(np.ones((2, 3), "float32"), training=True)
    assert out.dtype == np.float32 and out.grad_fn is not None
    from ember.engine import function

    assert function._autocasting == 0


# --------------------------------------------------------------------------------------------- loss scaling
def _regression_pair(keras, optimizer_factory):
    """A Dense regression model in both frameworks under mixed_float16, same weights, compiled with mse."""
    ember.mixed_precision.set_global_policy("mixed_float16")
    keras.mixed_precision.set_global_policy("mixed_float16")
    models = []
    for fw in (ember, keras):
        m = fw.Sequential([fw.Input((4,)), fw.layers.Dense(8, activation="relu"), fw.layers.Dense(1)])
        models.append(m)
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in models[0].weights]
    for m, fw in zip(models, (ember, keras)):
        m.set_weights(weights)
        m.compile(optimizer=optimizer_factory(fw), loss="mse")
    return models


class _ScaleLog:
    def __init__(self):
        self.scales = []

    def callback(self, fw, model_ref):
        log = self

        class Record(fw.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                log.scales.append(float(_host(model_ref[0].optimizer.dynamic_scale.numpy())))

        return Record()


def test_compile_wraps_the_optimizer_in_a_loss_scale_optimizer_as_keras():
    keras = _keras()
    ours, theirs = _regression_pair(keras, lambda fw: fw.optimizers.SGD(0.01))
    assert type(ours.optimizer).__name__ == type(theirs.optimizer).__name__ == "LossScaleOptimizer"
    assert ours.optimizer.name == theirs.optimizer.name == "loss_scale_optimizer"
    assert ours.optimizer.initial_scale == theirs.optimizer.initial_scale == 2.0**15
    # auto_scale_loss=False, or a float32 model: the optimizer stays as given
    ours.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert type(ours.optimizer).__name__ == "SGD"
    ember.mixed_precision.set_global_policy("float32")
    plain = ember.Sequential([layers.Input((4,)), layers.Dense(1)])
    plain.compile(optimizer="sgd", loss="mse")
    assert type(plain.optimizer).__name__ == "SGD"


def test_fit_moves_the_loss_scale_as_keras_does():
    """Large targets make the first scaled float16 gradients overflow: those steps are skipped and the scale
    halves; with dynamic_growth_steps=3 it doubles again after three good steps. Scale per step, the count of
    applied steps and the trained weights agree with Keras."""
    keras = _keras()
    ours, theirs = _regression_pair(
        keras,
        lambda fw: fw.optimizers.LossScaleOptimizer(fw.optimizers.SGD(1e-3), dynamic_growth_steps=3),
    )
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(64, 4)).astype("float32")
    y = (40.0 * x.sum(axis=1, keepdims=True)).astype("float32")
    logs = {}
    for name, model in (("ember", ours), ("keras", theirs)):
        fw = ember if name == "ember" else keras
        log = _ScaleLog()
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[log.callback(fw, [model])])
        logs[name] = log.scales
    assert logs["ember"] == logs["keras"]
    scales = logs["ember"]
    assert scales[0] == 2.0**14  # the first step overflowed: skipped, halved
    assert any(b == 2 * a for a, b in zip(scales, scales[1:]))  # grown after dynamic_growth_steps good steps
    skipped = sum(1 for a, b in zip([2.0**15] + scales, scales) if b < a)
    assert skipped >= 2
    assert int(ours.optimizer.iterations.numpy()) == int(_host(theirs.optimizer.iterations.numpy()))
    assert int(ours.optimizer.iterations.numpy()) == len(scales) - skipped
    for w, kw in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(w, kw, rtol=2e-2, atol=2e-2)


def test_loss_scale_factor_is_applied_by_fit_and_undone_by_apply():
    # the inner optimizer's loss_scale_factor: fit multiplies the loss, apply divides the gradients (before this,
    # fit never scaled while apply divided, so training ran 1/factor too slow)
    x = np.random.default_rng(5).normal(size=(16, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    weights = []
    for factor in (None, 64.0):
        ember.utils.set_random_seed(0)
        m = ember.Sequential([layers.Input((3,)), layers.Dense(1)])
        m.compile(optimizer=ember.optimizers.SGD(0.1, loss_scale_factor=factor), loss="mse")
        m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        weights.append(m.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_scaled_step_runs_eagerly_and_says_why(caplog):
    ember.mixed_precision.set_global_policy("mixed_float16")
    m = ember.Sequential([layers.Input((3,)), layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse")
    with caplog.at_level(logging.INFO, logger="ember.compile"):
        m.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), verbose=0)
    assert "runs eagerly: the optimizer scales the loss" in caplog.text
    assert type(m._train_function).__name__ != "CompiledTrainFunction"
    m.compile(optimizer="sgd", loss="mse", jit_compile=True)
    with pytest.warns(RuntimeWarning, match="the optimizer scales the loss"):
        m.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), verbose=0)


def test_compiled_fit_and_predict_give_eager_numbers_under_mixed_float16():
    """Without loss scaling (auto_scale_loss=False) the compiled step traces the float16 casts: same numbers."""
    ember.mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(6)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    results = []
    for eager in (True, False):
        ember.utils.set_random_seed(0)
        m = ember.Sequential(
            [layers.Input((6,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(), layers.Dense(1)]
        )
        m.compile(optimizer="adam", loss="mse", auto_scale_loss=False, run_eagerly=eager)
        h = m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        if not eager:
            assert m._train_function.replays > 0
        results.append((h.history["loss"], m.get_weights(), m.predict(x, verbose=0)))
    (loss_a, w_a, p_a), (loss_b, w_b, p_b) = results
    assert loss_a == loss_b
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a, b)
    assert p_a.dtype == p_b.dtype == np.float16
    np.testing.assert_array_equal(p_a, p_b)


def test_mixed_fit_on_the_strict_device_equals_the_cpu():
    ember.mixed_precision.set_global_policy("mixed_float16")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    histories = []
    for device in ("cpu", "strict"):
        ember.utils.set_random_seed(1)
        m = ember.Sequential([layers.Input((5,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        histories.append(m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, device=device).history)
        assert m.weights[0].dtype == np.float32 and m.weights[0].device == device
    assert histories[0]["loss"] == histories[1]["loss"]


# -------------------------------------------------------------------------------------------------- saving
def test_a_mixed_keras_file_loads_in_keras_and_back(tmp_path):
    keras = _keras()
    ours, theirs = _pair(_image_model)
    x = np.random.default_rng(8).normal(size=(3, 8, 8, 3)).astype("float32")
    path = tmp_path / "ember_mixed.keras"
    ours.save(path)
    keras.mixed_precision.set_global_policy("float32")  # the policies must come from the file
    ember.mixed_precision.set_global_policy("float32")
    loaded = keras.models.load_model(path)
    assert [layer.dtype_policy.name for layer in loaded.layers[1:]] == [
        layer.dtype_policy.name for layer in ours.layers[1:]
    ]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), ours.predict(x, verbose=0), **F16_TOL)
    kpath = tmp_path / "keras_mixed.keras"
    loaded.save(kpath)
    back = ember.models.load_model(kpath)
    assert [layer.dtype_policy.name for layer in back.layers[1:]] == [
        layer.dtype_policy.name for layer in ours.layers[1:]
    ]
    assert back.get_layer("dense").compute_dtype == "float16" and back.get_layer("probs").compute_dtype == "float32"
    np.testing.assert_array_equal(back.predict(x, verbose=0), ours.predict(x, verbose=0))


def test_a_trained_mixed_model_keeps_its_loss_scale_state_across_ember_and_keras(tmp_path):
    import warnings

    keras = _keras()
    ours, _ = _regression_pair(keras, lambda fw: "adam")
    x = np.random.default_rng(10).uniform(size=(32, 4)).astype("float32")
    ours.fit(x, 30.0 * x.sum(axis=1, keepdims=True), batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "trained.keras"
    ours.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # Keras warns when the inner optimizer's group is missing
        loaded = keras.models.load_model(path)
    assert type(loaded.optimizer).__name__ == "LossScaleOptimizer"
    assert len(loaded.optimizer.variables) == len(ours.optimizer.variables)
    for k, e in zip(loaded.optimizer.variables, ours.optimizer.variables):
        np.testing.assert_array_equal(_host(k.numpy()), e.numpy())
    back = ember.models.load_model(path)
    assert float(back.optimizer.dynamic_scale.numpy()) == float(ours.optimizer.dynamic_scale.numpy())


# ----------------------------------------------------------------------------- the keras.io guide's program
@pytest.mark.slow
def test_the_mixed_precision_guide_program_runs():
    """The keras.io "Mixed precision" guide's program, written in its style (smaller, synthetic MNIST-shaped
    data): a global mixed_float16 policy, a float32 softmax at the end, fit with the automatic loss scaling,
    and a custom training loop with an explicit LossScaleOptimizer."""
    keras = ember
    from ember import mixed_precision

    mixed_precision.set_global_policy("mixed_float16")
    policy = mixed_precision.global_policy()
    assert (policy.compute_dtype, policy.variable_dtype) == ("float16", "float32")

    inputs = keras.Input(shape=(784,), name="digits")
    num_units = 64
    dense1 = layers.Dense(num_units, activation="relu", name="dense_1")
    x = dense1(inputs)
    dense2 = layers.Dense(num_units, activation="relu", name="dense_2")
    x = dense2(x)
    assert dense1.dtype_policy.name == "mixed_float16" and x.dtype.name == "float16"
    assert dense1.kernel.dtype.name == "float32"
    x = layers.Dense(10, name="dense_logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)
    assert outputs.dtype.name == "float32"
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)

    rng = np.random.default_rng(9)
    centers = rng.uniform(size=(10, 784)).astype("float32")
    y_train = rng.integers(0, 10, size=512)
    x_train = np.clip(centers[y_train] + rng.normal(scale=0.3, size=(512, 784)), 0, 1).astype("float32")
    initial_weights = model.get_weights()
    history = model.fit(x_train, y_train, batch_size=64, epochs=4, validation_split=0.25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x_train, y_train, verbose=0)
    assert np.isfinite(loss) and accuracy > 0.5

    # the guide's custom training loop: scale the loss, backward, the optimizer unscales and skips overflows
    model.set_weights(initial_weights)
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.05))
    loss_object = keras.losses.SparseCategoricalCrossentropy()
    losses = []
    for start in range(0, 512, 64):
        xb, yb = x_train[start : start + 64], y_train[start : start + 64]
        for w in model.trainable_weights:
            w.grad = None
        predictions = model(xb, training=True)
        loss = loss_object(yb, predictions)
        optimizer.scale_loss(loss).backward()
        optimizer.apply([w.grad for w in model.trainable_weights], model.trainable_weights)
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert all(w.dtype.name == "float32" for w in model.weights)
