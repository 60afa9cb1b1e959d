"""Keras 3's top-level names in Ember: base classes, dtype policies, scopes, remat, version, and
``Layer.from_config(config, custom_objects=...)``."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def test_base_classes_are_the_family_bases():
    assert ember.Loss is ember.losses.Loss
    assert ember.Metric is ember.metrics.Metric
    assert ember.Optimizer is ember.optimizers.Optimizer
    assert ember.Initializer is ember.initializers.Initializer
    assert ember.Regularizer is ember.regularizers.Regularizer
    assert ember.Constraint is ember.constraints.Constraint
    assert isinstance(ember.Input((3,)), ember.KerasTensor)
    assert ember.version() == ember.__version__


def test_subclassing_the_top_level_bases_works_as_in_keras():
    class Halved(ember.Loss):
        def call(self, y_true, y_pred):
            return ember.ops.mean((y_true - y_pred) ** 2, axis=-1) / 2

    class Count(ember.Metric):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.n = self.add_variable((), name="n")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.n.assign_add(np.float32(len(y_true)))

        def result(self):
            return self.n

    model = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    model.compile("sgd", loss=Halved(), metrics=[Count(name="count")])
    logs = model.evaluate(np.ones((6, 2), "float32"), np.zeros((6, 1), "float32"), verbose=0, return_dict=True)
    assert logs["count"] == 6.0


def test_dtype_policies():
    p = ember.DTypePolicy("float64")
    assert (p.name, p.compute_dtype, p.variable_dtype, p.quantization_mode) == ("float64", "float64", "float64", None)
    assert ember.DTypePolicy().name == "float32"
    assert isinstance(ember.FloatDTypePolicy("float32"), ember.DTypePolicy)
    layer = ember.layers.Dense(2, dtype=p)
    assert layer(ember.ones((1, 3), dtype="float64")).dtype == np.float64
    assert layer.dtype_policy == p and layer.compute_dtype == "float64" and layer.variable_dtype == "float64"
    assert ember.dtype_policies.deserialize(ember.dtype_policies.serialize(p)) == p
    mixed = ember.DTypePolicy("mixed_float16")  # the rest of mixed precision: tests/test_mixed_precision.py
    assert (mixed.compute_dtype, mixed.variable_dtype) == ("float16", "float32")
    with pytest.raises(NotImplementedError, match="no bfloat16"):
        ember.DTypePolicy("mixed_bfloat16")


def test_dtype_policy_config_matches_keras():
    keras = pytest.importorskip("keras", reason="real Keras 3 is the oracle for the serialized form")
    expected = keras.dtype_policies.serialize(keras.DTypePolicy("float32"))
    assert ember.dtype_policies.serialize(ember.DTypePolicy("float32")) == expected


def test_name_scopes_nest():
    with ember.name_scope("outer") as outer:
        assert outer.name == "outer"
        with ember.name_scope("inner"):
            assert ember.scopes.current_path() == "outer/inner"
        assert ember.scopes.current_path() == "outer"
    assert ember.scopes.current_path() == ""
    with pytest.raises(ValueError, match="/"):
        ember.name_scope("a/b")


def test_stateless_scope_reads_mapped_values_and_restores():
    layer = ember.layers.Dense(2, use_bias=False)
    x = np.ones((1, 3), "float32")
    layer(x)
    original = layer.kernel.numpy().copy()
    other = np.full((3, 2), 0.5, "float32")
    with ember.StatelessScope(state_mapping=[(layer.kernel, other)]) as scope:
        np.testing.assert_allclose(layer(x).numpy(), [[1.5, 1.5]])
        layer.kernel.assign(other * 2)
    np.testing.assert_array_equal(layer.kernel.numpy(), original)
    np.testing.assert_array_equal(scope.get_current_value(layer.kernel).numpy(), other * 2)
    with pytest.raises(ValueError, match="shape"):
        ember.StatelessScope(state_mapping=[(layer.kernel, np.zeros((2, 2)))])


def test_symbolic_and_remat_scopes():
    with ember.SymbolicScope():
        assert ember.scopes.in_symbolic_scope()
    assert not ember.scopes.in_symbolic_scope()
    with ember.RematScope(mode="larger_than", output_size_threshold=10) as scope:
        assert ember.scopes.get_current_remat_mode() is scope
    assert ember.scopes.get_current_remat_mode() is None
    with pytest.raises(ValueError, match="Invalid mode"):
        ember.RematScope(mode="sometimes")
    # remat computes exactly the function: values and gradients
    x = ember.tensor(np.arange(3.0), requires_grad=True)
    ember.remat(lambda t: (t * t).sum())(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.arange(3.0))


def test_quantizer_says_it_is_not_supported():
    with pytest.raises(NotImplementedError, match="quantiz"):
        ember.Quantizer()


def test_layer_from_config_takes_custom_objects():
    def swishy(x):
        return x * ember.sigmoid(x)

    config = ember.layers.Dense(3, activation="relu").get_config()
    config["activation"] = "swishy"  # the user's function, by name, as in a saved config
    with pytest.raises(ValueError):
        ember.layers.Dense.from_config(config)
    again = ember.layers.Dense.from_config(config, custom_objects={"swishy": swishy})
    assert again.activation is swishy

    class Scaled(ember.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    rebuilt = Scaled.from_config(Scaled(3.0).get_config(), custom_objects={})
    assert rebuilt.factor == 3.0
