"""Lambda and TensorOp (operators on symbolic tensors) against Keras 3 (torch backend).

Lambda: outputs, arguments, mask/training forwarding, output_shape (tuple and
callable), compute_mask, get_config keys and function serialization (configs
move between Keras and Ember), safe-mode loading. TensorOp: ``x + 1``,
``2 * x``, ``x - y``, ``-x``, ``x[:, 0]`` in functional models give Keras's
shapes and values, with constants kept by the layer and gradients flowing.
"""

import os

import numpy as np
import pytest

import ember
from ember import layers
from ember.layers.core.lambda_layer import Lambda, TensorOp

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend")
    return k


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def square_plus(x, offset=1.0):
    return x * x + offset


def test_lambda_outputs_and_arguments_match_keras(keras):
    x = _x((3, 4))
    for kwargs in ({}, {"arguments": {"offset": 3.0}}):
        k = keras.layers.Lambda(square_plus, **kwargs)
        e = Lambda(square_plus, **kwargs)
        np.testing.assert_allclose(e(x).numpy(), np.asarray(k(x).cpu()), rtol=RTOL, atol=ATOL)


def test_lambda_list_input_and_gradient():
    a = ember.tensor(_x((2, 3)), requires_grad=True)
    b = ember.tensor(_x((2, 3), seed=1), requires_grad=True)
    y = Lambda(lambda xs: xs[0] * xs[1])([a, b])
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), a.numpy(), rtol=1e-6)


def test_lambda_forwards_mask_and_training():
    seen = {}

    def fn(x, mask=None, training=None):
        seen["mask"], seen["training"] = mask, training
        return x * 1.0

    x = ember.tensor(_x((2, 3, 4)))
    mask = ember.tensor(np.array([[True, False, True], [True, True, False]]))
    Lambda(fn)(x, mask=mask, training=True)
    assert seen["mask"] is mask and seen["training"] is True
    x._keras_mask = mask
    out = Lambda(fn)(x)
    assert seen["mask"] is mask
    assert getattr(out, "_keras_mask", None) is None  # no mask argument: the mask is dropped, as in Keras


def test_lambda_mask_argument():
    x = ember.tensor(_x((2, 3)))
    fixed = ember.tensor(np.array([True, False]))
    layer = Lambda(lambda t: t, mask=fixed)
    assert layer.supports_masking
    assert layer(x)._keras_mask is fixed
    layer = Lambda(lambda t: t, mask=lambda inputs, mask: ember.tensor(np.ones(inputs.shape[:1], bool)))
    np.testing.assert_array_equal(layer(x)._keras_mask.numpy(), [True, True])


def test_lambda_output_shapes_match_keras(keras):
    cases = [
        (lambda x: x[:, :2], {}, (5,)),
        (lambda x: ember.reshape(x, (-1, 10)), {"output_shape": (10,)}, (2, 5)),
        (lambda x: x, {"output_shape": lambda s: (s[0], 7)}, (7,)),
    ]
    keras_cases = [
        (lambda x: x[:, :2], {}, (5,)),
        (lambda x: keras.ops.reshape(x, (-1, 10)), {"output_shape": (10,)}, (2, 5)),
        (lambda x: x, {"output_shape": lambda s: (s[0], 7)}, (7,)),
    ]
    for (fe, kw, shape), (fk, kwk, _) in zip(cases, keras_cases):
        e_out = Lambda(fe, **kw)(ember.layers.Input(shape))
        k_layer = keras.layers.Lambda(fk, **kwk)
        assert e_out.shape == tuple(k_layer(keras.Input(shape)).shape)
        assert Lambda(fe, **kw).compute_output_shape((None, *shape)) == tuple(
            k_layer.compute_output_shape((None, *shape))
        )


def test_declared_output_shape_is_used_without_running_the_function():
    def only_at_run_time(x):
        raise RuntimeError("ran on stand-in data")

    out = Lambda(only_at_run_time, output_shape=(3, 2))(ember.layers.Input((6,)))
    assert out.shape == (None, 3, 2)


def test_get_config_and_configs_move_between_keras_and_ember(keras):
    x = _x((2, 3))
    k = keras.layers.Lambda(lambda t, offset=0.0: t * 2 + offset, output_shape=(3,), arguments={"offset": 1.0})
    e = Lambda(lambda t, offset=0.0: t * 2 + offset, output_shape=(3,), arguments={"offset": 1.0})
    kc, ec = k.get_config(), e.get_config()
    assert set(ec) == set(kc)
    assert ec["function"]["class_name"] == kc["function"]["class_name"] == "__lambda__"
    assert set(ec["function"]["config"]) == set(kc["function"]["config"])
    assert ec["arguments"] == kc["arguments"] and tuple(ec["output_shape"]) == tuple(kc["output_shape"])
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(ec)
    expected = x * 2 + 1
    np.testing.assert_allclose(Lambda.from_config(ec, safe_mode=False)(x).numpy(), expected, rtol=1e-6)
    from_keras = dict(kc, dtype="float32")
    np.testing.assert_allclose(Lambda.from_config(from_keras, safe_mode=False)(x).numpy(), expected, rtol=1e-6)
    k2 = keras.layers.Lambda.from_config(dict(ec, dtype="float32"), safe_mode=False)
    np.testing.assert_allclose(np.asarray(k2(x).cpu()), expected, rtol=1e-6)


def test_named_function_config_round_trip(keras):
    e = Lambda(square_plus)
    config = e.get_config()
    k_config = keras.layers.Lambda(square_plus).get_config()
    assert config["function"]["config"] == k_config["function"]["config"] == "square_plus"
    rebuilt = Lambda.from_config(config, custom_objects={"square_plus": square_plus})
    x = _x((2, 2))
    np.testing.assert_allclose(rebuilt(x).numpy(), x * x + 1, rtol=1e-6)
    assert Lambda.from_config(Lambda(ember.activations.relu).get_config())(x).numpy().min() >= 0


def test_tensor_ops_on_symbolic_tensors_match_keras(keras):
    x, y = ember.layers.Input((4,)), ember.layers.Input((4,))
    kx, ky = keras.Input((4,)), keras.Input((4,))
    const = np.arange(4, dtype="float32")

    def graph(a, b):
        return [a + 1, 2 * a, a - b, 1.0 - a, a * b, a / 2, -a, a[:, 0], a[:, 1:3] + b[:, :2], a + const]

    outs, k_outs = graph(x, y), graph(kx, ky)
    for o, ko in zip(outs, k_outs):
        assert o.shape == tuple(ko.shape)
    model, k_model = ember.models.Model([x, y], outs), keras.Model([kx, ky], k_outs)
    data = [_x((3, 4)), _x((3, 4), seed=1)]
    for ye, yk in zip(model.predict(data, verbose=0), k_model.predict(data, verbose=0)):
        np.testing.assert_allclose(ye, yk, rtol=RTOL, atol=ATOL)


def test_tensor_op_in_a_trained_model_passes_gradients():
    inp = ember.layers.Input((3,))
    dense = layers.Dense(2)
    out = dense(inp) * 3.0 + 1.0
    model = ember.models.Model(inp, out)
    x = ember.tensor(_x((5, 3)))
    model(x).sum().backward()
    np.testing.assert_allclose(dense.kernel.grad.numpy(), 3.0 * np.repeat(x.numpy().sum(0)[:, None], 2, 1), rtol=1e-5)


def test_tensor_op_direct_calls():
    op = TensorOp(lambda a, b: a * b)
    a = ember.tensor(_x((2, 2)))
    np.testing.assert_allclose(op([a, 3.0]).numpy(), a.numpy() * 3, rtol=1e-6)
    np.testing.assert_allclose(op([a]).numpy(), a.numpy() * 3, rtol=1e-6)  # replay: the constant is kept
    np.testing.assert_allclose(op([a, a]).numpy(), a.numpy() ** 2, rtol=1e-6)
    with pytest.raises(TypeError, match="at least one tensor"):
        TensorOp(lambda a: a)([1.0])
    with pytest.raises(TypeError, match="callable"):
        TensorOp(3)
    with pytest.raises(TypeError, match="callable"):
        Lambda("relu")


def test_from_config_never_imports_a_named_module_unless_trusted(tmp_path, monkeypatch):
    import sys

    (tmp_path / "lambda_target_mod.py").write_text("IMPORTED = True\ndef double(x):\n    return x * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {"function": {"class_name": "function", "config": "double", "module": "lambda_target_mod"}}
    from ember.saving.serialization import UnsafeDeserializationError

    with pytest.raises(UnsafeDeserializationError, match="importing a module named by a configuration"):
        ember.layers.Lambda.from_config(dict(config))
    assert "lambda_target_mod" not in sys.modules  # refused before importing
    layer = ember.layers.Lambda.from_config(dict(config), safe_mode=False)
    np.testing.assert_array_equal(layer(ember.tensor([1.0, 2.0])).numpy(), [2.0, 4.0])
    monkeypatch.delitem(sys.modules, "lambda_target_mod")
