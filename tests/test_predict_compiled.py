"""The compiled predict forward (ember.compile.predict_function) against eager predict, which defines the numbers.

Each model predicts twice: with the compiled forward (the default) and with
``jit_compile=False`` (``predict_step`` eagerly). The replay runs each op's
own forward on the same arrays in the same order, so the outputs must be equal
bit for bit. Every data set ends in a partial batch, which gets its own plan.
"""

from __future__ import annotations

import warnings

import numpy
import pytest

import ember as keras
from ember import layers
from ember.compile.forward_plan import ForwardPlan
from ember.compile.predict_function import CompiledPredictFunction


def _eager_predict(model, x, batch_size):
    jit = model.jit_compile
    model.jit_compile = False
    try:
        return model.predict(x, batch_size=batch_size, verbose=0)
    finally:
        model.jit_compile = jit


def _assert_same(a, b):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b):
            _assert_same(u, v)
    else:
        assert isinstance(a, numpy.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        numpy.testing.assert_array_equal(a, b)


def _plans(model_or_function):
    function = getattr(model_or_function, "_predict_function", model_or_function)
    assert isinstance(function, CompiledPredictFunction)
    return [p for p in function.plans.values() if isinstance(p, ForwardPlan)]


def _check(model, x, batch_size, plans=2):
    """Compiled == eager, twice (the second call replays every batch, the partial one too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no eager fallback
        first = model.predict(x, batch_size=batch_size, verbose=0)
        second = model.predict(x, batch_size=batch_size, verbose=0)
    compiled = model._predict_function
    eager = _eager_predict(model, x, batch_size)
    _assert_same(first, eager)
    _assert_same(second, eager)
    assert model._predict_function is compiled
    assert len(_plans(compiled)) == plans
    return eager


def _mlp():
    return keras.Sequential(
        [keras.Input((6,)), layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")]
    )


def test_dense_mlp_is_bit_identical():
    x = numpy.random.RandomState(0).rand(53, 6).astype("float32")
    _check(_mlp(), x, 8)


def test_tiny_mlp_batch_of_8():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(6, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    x = (numpy.random.RandomState(1).rand(75, 4) * [75, 50, 12500, 98]).astype("float32")
    _check(model, x, 8)


def test_seed_cnn_with_dropout_is_bit_identical():
    model = keras.Sequential(
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
    )
    x = numpy.random.RandomState(2).rand(37, 12, 12, 1).astype("float32")
    _check(model, x, 16)


@pytest.mark.parametrize("mask_zero", [False, True])
def test_embedding_lstm_with_and_without_mask(mask_zero):
    model = keras.Sequential(
        [
            keras.Input((10,), dtype="int32"),
            layers.Embedding(50, 8, mask_zero=mask_zero),
            layers.LSTM(6),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    x = numpy.random.RandomState(3).randint(1, 50, (45, 10)).astype("int32")
    # padding of a different length in each row: the mask differs from batch to batch
    for i in range(len(x)):
        x[i, : i % 7] = 0
    eager = _check(model, x, 16)
    if mask_zero:  # the mask is used: padded steps carry the state over
        unmasked = keras.Sequential(
            [
                keras.Input((10,), dtype="int32"),
                layers.Embedding(50, 8),
                layers.LSTM(6),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
        unmasked.set_weights(model.get_weights())
        assert not numpy.array_equal(unmasked.predict(x, batch_size=16, verbose=0), eager)


def test_stacked_gru_returning_sequences():
    model = keras.Sequential(
        [
            keras.Input((7, 3)),
            layers.GRU(5, return_sequences=True),
            layers.SimpleRNN(4, go_backwards=True),
            layers.Dense(2),
        ]
    )
    x = numpy.random.RandomState(4).rand(21, 7, 3).astype("float32")
    _check(model, x, 8)


def test_batch_normalization_uses_moving_statistics_and_sees_weight_updates():
    model = keras.Sequential(
        [keras.Input((5,)), layers.Dense(8), layers.BatchNormalization(), layers.Activation("relu"), layers.Dense(3)]
    )
    model.compile("adam", "mse")
    r = numpy.random.RandomState(5)
    x, y = r.rand(45, 5).astype("float32"), r.rand(45, 3).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    before = _check(model, x, 8)
    bn = model.layers[1]
    mean, variance = bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy()
    model.predict(x, batch_size=8, verbose=0)
    numpy.testing.assert_array_equal(bn.moving_mean.numpy(), mean)  # inference leaves the statistics alone
    numpy.testing.assert_array_equal(bn.moving_variance.numpy(), variance)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # new weights and statistics, same plans
    after = model.predict(x, batch_size=8, verbose=0)
    assert not numpy.array_equal(after, before)
    _assert_same(after, _eager_predict(model, x, 8))


def test_set_weights_is_seen_by_the_replay():
    model = _mlp()
    x = numpy.random.RandomState(6).rand(20, 6).astype("float32")
    _check(model, x, 8)
    model.set_weights([w * 2 for w in model.get_weights()])
    _assert_same(model.predict(x, batch_size=8, verbose=0), _eager_predict(model, x, 8))


def test_multi_input_multi_output_functional_model():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(5, activation="tanh")(a), b])
    out1 = layers.Dense(2, activation="softmax", name="cls")(h)
    out2 = layers.Dense(1, name="reg")(layers.Dropout(0.3)(h))
    r = numpy.random.RandomState(7)
    xa, xb = r.rand(27, 4).astype("float32"), r.rand(27, 3).astype("float32")
    listed = keras.Model([a, b], [out1, out2])
    result = _check(listed, [xa, xb], 10)
    assert isinstance(result, list) and result[0].shape == (27, 2) and result[1].shape == (27, 1)
    _check(listed, {"a": xa, "b": xb}, 10, plans=4)  # named inputs: another input structure, other plans
    named = keras.Model({"a": a, "b": b}, {"cls": out1, "reg": out2})
    result = _check(named, {"a": xa, "b": xb}, 10)
    assert sorted(result) == ["cls", "reg"]


def test_last_partial_batch_of_repeated_data_is_compiled():
    model = _mlp()
    x = numpy.random.RandomState(8).rand(19, 6).astype("float32")  # batches of 8, 8 and 3
    _check(model, x, 8)
    keys = sorted(model._predict_function.plans)
    assert keys == [((3, 6), "<f4"), ((8, 6), "<f4")]


def test_one_batch_of_identical_rows_stays_eager_but_correct():
    model = _mlp()
    x = numpy.ones((5, 6), dtype="float32")
    eager = _eager_predict(model, x, 8)
    for _ in range(3):
        _assert_same(model.predict(x, batch_size=8, verbose=0), eager)
        assert _plans(model) == []  # the same data each time proves nothing: traced, not replayed


def test_data_dependent_constant_falls_back_to_eager(monkeypatch):
    monkeypatch.setenv("EMBER_VERBOSE", "1")  # the fallback is said only when asked for
    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda t: t * float(t.numpy().max())), layers.Dense(2)])
    x = numpy.random.RandomState(9).rand(30, 3).astype("float32")
    with pytest.warns(RuntimeWarning, match="compiled predict step"):
        out = model.predict(x, batch_size=8, verbose=0)
    _assert_same(out, _eager_predict(model, x, 8))
    _assert_same(model.predict(x, batch_size=8, verbose=0), out)


def test_random_draw_in_inference_falls_back_to_eager(monkeypatch):
    monkeypatch.setenv("EMBER_VERBOSE", "1")  # the fallback is said only when asked for

    class Noisy(layers.Layer):
        def call(self, x):
            return x + keras.random.normal(tuple(x.shape), seed=1)

    model = keras.Sequential([keras.Input((3,)), Noisy(), layers.Dense(2)])
    x = numpy.random.RandomState(10).rand(20, 3).astype("float32")
    with pytest.warns(RuntimeWarning, match="random"):
        out = model.predict(x, batch_size=8, verbose=0)
    _assert_same(out, _eager_predict(model, x, 8))


def test_subclassed_model_runs_eagerly():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(5, activation="relu")
            self.out = layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Net()
    x = numpy.random.RandomState(11).rand(17, 4).astype("float32")
    out = model.predict(x, batch_size=8, verbose=0)
    assert getattr(model, "_predict_function", None) is None
    numpy.testing.assert_array_equal(out, numpy.concatenate([model(x[i : i + 8]).numpy() for i in (0, 8, 16)]))


def test_overridden_predict_step_and_run_eagerly_are_respected():
    class Doubled(keras.Sequential):
        def predict_step(self, data):
            return super().predict_step(data) * 2.0

    model = Doubled([keras.Input((6,)), layers.Dense(3)])
    x = numpy.random.RandomState(12).rand(10, 6).astype("float32")
    numpy.testing.assert_array_equal(model.predict(x, verbose=0), model(x).numpy() * 2.0)
    assert getattr(model, "_predict_function", None) is None
    plain = _mlp()
    plain.compile("sgd", "mse", run_eagerly=True)
    plain.predict(x, verbose=0)
    assert getattr(plain, "_predict_function", None) is None


def test_changing_the_model_drops_its_plans():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(4)])
    x = numpy.random.RandomState(13).rand(20, 6).astype("float32")
    _check(model, x, 8)
    model.add(layers.Dense(2))
    out = model.predict(x, batch_size=8, verbose=0)
    assert out.shape == (20, 2)
    _assert_same(out, _eager_predict(model, x, 8))


def test_batch_callbacks_get_the_outputs_and_progress_bar_runs(capsys):
    from ember.callbacks import Callback

    class Seen(Callback):
        def __init__(self):
            super().__init__()
            self.begin, self.shapes = [], []

        def on_predict_batch_begin(self, batch, logs=None):
            self.begin.append(batch)

        def on_predict_batch_end(self, batch, logs=None):
            self.shapes.append(tuple(logs["outputs"].shape))

    model = _mlp()
    x = numpy.random.RandomState(14).rand(19, 6).astype("float32")
    seen = Seen()
    out = model.predict(x, batch_size=8, verbose=1, callbacks=[seen])
    assert seen.begin == [0, 1, 2]
    assert seen.shapes == [(8, 3), (8, 3), (3, 3)]
    assert "3/3" in capsys.readouterr().out
    _assert_same(out, _eager_predict(model, x, 8))


def test_dataset_input_is_concatenated():
    model = _mlp()
    x = numpy.random.RandomState(15).rand(21, 6).astype("float32")
    batches = [x[i : i + 8] for i in range(0, 21, 8)]
    out = model.predict(iter(batches), verbose=0)
    _assert_same(out, _eager_predict(model, x, 8))


def test_outputs_not_one_row_per_sample_are_concatenated():
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3), layers.Lambda(lambda t: keras.ops.sum(t, axis=0))])
    x = numpy.random.RandomState(16).rand(19, 6).astype("float32")
    out = model.predict(x, batch_size=8, verbose=0)
    assert out.shape == (9,)  # three batches of (3,)
    _assert_same(out, _eager_predict(model, x, 8))


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="no samples"):
        _mlp().predict(numpy.zeros((0, 6), "float32"), verbose=0)


def test_replay_keeps_no_batch_between_calls():
    model = keras.Sequential(  # (log_softmax has no lean form: its Function is copied per run)
        [keras.Input((6,)), layers.Dense(16, activation="relu"), layers.Dense(3, activation="log_softmax")]
    )
    x = numpy.random.RandomState(17).rand(40, 6).astype("float32")
    _check(model, x, 8, plans=1)  # five full batches
    for plan in _plans(model):
        closure = plan._run.__globals__
        templates = [value for name, value in closure.items() if name.startswith("k")]
        assert templates  # the functions copied per run (the log_softmax): only what a fresh one holds
        assert all(set(vars(k)) <= {"device", "xp", "needs_input_grad"} for k in templates)


def test_in_place_ops_leave_inputs_weights_and_shared_values_alone():
    inp = keras.Input((6,))
    h = layers.Dense(5)(inp)  # read by two layers and an output: never overwritten in place
    relu = layers.Activation("relu")(h)
    out = layers.Add()([layers.Dense(5, activation="relu")(relu), h])
    model = keras.Model(inp, [out, h])
    x = numpy.random.RandomState(18).rand(19, 6).astype("float32")
    x_before = x.copy()
    weights_before = [w.copy() for w in model.get_weights()]
    _check(model, x, 8)
    numpy.testing.assert_array_equal(x, x_before)
    for w, before in zip(model.get_weights(), weights_before):
        numpy.testing.assert_array_equal(w, before)
    plan = _plans(model)[0]
    assert "in place" in plan.source  # the add into the second Dense's output (its bias and relu: in its own op)


def test_input_only_model_and_identity_layers():
    model = keras.Sequential([keras.Input((4,)), layers.Dropout(0.5), layers.Activation("linear")])
    x = numpy.random.RandomState(19).rand(10, 4).astype("float32")
    out = model.predict(x, batch_size=4, verbose=0)
    numpy.testing.assert_array_equal(out, x)
    assert not numpy.shares_memory(out, x)


def test_unbuilt_model_builds_on_the_first_batch_without_a_warning():
    model = keras.Sequential([layers.Dense(5, activation="relu"), layers.Dense(2)])
    x = numpy.random.RandomState(20).rand(20, 4).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = model.predict(iter([x[i : i + 8] for i in range(0, 20, 8)]), verbose=0)
        second = model.predict(x, batch_size=8, verbose=0)
    _assert_same(first, second)
    _assert_same(second, _eager_predict(model, x, 8))
    assert len(_plans(model)) == 2


def test_signatures_are_capped(monkeypatch):
    from ember.compile import predict_function

    monkeypatch.setattr(predict_function, "_MAX_SIGNATURES", 2)
    monkeypatch.setenv("EMBER_VERBOSE", "1")  # the fallback is said only when asked for
    model = _mlp()
    x = numpy.random.RandomState(21).rand(30, 6).astype("float32")
    batches = [x[:5], x[5:10], x[10:14], x[14:17], x[17:19]]  # shapes 5, 5, 4, 3, 2
    with pytest.warns(RuntimeWarning, match="input signatures"):
        out = model.predict(iter(batches), verbose=0)
    assert len(model._predict_function.plans) == 2
    _assert_same(out, numpy.concatenate([model(b).numpy() for b in batches]))


def test_plans_are_kept_across_predict_and_fit_calls():
    model = _mlp()
    model.compile("adam", "categorical_crossentropy")
    x = numpy.random.RandomState(22).rand(19, 6).astype("float32")
    model.predict(x, batch_size=8, verbose=0)
    model.predict(x, batch_size=8, verbose=0)
    plans = dict(model._predict_function.plans)
    assert all(isinstance(p, ForwardPlan) for p in plans.values())
    model.fit(x, numpy.eye(3, dtype="float32")[numpy.arange(19) % 3], batch_size=8, verbose=0)
    out = model.predict(x, batch_size=8, verbose=0)
    assert all(model._predict_function.plans[k] is p for k, p in plans.items())  # replayed, not traced again
    _assert_same(out, _eager_predict(model, x, 8))


def test_replaced_layer_state_is_traced_again():
    r = numpy.random.RandomState(23)
    x = r.rand(19, 3).astype("float32")
    norm = layers.Normalization()
    norm.adapt(x)
    dense = layers.Dense(2, activation="relu")
    model = keras.Sequential([keras.Input((3,)), norm, dense])
    _check(model, x, 8)
    norm.adapt(x * 10 + 3)  # a new mean and variance (tensors made outside the forward)
    _assert_same(model.predict(x, batch_size=8, verbose=0), _eager_predict(model, x, 8))
    dense.activation = keras.activations.get("tanh")
    out = model.predict(x, batch_size=8, verbose=0)
    assert out.min() < 0  # tanh, not relu
    _assert_same(out, _eager_predict(model, x, 8))


def test_eager_fallback_is_silent_unless_asked(monkeypatch, caplog):
    """Keras prints nothing when a step cannot be compiled: no warning by default, an INFO record for a logger."""
    import logging

    monkeypatch.delenv("EMBER_VERBOSE", raising=False)
    model = keras.Sequential([keras.Input((3,)), layers.Lambda(lambda t: t * float(t.numpy().max())), layers.Dense(2)])
    x = numpy.random.RandomState(9).rand(30, 3).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with caplog.at_level(logging.INFO, logger="ember.compile"):
            model.predict(x, batch_size=8, verbose=0)
    assert any("run eagerly" in r.getMessage() for r in caplog.records)


@pytest.mark.host_only("the direct replay takes host batches; on a device the plan converts its inputs")
def test_array_loop_replays_full_batches_directly_and_matches_eager():
    """predict over one array sends full batches to the plan's generated function, the partial one through the
    compiled function; strided and float64 inputs are sliced as the data adapter slices them. Same bits as eager."""
    r = numpy.random.RandomState(24)
    model = _mlp()
    x = r.rand(53, 6).astype("float32")
    eager = _check(model, x, 8)
    function = model._predict_function
    runs = []
    replay = function.replay

    def counting_replay(x_batch):
        run = replay(x_batch)
        return None if run is None else (lambda a: runs.append(a.shape) or run(a))

    function.replay = counting_replay
    _assert_same(model.predict(x, batch_size=8, verbose=0), eager)
    assert runs == [(8, 6)] * 5  # the first of the six full batches finds the plan, the other five go to it
    wide = r.rand(53, 12).astype("float32")[:, ::2]  # not contiguous: each batch is made contiguous
    _assert_same(model.predict(wide, batch_size=8, verbose=0), _eager_predict(model, wide, 8))
    doubles = x.astype("float64")  # converted per batch: its plans stay behind the compiled function
    _assert_same(model.predict(doubles, batch_size=8, verbose=0), _eager_predict(model, doubles, 8))
    assert function.replay(doubles[:8]) is None


def test_snapshot_vouches_for_the_fingerprint_until_anything_it_reads_changes():
    """fingerprint.Snapshot: predict re-reads the model with it; each change the fingerprint sees breaks it."""
    from ember.backend import config
    from ember.compile.fingerprint import Snapshot, fingerprint

    model = _mlp()
    x = numpy.random.RandomState(25).rand(19, 6).astype("float32")
    model.predict(x, batch_size=8, verbose=0)
    dense = model.layers[0]

    def changed(change, undo=None):
        snapshot, key = Snapshot(model), fingerprint(model)
        assert snapshot.holds(model)
        change()
        broken = not snapshot.holds(model)
        differs = fingerprint(model) != key
        if undo is not None:
            undo()
        return broken, differs

    assert changed(lambda: model.predict(x, batch_size=8, verbose=0)) == (False, False)  # calls change nothing
    dense.scale = float("0.25")
    # written again with an equal value (another float object): the snapshot breaks, the fingerprint decides
    assert changed(lambda: setattr(dense, "scale", float("0.25"))) == (True, False)
    assert changed(lambda: setattr(dense, "activation", keras.activations.get("tanh"))) == (True, True)
    dense.extra = [1, 2]
    assert changed(lambda: dense.extra.append(3)) == (True, True)  # a list of plain values changed in place
    kernel = dense.kernel
    freeze, unfreeze = (lambda: setattr(kernel, "trainable", False)), (lambda: setattr(kernel, "trainable", True))
    assert changed(freeze, unfreeze) == (True, True)
    assert changed(lambda: model.add(layers.Dense(2))) == (True, True)
    assert changed(lambda: (delattr(dense, "extra"), setattr(dense, "other", 1))) == (True, True)
    assert changed(lambda: config.set_epsilon(1e-5), lambda: config.set_epsilon(1e-7)) == (True, True)
    assert not Snapshot(model).holds(_mlp())  # another model


def test_lean_forms_beside_the_ops_give_their_forwards_bits():
    """The plan calls an op's ``lean(xp, attrs)`` form: the same bits as the op's eager forward, in place too."""
    from ember.ops.activation import ReLU, Sigmoid
    from ember.ops.arithmetic import Add, Matmul

    r = numpy.random.RandomState(26)
    a, b = r.randn(8, 5).astype("float32"), r.randn(5, 3).astype("float32")
    c = r.randn(8, 3).astype("float32")
    big = numpy.array([[-100.0, -0.0, 0.0, 1e-30, 88.0, numpy.nan]], "float32")
    plain = {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    cases = [
        (Matmul, (a, b), {}),
        (Add, (a @ b, c), {}),
        (Add, (c, r.randn(3).astype("float32")), {}),  # a bias, broadcast
        (ReLU, (c,), plain),
        (ReLU, (big,), plain),
        (Sigmoid, (c * 30,), {}),
        (Sigmoid, (big,), {}),
    ]
    for op, args, attrs in cases:
        fn = op()
        fn.xp, fn.needs_input_grad, fn.device = numpy, (False,) * len(args), None
        eager = fn.forward(*[x.copy() for x in args], **attrs)
        lean = op.lean(numpy, attrs)
        numpy.testing.assert_array_equal(lean(*args), eager)
        if getattr(op, "lean_in_place", False):
            first = args[0].copy()
            out = lean(first, *args[1:], out=first)
            assert out is first
            numpy.testing.assert_array_equal(out, eager)
    assert ReLU.lean(numpy, dict(plain, negative_slope=0.1)) is None  # only the plain relu has one
    assert ReLU.lean(numpy, dict(plain, max_value=6.0)) is None
    assert not getattr(Matmul, "lean_in_place", False) and not getattr(Sigmoid, "lean_in_place", False)


def _evaluate_both(model, x, y, **kwargs):
    """evaluate with the compiled forward (the default, twice: traced, then replayed) and with jit_compile=False."""
    first = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True, **kwargs)
    second = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True, **kwargs)
    model.jit_compile = False
    try:
        eager = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True, **kwargs)
    finally:
        model.jit_compile = "auto"
    assert first == eager and second == eager  # the same floats, every log
    return eager


@pytest.mark.host_only("evaluate uses the compiled forward for models on the host only (its outputs are host arrays)")
def test_evaluate_runs_the_compiled_forward_with_eagers_numbers():
    r = numpy.random.RandomState(27)
    x, y = r.rand(29, 6).astype("float32"), numpy.eye(3, dtype="float32")[r.randint(0, 3, 29)]
    model = keras.Sequential(
        [
            keras.Input((6,)),
            layers.Dense(16, activation="relu", kernel_regularizer="l2"),  # weight losses: read at each batch
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    logs = _evaluate_both(model, x, y, sample_weight=r.rand(29).astype("float32"))
    assert sorted(logs) == ["accuracy", "loss"]
    assert len(_plans(model)) == 2  # full and last batches replayed: the compiled forward ran
    model.fit(x, y, batch_size=8, verbose=0)  # new weights and moving statistics are read
    _evaluate_both(model, x, y)


def test_evaluate_of_a_model_with_call_losses_stays_eager():
    r = numpy.random.RandomState(28)
    x, y = r.rand(19, 6).astype("float32"), r.rand(19, 2).astype("float32")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(2, activity_regularizer="l2")])
    model.compile("sgd", "mse")
    _evaluate_both(model, x, y)
    assert getattr(model, "_predict_function", None) is None  # a replay would not refresh the activity loss


@pytest.mark.host_only("evaluate uses the compiled forward for models on the host only (its outputs are host arrays)")
def test_evaluate_of_a_two_output_model_with_loss_weights():
    a = keras.Input((4,))
    h = layers.Dense(5, activation="tanh")(a)
    cls, reg = layers.Dense(2, activation="softmax", name="cls")(h), layers.Dense(1, name="reg")(h)
    model = keras.Model(a, {"cls": cls, "reg": reg})
    model.compile("adam", {"cls": "categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 0.5, "reg": 2.0})
    r = numpy.random.RandomState(29)
    x = r.rand(21, 4).astype("float32")
    y = {"cls": numpy.eye(2, dtype="float32")[r.randint(0, 2, 21)], "reg": r.rand(21, 1).astype("float32")}
    logs = _evaluate_both(model, x, y)
    assert {"loss", "cls_loss", "reg_loss"} <= set(logs)
    assert len(_plans(model)) == 2


def test_evaluate_of_a_masked_model_stays_eager_and_masks_are_noted():
    """A mask on the outputs weights the loss (Embedding(mask_zero=True)): evaluate keeps test_step; the compiled
    forward notes the masks it saw (evaluate's safety net for a mask source it does not know)."""
    r = numpy.random.RandomState(30)
    x = r.randint(0, 5, (19, 7)).astype("int32")
    x[:, 4:] = 0
    y = r.rand(19, 7, 1).astype("float32")
    model = keras.Sequential([keras.Input((7,)), layers.Embedding(5, 3, mask_zero=True), layers.Dense(1)])
    model.compile("sgd", "mse")
    _evaluate_both(model, x, y)
    assert getattr(model, "_predict_function", None) is None
    model.predict(x, batch_size=8, verbose=0)
    assert model._predict_function.masked_outputs
