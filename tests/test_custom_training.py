"""Custom training the Keras 3 way: overridden steps, ``metrics`` trackers, ``stateless_call``, ``optimizer.apply``
on plain tensors, legacy ``.h5`` saving, and the quiet defaults (no warnings Keras would not print)."""

from __future__ import annotations

import os
import warnings

import numpy
import pytest

import ember
import ember as keras
from ember import layers


def _data(n=32, d=3, seed=0):
    r = numpy.random.RandomState(seed)
    x = r.normal(size=(n, d)).astype("float32")
    return x, x.sum(axis=1, keepdims=True).astype("float32")


class _Recorder(keras.Model):
    """Records what fit/evaluate/predict hand to the overridden steps."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.seen = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.seen.append(data)
        return {"n": 1.0}

    def test_step(self, data):
        self.seen.append(data)
        return {"n": 2.0}

    def predict_step(self, data):
        self.seen.append(data)
        return self(data[0] if isinstance(data, tuple) else data)


def test_overridden_steps_get_batches_packed_as_keras_packs_them():
    x, y = _data(8)
    model = _Recorder()
    model.compile(optimizer="sgd")
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert isinstance(model.seen[-1], numpy.ndarray)  # fit(x): the batch is x itself
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert isinstance(model.seen[-1], tuple) and len(model.seen[-1]) == 2
    model.fit(x, y, sample_weight=numpy.ones(8), epochs=1, batch_size=8, verbose=0)
    assert len(model.seen[-1]) == 3
    assert model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True) == {"n": 2.0}
    assert len(model.seen[-1]) == 2
    out = model.predict(x, batch_size=8, verbose=0)
    assert out.shape == (8, 1) and isinstance(model.seen[-1], numpy.ndarray)


def test_default_steps_accept_keras_packed_data():
    x, y = _data(16)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    logs = model.train_step((x, y))
    assert set(logs) == {"loss"}
    assert model.predict_step(x).shape == (16, 1)
    assert set(model.test_step((x, y, numpy.ones(16, "float32")))) == {"loss"}


def test_metrics_lists_trackers_and_fit_resets_them_each_epoch():
    x, y = _data(32)

    class Tracked(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.batches = keras.metrics.Sum(name="batches")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = keras.ops.mean(keras.ops.square(self(x, training=True) - y))
            loss.backward()
            self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
            self.loss_tracker.update_state(loss)
            self.batches.update_state(1.0)
            return {m.name: m.result() for m in self.metrics}

    model = Tracked()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    names = [m.name for m in model.metrics]
    assert names[0] == "loss" and "batches" in names
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    assert history.history["batches"] == [4.0, 4.0, 4.0]  # reset at each epoch, as Keras does
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_compiled_metrics_appear_in_metrics_with_a_dict_result():
    x, y = _data(16)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
    model.fit(x, y, epochs=1, verbose=0)
    result = model.get_metrics_result()
    assert set(result) == {"loss", "mae"}


def test_functional_subclass_overriding_train_step():
    """keras.io's ``CustomModel(inputs, outputs)``: a Model subclass built from symbolic tensors."""

    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input((3,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    from ember.models.functional import Functional

    assert isinstance(model, Functional) and len(model.layers) == 2
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    x, y = _data(64)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_stateless_call_returns_new_non_trainable_values_and_leaves_the_model_alone():
    x, _ = _data(8)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.BatchNormalization()])
    before = [w.copy() for w in model.get_weights()]
    trainable = [v.numpy() * 2 for v in model.trainable_variables]
    outputs, non_trainable = model.stateless_call(trainable, model.non_trainable_variables, x, training=True)
    assert all(numpy.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    kernel, bias = trainable[0], trainable[1]
    h = x @ kernel + bias
    expected_mean = 0.99 * 0 + 0.01 * h.mean(axis=0)  # BatchNormalization's moving mean after one batch
    numpy.testing.assert_allclose(non_trainable[0].numpy(), expected_mean, rtol=1e-5, atol=1e-7)
    assert outputs.shape == (8, 4)
    with pytest.raises(ValueError, match="trainable_variables has 1 values"):
        model.stateless_call(trainable[:1], model.non_trainable_variables, x)


def test_optimizer_apply_on_plain_tensors_matches_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the update")
    r = numpy.random.RandomState(1)
    w0, x = r.normal(size=(3, 1)).astype("float32"), r.normal(size=(8, 3)).astype("float32")
    w = ember.tensor(w0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    opt, topt = ember.optimizers.Adam(0.1), torch.optim.Adam([tw], lr=0.1, eps=1e-7)
    for _ in range(3):
        w.grad = None
        ((ember.tensor(x) @ w) ** 2).mean().backward()
        opt.apply([w.grad], [w])
        topt.zero_grad()
        ((torch.tensor(x) @ tw) ** 2).mean().backward()
        topt.step()
    numpy.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_subclassed_fit_is_quiet_and_trains_from_the_first_batch():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    x, y = _data(8)
    model = Net()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 1 and len(model.trainable_weights) == 2


def test_class_weight_with_several_outputs_raises_keras_error():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, [layers.Dense(1)(inputs), layers.Dense(2, activation="softmax")(inputs)])
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"])
    x, y = _data(8)
    with pytest.raises(ValueError, match="only supported for Models with a single output"):
        model.fit(x, [y, numpy.zeros(8)], class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_save_h5_writes_legacy_hdf5_with_keras_warning(tmp_path):
    x, y = _data(16)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = os.fspath(tmp_path / "best_model.h5")
    with pytest.warns(UserWarning, match="considered legacy"):
        model.save(path)
    restored = keras.models.load_model(path)
    numpy.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(restored.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)


def test_legacy_h5_written_by_ember_loads_in_keras(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    real = pytest.importorskip("keras", reason="real Keras 3 is the oracle for the file format")
    x, y = _data(16)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = os.fspath(tmp_path / "m.h5")
    with pytest.warns(UserWarning):
        model.save(path)
    loaded = real.models.load_model(path, compile=False)  # Keras 3.15 cannot compile its own .h5 with loss "mse"
    numpy.testing.assert_allclose(
        numpy.asarray(loaded.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6
    )


def test_model_checkpoint_to_h5(tmp_path):
    x, y = _data(32)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = os.fspath(tmp_path / "best_model.h5")
    with pytest.warns(UserWarning, match="considered legacy"):
        model.fit(
            x,
            y,
            validation_split=0.25,
            epochs=2,
            verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(path, save_best_only=True)],
        )
    assert keras.models.load_model(path).count_params() == 4


def test_onnx_is_a_lazy_attribute():
    import importlib
    import sys

    assert "onnx" in ember._SUBPACKAGES
    module = ember.onnx
    assert module is importlib.import_module("ember.onnx") and hasattr(module, "export")
    assert "ember.onnx" in sys.modules


def test_custom_loop_with_ember_grad_equals_backward():
    """The backend-agnostic loop: grads from ``ember.grad`` or from ``.backward()`` drive the same update."""
    x, y = _data(16)
    models = []
    for _ in range(2):
        model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    opts = [keras.optimizers.Adam(0.05), keras.optimizers.Adam(0.05)]
    loss_fn = keras.losses.MeanSquaredError()
    for _ in range(3):
        loss = loss_fn(y, models[0](x, training=True))
        grads = ember.grad(loss, models[0].trainable_variables)
        opts[0].apply(grads, models[0].trainable_variables)
        models[1].zero_grad()
        loss_fn(y, models[1](x, training=True)).backward()
        opts[1].apply([v.grad for v in models[1].trainable_variables], models[1].trainable_variables)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        numpy.testing.assert_array_equal(a, b)
    assert all(w.grad is None for w in models[0].trainable_variables)  # ember.grad leaves .grad alone
