"""Plain tensors (.npz, .safetensors), Gluon-style save/load_parameters, atomic writes."""

import json
import os
import struct

import numpy as np
import pytest

import ember
from ember import saving


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "w": rng.normal(size=(3, 4)).astype("float32"),
        "b": np.arange(5, dtype="int64"),
        "h": rng.normal(size=(2,)).astype("float16"),
        "mask": np.array([True, False]),
        "scalar": np.float64(2.5) * np.ones(()),
    }


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_tensors_round_trip_exactly(tmp_path, suffix):
    arrays = _arrays()
    arrays["t"] = ember.tensor(np.ones((2, 2), "float32"))
    path = str(tmp_path / f"t{suffix}")
    saving.save_tensors(arrays, path)
    back = saving.load_tensors(path)
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        v = v.numpy() if hasattr(v, "numpy") else v
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)


def test_safetensors_layout_is_the_published_one(tmp_path):
    """8-byte little-endian header length, JSON header with dtype/shape/data_offsets, raw little-endian data."""
    path = str(tmp_path / "t.safetensors")
    w = np.arange(6, dtype="<f4").reshape(2, 3)
    saving.save_tensors({"w": w}, path, metadata={"format": "np"})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    assert header["w"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["__metadata__"] == {"format": "np"}
    assert raw[8 + n :] == w.tobytes()
    try:  # the reference reader, when it is installed
        from safetensors.numpy import load_file
    except ImportError:
        return
    np.testing.assert_array_equal(load_file(path)["w"], w)


def test_bad_tensor_files_name_the_file(tmp_path):
    path = str(tmp_path / "t.safetensors")
    saving.save_tensors({"w": np.ones((100,), "float32")}, path)
    raw = open(path, "rb").read()
    cut = str(tmp_path / "cut.safetensors")
    open(cut, "wb").write(raw[:-10])
    with pytest.raises(ValueError, match="cut.safetensors.*truncated"):
        saving.load_tensors(cut)
    junk = str(tmp_path / "junk.safetensors")
    open(junk, "wb").write(b"\xff" * 64)
    with pytest.raises(ValueError, match="junk.safetensors"):
        saving.load_tensors(junk)
    with pytest.raises(ValueError, match=r"\.npz or \.safetensors"):
        saving.save_tensors({"w": np.ones(2)}, str(tmp_path / "t.bin"))


def _mlp(seed):
    ember.utils.set_random_seed(seed)
    return ember.Sequential(
        [ember.layers.Dense(5, activation="relu", input_shape=(3,)), ember.layers.Dense(2)], name=f"mlp{seed}"
    )


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_and_load_parameters_between_instances(tmp_path, suffix):
    src, dst = _mlp(1), _mlp(2)
    path = str(tmp_path / f"p{suffix}")
    saving.save_parameters(src, path)
    saving.load_parameters(dst, path)
    for a, b in zip(dst.get_weights(), src.get_weights()):
        np.testing.assert_array_equal(a, b)
    # a single layer too
    layer_path = str(tmp_path / f"layer{suffix}")
    saving.save_parameters(src.layers[0], layer_path)
    saving.load_parameters(dst.layers[0], layer_path)
    bigger = ember.Sequential([ember.layers.Dense(6, input_shape=(3,)), ember.layers.Dense(2)])
    with pytest.raises(ValueError, match="expected"):
        saving.load_parameters(bigger, path)


def test_atomic_open_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with saving.atomic_open(path) as f:
            f.write(b"partial")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["x.bin"]
    with saving.atomic_open(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
