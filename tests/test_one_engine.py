"""The default ``fit`` / ``predict`` give the eager numbers in the cases issue 12 reproduced.

Each scenario runs twice from the same seed: once as ``compile`` leaves it
(``jit_compile="auto"``: the compiled step and the compiled predict) and once
with ``compile(..., jit_compile=False)`` (the eager definition). Losses,
predictions and weights must be equal bit for bit.
"""

from __future__ import annotations

import threading
import warnings

import numpy
import pytest

import ember as keras
from ember import layers


@pytest.fixture(autouse=True)
def _say_fallbacks(monkeypatch):
    """An eager fallback of the compiled step is said (and made an error below) rather than silent."""
    monkeypatch.setenv("EMBER_VERBOSE", "1")


def _seed():
    numpy.random.seed(0)
    keras.random.seed(0)


def _cls_data(n=64, d=6, k=4, scale=1.0, seed=0):
    r = numpy.random.RandomState(seed)
    x = (r.randn(n, d) * scale).astype("float32")
    y = numpy.eye(k, dtype="float32")[r.randint(0, k, n)]
    return x, y


def _mlp(k=4, d=6, activation="relu", dropout=None):
    stack = [keras.Input((d,)), layers.Dense(8, activation=activation)]
    if dropout is not None:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(k, activation="softmax"))
    return keras.Sequential(stack)


def _weights(model):
    return [w.copy() for w in model.get_weights()]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        numpy.testing.assert_array_equal(u, v)


def _both(scenario):
    """``scenario(jit_compile)`` run with the default compile and with ``jit_compile=False``; both results."""
    results = []
    for jit in ("default", False):
        _seed()
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no fallback warning either
            results.append(scenario(jit))
    return results


def _compile(model, jit, **kwargs):
    kwargs.setdefault("optimizer", "adam")
    kwargs.setdefault("loss", "categorical_crossentropy")
    if jit != "default":
        kwargs["jit_compile"] = jit
    model.compile(**kwargs)


def _losses(history):
    return history.history["loss"]


def test_freezing_a_layer_after_fit_keeps_its_kernel_fixed():
    x, y = _cls_data()

    def scenario(jit):
        model = _mlp()
        _compile(model, jit)
        first = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        model.layers[0].trainable = False
        frozen = model.layers[0].kernel.numpy().copy()
        second = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        numpy.testing.assert_array_equal(model.layers[0].kernel.numpy(), frozen)
        model.layers[0].trainable = True
        third = _losses(model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False))
        return first + second + third, _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def test_swapping_an_activation_after_fit_runs_the_new_one():
    x, y = _cls_data(seed=1)

    def scenario(jit):
        model = _mlp(activation="relu")
        _compile(model, jit)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        before = model.predict(x, verbose=0)
        model.layers[0].activation = keras.activations.get("tanh")
        after = model.predict(x, verbose=0)
        losses = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        return losses, [before, after, model.predict(x, verbose=0)], _weights(model)

    (la, pa, wa), (lb, pb, wb) = _both(scenario)
    assert la == lb
    _same(pa, pb)
    _same(wa, wb)


def test_saturated_softmax_crossentropy_follows_the_clip():
    """Logits of size ~100 saturate the softmax: Keras's clip zeroes those gradients, eager and default alike."""
    x, y = _cls_data(n=48, scale=30.0, seed=2)

    def scenario(jit):
        model = _mlp()
        _compile(model, jit, optimizer="sgd")
        losses = _losses(model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False))
        return losses, _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def test_predict_from_eight_threads_at_once():
    x, _ = _cls_data(n=40, seed=3)

    def build():
        _seed()
        return keras.Sequential(
            [keras.Input((6,)), layers.Dense(16, activation="relu"), layers.Dense(4), layers.Softmax(axis=-1)]
        )

    eager = build()
    eager.compile(jit_compile=False)
    expected = eager.predict(x, batch_size=8, verbose=0)
    fresh = build()  # untraced: the threads race to trace it
    errors, results = [], []
    barrier = threading.Barrier(8)

    def work():
        try:
            barrier.wait()
            for _ in range(12):
                results.append(fresh.predict(x, batch_size=8, verbose=0))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert len(results) == 96
    for r in results:
        numpy.testing.assert_array_equal(r, expected)


def test_a_layer_called_in_a_prefetch_thread_does_not_break_tracing():
    x, y = _cls_data(n=96, seed=4)
    preprocess = layers.Dense(6, use_bias=False, kernel_initializer="identity")

    def scenario(jit):
        data = (
            keras.data.Dataset.from_tensor_slices((x, y))
            .batch(16)
            .map(lambda a, b: (preprocess(a).numpy() * 0.5, b))
            .prefetch(2)
        )
        model = _mlp()
        _compile(model, jit)
        losses = _losses(model.fit(data, epochs=3, verbose=0))
        return losses, _weights(model), _compiled_step_replayed(model)

    (la, wa, replayed), (lb, wb, _) = _both(scenario)
    assert replayed, "the default fit should replay its plan (a background thread's ops are not the step's)"
    assert la == lb
    _same(wa, wb)


def test_changing_a_dropout_rate_after_fit_uses_the_new_rate():
    x, y = _cls_data(seed=5)

    def scenario(jit):
        model = _mlp(dropout=0.2)
        _compile(model, jit)
        first = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        model.layers[1].rate = 0.6
        second = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        return first + second, _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def test_recompiling_with_another_optimizer_and_loss():
    x, y = _cls_data(seed=6)

    def scenario(jit):
        model = _mlp()
        _compile(model, jit, optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        first = _losses(model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False))
        _compile(model, jit, optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return first + _losses(history) + history.history["mae"], _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def test_train_on_batch_after_a_freeze_matches_eager():
    x, y = _cls_data(seed=7)

    def scenario(jit):
        model = _mlp()
        _compile(model, jit)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
        model.layers[-1].trainable = False
        out = [model.train_on_batch(x[:16], y[:16]) for _ in range(3)]
        model.layers[-1].trainable = True
        out += [model.train_on_batch(x[16:32], y[16:32]) for _ in range(3)]
        return out, _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def _compiled_step_replayed(model) -> bool:
    function = getattr(model, "_train_function", None)
    return bool(getattr(function, "replays", 0))


@pytest.mark.parametrize("scenario", ["freeze", "activation"])
def test_the_plans_retrace_rather_than_replay_a_stale_step(scenario):
    """After the change, the default path traces again (a new plan), and its plan replays afterwards."""
    x, y = _cls_data(seed=8)
    _seed()
    model = _mlp()
    _compile(model, "default")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    function = model._train_function
    assert function.replays > 0
    traced = function.traces
    if scenario == "freeze":
        model.layers[0].trainable = False
    else:
        model.layers[0].activation = keras.activations.get("sigmoid")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert function.traces > traced


@pytest.mark.slow
def test_import_leaves_malloc_alone_and_fit_tunes_it():
    """``import ember`` changes nothing in the process; the first fit tunes glibc's malloc (unless told not to)."""
    import os
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("malloc tuning applies to glibc on Linux only")
    code = (
        "import numpy, ember, ember.backend.allocator as a; print(a._tuned); import ember as k;"
        "m = k.Sequential([k.Input((2,)), k.layers.Dense(1)]); m.compile('sgd', 'mse');"
        "m.fit(numpy.ones((4, 2), 'float32'), numpy.ones((4, 1), 'float32'), verbose=0); print(a._tuned)"
    )
    env = {k: v for k, v in os.environ.items() if k != "EMBER_TUNE_MALLOC"}
    on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert on.stdout.split() == ["None", "True"]
    env["EMBER_TUNE_MALLOC"] = "0"
    off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert off.stdout.split() == ["None", "False"]


def test_compile_is_used_only_by_the_trainer_and_uses_no_training_code():
    """Layering: ember/compile is the trainer's strategy; no layer or piece imports it, it imports no training.

    The MXNet facade (``ember.mxnet``, a front end above the layers like the trainer) uses its public Tracer for
    ``hybridize``; compile imports neither.
    """
    import ast
    import pathlib

    root = pathlib.Path(keras.__file__).parent

    def imported(path):
        package = ".".join(("ember", *path.relative_to(root).parent.parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                yield ".".join([*base, node.module] if node.module else base)
            elif isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)

    users, compile_uses = set(), set()
    for path in root.rglob("*.py"):
        inside = path.relative_to(root).parts[0]
        for name in imported(path):
            if name.startswith("ember.compile") and inside != "compile":
                users.add(inside)
            if inside == "compile" and name.split(".")[1:2] and name.startswith("ember."):
                compile_uses.add(name.split(".")[1])
    assert users <= {"training", "mxnet"}, users
    assert not compile_uses & {"training", "mxnet", "models", "callbacks", "saving", "serving", "tools"}, compile_uses


def test_calling_a_model_from_eight_threads_at_once():
    """``model(x)`` (eager, training=False) from several threads: each call's Function objects are its own."""
    _seed()
    model = keras.Sequential(
        [keras.Input((6,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(), layers.Dense(3)]
    )
    x = _cls_data(n=32, seed=9)[0]
    expected = model(x, training=False).numpy()
    errors, results = [], []
    barrier = threading.Barrier(8)

    def work():
        try:
            barrier.wait()
            for _ in range(20):
                results.append(model(x, training=False).numpy())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(results) == 160
    for r in results:
        numpy.testing.assert_array_equal(r, expected)


def test_freeze_unfreeze_and_new_activation_match_keras3():
    """Where Keras defines the behaviour: the same program in Keras 3 (torch backend) gives the same numbers."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for fit after a change")
    x, y = _cls_data(n=48, seed=10)

    def program(lib, model):
        model.compile(optimizer=lib.optimizers.SGD(0.1, momentum=0.5), loss="categorical_crossentropy")
        losses = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history["loss"]
        model.layers[0].trainable = False
        losses += model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history["loss"]
        model.layers[0].trainable = True
        model.layers[0].activation = lib.activations.get("tanh")
        losses += model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history["loss"]
        return losses, [numpy.asarray(w) for w in model.get_weights()]

    _seed()
    ours = _mlp()
    start = [w.copy() for w in ours.get_weights()]
    dense = k.layers.Dense
    theirs = k.Sequential([k.Input((6,)), dense(8, activation="relu"), dense(4, activation="softmax")])
    theirs.set_weights(start)
    (la, wa), (lb, wb) = program(keras, ours), program(k, theirs)
    numpy.testing.assert_allclose(la, lb, rtol=1e-5)
    for a, b in zip(wa, wb):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("how", ["callback", "lambda"])
def test_a_change_made_by_a_batch_callback_mid_epoch_is_seen(how):
    x, y = _cls_data(n=80, seed=11)

    class Freeze(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.layers[0].trainable = False

    def change_rate(batch, logs):
        if batch == 1:
            model_ref[0].layers[1].rate = 0.7

    model_ref = []

    def scenario(jit):
        model = _mlp(dropout=0.1)
        model_ref[:] = [model]
        _compile(model, jit)
        callback = Freeze() if how == "callback" else keras.callbacks.LambdaCallback(on_train_batch_end=change_rate)
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[callback])
        return history.history["loss"], _weights(model)

    (la, wa), (lb, wb) = _both(scenario)
    assert la == lb
    _same(wa, wb)


def test_layers_with_losses_keep_their_plans_across_epochs():
    """A layer's per-call state (its ``add_loss`` list) is not part of the key: plans are traced once, not per epoch."""
    x, y = _cls_data(n=40, seed=12)

    def scenario(jit):
        model = keras.Sequential(
            [
                keras.Input((6,)),
                layers.Dense(8, activation="relu", kernel_regularizer="l2", activity_regularizer="l1"),
                layers.Dense(4, activation="softmax"),
            ]
        )
        _compile(model, jit)
        history = model.fit(x, y, batch_size=8, epochs=4, verbose=0, shuffle=False)
        return history.history["loss"], _weights(model), getattr(model._train_function, "traces", None)

    (la, wa, traces), (lb, wb, _) = _both(scenario)
    assert traces == 2  # one signature, traced twice, then replayed in every epoch
    assert la == lb
    _same(wa, wb)


def test_a_two_output_model_with_two_losses_is_compiled_and_equals_eager():
    """Several losses (each logged as ``<output>_loss``): the plan feeds their running means; numbers as eager."""
    x, y = _cls_data(n=40, seed=13)
    r = numpy.random.RandomState(13).randn(40, 2).astype("float32")

    def scenario(jit):
        inputs = keras.Input((6,))
        h = layers.Dense(8, activation="relu")(inputs)
        model = keras.Model(inputs, [layers.Dense(4, activation="softmax", name="c")(h), layers.Dense(2, name="r")(h)])
        _compile(
            model,
            jit,
            loss=["categorical_crossentropy", "mse"],
            loss_weights=[1.0, 0.5],
            metrics=[["accuracy"], ["mae"]],
        )
        history = model.fit(x, [y, r], batch_size=8, epochs=3, verbose=0, shuffle=False)
        return history.history, _weights(model), getattr(model._train_function, "replays", None)

    (ha, wa, replays), (hb, wb, _) = _both(scenario)
    assert replays == 13  # 15 steps (5 per epoch): the first two traced, the rest replayed
    assert ha == hb and set(ha) >= {"loss", "c_loss", "r_loss", "c_accuracy", "r_mae"}
    _same(wa, wb)


class _ScaleShiftInPlace(layers.Layer):
    """Writes in place into values its call made: ``y -= 0.5`` (subtract) and ``y *= 2`` (multiply keeps a copy)."""

    def call(self, x):
        y = x * 1.5
        y -= 0.5
        y *= 2.0
        return y


class _ZeroColumnInPlace(layers.Layer):
    """Writes into a slice of a value its call made (``y[:, 0] = 0``: a recorded setitem)."""

    def call(self, x):
        y = x * 1.5
        y[:, 0] = 0.0
        return y


class _CenterInputsInPlace(layers.Layer):
    """Writes in place into its inputs: the model's input batch when it is the first layer."""

    def call(self, inputs):
        inputs -= keras.ops.mean(inputs, axis=-1, keepdims=True)
        return inputs


class _ViewThenWrite(layers.Layer):
    """Writes in place into an array a reshape of it still views (eager reads the written values through it)."""

    def call(self, x):
        y = x * 1.0
        z = keras.ops.reshape(y, (-1, 2, 4))
        y += 1.0
        return keras.ops.reshape(z, (-1, 8)) + y


@pytest.mark.parametrize("where", ["inner", "setitem", "view"])
def test_a_layer_writing_in_place_is_compiled_and_equals_eager(where):
    """A layer's in-place writes (a value its call made) replay compiled, with eager's numbers in fit and predict."""
    x, y = _cls_data()
    middle = {"inner": _ScaleShiftInPlace, "setitem": _ZeroColumnInPlace, "view": _ViewThenWrite}[where]()
    counts = []

    def scenario(jit):
        model = keras.Sequential([keras.Input((6,)), layers.Dense(8), middle.__class__(), layers.Dense(4, "softmax")])
        _compile(model, jit)
        losses = _losses(model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False))
        out = [model.predict(x, batch_size=16, verbose=0) for _ in range(2)]
        if jit == "default":
            plans = model._train_function.plans.values()
            counts.append((model._train_function.replays, [type(p).__name__ for p in plans]))
            counts.append([type(p).__name__ for p in model._predict_function.plans.values()])
        return losses, _weights(model), out

    (la, wa, pa), (lb, wb, pb) = _both(scenario) if where != "view" else _both_quiet(scenario)
    assert la == lb
    _same(wa, wb)
    _same(pa, pb)
    if where != "view":
        assert counts[0][0] > 0 and counts[0][1] == ["StepPlan"], counts
        assert counts[1] == ["ForwardPlan"], counts


def _both_quiet(scenario):
    """``_both`` where the compiled step may fall back (said at INFO, not as a warning)."""
    results = []
    for jit in ("default", False):
        _seed()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            results.append(scenario(jit))
    return results


def test_a_write_into_the_model_input_stays_eager_and_equals_it():
    """Writing into the batch itself (the first layer's inputs) is not replayed: eager's numbers, said once."""
    x, y = _cls_data()

    def scenario(jit):
        model = keras.Sequential([keras.Input((6,)), _CenterInputsInPlace(), layers.Dense(4, "softmax")])
        _compile(model, jit)
        return _losses(model.fit(x.copy(), y, batch_size=16, epochs=2, verbose=0, shuffle=False)), _weights(model)

    (la, wa), (lb, wb) = _both_quiet(scenario)
    assert la == lb
    _same(wa, wb)
    _seed()
    model = keras.Sequential([keras.Input((6,)), _CenterInputsInPlace(), layers.Dense(4, "softmax")])
    _compile(model, "default")
    with pytest.warns(RuntimeWarning, match="writes in place into a tensor the step did not make"):
        model.fit(x.copy(), y, batch_size=16, epochs=1, verbose=0, shuffle=False)
