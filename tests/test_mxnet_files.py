"""MXNet's NDArray binary format both ways: files written by real MXNet 1.9.1 (tests/fixtures/mxnet) load into
Ember; Ember writes byte-identical files; optionally real MXNet loads Ember's files (set MXNET_PYTHON to a
Python with mxnet 1.9.1, e.g. /work/mxvenv/bin/python)."""

import json
import os
import struct
import subprocess

import numpy as np
import pytest

import ember.mxnet as mx
from ember.mxnet import autograd, gluon, nd

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet")
with open(os.path.join(HERE, "files_expected.json")) as f:
    EXPECTED = json.load(f)


def mxnet_cnn(prefix=None):
    net = gluon.nn.HybridSequential(prefix=prefix)
    with net.name_scope():
        net.add(gluon.nn.Conv2D(2, 3), gluon.nn.BatchNorm(), gluon.nn.Flatten(), gluon.nn.Dense(3))
    return net


def test_mxnet_params_file_loads_into_ember_network_and_predicts_the_same():
    net = mxnet_cnn()
    net.load_parameters(os.path.join(HERE, "mxnet_net.params"))
    out = net(nd.array(EXPECTED["x"]))
    np.testing.assert_allclose(out.asnumpy(), np.array(EXPECTED["out"]), rtol=1e-5, atol=1e-6)


def test_ember_rewrites_mxnet_params_byte_for_byte(tmp_path):
    net = mxnet_cnn()
    net.load_parameters(os.path.join(HERE, "mxnet_net.params"))
    net.save_parameters(str(tmp_path / "again.params"))
    with open(os.path.join(HERE, "mxnet_net.params"), "rb") as a, open(tmp_path / "again.params", "rb") as b:
        assert a.read() == b.read()


def test_mxnet_export_params_load_by_full_names():
    net = mxnet_cnn(prefix="hybridsequential0_")
    net.collect_params().load(os.path.join(HERE, "mxnet_export-0000.params"))
    out = net(nd.array(EXPECTED["x"]))
    np.testing.assert_allclose(out.asnumpy(), np.array(EXPECTED["out"]), rtol=1e-5, atol=1e-6)


def test_nd_load_list_keeps_dtypes_and_values_and_save_is_byte_identical(tmp_path):
    arrays = nd.load(os.path.join(HERE, "mxnet_list.nd"))
    assert isinstance(arrays, list) and len(arrays) == len(EXPECTED["list"])
    for a, (dtype, shape, values) in zip(arrays, EXPECTED["list"]):
        assert isinstance(a, mx.NDArray)
        assert a.dtype == np.dtype(dtype) and list(a.shape) == shape
        np.testing.assert_array_equal(a.asnumpy().astype("float64").ravel(), values)
    nd.save(str(tmp_path / "l.nd"), arrays)
    with open(os.path.join(HERE, "mxnet_list.nd"), "rb") as a, open(tmp_path / "l.nd", "rb") as b:
        assert a.read() == b.read()


def test_nd_load_dict(tmp_path):
    d = nd.load(os.path.join(HERE, "mxnet_dict.nd"))
    assert list(d) == ["alpha", "beta"]
    np.testing.assert_array_equal(d["alpha"].asnumpy(), [[1, 2, 3]])
    nd.save(str(tmp_path / "d.nd"), d)
    with open(os.path.join(HERE, "mxnet_dict.nd"), "rb") as a, open(tmp_path / "d.nd", "rb") as b:
        assert a.read() == b.read()


def test_bad_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.params"
    bad.write_bytes(struct.pack("<QQQ", 0x999, 0, 0))
    with pytest.raises(ValueError, match="not an MXNet NDArray file"):
        nd.load(str(bad))
    good = open(os.path.join(HERE, "mxnet_list.nd"), "rb").read()
    (tmp_path / "cut.nd").write_bytes(good[:60])
    with pytest.raises(ValueError, match="ends early"):
        nd.load(str(tmp_path / "cut.nd"))
    with pytest.raises(TypeError, match="keys must be str"):
        nd.save(str(tmp_path / "x.nd"), {1: nd.zeros((1,))})


def test_load_parameters_reports_missing_and_extra(tmp_path):
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize()
    with pytest.raises(KeyError, match="missing from the file"):
        net.load_parameters(os.path.join(HERE, "mxnet_net.params"))
    net.load_parameters(os.path.join(HERE, "mxnet_net.params"), allow_missing=True, ignore_extra=True)


def test_export_and_symbolblock_imports_round_trip(tmp_path):
    net = mxnet_cnn()
    net.load_parameters(os.path.join(HERE, "mxnet_net.params"))
    net.hybridize()
    sym, params = net.export(str(tmp_path / "model"), epoch=3)
    assert params.endswith("model-0003.params")
    keys = nd.load(params).keys()
    assert any(k.startswith("aux:") and k.endswith("running_var") for k in keys)
    assert all(k.startswith(("arg:", "aux:")) for k in keys)
    loaded = gluon.SymbolBlock.imports(sym, ["data"], params)
    x = nd.array(EXPECTED["x"])
    np.testing.assert_allclose(loaded(x).asnumpy(), net(x).asnumpy(), rtol=1e-6)


def test_export_of_custom_block_is_refused(tmp_path):
    class Mine(gluon.HybridBlock):
        def hybrid_forward(self, F, x):  # noqa: N803
            return x

    with pytest.raises(TypeError, match="custom block"):
        Mine().export(str(tmp_path / "m"))


def test_real_mxnet_reads_embers_files(tmp_path):
    python = os.environ.get("MXNET_PYTHON")
    if not python or not os.path.exists(python):
        pytest.skip("set MXNET_PYTHON to a Python with mxnet 1.9.1 to check the reverse direction")
    mx.random.seed(1)
    net = mxnet_cnn()
    net.initialize(mx.init.Xavier())
    x = nd.array(EXPECTED["x"])
    want = net(x).asnumpy()
    net.save_parameters(str(tmp_path / "e.params"))
    nd.save(str(tmp_path / "x.nd"), {"x": x})
    script = f"""
import mxnet as mx, numpy as np
net = mx.gluon.nn.HybridSequential()
with net.name_scope():
    net.add(mx.gluon.nn.Conv2D(2, 3), mx.gluon.nn.BatchNorm(), mx.gluon.nn.Flatten(), mx.gluon.nn.Dense(3))
net.load_parameters({str(tmp_path / "e.params")!r})
np.save({str(tmp_path / "out.npy")!r}, net(mx.nd.load({str(tmp_path / "x.nd")!r})["x"]).asnumpy())
"""
    subprocess.run([python, "-c", script], check=True, capture_output=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("prefix, x_key, out_key", [("mxnet_export", "x", "out"), ("mxnet_export2", "x2", "out2")])
def test_symbolblock_imports_real_mxnet_exports(prefix, x_key, out_key):
    net = gluon.SymbolBlock.imports(
        os.path.join(HERE, f"{prefix}-symbol.json"), ["data"], os.path.join(HERE, f"{prefix}-0000.params")
    )
    out = net(nd.array(EXPECTED[x_key]))
    np.testing.assert_allclose(out.asnumpy(), np.array(EXPECTED[out_key]), rtol=1e-5, atol=1e-6)
    assert any(name.endswith("running_var") for name in net.collect_params())


def test_symbolblock_imports_names_an_unsupported_operator(tmp_path):
    spec = {
        "nodes": [
            {"op": "null", "name": "data", "inputs": []},
            {"op": "ROIPooling", "name": "roi", "attrs": {}, "inputs": [[0, 0, 0]]},
        ],
        "arg_nodes": [0],
        "heads": [[1, 0, 0]],
    }
    path = tmp_path / "m-symbol.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(NotImplementedError, match="ROIPooling"):
        gluon.SymbolBlock.imports(str(path), ["data"])


def test_symbolblock_imports_grouped_convolution_and_full_pooling():
    """MXNet's export of Conv2D(groups=2/4) and ceil_mode max/average pooling (pooling_convention 'full')."""
    with open(os.path.join(HERE, "symbol_expected.json")) as f:
        expected = json.load(f)
    net = gluon.SymbolBlock.imports(
        os.path.join(HERE, "mxnet_export3-symbol.json"), ["data"], os.path.join(HERE, "mxnet_export3-0000.params")
    )
    out = net(nd.array(expected["x"]))
    np.testing.assert_allclose(out.asnumpy(), np.array(expected["out"]), rtol=1e-5, atol=1e-6)


def _export_net():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(
            gluon.nn.Conv2D(4, 3, padding=1, groups=2, activation="relu"),
            gluon.nn.BatchNorm(),
            gluon.nn.MaxPool2D(3, 2, ceil_mode=True),
            gluon.nn.AvgPool2D(2, 2, ceil_mode=True, count_include_pad=False),
            gluon.nn.LeakyReLU(0.1),
            gluon.nn.Flatten(),
            gluon.nn.Dense(5, activation="tanh"),
            gluon.nn.Dropout(0.3),
            gluon.nn.Dense(3),
        )
    net.initialize(mx.init.Xavier())
    x = nd.array(np.random.default_rng(0).normal(size=(2, 2, 9, 9)))
    with autograd.record():
        net(x)  # BatchNorm's running statistics move
    return net, x


def test_export_writes_mxnets_symbol_graph(tmp_path):
    net, x = _export_net()
    net.hybridize()
    sym, params = net.export(str(tmp_path / "m"))
    with open(sym) as f:
        graph = json.load(f)
    ops = [n["op"] for n in graph["nodes"] if n["op"] != "null"]
    assert ops == [
        "Convolution", "Activation", "BatchNorm", "Pooling", "Pooling", "LeakyReLU", "Flatten",
        "FullyConnected", "Activation", "Dropout", "FullyConnected",
    ]  # fmt: skip
    conv = graph["nodes"][3]
    assert conv["name"] == net[0].prefix + "fwd" and conv["attrs"]["num_group"] == "2"
    assert graph["attrs"]["mxnet_version"] == ["int", 10901]
    back = gluon.SymbolBlock.imports(sym, ["data"], params)
    assert np.array_equal(back(x).asnumpy(), net(x).asnumpy())


def test_export_of_a_recurrent_network_falls_back_to_embers_description(tmp_path):
    net = gluon.nn.HybridSequential()
    net.add(gluon.rnn.LSTM(3), gluon.nn.Dense(2, flatten=False))
    net.initialize()
    x = nd.array(np.random.default_rng(1).normal(size=(4, 2, 3)))
    want = net(x).asnumpy()
    sym, params = net.export(str(tmp_path / "r"))
    with open(sym) as f:
        assert json.load(f)["format"] == "ember-gluon-block"
    np.testing.assert_array_equal(gluon.SymbolBlock.imports(sym, ["data"], params)(x).asnumpy(), want)


def test_real_mxnet_runs_embers_export(tmp_path):
    python = os.environ.get("MXNET_PYTHON")
    if not python or not os.path.exists(python):
        pytest.skip("set MXNET_PYTHON to a Python with mxnet 1.9.1 to check the reverse direction")
    net, x = _export_net()
    want = net(x).asnumpy()
    sym, params = net.export(str(tmp_path / "e"))
    nd.save(str(tmp_path / "x.nd"), {"x": x})
    script = f"""
import mxnet as mx, numpy as np
net = mx.gluon.SymbolBlock.imports({sym!r}, ["data"], {params!r})
np.save({str(tmp_path / "out.npy")!r}, net(mx.nd.load({str(tmp_path / "x.nd")!r})["x"]).asnumpy())
"""
    subprocess.run([python, "-c", script], check=True, capture_output=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), want, rtol=1e-5, atol=1e-6)


def test_symbolblock_imports_transposed_convolution_norms_and_activations():
    """MXNet's export of Conv2DTranspose, InstanceNorm, PReLU, ELU, SELU, GELU, Swish, LayerNorm."""
    with open(os.path.join(HERE, "symbol_expected.json")) as f:
        expected = json.load(f)
    net = gluon.SymbolBlock.imports(
        os.path.join(HERE, "mxnet_export4-symbol.json"), ["data"], os.path.join(HERE, "mxnet_export4-0000.params")
    )
    out = net(nd.array(expected["x4"]))
    np.testing.assert_allclose(out.asnumpy(), np.array(expected["out4"]), rtol=1e-5, atol=1e-6)


def _export_net2():
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(
            gluon.nn.Conv2DTranspose(3, 3, strides=2, padding=1, output_padding=1, activation="relu"),
            gluon.nn.InstanceNorm(scale=True),
            gluon.nn.PReLU(in_channels=3),
            gluon.nn.ELU(0.7),
            gluon.nn.SELU(),
            gluon.nn.GELU(),
            gluon.nn.Swish(1.5),
            gluon.nn.LayerNorm(axis=1),
            gluon.nn.Conv2D(2, 1),
            gluon.nn.GlobalMaxPool2D(),
            gluon.nn.Flatten(),
        )
    net.initialize(mx.init.Xavier())
    x = nd.array(np.random.default_rng(2).normal(size=(2, 2, 4, 4)))
    net(x)
    return net, x


def test_export_of_transposed_convolution_norms_and_activations_is_mxnets_graph(tmp_path):
    net, x = _export_net2()
    sym, params = net.export(str(tmp_path / "n"))
    with open(sym) as f:
        ops = [n["op"] for n in json.load(f)["nodes"] if n["op"] != "null"]
    assert ops[:3] == ["Deconvolution", "Activation", "InstanceNorm"] and "LayerNorm" in ops
    back = gluon.SymbolBlock.imports(sym, ["data"], params)
    assert np.array_equal(back(x).asnumpy(), net(x).asnumpy())
    python = os.environ.get("MXNET_PYTHON")
    if not python or not os.path.exists(python):
        return  # the check by real MXNet below needs MXNET_PYTHON
    nd.save(str(tmp_path / "x.nd"), {"x": x})
    script = f"""
import mxnet as mx, numpy as np
net = mx.gluon.SymbolBlock.imports({sym!r}, ["data"], {params!r})
np.save({str(tmp_path / "out.npy")!r}, net(mx.nd.load({str(tmp_path / "x.nd")!r})["x"]).asnumpy())
"""
    subprocess.run([python, "-c", script], check=True, capture_output=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), net(x).asnumpy(), rtol=1e-5, atol=1e-6)
