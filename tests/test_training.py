"""compile / fit / evaluate / predict against real Keras 3 (torch backend).

The same model is built in both, Keras's initial weights are copied into
Ember, both train with ``shuffle=False`` and the test compares the History,
the final weights and what evaluate/predict and the ``*_on_batch`` methods
return, at float32-honest tolerances.
"""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the training API")

import ember  # noqa: E402
from ember.data import Dataset  # noqa: E402

RTOL = 1e-5
ATOL = 1e-6


def assert_close(actual, expected):
    expected = np.asarray(expected, dtype="float64")
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"), expected, rtol=RTOL, atol=ATOL * scale)


def assert_same_history(e_hist, k_hist):
    assert sorted(e_hist) == sorted(k_hist)
    for key in k_hist:
        assert_close(e_hist[key], k_hist[key])


def assert_same_weights(e_model, k_model):
    for e, k in zip(e_model.get_weights(), k_model.get_weights(), strict=True):
        assert_close(e, k)


def pair(build):
    """The same model in Keras and Ember, Ember holding Keras's initial weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_model = build(keras)
    e_model = build(ember)
    e_model.set_weights(k_model.get_weights())
    return k_model, e_model


def mlp(m, n_out=3, activation="softmax"):
    return m.Sequential(
        [m.Input(shape=(6,)), m.layers.Dense(8, activation="relu"), m.layers.Dense(n_out, activation=activation)]
    )


@pytest.fixture
def cls_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(45, 6)).astype("float32")
    labels = rng.integers(0, 3, size=45)
    return x, labels, np.eye(3, dtype="float32")[labels]


def both(k_model, e_model, method, *args, **kwargs):
    return getattr(k_model, method)(*args, **kwargs), getattr(e_model, method)(*args, **kwargs)


# ---- fit: optimizers, validation, weights --------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_fit_matches_keras(optimizer, cls_data):
    x, _, y = cls_data
    k_model, e_model = pair(mlp)
    for model in (k_model, e_model):
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    fit = dict(epochs=2, batch_size=8, shuffle=False, verbose=0, validation_split=0.2)
    k_hist, e_hist = both(k_model, e_model, "fit", x, y, **fit)
    assert isinstance(e_hist, ember.callbacks.History) and e_hist is e_model.history
    assert sorted(e_hist.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert_same_history(e_hist.history, k_hist.history)
    assert e_hist.epoch == k_hist.epoch == [0, 1]
    assert_same_weights(e_model, k_model)
    k_eval, e_eval = both(k_model, e_model, "evaluate", x, y, verbose=0)
    assert isinstance(e_eval, list) and len(e_eval) == 2
    assert_close(e_eval, k_eval)
    k_dict, e_dict = both(k_model, e_model, "evaluate", x, y, verbose=0, return_dict=True)
    assert sorted(e_dict) == sorted(k_dict)
    assert_close([e_dict[k] for k in k_dict], list(k_dict.values()))
    assert_close(e_model.predict(x, verbose=0), k_model.predict(x, verbose=0))


def test_fit_with_validation_data_and_class_weight(cls_data):
    x, labels, _ = cls_data
    k_model, e_model = pair(mlp)
    for model, m in ((k_model, keras), (e_model, ember)):
        model.compile(
            optimizer=m.optimizers.Adam(learning_rate=0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["acc"],
        )
    fit = dict(epochs=2, batch_size=10, shuffle=False, verbose=0, class_weight={0: 1.0, 1: 2.5, 2: 0.5})
    k_hist, e_hist = both(k_model, e_model, "fit", x[:35], labels[:35], validation_data=(x[35:], labels[35:]), **fit)
    assert sorted(e_hist.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert_same_history(e_hist.history, k_hist.history)
    assert_same_weights(e_model, k_model)


def test_fit_with_sample_weight_and_evaluate_scalar(cls_data):
    x, _, _ = cls_data
    rng = np.random.default_rng(4)
    y = rng.normal(size=(45, 2)).astype("float32")
    sw = rng.uniform(0.2, 2.0, size=45).astype("float32")
    k_model, e_model = pair(lambda m: mlp(m, 2, None))
    for model in (k_model, e_model):
        model.compile(optimizer="rmsprop", loss="mse")
    fit = dict(sample_weight=sw, epochs=2, batch_size=16, shuffle=False, verbose=0)
    k_hist, e_hist = both(k_model, e_model, "fit", x, y, **fit)
    assert_same_history(e_hist.history, k_hist.history)
    assert_same_weights(e_model, k_model)
    k_eval, e_eval = both(k_model, e_model, "evaluate", x, y, sample_weight=sw, verbose=0)
    assert isinstance(e_eval, float)
    assert_close(e_eval, k_eval)


def test_initial_epoch_and_nb_epoch(cls_data):
    x, _, y = cls_data
    model = mlp(ember)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.fit(x, y, epochs=3, initial_epoch=1, verbose=0).epoch == [1, 2]
    with pytest.warns(DeprecationWarning, match="epochs"):
        history = model.fit(x, y, nb_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2


# ---- the *_on_batch methods ----------------------------------------------------------------------
def test_on_batch_methods_match_keras(cls_data):
    x, _, y = cls_data
    k_model, e_model = pair(mlp)
    for model in (k_model, e_model):
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    k_train, e_train = both(k_model, e_model, "train_on_batch", x, y)
    assert isinstance(e_train, list) and len(e_train) == 2
    assert_close(e_train, k_train)
    assert_same_weights(e_model, k_model)
    k_test, e_test = both(k_model, e_model, "test_on_batch", x, y, return_dict=True)
    assert sorted(e_test) == sorted(k_test)
    assert_close([e_test[k] for k in k_test], list(k_test.values()))
    k_pred, e_pred = both(k_model, e_model, "predict_on_batch", x)
    assert isinstance(e_pred, np.ndarray)
    assert_close(e_pred, k_pred.detach().numpy() if hasattr(k_pred, "detach") else k_pred)


# ---- two outputs: per-output losses and metrics, loss weights, log names -------------------------
def two_heads(m):
    a = m.Input(shape=(6,), name="a")
    b = m.Input(shape=(6,), name="b")
    shared = m.layers.Dense(5, activation="tanh", name="shared")
    reg = m.layers.Dense(2, name="reg")(shared(a))
    cls = m.layers.Dense(3, activation="softmax", name="cls")(shared(b))
    return m.Model([a, b], [reg, cls])


@pytest.mark.parametrize(
    "compile_args",
    [
        dict(loss=["mse", "categorical_crossentropy"], loss_weights=[0.3, 1.0], metrics=[["mae"], ["accuracy"]]),
        dict(
            loss={"reg": "mse", "cls": "categorical_crossentropy"},
            loss_weights={"reg": 2.0, "cls": 0.5},
            metrics={"reg": ["mae", "mse"], "cls": "acc"},
        ),
    ],
    ids=["lists", "dicts"],
)
def test_two_outputs_match_keras(compile_args, cls_data):
    x, _, y2 = cls_data
    rng = np.random.default_rng(5)
    xb = rng.normal(size=x.shape).astype("float32")
    y1 = rng.normal(size=(45, 2)).astype("float32")
    sw = rng.uniform(0.5, 2.0, size=45).astype("float32")
    k_model, e_model = pair(two_heads)
    for model in (k_model, e_model):
        model.compile(optimizer="adam", **compile_args)
    fit = dict(epochs=2, batch_size=16, shuffle=False, verbose=0, validation_split=0.2, sample_weight=sw)
    k_hist, e_hist = both(k_model, e_model, "fit", [x, xb], [y1, y2], **fit)
    assert "reg_loss" in e_hist.history and "val_cls_loss" in e_hist.history
    assert_same_history(e_hist.history, k_hist.history)
    assert_same_weights(e_model, k_model)
    # evaluate's list: loss, the per-output losses, then the other logs sorted (Keras 3's order)
    k_eval, e_eval = both(k_model, e_model, "evaluate", [x, xb], [y1, y2], verbose=0)
    assert_close(e_eval, k_eval)
    k_batch, e_batch = both(k_model, e_model, "train_on_batch", [x, xb], [y1, y2])
    assert_close(e_batch, k_batch)
    k_pred, e_pred = both(k_model, e_model, "predict", [x, xb], verbose=0)
    for e, k in zip(e_pred, k_pred, strict=True):
        assert_close(e, k)


# ---- metric names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, n_out, activation, metrics, targets",
    [
        ("categorical_crossentropy", 3, "softmax", ["accuracy"], "onehot"),
        ("sparse_categorical_crossentropy", 3, "softmax", ["acc", "sparse_categorical_crossentropy"], "sparse"),
        ("binary_crossentropy", 1, "sigmoid", ["accuracy", "auc"], "binary"),
    ],
)
def test_metric_resolution_and_names_match_keras(loss, n_out, activation, metrics, targets, cls_data):
    x, labels, onehot = cls_data
    y = {"onehot": onehot, "sparse": labels, "binary": (labels == 1).astype("float32")[:, None]}[targets]
    k_model, e_model = pair(lambda m: mlp(m, n_out, activation))
    for model in (k_model, e_model):
        model.compile(optimizer="sgd", loss=loss, metrics=metrics)
    k_hist, e_hist = both(k_model, e_model, "fit", x, y, epochs=1, batch_size=15, shuffle=False, verbose=0)
    assert_same_history(e_hist.history, k_hist.history)
    assert e_model.metrics_names == ["loss", *metrics]


# ---- data sources: ember.data.Dataset, Python generators -----------------------------------------
def test_dataset_fit_evaluate_predict_match_keras_on_arrays(cls_data):
    x, _, y = cls_data
    k_model, e_model = pair(mlp)
    for model in (k_model, e_model):
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    train = Dataset.from_tensor_slices((x[:36], y[:36])).batch(9)
    val = Dataset.from_tensor_slices((x[36:], y[36:])).batch(9)
    k_hist = k_model.fit(
        x[:36], y[:36], batch_size=9, epochs=2, shuffle=False, verbose=0, validation_data=(x[36:], y[36:])
    )
    e_hist = e_model.fit(train, epochs=2, verbose=0, validation_data=val)
    assert_same_history(e_hist.history, k_hist.history)
    assert_same_weights(e_model, k_model)
    assert_close(e_model.evaluate(train, verbose=0), k_model.evaluate(x[:36], y[:36], batch_size=9, verbose=0))
    assert_close(e_model.predict(Dataset.from_tensor_slices(x).batch(10), verbose=0), k_model.predict(x, verbose=0))


def test_generator_fit_evaluate_predict_match_keras(cls_data):
    x, _, y = cls_data

    def batches(with_y=True):
        while True:
            for start in range(0, 40, 10):
                yield (x[start : start + 10], y[start : start + 10]) if with_y else (x[start : start + 10],)

    k_model, e_model = pair(mlp)
    for model in (k_model, e_model):
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    k_hist = k_model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    e_hist = e_model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    assert_same_history(e_hist.history, k_hist.history)
    assert_same_weights(e_model, k_model)
    assert_close(e_model.evaluate(batches(), steps=4, verbose=0), k_model.evaluate(batches(), steps=4, verbose=0))
    assert_close(
        e_model.predict(batches(False), steps=4, verbose=0), k_model.predict(batches(False), steps=4, verbose=0)
    )


# ---- callbacks -----------------------------------------------------------------------------------
def test_early_stopping_stops_like_keras(cls_data):
    x, _, y = cls_data
    k_model, e_model = pair(mlp)
    histories = []
    for model, m in ((k_model, keras), (e_model, ember)):
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        stop = m.callbacks.EarlyStopping(monitor="val_loss", min_delta=10.0, patience=1)
        histories.append(model.fit(x, y, epochs=20, shuffle=False, verbose=0, validation_split=0.2, callbacks=[stop]))
    assert histories[1].epoch == histories[0].epoch == [0, 1]
    assert_same_history(histories[1].history, histories[0].history)


def test_model_checkpoint_saves_weights_or_says_what_is_missing(cls_data, tmp_path):
    x, _, y = cls_data
    model = mlp(ember)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    path = tmp_path / "ckpt.weights.h5"
    checkpoint = ember.callbacks.ModelCheckpoint(str(path), save_weights_only=True)
    if not hasattr(model, "save_weights"):  # saving comes with the saving issue
        with pytest.raises(AttributeError, match="save_weights"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
        return
    model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    assert path.exists()


# ---- reproducibility -----------------------------------------------------------------------------
def test_seeded_runs_are_bit_identical_on_cpu(cls_data):
    x, _, y = cls_data
    seed = getattr(getattr(ember, "utils", None), "set_random_seed", None) if _has_utils() else None
    seed = seed or ember.random.seed

    def run():
        seed(1234)
        model = mlp(ember)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        history = model.fit(x, y, epochs=2, batch_size=8, shuffle=True, verbose=0)
        return history.history["loss"], model.get_weights()

    (loss_a, weights_a), (loss_b, weights_b) = run(), run()
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(a, b)


def _has_utils():
    try:
        return ember.utils is not None
    except AttributeError:
        return False


# ---- errors --------------------------------------------------------------------------------------
def test_fit_before_compile_is_a_clear_error(cls_data):
    x, _, y = cls_data
    model = mlp(ember)
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(x, y, verbose=0)


def test_mismatched_lengths_are_reported(cls_data):
    x, _, y = cls_data
    model = mlp(ember)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"same number of samples.*|\(45, 6\).*\(30, 3\)"):
        model.fit(x, y[:30], verbose=0)


def test_unknown_fit_argument_is_rejected(cls_data):
    x, _, y = cls_data
    model = mlp(ember)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(TypeError, match="epoch_count"):
        model.fit(x, y, epoch_count=2, verbose=0)


def test_steps_per_execution_calls_batch_hooks_once_per_execution_with_the_same_numbers():
    """Keras 3 calls the batch hooks once per N steps (begin at the first, end at the last, the epoch's last
    step closing a short group); the weights are those of N separate steps."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((70, 4)).astype("float32"), rng.standard_normal((70, 1)).astype("float32")

    def run(n):
        ember.utils.set_random_seed(1)
        model = ember.Sequential([ember.Input((4,)), ember.layers.Dense(1)])
        model.compile("sgd", "mse", steps_per_execution=n)
        seen = []
        hooks = ember.callbacks.LambdaCallback(
            on_train_batch_begin=lambda b, logs=None: seen.append(("begin", b)),
            on_train_batch_end=lambda b, logs=None: seen.append(("end", b)),
        )
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0, callbacks=[hooks])
        return model.get_weights(), seen

    one, seen_one = run(1)
    three, seen_three = run(3)
    assert len(seen_one) == 14
    assert seen_three == [("begin", 0), ("end", 2), ("begin", 3), ("end", 5), ("begin", 6), ("end", 6)]
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)
    model = ember.Sequential([ember.Input((4,)), ember.layers.Dense(1)])
    with pytest.raises(ValueError, match="steps_per_execution must be an integer >= 1"):
        model.compile("sgd", "mse", steps_per_execution=0)
    with pytest.raises(ValueError, match="auto_scale_loss must be True or False"):
        model.compile("sgd", "mse", auto_scale_loss="yes")
    model.compile("sgd", "mse", steps_per_execution=4, auto_scale_loss=False)
    from ember.saving.compile_config import compile_config

    config = compile_config(model)
    assert config["steps_per_execution"] == 4 and config["auto_scale_loss"] is False
