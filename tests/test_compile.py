"""The compiled training step (ember.compile) against the eager step, which defines the numbers.

Each model trains twice from the same seed, with ``jit_compile=False`` and
with ``jit_compile=True``: the per-epoch logs and the final weights (trainable
and not: BatchNormalization's moving statistics too) must be equal. Without
fusions the replay runs the eager step's operations in the eager order, so
equality is bit for bit; the fused softmax + cross-entropy changes the
arithmetic of one gradient and is compared at rtol 1e-6.
"""

from __future__ import annotations

import warnings

import numpy
import pytest

import ember as keras
from ember import layers
from ember.compile import CompiledTrainFunction, StepPlan


def _data(kind):
    r0, r1 = numpy.random.RandomState(0), numpy.random.RandomState(1)
    if kind == "mlp":  # W1's shapes, fewer samples
        return r0.rand(300, 784).astype("float32"), numpy.eye(10, dtype="float32")[r1.randint(0, 10, 300)], 128
    if kind == "tiny":  # W4
        return r0.rand(60, 4).astype("float32"), r1.randint(0, 2, (60, 1)).astype("float32"), 8
    if kind == "cnn":
        return r0.rand(50, 12, 12, 1).astype("float32"), numpy.eye(10, dtype="float32")[r1.randint(0, 10, 50)], 16
    if kind == "lstm":  # W3's layers, small
        return r0.randint(0, 100, (40, 10)), r1.randint(0, 2, (40, 1)).astype("float32"), 16
    if kind == "bn":
        return r0.rand(45, 5).astype("float32"), r1.randint(0, 3, 45), 8
    raise AssertionError(kind)


def _model(kind):
    if kind == "mlp":
        return keras.Sequential(
            [keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
        ), "categorical_crossentropy"
    if kind == "tiny":
        return keras.Sequential(
            [
                keras.Input((4,)),
                layers.Dense(8, activation="relu"),
                layers.Dense(6, activation="relu"),
                layers.Dense(1, activation="sigmoid"),
            ]
        ), "binary_crossentropy"
    if kind == "cnn":  # the seed CNN's layer kinds: one seeded Dropout, one on the process-wide generator
        return keras.Sequential(
            [
                keras.Input((12, 12, 1)),
                layers.Conv2D(4, 3, activation="relu"),
                layers.Conv2D(8, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Dropout(0.25, seed=3),
                layers.Flatten(),
                layers.Dense(16, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(10, activation="softmax"),
            ]
        ), "categorical_crossentropy"
    if kind == "lstm":
        return keras.Sequential(
            [
                keras.Input((10,), dtype="int32"),
                layers.Embedding(100, 8),
                layers.LSTM(8),
                layers.Dense(1, activation="sigmoid"),
            ]
        ), "binary_crossentropy"
    if kind == "bn":
        return keras.Sequential(
            [
                keras.Input((5,)),
                # no bias before the normalization: its true gradient is 0, its computed one rounding
                # noise that differs between any two orders of the arithmetic (see the fused test)
                layers.Dense(7, use_bias=False),
                layers.BatchNormalization(),
                layers.Activation("relu"),
                layers.Dense(3, activation="softmax"),
            ]
        ), "sparse_categorical_crossentropy"
    raise AssertionError(kind)


def _train(kind, optimizer, jit_compile, epochs=3, fuse=None, build=None):
    keras.utils.set_random_seed(7)
    model, loss = build() if build is not None else _model(kind)
    x, y, batch_size = _data(kind if build is None else "tiny")
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit_compile)
    if fuse is not None:
        model._train_function = CompiledTrainFunction(model, fuse=fuse)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    eager_warnings = [str(w.message) for w in caught if "runs eagerly" in str(w.message)]
    return history.history, model.get_weights(), model, eager_warnings


def _plans(model):
    return list(model._train_function.plans.values())


CASES = [
    ("mlp", "rmsprop"),
    ("tiny", "adam"),
    ("cnn", "adadelta"),
    ("lstm", "adam"),
    ("bn", "sgd"),
    ("tiny", "sgd"),
    ("bn", "rmsprop"),
    ("cnn", "adam"),
]


@pytest.mark.parametrize("kind,optimizer", CASES)
def test_compiled_step_is_bit_identical_to_eager(kind, optimizer):
    eager_logs, eager_weights, _, _ = _train(kind, optimizer, False)
    logs, weights, model, eager_warnings = _train(kind, optimizer, True, fuse=False)
    assert not eager_warnings
    # every signature (full batches, the last partial batch) got a replayed plan
    assert all(isinstance(p, StepPlan) for p in _plans(model))
    assert len(_plans(model)) == 2
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind,optimizer", [("mlp", "rmsprop"), ("cnn", "adadelta"), ("bn", "adam")])
def test_fused_softmax_crossentropy_matches_eager(kind, optimizer):
    eager_logs, eager_weights, _, _ = _train(kind, optimizer, False)
    logs, weights, model, eager_warnings = _train(kind, optimizer, True, fuse=True)
    assert not eager_warnings
    assert any(p.fused for p in _plans(model))
    # the fused gradient is softmax - y in one expression instead of the clipped
    # crossentropy's gradient chained through the softmax's: the same math,
    # rounded differently, so float32-honest tolerances instead of equality
    for name in eager_logs:
        numpy.testing.assert_allclose(logs[name], eager_logs[name], rtol=1e-6, atol=1e-7)
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * numpy.abs(b).max())


def test_fit_compiles_by_default_and_jit_compile_false_stays_eager():
    _, _, model, _ = _train("tiny", "adam", "auto")
    assert isinstance(model._train_function, CompiledTrainFunction)
    _, _, model, _ = _train("tiny", "adam", False)
    assert not isinstance(model._train_function, CompiledTrainFunction)
    with pytest.raises(ValueError, match="jit_compile"):
        model.compile(optimizer="adam", loss="mse", jit_compile="yes")


class _DataDependent(layers.Layer):
    """A mask computed on the host from the batch's values: a constant to the trace, different per batch."""

    def call(self, inputs):
        keep = inputs.numpy().mean(axis=1, keepdims=True) > 0.5
        return inputs * keep.astype("float32")


class _Noisy(layers.Layer):
    """A random draw outside ops.dropout: a plan cannot repeat it."""

    def call(self, inputs, training=None):
        return inputs + keras.random.normal(tuple(inputs.shape), stddev=0.1) if training else inputs


class _Counter(layers.Layer):
    """A Variable written during the forward pass (state a plan does not know how to update)."""

    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, inputs):
        self.count.assign_add(1.0)
        return inputs


@pytest.mark.parametrize("extra", [_DataDependent, _Noisy, _Counter])
def test_untraceable_steps_fall_back_to_eager_with_one_warning(extra):
    def build():
        return keras.Sequential(
            [keras.Input((4,)), extra(), layers.Dense(3, activation="relu"), layers.Dense(1)]
        ), "mse"

    eager_logs, eager_weights, _, _ = _train(None, "adam", False, build=build)
    logs, weights, model, eager_warnings = _train(None, "adam", True, build=build)
    assert len(set(eager_warnings)) >= 1
    assert len(eager_warnings) == len(set(eager_warnings))  # each reason said once
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)


def test_overridden_train_step_is_respected():
    class Custom(keras.Sequential):
        calls = 0

        def train_step(self, data):
            Custom.calls += 1
            return super().train_step(data)

    model = Custom([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y, _ = _data("tiny")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert Custom.calls == 8
