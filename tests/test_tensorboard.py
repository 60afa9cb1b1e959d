"""TensorBoard callback: event files read back with TensorBoard's own reader.

Names, defaults and tags are Keras 3's (``keras.callbacks.TensorBoard`` needs
TensorFlow to write, so Keras is the oracle for the signature and the weight
paths, and the values are checked against the History and the weights).
"""

import inspect
import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("tensorboard", reason="the TensorBoard callback writes with the tensorboard package")
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the TensorBoard callback's API")

from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

import ember  # noqa: E402
from ember.callbacks.tensorboard import TensorBoard  # noqa: E402


def _read(run_dir):
    acc = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def _series(acc, tag):
    """[(step, value as ndarray)] of a tag."""
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def _model():
    model = ember.Sequential(
        name="sequential",
        layers=[
            ember.Input((4,)),
            ember.layers.Dense(3, activation="relu", name="hidden"),
            ember.layers.Dense(1, name="out"),
        ],
    )
    model.compile(optimizer=ember.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
    return model


def _data(n=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def test_signature_matches_keras():
    ours = inspect.signature(TensorBoard.__init__)
    theirs = inspect.signature(keras.callbacks.TensorBoard.__init__)
    assert list(ours.parameters) == list(theirs.parameters)
    for name, param in theirs.parameters.items():
        assert ours.parameters[name].default == param.default, name


def test_epoch_batch_scalars_histograms_and_graph(tmp_path):
    x, y = _data(20)
    model = _model()
    tb = TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq="batch")
    history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(x, y), callbacks=[tb], verbose=0)
    train, val = _read(tmp_path / "train"), _read(tmp_path / "validation")

    # epoch scalars: the History's values at steps 0..2, training in train/, val_ in validation/
    for key in ("loss", "mae"):
        got = _series(train, f"epoch_{key}")
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in got], np.float32(history.history[key]), rtol=1e-6)
        got = _series(val, f"epoch_{key}")
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in got], np.float32(history.history[f"val_{key}"]), rtol=1e-6)
    lr = _series(train, "epoch_learning_rate")
    np.testing.assert_allclose([float(v) for _, v in lr], [0.05] * 3, rtol=1e-6)
    assert "epoch_val_loss" not in train.Tags()["tensors"]

    # batch scalars: one per training batch, global steps 1..9 (3 batches x 3 epochs)
    batch_loss = _series(train, "batch_loss")
    assert [s for s, _ in batch_loss] == list(range(1, 10))
    # the last batch's running loss is the epoch's loss
    np.testing.assert_allclose(float(batch_loss[-1][1]), np.float32(history.history["loss"][-1]), rtol=1e-6)

    # histograms: Keras's tags (the weight paths of the same model in Keras), one per epoch
    kmodel = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="hidden"), keras.layers.Dense(1, name="out")],
        name="sequential",
    )
    keras_tags = {f"{w.path.replace(':', '_')}/histogram" for layer in kmodel.layers for w in layer.weights}
    hist_tags = {t for t in train.Tags()["tensors"] if t.endswith("/histogram")}
    assert hist_tags == keras_tags
    for layer in model.layers:
        for weight in layer.weights:
            events = _series(train, f"sequential/{weight.path}/histogram")
            assert [s for s, _ in events] == [0, 1, 2]
            buckets = events[-1][1]  # written after the last epoch: the final weights
            values = np.asarray(weight.numpy(), dtype=np.float64).ravel()
            assert buckets.shape == (30, 3)
            assert buckets[:, 2].sum() == values.size
            np.testing.assert_allclose(buckets[0, 0], values.min(), rtol=1e-12)
            np.testing.assert_allclose(buckets[-1, 1], values.max(), rtol=1e-12)
            counts, _ = np.histogram(values, bins=np.linspace(values.min(), values.max(), 31))
            np.testing.assert_array_equal(buckets[:, 2], counts)

    # the graph: one node per layer with its type, its input and its output shape
    graph = train.Graph()
    nodes = {n.name: n for n in graph.node}
    assert set(nodes) == {"hidden", "out"}
    assert nodes["hidden"].op == "Dense" and nodes["out"].op == "Dense"
    assert list(nodes["out"].input) == ["hidden"]
    dims = [d.size for d in nodes["hidden"].attr["_output_shapes"].list.shape[0].dim]
    assert dims == [-1, 3]
    # and the model's config under the "keras" tag (TensorBoard's conceptual graph)
    (step, config), *_ = _series(train, "keras")
    assert step == 0
    assert json.loads(config.item().decode()) == json.loads(model.to_json())


def test_update_freq_int_and_epoch(tmp_path):
    x, y = _data(40)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[TensorBoard(tmp_path / "a", update_freq=3)], verbose=0)
    train = _read(tmp_path / "a" / "train")
    assert [s for s, _ in _series(train, "batch_loss")] == [3, 6, 9]  # 10 batches in all, every 3rd
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[TensorBoard(tmp_path / "b", write_graph=False)], verbose=0)
    train = _read(tmp_path / "b" / "train")
    tags = train.Tags()["tensors"]
    assert not any(t.startswith("batch_") for t in tags)
    assert "keras" not in tags and not train.Tags()["graph"]
    assert [s for s, _ in _series(train, "epoch_loss")] == [0, 1]
    assert not os.path.exists(tmp_path / "b" / "validation")  # no validation data, no validation run


def test_histogram_freq_images_and_steps_per_second(tmp_path):
    x, y = _data(16)
    model = _model()
    tb = TensorBoard(tmp_path, histogram_freq=2, write_images=True, write_steps_per_second=True, update_freq=1)
    model.fit(x, y, epochs=3, batch_size=8, callbacks=[tb], verbose=0)
    train = _read(tmp_path / "train")
    assert [s for s, _ in _series(train, "sequential/hidden/kernel/histogram")] == [0, 2]
    (step, content), _ = _series(train, "sequential/hidden/kernel/image")
    # a (4, 3) kernel is drawn with the longer side across: a 4 wide, 3 high PNG
    assert content[0] == b"4" and content[1] == b"3" and content[2].startswith(b"\x89PNG\r\n\x1a\n")
    sps = _series(train, "epoch_steps_per_second")
    assert [s for s, _ in sps] == [0, 1, 2] and all(float(v) > 0 for _, v in sps)
    assert [s for s, _ in _series(train, "batch_steps_per_second")] == list(range(1, 7))


def test_functional_graph_edges(tmp_path):
    a = ember.Input((3,), name="a")
    b = ember.Input((2,), name="b")
    h = ember.layers.Dense(4, name="ha")(a)
    merged = ember.layers.Concatenate(name="cat")([h, b])
    out = ember.layers.Dense(1, name="y")(merged)
    model = ember.Model([a, b], out)
    model.compile(optimizer="sgd", loss="mse")
    xa, xb = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    model.fit([xa, xb], np.ones((4, 1), "float32"), epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    nodes = {n.name: n for n in _read(tmp_path / "train").Graph().node}
    assert {n: nodes[n].op for n in nodes} == {
        "a": "InputLayer",
        "b": "InputLayer",
        "ha": "Dense",
        "cat": "Concatenate",
        "y": "Dense",
    }
    assert list(nodes["cat"].input) == ["ha", "b"]
    assert list(nodes["y"].input) == ["cat"]


def test_evaluate_writes_evaluation_vs_iterations(tmp_path):
    x, y = _data(16)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    result = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=[TensorBoard(tmp_path)])
    val = _read(tmp_path / "validation")
    ((step, value),) = _series(val, "evaluation_loss_vs_iterations")
    assert step == 4  # the optimizer's iterations: 2 epochs x 2 batches
    np.testing.assert_allclose(float(value), np.float32(result["loss"]), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="profile_batch"):
        TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq="sometimes")


def test_import_ember_does_not_import_tensorboard():
    import subprocess
    import sys

    code = "import sys, ember, ember.callbacks; print('tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
