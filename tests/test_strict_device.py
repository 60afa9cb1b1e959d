"""The strict test device: its array type refuses implicit host conversion as CuPy's does; transfers are explicit."""

import copy
import operator
import pickle

import numpy as np
import pytest

import ember
from ember.backend import Device, device_of_array, is_host_array, to_device, to_host, xp_of
from ember.backend.strict import StrictArray, explicit_transfer, xp


def _host(a):
    return a.get()


# ---- the array type ------------------------------------------------------------------------------------


def test_strict_array_is_not_an_ndarray_and_xp_returns_strict_arrays():
    a = xp.arange(6.0).reshape(2, 3)
    assert type(a) is StrictArray and not isinstance(a, np.ndarray)
    assert isinstance(a, xp.ndarray)
    assert a.shape == (2, 3) and a.dtype == np.float64 and a.ndim == 2 and a.size == 6
    total = xp.sum(a)  # a reduction gives a 0-d device array, as CuPy's do, not a NumPy scalar
    assert type(total) is StrictArray and total.shape == ()
    assert total.item() == 15.0
    assert type(a[0, 1]) is StrictArray and a[0, 1].item() == 1.0
    assert type(a.T) is StrictArray and a.T.shape == (3, 2)
    row, col = xp.nonzero(a > 2)
    assert type(row) is StrictArray and _host(col).tolist() == [0, 1, 2]


def test_numpy_conversion_is_refused():
    a = xp.ones(3)
    with pytest.raises(TypeError, match=r"numpy.asarray\(\) of a strict array would copy"):
        np.asarray(a)
    with pytest.raises(TypeError, match="would copy a device array to the host"):
        np.array(a)
    with pytest.raises(TypeError, match="does not support ufuncs"):
        np.exp(a)


@pytest.mark.parametrize("convert", [float, int, complex, operator.index, lambda a: a.tolist()])
def test_python_number_conversion_is_refused(convert):
    one = xp.sum(xp.ones(1, dtype="int64"))
    with pytest.raises(TypeError, match="strict device"):
        convert(one)


def test_explicit_transfers_work():
    a = xp.asarray(np.array([1.5, 2.5]))
    assert type(a.get()) is np.ndarray and a.get().tolist() == [1.5, 2.5]
    assert type(xp.asnumpy(a)) is np.ndarray
    assert xp.sum(a).item() == 4.0
    with explicit_transfer():
        assert float(xp.sum(a)) == 4.0 and a.tolist() == [1.5, 2.5]
    with pytest.raises(TypeError):
        float(xp.sum(a))  # the block is over
    assert bool(xp.sum(a) > 3)  # allowed, as in CuPy: a data-dependent branch needs it
    with pytest.raises(ValueError, match="ambiguous"):
        bool(a > 0)


def test_mixing_with_numpy_arrays_is_refused():
    a = xp.ones(3)
    host = np.ones(3)
    for mix in (
        lambda: a + host,
        lambda: host + a,
        lambda: a * host,
        lambda: xp.add(a, host),
        lambda: xp.where(a > 0, a, host),
    ):
        with pytest.raises(TypeError, match="got a numpy.ndarray beside a device array"):
            mix()
    with pytest.raises(TypeError, match="__setitem__"):
        a[1:] = np.ones(2)
    with pytest.raises(TypeError, match="__iadd__"):
        a += host


def test_scalars_and_zero_d_host_values_are_fine():
    a = xp.ones(3, dtype="float32")
    assert _host(a * 2 + np.float32(1)).tolist() == [3.0, 3.0, 3.0]
    assert _host(a * np.array(2.0, dtype="float32")).tolist() == [2.0, 2.0, 2.0]
    a[:] = np.arange(3, dtype="float32")  # a whole-array copy in: CuPy allows this one host assignment
    assert _host(a).tolist() == [0.0, 1.0, 2.0]
    a[0] = 7
    assert _host(a).tolist() == [7.0, 1.0, 2.0]


def test_in_place_forms_and_out_keep_the_array():
    a = xp.zeros(4)
    b = a
    a += 1
    assert a is b and _host(a).tolist() == [1.0] * 4
    out = xp.add(a, a, out=a)
    assert out is a and _host(a).tolist() == [2.0] * 4
    xp.add.at(a, xp.asarray(np.array([0, 0, 3])), 1.0)  # ufunc methods carry over
    assert _host(a).tolist() == [4.0, 2.0, 2.0, 3.0]
    assert _host(xp.maximum.reduce(a)).item() == 4.0


def test_copy_pickle_and_random():
    a = xp.arange(3.0)
    assert _host(copy.deepcopy(a)).tolist() == [0.0, 1.0, 2.0] and type(copy.copy(a)) is StrictArray
    assert _host(pickle.loads(pickle.dumps(a))).tolist() == [0.0, 1.0, 2.0]
    draws = xp.random.default_rng(0).standard_normal((2, 2))
    assert type(draws) is StrictArray
    np.testing.assert_array_equal(_host(draws), np.random.default_rng(0).standard_normal((2, 2)))


# ---- the device seam ------------------------------------------------------------------------------------


def test_device_parsing_and_the_seam_functions():
    strict = Device("strict")
    assert strict.type == "strict" and strict.index is None and str(strict) == "strict" and strict == "strict"
    assert strict.xp is xp
    with pytest.raises(ValueError, match="'strict' takes no index"):
        Device("strict:1")
    host = np.arange(3.0)
    on = to_device(host, "strict")
    assert type(on) is StrictArray and device_of_array(on) == strict and xp_of(on) is xp
    assert to_device(on, "strict") is on
    back = to_host(on)
    assert type(back) is np.ndarray and back.tolist() == [0.0, 1.0, 2.0]
    assert to_host(host) is host and to_device(host, "cpu") is host
    assert is_host_array(host) and is_host_array(1.0) and not is_host_array(on)
    assert to_host(ember.tensor([1.0, 2.0], device="strict")).tolist() == [1.0, 2.0]


def test_tensors_on_the_strict_device_train_and_come_back_explicitly():
    x_host = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    w_host = np.random.default_rng(1).standard_normal((3, 2)).astype("float32")
    x = ember.tensor(x_host, device="strict")
    w = ember.tensor(w_host, device="strict", requires_grad=True)
    loss = ember.tanh(x @ w).sum()
    loss.backward()
    assert w.device == "strict" and w.grad.device == "strict" and type(w.grad.data) is StrictArray
    w_cpu = ember.tensor(w_host, device="cpu", requires_grad=True)
    ember.tanh(ember.tensor(x_host, device="cpu") @ w_cpu).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), w_cpu.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        loss.item(), ember.tanh(ember.tensor(x_host) @ ember.tensor(w_host)).sum().item(), rtol=1e-6
    )
    moved = w.to("cpu")
    assert moved.device == "cpu" and type(moved.data) is np.ndarray
    moved.sum().backward()  # the gradient goes back across the move
    assert w.grad.device == "strict"
    assert "device='strict'" in repr(w)
    with pytest.raises(RuntimeError, match="expected all tensors on one device"):
        w + moved


def test_creation_follows_the_device_and_the_environment(monkeypatch):
    assert type(ember.zeros((2,), device="strict").data) is StrictArray
    assert type(ember.full((2,), np.float32(3.0), device="strict").data) is StrictArray
    monkeypatch.setenv("EMBER_DEVICE", "strict")
    assert ember.ones((2,)).device == "strict" and ember.tensor([1.0]).device == "strict"
    monkeypatch.setenv("EMBER_DEVICE", "cpu")
    assert ember.ones((2,)).device == "cpu"


def test_tensors_cross_devices_by_copy_only_when_asked():
    on = ember.tensor([1.0, 2.0], device="strict")
    host = ember.tensor(on, device="cpu")  # an explicit copy across
    assert host.device == "cpu" and type(host.data) is np.ndarray and host.numpy().tolist() == [1.0, 2.0]
    back = ember.tensor(host, device="strict")
    assert back.device == "strict" and type(back.data) is StrictArray
    assert ember.tensor(on).device == "strict"  # a tensor stays where it is unless told
    assert type(on.numpy()) is np.ndarray and on.tolist() == [1.0, 2.0] and float(on.sum()) == 3.0


def test_numpy_asarray_of_a_device_tensor_is_refused_inside_the_library_only():
    t = ember.tensor([1.0, 2.0], device="strict")
    assert np.asarray(t).tolist() == [1.0, 2.0]  # a user's (a test's) explicit read
    library = {"__name__": "ember.some_module", "np": np}
    exec("def read(t):\n    return np.asarray(t)\n", library)  # the same call, from a module of the library
    with pytest.raises(TypeError, match=r"numpy.asarray\(\) of a device tensor in ember.some_module"):
        library["read"](t)
    with explicit_transfer():
        assert library["read"](t).tolist() == [1.0, 2.0]
    assert library["read"](ember.tensor([3.0], device="cpu")).tolist() == [3.0]  # cpu tensors are host data


def test_fit_predict_save_and_load_run_on_the_strict_device(monkeypatch, tmp_path):
    """Weights, slots and batches land on the default device; predict's outputs and saved files come back."""
    monkeypatch.setenv("EMBER_DEVICE", "strict")
    r = np.random.default_rng(0)
    x = r.normal(size=(48, 6)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    model = ember.Sequential(
        [
            ember.Input((6,)),
            ember.layers.Dense(8, activation="relu"),
            ember.layers.BatchNormalization(),
            ember.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert all(type(v) is float for v in history.history["loss"])
    assert {type(w.data) for w in model.weights} == {StrictArray}
    slots = [v for v in model.optimizer.variables if v.shape != ()]  # iterations and learning rate are host scalars
    assert slots and {type(v.data) for v in slots} == {StrictArray}
    out = model.predict(x, batch_size=16, verbose=0)
    assert type(out) is np.ndarray and out.shape == (48, 2)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert type(loss) is float and 0.0 <= accuracy <= 1.0
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = ember.models.load_model(path)
    assert {type(w.data) for w in loaded.weights} == {StrictArray}
    np.testing.assert_allclose(loaded.predict(x, batch_size=16, verbose=0), out, rtol=1e-6, atol=1e-7)
