"""The compiled training step (ember.compile) against the eager step, which defines the numbers.

Each model trains twice from the same seed, with ``jit_compile=False`` and
with ``jit_compile=True``: the per-epoch logs and the final weights (trainable
and not: BatchNormalization's moving statistics too) must be equal bit for
bit: the replay runs the eager step's operations in the eager order, with
no fused gradient.
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


def _train(kind, optimizer, jit_compile, epochs=3, build=None):
    keras.utils.set_random_seed(7)
    model, loss = build() if build is not None else _model(kind)
    x, y, batch_size = _data(kind if build is None else "tiny")
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit_compile)
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
    logs, weights, model, eager_warnings = _train(kind, optimizer, True)
    assert not eager_warnings
    # every signature (full batches, the last partial batch) got a replayed plan
    assert all(isinstance(p, StepPlan) for p in _plans(model))
    assert len(_plans(model)) == 2
    # the accuracies were updated by their lean per-batch counters (the same numbers), a cpu-only fast path
    if keras.backend.default_device().type == "cpu":
        assert model._compiled_metrics._lean[1] is not None
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind,optimizer", [("mlp", "rmsprop"), ("cnn", "adadelta"), ("lstm", "adam"), ("bn", "sgd")])
def test_released_activations_change_no_number(kind, optimizer, monkeypatch):
    """With every plan dropping its values after each step (big plans do), compiled still equals eager."""
    from ember.compile import plan as plan_module

    monkeypatch.setattr(plan_module, "RELEASE_BYTES", 0)
    eager_logs, eager_weights, _, _ = _train(kind, optimizer, False)
    logs, weights, model, _ = _train(kind, optimizer, True)
    for p in _plans(model):
        assert p.release  # its values are locals of the replay, gone once it returns; its functions release
        # the functions hold only what they had before their forward (device, xp, gradient needs)
        kept = {"device", "xp", "needs_input_grad", "_freed"}
        assert all(set(vars(step.fn)) <= kept for step in p.steps), [set(vars(s.fn)) - kept for s in p.steps]
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)


def test_small_plans_keep_their_values():
    _, _, model, _ = _train("tiny", "adam", True)
    assert not any(p.release for p in _plans(model))


@pytest.mark.parametrize("kind,optimizer", [("mlp", "rmsprop"), ("tiny", "adam"), ("lstm", "adam")])
def test_saturated_outputs_follow_the_loss_clip(kind, optimizer):
    """Inputs scaled up saturate the softmax/sigmoid: the eager gradient is 0 where Keras's clip acts, and the
    compiled step (no fused loss gradient) gives the same numbers bit for bit."""
    scale = {"mlp": 60.0, "tiny": 500.0, "lstm": 1.0}[kind]

    def train(jit):
        keras.utils.set_random_seed(7)
        model, loss = _model(kind)
        x, y, batch_size = _data(kind)
        if scale != 1.0:
            x = (x * scale).astype(x.dtype)
        model.compile(optimizer=optimizer, loss=loss, jit_compile=jit)
        history = model.fit(x, y, batch_size=batch_size, epochs=3, verbose=0)
        return history.history, model.get_weights(), model

    eager_logs, eager_weights, _ = train(False)
    logs, weights, model = train("auto")
    assert all(isinstance(p, StepPlan) for p in _plans(model))
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)


class _RowBias(layers.Layer):
    """Adds a (1, units) weight to (batch, steps, units) inputs: its gradient is summed over two axes, one kept."""

    def build(self, input_shape):
        self.b = self.add_weight(shape=(1, input_shape[-1]), initializer="ones", name="b")

    def call(self, inputs):
        return inputs + self.b


def _graph_model():
    """A 3-D matmul (the general backward), a (1, n) bias, one Dense applied twice (two gradients into one
    weight's buffer), and a value read by two ops (gradients summed into one slot)."""
    inputs = keras.Input((4,))
    seq = _RowBias()(layers.Dense(3)(layers.Reshape((2, 2))(inputs)))
    flat = layers.Flatten()(seq)
    shared = layers.Dense(6, activation="relu")
    h = shared(shared(flat))
    out = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([h, flat]))
    return keras.Model(inputs, out), "binary_crossentropy"


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_replayed_backward_on_a_graph_is_bit_identical_to_eager(optimizer):
    eager_logs, eager_weights, _, _ = _train(None, optimizer, False, build=_graph_model)
    logs, weights, model, eager_warnings = _train(None, optimizer, True, build=_graph_model)
    assert not eager_warnings
    assert all(isinstance(p, StepPlan) for p in _plans(model))
    assert logs == eager_logs
    for a, b in zip(weights, eager_weights):
        numpy.testing.assert_array_equal(a, b)
    walk = _plans(model)[0].walk  # the engine's edge table the plan replays
    edges = [edge for entry in walk.entries for edge in entry[5]]
    shared = next(layer for layer in model.layers if getattr(layer, "units", None) == 6)
    kernel = next(i for i, w in enumerate(model.trainable_weights) if w is shared.kernel)
    assert sum(edge[1] == walk.target_slots[kernel] for edge in edges) == 2  # two gradients summed
    row_bias = [edge[4] for edge in edges if tuple(edge[2]) == (1, 3)]
    assert row_bias and row_bias[0][2] is True  # the (1, n) bias's sum keeps an axis (add.reduce, keepdims)


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


# ---- flat parameter buffers: the compiled step's variables are views into one array per dtype --------------


def _both(scenario):
    """Run ``scenario(jit_compile)`` eagerly and compiled (no fusion); it returns a list of arrays/logs to compare."""
    keras.utils.set_random_seed(11)
    eager = scenario(False)
    keras.utils.set_random_seed(11)
    compiled = scenario(True)
    assert len(eager) == len(compiled)
    for a, b in zip(compiled, eager):
        if isinstance(a, dict):
            assert a == b
        else:
            numpy.testing.assert_array_equal(a, b)
    return compiled


def _tiny_model(jit_compile, optimizer="adam"):
    model, loss = _model("tiny")
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit_compile)
    if jit_compile:
        model._train_function = CompiledTrainFunction(model)
    return model


def _flat_in_use(model):
    layout = model.optimizer.flat_layout(model.trainable_weights)
    return layout is not None and all(w.data.base is not None for w in model.trainable_weights)


def test_flat_buffers_in_use_and_set_weights_after_flattening():
    x, y, batch = _data("tiny")

    def scenario(jit):
        model = _tiny_model(jit)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        assert _flat_in_use(model)  # the optimizer's flat update, eager and compiled alike
        new = [numpy.full_like(w, 0.01 * (i + 1)) for i, w in enumerate(model.get_weights())]
        model.set_weights(new)  # writes into the views
        for a, b in zip(model.get_weights(), new):
            numpy.testing.assert_array_equal(a, b)
        model.optimizer.set_weights(model.optimizer.get_weights())
        h = model.fit(x, y, batch_size=batch, epochs=2, verbose=0)
        return [h.history] + model.get_weights() + model.optimizer.get_weights()

    _both(scenario)


def test_flat_buffers_save_and_reload(tmp_path):
    x, y, batch = _data("tiny")

    def scenario(jit):
        model = _tiny_model(jit)
        model.fit(x, y, batch_size=batch, epochs=2, verbose=0)
        path = str(tmp_path / f"m{int(jit)}.keras")
        model.save(path)
        saved = model.get_weights()
        wpath = str(tmp_path / f"w{int(jit)}.weights.h5")
        model.save_weights(wpath)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        model.load_weights(wpath)  # back to the saved values, in the views the next step updates
        for a, b in zip(model.get_weights(), saved):
            numpy.testing.assert_array_equal(a, b)
        h = model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        loaded = keras.saving.load_model(path)
        for a, b in zip(loaded.get_weights(), saved):
            numpy.testing.assert_array_equal(a, b)
        h2 = loaded.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        return [h.history, h2.history] + model.get_weights() + loaded.get_weights()

    _both(scenario)


def test_flat_buffers_with_restore_best_weights():
    x, y, batch = _data("tiny")

    def scenario(jit):
        model = _tiny_model(jit, optimizer=keras.optimizers.Adam(0.05))
        stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, mode="max")
        h = model.fit(x, y, batch_size=batch, epochs=5, verbose=0, callbacks=[stop])
        h2 = model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        return [h.history, h2.history] + model.get_weights()

    _both(scenario)


def test_flat_buffers_with_a_layer_shared_by_two_models():
    x, y, batch = _data("tiny")

    def scenario(jit):
        shared = layers.Dense(6, activation="relu")
        models = []
        for units in (1, 2):
            m = keras.Sequential([keras.Input((4,)), shared, layers.Dense(units, activation="sigmoid")])
            m.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=jit)
            if jit:
                m._train_function = CompiledTrainFunction(m)
            models.append(m)
        a, b = models
        yb = numpy.concatenate([y, 1 - y], axis=1)
        out = []
        for model, target in ((a, y), (b, yb), (a, y), (b, yb)):
            out.append(model.fit(x, target, batch_size=batch, epochs=1, verbose=0).history)
        return out + a.get_weights() + b.get_weights()

    _both(scenario)


def test_flat_buffers_with_constraints_non_trainable_and_per_variable_options():
    x, y, batch = _data("tiny")

    def build(jit, optimizer):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                layers.Dense(8, activation="relu", kernel_constraint=keras.constraints.NonNeg()),
                layers.Dense(6, activation="relu"),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.layers[1].trainable = False
        model.compile(optimizer=optimizer, loss="binary_crossentropy", jit_compile=jit)
        if jit:
            model._train_function = CompiledTrainFunction(model)
        return model

    def make_adamw():
        opt = keras.optimizers.AdamW(0.01, weight_decay=0.1)
        opt.exclude_from_weight_decay(var_names=["bias"])
        return opt

    for make in (make_adamw, lambda: keras.optimizers.Adam(clipnorm=0.1), lambda: keras.optimizers.RMSprop(0.01)):

        def scenario(jit, make=make):
            model = build(jit, make())
            h = model.fit(x, y, batch_size=batch, epochs=2, verbose=0)
            assert (model.layers[0].kernel.numpy() >= 0).all()
            return [h.history] + model.get_weights()

        _both(scenario)


def test_ops_fast_forms_give_the_general_forms_bits():
    """Matmul's 2-D forms and divide_no_nan by a nonzero scalar (what eager and the plan run) equal the general ones."""
    from ember.ops.arithmetic import DivideNoNan, Matmul

    r = numpy.random.RandomState(8)

    def run(fn_type, arrays, g):
        tensors = [keras.tensor(a, requires_grad=True) for a in arrays]
        out = fn_type.apply(*tensors)
        out.backward(keras.tensor(g))
        return [out.numpy()] + [t.grad.numpy() for t in tensors]

    a, b, g = r.rand(5, 3).astype("float32"), r.rand(3, 4).astype("float32"), r.rand(5, 4).astype("float32")
    fast = run(Matmul, [a, b], g)
    general = run(Matmul, [a[None], b], g[None])  # a batch axis of 1: promotion and sums over batch axes
    for got, want in zip(fast, [general[0][0], general[1][0], general[2]]):
        assert got.shape == want.shape and got.dtype == want.dtype
        numpy.testing.assert_array_equal(got, want)

    for x in (r.rand(7).astype("float32"), numpy.asarray(3.25, dtype="float32")):
        g = numpy.asarray(r.rand(*x.shape), dtype="float32")
        n = numpy.asarray(7.0, dtype="float32")
        fast = run(DivideNoNan, [x, n], g)
        general = run(DivideNoNan, [x, n.reshape(1)], g if x.ndim else g.reshape(1))  # a (1,) divisor: the where
        for got, want in zip(fast, [general[0].reshape(x.shape), general[1], general[2].reshape(())]):
            assert got.shape == want.shape and got.dtype == want.dtype
            numpy.testing.assert_array_equal(got, want)
    x, zero = r.rand(3).astype("float32"), numpy.asarray(0.0, dtype="float32")
    zero = run(DivideNoNan, [x, zero], numpy.ones(3, "float32"))
    numpy.testing.assert_array_equal(zero[0], 0.0)  # a zero scalar divisor still takes the where
    numpy.testing.assert_array_equal(zero[1], 0.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy_fast_form_gives_the_general_forms_bits(dtype, monkeypatch):
    """BinaryCrossentropy's fast form (floors skipped, clip as max/min, q == p as the mask) equals the general one.

    Probabilities at and around the clip's bounds (one ulp either side), 0, 1, outside [0, 1], NaN; one and
    several classes (the mean of one value as a reshape); label smoothing; gradients to both inputs.
    """
    from ember.ops import loss as loss_ops

    eps = keras.config.epsilon()
    lo, hi = numpy.asarray(eps, dtype), numpy.asarray(1 - eps, dtype)
    edges = [lo, hi, numpy.nextafter(lo, 0), numpy.nextafter(lo, 1), numpy.nextafter(hi, 0), numpy.nextafter(hi, 1)]
    r = numpy.random.RandomState(3)
    p = numpy.concatenate([edges, [0, 1, -0.5, 1.5, -0.0, numpy.nan, 0.5], r.rand(17)]).astype(dtype)
    t = (r.rand(p.size) < 0.5).astype(dtype)
    assert loss_ops._clip_inside(eps, numpy.dtype(dtype))

    def run(shape, smoothing):
        tt = keras.tensor(t.reshape(shape), requires_grad=True)
        pp = keras.tensor(p.reshape(shape), requires_grad=True)
        out = loss_ops.BinaryCrossentropy.apply(tt, pp, label_smoothing=smoothing)
        out.backward(keras.tensor(numpy.linspace(0.5, 2, out.size).astype(dtype).reshape(out.shape)))
        return [out.numpy(), tt.grad.numpy(), pp.grad.numpy()]

    for shape in [(p.size, 1), (p.size // 3, 3), (p.size,)]:
        for smoothing in (0.0, 0.1):
            with numpy.errstate(all="ignore"):
                fast = run(shape, smoothing)
                with monkeypatch.context() as m:
                    m.setattr(loss_ops, "_clip_inside", lambda eps, dtype: False)
                    general = run(shape, smoothing)
            for got, want in zip(fast, general):
                assert got.shape == want.shape and got.dtype == want.dtype
                numpy.testing.assert_array_equal(got, want)
    assert not loss_ops._clip_inside(eps, numpy.dtype("float16"))  # 1 - eps rounds to 1: the general form
