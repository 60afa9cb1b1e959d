"""Callbacks, History and Progbar against real Keras 3.

Each Keras callback and its Ember twin are driven through their own
``CallbackList`` with the same sequence of logs and a fake model that records
what the callbacks do to it (stop_training, weights, learning rate, saves); the
two records must be equal, and so must what they print and the files they write.
"""

import os
import re

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the callbacks")
kprogbar = pytest.importorskip("keras.src.utils.progbar", reason="Keras's Progbar is the oracle for ours")

import ember.callbacks as ecb  # noqa: E402
from ember.callbacks import progbar as eprogbar  # noqa: E402

kcb = keras.callbacks


# --------------------------------------------------------------------------------------
# a fake model: what a trainer gives callbacks, recording what they do to it
# --------------------------------------------------------------------------------------


class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class FakeModel:
    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.weights = [np.zeros((2, 2), np.float32), np.zeros(2, np.float32)]
        self.saves = []
        self.history = None

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, filepath, overwrite=True):
        self.saves.append(("save", filepath, overwrite))

    def save_weights(self, filepath, overwrite=True):
        self.saves.append(("save_weights", filepath, overwrite))


def run_fit(lib, callbacks, epoch_logs, steps=0, batch_logs=None, learning_rate=0.1):
    """A trainer's callback protocol over a fixed sequence of logs.

    ``lib`` is keras.callbacks or ember.callbacks. The weights of epoch ``e`` are
    filled with ``e + 1`` so a restore can be traced to its epoch.
    Returns the model, the record of each epoch and the History.
    """
    model = FakeModel(learning_rate)
    cbs = lib.CallbackList(callbacks, add_history=True, model=model, verbose=0, epochs=len(epoch_logs), steps=steps)
    record = {"lr_at_begin": [], "epochs_run": 0, "stopped_at_batch": None}
    cbs.on_train_begin()
    logs = None
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        record["lr_at_begin"].append(model.optimizer.learning_rate)
        for batch in range(steps):
            cbs.on_train_batch_begin(batch)
            cbs.on_train_batch_end(batch, (batch_logs or {}).get((epoch, batch), {"loss": 1.0}))
            if model.stop_training:
                record["stopped_at_batch"] = (epoch, batch)
                break
        model.weights = [np.full_like(w, epoch + 1.0) for w in model.weights]
        cbs.on_epoch_end(epoch, dict(logs))
        record["epochs_run"] = epoch + 1
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    record["lr_at_end"] = model.optimizer.learning_rate
    return model, record, model.history


def assert_same_history(kh, eh):
    assert eh.epoch == kh.epoch
    assert list(eh.history) == list(kh.history)
    for key in kh.history:
        np.testing.assert_array_equal(np.asarray(eh.history[key], float), np.asarray(kh.history[key], float))


def noisy_losses(seed, n=25):
    """A validation curve that improves, plateaus with noise, and drifts up."""
    r = np.random.default_rng(seed)
    base = np.concatenate([np.linspace(1.0, 0.4, n // 2), 0.4 + 0.02 * np.arange(n - n // 2)])
    loss = base + r.normal(0, 0.03, n)
    acc = 1.0 - loss / 2 + r.normal(0, 0.01, n)
    return [
        {"loss": float(x * 0.9), "accuracy": float(a), "val_loss": float(x), "val_accuracy": float(a - 0.02)}
        for x, a in zip(loss, acc)
    ]


# --------------------------------------------------------------------------------------
# EarlyStopping
# --------------------------------------------------------------------------------------

EARLY_STOPPING_CASES = [
    {},
    {"patience": 3},
    {"patience": 2, "restore_best_weights": True},
    {"patience": 4, "min_delta": 0.05, "restore_best_weights": True},
    {"monitor": "val_accuracy", "mode": "max", "patience": 2},
    {"monitor": "loss", "mode": "min", "patience": 3, "restore_best_weights": True, "start_from_epoch": 5},
    {"patience": 3, "baseline": 0.5},
    {"patience": 2, "baseline": 0.1, "restore_best_weights": True},
    {"monitor": "val_loss", "patience": 100, "restore_best_weights": True},
]


@pytest.mark.parametrize("kwargs", EARLY_STOPPING_CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_early_stopping_matches_keras(kwargs, seed, capsys):
    logs = noisy_losses(seed)
    k = kcb.EarlyStopping(verbose=1, **kwargs)
    e = ecb.EarlyStopping(verbose=1, **kwargs)
    km, krec, kh = run_fit(kcb, [k], logs)
    kout = capsys.readouterr().out
    em, erec, eh = run_fit(ecb, [e], logs)
    eout = capsys.readouterr().out
    assert erec == krec
    assert (e.stopped_epoch, e.best_epoch, e.wait) == (k.stopped_epoch, k.best_epoch, k.wait)
    assert float(e.best) == float(k.best)
    for ew, kw in zip(em.weights, km.weights):
        np.testing.assert_array_equal(ew, kw)
    assert_same_history(kh, eh)
    assert eout == kout


def test_early_stopping_missing_metric_warns_like_keras():
    logs = [{"loss": 1.0}, {"loss": 0.5}]
    with pytest.warns(UserWarning, match="val_loss") as kw:
        run_fit(kcb, [kcb.EarlyStopping()], logs)
    with pytest.warns(UserWarning, match="val_loss") as ew:
        _, rec, _ = run_fit(ecb, [ecb.EarlyStopping()], logs)
    assert rec["epochs_run"] == 2
    assert len(ew) == len(kw)


def test_monitor_auto_mode_unknown_metric_raises_like_keras():
    logs = [{"loss": 1.0, "val_foo": 1.0}]
    with pytest.raises(ValueError, match="mode='max'"):
        run_fit(kcb, [kcb.EarlyStopping(monitor="val_foo")], logs)
    with pytest.raises(ValueError, match="mode='max'"):
        run_fit(ecb, [ecb.EarlyStopping(monitor="val_foo")], logs)


def test_monitor_auto_mode_reads_metric_direction():
    class Metric:
        def __init__(self, name, direction):
            self.name, self._direction = name, direction

    class Container:
        def __init__(self, metrics):
            self.metrics = metrics

    model = FakeModel()
    model.metrics = [Container([Metric("accuracy", "up"), Metric("fancy", "down")])]
    for monitor, expected in [("val_accuracy", ">"), ("fancy", "<"), ("val_loss", "<")]:
        cb = ecb.EarlyStopping(monitor=monitor, min_delta=0.1)
        cb.set_model(model)
        cb._set_monitor_op()
        assert cb.monitor_op(2, 1) == (expected == ">")
        assert cb.min_delta == (0.1 if expected == ">" else -0.1)


def test_monitor_unknown_mode_warns():
    with pytest.warns(UserWarning, match="unknown"):
        cb = ecb.EarlyStopping(mode="sideways")
    assert cb.mode == "auto"


# --------------------------------------------------------------------------------------
# ReduceLROnPlateau
# --------------------------------------------------------------------------------------

REDUCE_LR_CASES = [
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "cooldown": 2},
    {"patience": 2, "factor": 0.5, "min_lr": 0.02},
    {"monitor": "val_accuracy", "mode": "max", "patience": 2, "factor": 0.2},
    {"monitor": "loss", "patience": 3, "min_delta": 0.05, "cooldown": 1, "factor": 0.3, "min_lr": 1e-3},
    {"patience": 0, "factor": 0.9},
]


@pytest.mark.parametrize("kwargs", REDUCE_LR_CASES)
@pytest.mark.parametrize("seed", [0, 3])
def test_reduce_lr_on_plateau_matches_keras(kwargs, seed, capsys):
    logs = noisy_losses(seed, n=30)
    k = kcb.ReduceLROnPlateau(verbose=1, **kwargs)
    e = ecb.ReduceLROnPlateau(verbose=1, **kwargs)
    _, krec, kh = run_fit(kcb, [k], logs)
    kout = capsys.readouterr().out
    _, erec, eh = run_fit(ecb, [e], logs)
    eout = capsys.readouterr().out
    assert erec == krec
    assert len(set(krec["lr_at_begin"])) > 1  # the case does reduce the rate
    assert "learning_rate" in eh.history
    assert_same_history(kh, eh)
    assert (e.wait, e.cooldown_counter) == (k.wait, k.cooldown_counter)
    assert eout == kout


def test_reduce_lr_on_plateau_rejects_factor_like_keras():
    with pytest.raises(ValueError):
        kcb.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="factor"):
        ecb.ReduceLROnPlateau(factor=1.0)


# --------------------------------------------------------------------------------------
# LearningRateScheduler
# --------------------------------------------------------------------------------------


def _schedule_two_args(epoch, lr):
    return lr if epoch < 3 else lr * 0.5


def _schedule_one_arg(epoch):
    return 0.1 / (1.0 + epoch)


def _schedule_numpy(epoch, lr):
    return np.float32(lr * 0.9)


@pytest.mark.parametrize("schedule", [_schedule_two_args, _schedule_one_arg, _schedule_numpy])
def test_learning_rate_scheduler_matches_keras(schedule, capsys):
    logs = noisy_losses(0, n=7)
    _, krec, kh = run_fit(kcb, [kcb.LearningRateScheduler(schedule, verbose=1)], logs)
    kout = capsys.readouterr().out
    _, erec, eh = run_fit(ecb, [ecb.LearningRateScheduler(schedule, verbose=1)], logs)
    eout = capsys.readouterr().out
    assert erec == krec
    assert_same_history(kh, eh)
    assert eout == kout


def test_learning_rate_scheduler_rejects_non_float_like_keras():
    logs = [{"loss": 1.0}]
    with pytest.raises(ValueError):
        run_fit(kcb, [kcb.LearningRateScheduler(lambda epoch: 1)], logs)
    with pytest.raises(ValueError, match="float"):
        run_fit(ecb, [ecb.LearningRateScheduler(lambda epoch: 1)], logs)


# --------------------------------------------------------------------------------------
# ModelCheckpoint
# --------------------------------------------------------------------------------------

CHECKPOINT_CASES = [
    ("ckpt/model-{epoch:02d}-{val_loss:.2f}.keras", {}),
    ("ckpt/model-{epoch:02d}.keras", {"save_best_only": True}),
    ("w-{epoch:03d}-{val_accuracy:.3f}.weights.h5", {"save_best_only": True, "save_weights_only": True,
                                                       "monitor": "val_accuracy", "mode": "max"}),
    ("best.keras", {"save_best_only": True, "initial_value_threshold": 0.7}),
    ("m-{epoch}.h5", {"save_best_only": True, "monitor": "loss"}),
    ("b-{epoch:02d}-{batch:03d}.weights.h5", {"save_freq": 3, "save_weights_only": True}),
]  # fmt: skip


@pytest.mark.parametrize("filepath,kwargs", CHECKPOINT_CASES)
def test_model_checkpoint_matches_keras(filepath, kwargs, tmp_path, capsys):
    logs = noisy_losses(1, n=8)
    batch_logs = {(e, b): {"loss": 1.0 / (1 + e + b)} for e in range(8) for b in range(4)}
    kpath = str(tmp_path / "k" / filepath)
    epath = str(tmp_path / "e" / filepath)
    km, _, _ = run_fit(kcb, [kcb.ModelCheckpoint(kpath, verbose=1, **kwargs)], logs, 4, batch_logs)
    kout = capsys.readouterr().out
    em, _, _ = run_fit(ecb, [ecb.ModelCheckpoint(epath, verbose=1, **kwargs)], logs, 4, batch_logs)
    eout = capsys.readouterr().out
    assert km.saves, "the case saves at least once"
    assert [(kind, p.replace(str(tmp_path / "e"), str(tmp_path / "k")), o) for kind, p, o in em.saves] == km.saves
    assert eout.replace(str(tmp_path / "e"), str(tmp_path / "k")) == kout
    folder = os.path.dirname(epath)
    assert os.path.isdir(folder)  # missing folders are created


@pytest.mark.parametrize(
    "filepath,kwargs",
    [("model.txt", {}), ("model.keras", {"save_weights_only": True}), ("m.keras", {"save_freq": "batch"})],
)
def test_model_checkpoint_rejects_like_keras(filepath, kwargs):
    with pytest.raises(ValueError):
        kcb.ModelCheckpoint(filepath, **kwargs)
    with pytest.raises(ValueError, match="ModelCheckpoint"):
        ecb.ModelCheckpoint(filepath, **kwargs)


def test_model_checkpoint_unknown_key_raises_like_keras(tmp_path):
    logs = [{"loss": 1.0, "val_loss": 1.0}]
    with pytest.raises(KeyError):
        run_fit(kcb, [kcb.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))], logs)
    with pytest.raises(KeyError, match="val_acc"):
        run_fit(ecb, [ecb.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))], logs)


def test_model_checkpoint_needs_save_methods(tmp_path):
    class NoSave:
        stop_training = False

    cb = ecb.ModelCheckpoint(str(tmp_path / "x.weights.h5"), save_weights_only=True)
    cb.set_model(NoSave())
    with pytest.raises(AttributeError, match="save_weights"):
        cb.on_epoch_end(0, {"val_loss": 1.0})


def test_model_checkpoint_calls_save_without_overwrite_when_not_accepted(tmp_path):
    calls = []

    class Model:
        def save(self, path):
            calls.append(path)

    cb = ecb.ModelCheckpoint(str(tmp_path / "m.keras"))
    cb.set_model(Model())
    cb.on_epoch_end(0, {"val_loss": 1.0})
    assert calls == [str(tmp_path / "m.keras")]


# --------------------------------------------------------------------------------------
# CSVLogger
# --------------------------------------------------------------------------------------


def _csv_runs(lib, path, runs, **kwargs):
    for logs in runs:
        run_fit(lib, [lib.CSVLogger(path, **kwargs)], logs)
    with open(path, "rb") as f:
        return f.read()


CSV_CASES = [
    ("with validation", [noisy_losses(0, n=4)], {}),
    ("no validation", [[{"loss": 0.5, "accuracy": 0.25}, {"loss": 0.25, "accuracy": 0.5}]], {}),
    ("separator", [noisy_losses(1, n=3)], {"separator": ";"}),
    ("append", [noisy_losses(0, n=2), noisy_losses(1, n=3)], {"append": True}),
    ("overwrite", [noisy_losses(0, n=2), noisy_losses(1, n=3)], {}),
    ("missing and lists", [[{"loss": 1.0, "val_loss": 2.0, "lr": [0.1, 0.2]}, {"loss": 0.5, "lr": "x"}]], {}),
]


@pytest.mark.parametrize("name,runs,kwargs", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_logger_writes_keras_file(name, runs, kwargs, tmp_path):
    kfile = _csv_runs(kcb, str(tmp_path / "k.csv"), runs, **kwargs)
    efile = _csv_runs(ecb, str(tmp_path / "e.csv"), runs, **kwargs)
    assert efile == kfile


def test_csv_logger_flushes_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    cb = ecb.CSVLogger(path)
    cbs = ecb.CallbackList([cb], model=FakeModel())
    cbs.on_train_begin()
    cbs.on_epoch_end(0, {"loss": 1.0})
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,NA"]
    cbs.on_train_end()


# --------------------------------------------------------------------------------------
# TerminateOnNaN, LambdaCallback, History, CallbackList
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_terminate_on_nan_matches_keras(bad, capsys):
    logs = noisy_losses(0, n=4)
    batch_logs = {(1, 2): {"loss": bad}}
    km, krec, _ = run_fit(kcb, [kcb.TerminateOnNaN()], logs, 4, batch_logs)
    kout = capsys.readouterr().out
    em, erec, _ = run_fit(ecb, [ecb.TerminateOnNaN()], logs, 4, batch_logs)
    eout = capsys.readouterr().out
    assert erec == krec
    assert erec["stopped_at_batch"] == (1, 2)
    assert eout == kout
    with pytest.raises(RuntimeError):
        run_fit(kcb, [kcb.TerminateOnNaN(raise_error=True)], logs, 4, batch_logs)
    with pytest.raises(RuntimeError, match="batch 2"):
        run_fit(ecb, [ecb.TerminateOnNaN(raise_error=True)], logs, 4, batch_logs)


def _lambda_calls(lib):
    calls = []
    cb = lib.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs.items()))),
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_train_end=lambda logs: calls.append(("train_end", sorted((logs or {}).items()))),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs.items()))),
        on_test_end=lambda logs: calls.append(("test_end",)),
        tag="mine",
    )
    run_fit(lib, [cb], noisy_losses(2, n=3), steps=2)
    cbs = lib.CallbackList([cb], model=FakeModel())
    cbs.on_test_begin()
    cbs.on_test_end()
    return calls, cb.tag


def test_lambda_callback_matches_keras():
    assert _lambda_calls(ecb) == _lambda_calls(kcb)


def _hook_trace(lib):
    """A callback that records every hook, and the legacy aliases, in a full fit/evaluate/predict protocol."""
    trace = []

    class Tracer(lib.Callback):
        pass

    hooks = [n for n in dir(lib.Callback) if n.startswith("on_")]
    for name in hooks:
        if name in ("on_train_batch_begin", "on_train_batch_end"):
            continue  # keep the base: it calls the legacy on_batch_* alias

        def hook(self, *args, _name=name, **kwargs):
            # logs by keyword or by position: a Keras callback may rely on either
            passed = "keyword" if "logs" in kwargs else "position"
            logs = kwargs["logs"] if "logs" in kwargs else args[-1]
            head = args[:-1] if passed == "position" else args
            trace.append((_name, *head, passed, tuple(sorted(logs.items()))))

        setattr(Tracer, name, hook)
    model = FakeModel()
    tracer = Tracer()
    cbs = lib.CallbackList([tracer], model=model, verbose=0, epochs=1, steps=2)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for b in range(2):
        cbs.on_train_batch_begin(b)
        cbs.on_train_batch_end(b, {"loss": np.float32(0.5), "accuracy": np.float64(0.25)})
    cbs.on_test_begin()
    cbs.on_test_batch_begin(0)
    cbs.on_test_batch_end(0, {"loss": 0.75})
    cbs.on_test_end({"loss": 0.75})
    cbs.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75, "nested": {"b": 1, "a": np.float32(2.0)}})
    cbs.on_train_end({"loss": 0.5})
    cbs.on_predict_begin()
    cbs.on_predict_batch_begin(0)
    cbs.on_predict_batch_end(0)
    cbs.on_predict_end()
    return trace, tracer.params, tracer.model is model


def test_callback_list_dispatch_matches_keras():
    etrace, eparams, emodel = _hook_trace(ecb)
    ktrace, kparams, kmodel = _hook_trace(kcb)
    assert etrace == ktrace
    assert eparams == kparams == {"verbose": 0, "epochs": 1, "steps": 2}
    assert emodel and kmodel
    # the logs reach callbacks as Python floats
    assert all(type(v) is float for entry in etrace for _, v in entry[-1])


def test_callback_list_adds_defaults_like_keras():
    for lib in (kcb, ecb):
        model = FakeModel()
        cbs = lib.CallbackList([lib.EarlyStopping()], add_history=True, add_progbar=True, model=model)
        assert [type(c).__name__ for c in cbs.callbacks] == ["EarlyStopping", "History", "ProgbarLogger"]
        assert model.history is cbs.callbacks[1]
        mine = lib.History()
        cbs = lib.CallbackList([mine], add_history=True, model=model)
        assert cbs.callbacks == [mine] and model.history is mine
        assert lib.CallbackList().callbacks == []


def test_callback_list_flattens_nested_lists():
    a, b = ecb.History(), ecb.TerminateOnNaN()
    assert ecb.CallbackList([[a], (b,)]).callbacks == [a, b]


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback"):
        ecb.CallbackList([lambda: None])


def test_callback_list_overrides():
    cbs = ecb.CallbackList([ecb.EarlyStopping(), ecb.History()])
    assert not cbs.overrides("on_train_batch_end")
    assert cbs.overrides("on_epoch_end")
    assert ecb.CallbackList([ecb.TerminateOnNaN()]).overrides("on_train_batch_end")  # through on_batch_end


def test_history_matches_keras():
    logs = noisy_losses(0, n=5)
    km, _, kh = run_fit(kcb, [], logs)
    em, _, eh = run_fit(ecb, [], logs)
    assert isinstance(eh, ecb.History)
    assert em.history is eh
    assert_same_history(kh, eh)
    assert list(eh.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert eh.params == kh.params == {"verbose": 0, "epochs": 5, "steps": 0}


# --------------------------------------------------------------------------------------
# Progbar and ProgbarLogger: the same text as Keras's under a fake clock
# --------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(kprogbar.time, "time", c)
    monkeypatch.setattr(eprogbar.time, "time", c)
    return c


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _screen_lines(text):
    """What a terminal shows: each line as it stands after its last carriage return."""
    text = text.replace("\b", "")
    return [line.rsplit("\r", 1)[-1].rstrip(" ") for line in text.split("\n")]


def _drive(bar_cls, clock, steps, values, verbose, dynamic, target_known=True, finalize_twice=False, **kwargs):
    bar = bar_cls(target=steps if target_known else None, verbose=verbose, **kwargs)
    bar._dynamic_display = dynamic
    for i in range(steps):
        clock.now += 0.004 if i else 1.3  # a slow first step, then 4 ms
        bar.update(i + 1, values(i), finalize=False if not target_known else None)
    if not target_known:
        bar.target = steps
        bar.update(steps, values(steps - 1), finalize=True)
    return bar


def _values(i):
    return [("loss", 1.0 / (i + 1)), ("accuracy", 0.5 + i / 1000.0), ("tiny", 1e-5 * (1 + i / 100.0))]


@pytest.mark.parametrize("steps", [1, 7, 469])
@pytest.mark.parametrize("target_known", [True, False])
def test_progbar_terminal_matches_keras(steps, target_known, clock, capsys):
    _drive(kprogbar.Progbar, clock, steps, _values, 1, True, target_known)
    kout = capsys.readouterr().out
    _drive(eprogbar.Progbar, clock, steps, _values, 1, True, target_known)
    eout = capsys.readouterr().out
    # the same screen, colours included
    assert _screen_lines(eout) == _screen_lines(kout)
    last = _ANSI.sub("", _screen_lines(eout)[-2])
    assert re.fullmatch(
        rf"{steps}/{steps} ━{{20}} \d+s \d+(ms|s)/step - loss: \S+ - accuracy: \S+ - tiny: \S+e-\d+", last
    )


@pytest.mark.parametrize("stateful", [None, ["accuracy"]])
def test_progbar_averages_like_keras(stateful, clock, capsys):
    kbar = _drive(kprogbar.Progbar, clock, 9, _values, 1, True, stateful_metrics=stateful)
    capsys.readouterr()
    ebar = _drive(eprogbar.Progbar, clock, 9, _values, 1, True, stateful_metrics=stateful)
    capsys.readouterr()
    assert ebar._values_order == kbar._values_order
    for key in kbar._values:
        np.testing.assert_allclose(ebar._values[key], kbar._values[key], rtol=1e-12)


def test_progbar_verbose_2_matches_keras(clock, capsys):
    _drive(kprogbar.Progbar, clock, 30, _values, 2, True)
    kout = capsys.readouterr().out
    _drive(eprogbar.Progbar, clock, 30, _values, 2, True)
    eout = capsys.readouterr().out
    assert eout == kout
    assert eout.count("\n") == 1 and eout.startswith("30/30 - ")


def test_progbar_without_terminal_writes_one_plain_line(clock, capsys):
    _drive(kprogbar.Progbar, clock, 50, _values, 1, True)
    kfinal = _ANSI.sub("", _screen_lines(capsys.readouterr().out)[-2])
    _drive(eprogbar.Progbar, clock, 50, _values, 1, False)
    eout = capsys.readouterr().out
    assert "\r" not in eout and "\b" not in eout and "\x1b" not in eout
    assert eout == kfinal + "\n"  # the line Keras leaves on the screen, once


def test_progbar_rejects_both_metric_lists():
    with pytest.raises(ValueError, match="stateful_metrics"):
        eprogbar.Progbar(10, stateful_metrics=["a"], stateless_metrics=["b"])


def _logger_run(lib, clock, verbose, epochs, steps, dynamic, monkeypatch):
    """Drive a ProgbarLogger as fit does (a silent validation at each epoch end), then an evaluate."""
    # Keras redraws in place on every POSIX system; Ember only on a terminal (asked here)
    monkeypatch.setattr(eprogbar, "_is_dynamic_output", lambda: dynamic)
    model = FakeModel()
    logger = lib.ProgbarLogger()
    cbs = lib.CallbackList([logger], model=model, verbose=verbose, epochs=epochs, steps=steps)
    cbs.on_train_begin()
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for b in range(steps):
            clock.now += 0.004
            cbs.on_train_batch_end(b, {"loss": 1.0 / (b + 1 + epoch), "accuracy": 0.5 + b / 1000})
        cbs.on_test_begin()
        cbs.on_test_batch_end(0, {"loss": 0.3})
        cbs.on_test_end({"loss": 0.3})
        cbs.on_epoch_end(epoch, {"loss": 0.3, "accuracy": 0.9, "val_loss": 0.4, "val_accuracy": 0.875})
    cbs.on_train_end()
    logger2 = lib.ProgbarLogger()
    cbs = lib.CallbackList([logger2], model=model, verbose=verbose, epochs=1, steps=None)
    cbs.on_test_begin()
    for b in range(5):
        clock.now += 0.002
        cbs.on_test_batch_end(b, {"loss": 0.25, "accuracy": 0.75})
    cbs.on_test_end({"loss": 0.25, "accuracy": 0.75})


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
@pytest.mark.parametrize("epochs", [1, 3])
def test_progbar_logger_matches_keras(verbose, epochs, clock, capsys, monkeypatch):
    _logger_run(kcb, clock, verbose, epochs, 12, True, monkeypatch)
    kout = capsys.readouterr().out
    _logger_run(ecb, clock, verbose, epochs, 12, True, monkeypatch)
    eout = capsys.readouterr().out
    assert _screen_lines(eout) == _screen_lines(kout)
    plain = [_ANSI.sub("", line) for line in _screen_lines(eout) if line]
    if epochs > 1:
        assert plain[0] == f"Epoch 1/{epochs}"
    assert any(
        line.endswith("accuracy: 0.9000 - loss: 0.3000 - val_accuracy: 0.8750 - val_loss: 0.4000") for line in plain
    )


def test_progbar_logger_in_a_log_file_has_one_line_per_epoch(clock, capsys, monkeypatch):
    _logger_run(ecb, clock, 1, 3, 40, False, monkeypatch)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["Epoch", "40/40", "Epoch", "40/40", "Epoch", "40/40", "5/5"]
    assert all("\x1b" not in line and "\r" not in line for line in lines)
