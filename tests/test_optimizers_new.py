"""Lion, Lamb, Adafactor and LossScaleOptimizer against real Keras 3 (torch backend): five steps on the same
weights and gradients, slots, config, and fit."""

import os

import numpy as np
import pytest

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras():
    return pytest.importorskip("keras", reason="real Keras 3 (torch backend) is the oracle for the optimizers")


RNG = np.random.default_rng(0)
SHAPES = [(3, 4), (4,), (2, 3, 5)]
W0 = [RNG.normal(size=s).astype("float32") for s in SHAPES]
GRADS = [[RNG.normal(size=s).astype("float32") for s in SHAPES] for _ in range(5)]


def _run_both(name, kwargs, grads=GRADS, wrap=None):
    keras = _keras()
    import torch

    kvars = [keras.Variable(w) for w in W0]
    evars = [ember.Variable(w.copy()) for w in W0]
    kopt = getattr(keras.optimizers, name)(**kwargs)
    eopt = getattr(ember.optimizers, name)(**kwargs)
    if wrap:
        kopt, eopt = wrap(keras, kopt), wrap(ember, eopt)
    for step in grads:
        kopt.apply([torch.tensor(g) for g in step], kvars)
        eopt.apply([ember.tensor(g) for g in step], evars)
    for k, e in zip(kvars, evars):
        expected = np.asarray(k.value.detach())
        np.testing.assert_allclose(e.numpy(), expected, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(expected).max()))
    kslots = [np.asarray(v.value.detach()) if hasattr(v, "value") else np.asarray(v) for v in kopt.variables]
    eslots = [v.numpy() for v in eopt.variables]
    assert [s.shape for s in eslots] == [s.shape for s in kslots]
    for a, b in zip(eslots, kslots):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(b).max()))
    return kopt, eopt


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Lion", {}),
        ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.1}),
        ("Lamb", {}),
        ("Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "epsilon": 1e-5, "clipnorm": 1.0}),
        ("Adafactor", {}),
        ("Adafactor", {"learning_rate": 0.5, "relative_step": False, "clip_threshold": 0.5, "beta_2_decay": -0.5}),
        ("ScheduleFreeAdamW", {}),
        ("ScheduleFreeAdamW", {"learning_rate": 0.01, "warmup_steps": 3, "weight_decay": 0.01, "beta_1": 0.8}),
        ("Muon", {}),
        ("Muon", {"learning_rate": 0.01, "nesterov": False, "rms_rate": None, "weight_decay": None}),
        ("Muon", {"adam_weight_decay": 0.1, "momentum": 0.8, "ns_steps": 3, "adam_lr_ratio": 0.5}),
    ],
)
def test_five_steps_match_keras(name, kwargs):
    _, eopt = _run_both(name, kwargs)
    config = eopt.get_config()
    assert type(eopt).from_config(config).get_config() == config


def test_adafactor_with_a_schedule_matches_keras():
    # a schedule is not capped by 1 / sqrt(t) (Keras caps float rates only)
    keras = _keras()
    import torch

    kvars = [keras.Variable(w) for w in W0]
    evars = [ember.Variable(w.copy()) for w in W0]
    kopt = keras.optimizers.Adafactor(keras.optimizers.schedules.ExponentialDecay(0.3, 2, 0.5))
    eopt = ember.optimizers.Adafactor(ember.optimizers.schedules.ExponentialDecay(0.3, 2, 0.5))
    for step in GRADS:
        kopt.apply([torch.tensor(g) for g in step], kvars)
        eopt.apply([ember.tensor(g) for g in step], evars)
    for k, e in zip(kvars, evars):
        np.testing.assert_allclose(e.numpy(), np.asarray(k.value.detach()), rtol=1e-5, atol=1e-6)


def test_config_keys_match_keras():
    keras = _keras()
    for name in ("Lion", "Lamb", "Adafactor", "ScheduleFreeAdamW", "Muon"):
        ours = getattr(ember.optimizers, name)().get_config()
        assert set(ours) == set(getattr(keras.optimizers, name)().get_config())
        assert ember.optimizers.get(name.lower()).__class__.__name__ == name


def test_lion_refuses_a_degenerate_beta():
    with pytest.raises(ValueError, match="beta_1"):
        ember.optimizers.Lion(beta_1=0.0)


def _loss_scaled(k, inner):
    return k.optimizers.LossScaleOptimizer(inner, initial_scale=8.0, dynamic_growth_steps=2)


def test_loss_scale_optimizer_matches_keras_with_scaled_gradients():
    # Keras divides every gradient by the dynamic scale: give both the gradients of a loss scaled by it
    keras = _keras()
    import torch

    kvars = [keras.Variable(w) for w in W0]
    evars = [ember.Variable(w.copy()) for w in W0]
    kopt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=8.0, dynamic_growth_steps=2)
    eopt = ember.optimizers.LossScaleOptimizer(ember.optimizers.Adam(0.01), initial_scale=8.0, dynamic_growth_steps=2)
    steps = [list(s) for s in GRADS]
    steps[2] = [s.copy() for s in steps[2]]
    steps[2][1][0] = np.inf  # a non-finite step: skipped, the scale halves
    for step in steps:
        kscale = float(np.asarray(kopt.scale_loss(torch.tensor(1.0)).detach()))
        escale = float(eopt.scale_loss(ember.tensor(1.0)).item())
        assert escale == kscale
        kopt.apply([torch.tensor(g * kscale) for g in step], kvars)
        eopt.apply([ember.tensor(g * escale) for g in step], evars)
    for k, e in zip(kvars, evars):
        np.testing.assert_allclose(e.numpy(), np.asarray(k.value.detach()), rtol=1e-5, atol=1e-6)
    assert float(eopt.dynamic_scale.numpy()) == float(np.asarray(kopt.dynamic_scale.value.detach()))
    assert int(eopt.iterations.numpy()) == int(np.asarray(kopt.iterations.value.detach()))
    assert len(eopt.variables) == len(kopt.variables)
    config = eopt.get_config()
    assert set(config) == set(kopt.get_config())
    again = ember.optimizers.LossScaleOptimizer.from_config(config)
    assert again.inner_optimizer.get_config() == eopt.inner_optimizer.get_config()


def test_loss_scale_optimizer_in_fit_trains_as_its_inner_optimizer():
    x = RNG.normal(size=(16, 3)).astype("float32")
    y = RNG.normal(size=(16, 1)).astype("float32")
    results = []
    for opt in (ember.optimizers.SGD(0.1), ember.optimizers.LossScaleOptimizer(ember.optimizers.SGD(0.1))):
        model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(1)])
        model.set_weights([np.ones((3, 1), "float32"), np.zeros(1, "float32")])
        model.compile(opt, "mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_loss_scale_optimizer_refuses_base_options():
    with pytest.raises(ValueError, match="clipnorm"):
        ember.optimizers.LossScaleOptimizer(ember.optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="dynamic=False"):
        ember.optimizers.LossScaleOptimizer(ember.optimizers.SGD(), dynamic=False)


def test_muon_keeps_embeddings_and_excluded_layers_on_adamw():
    model = ember.Sequential(
        [ember.Input((3,), dtype="int32"), ember.layers.Embedding(10, 4), ember.layers.Flatten(), ember.layers.Dense(2)]
    )
    opt = ember.optimizers.Muon(exclude_layers=["dense"])
    opt.build(model.trainable_variables)
    assert all(opt._should_use_adamw(v) for v in model.trainable_variables)
    opt = ember.optimizers.Muon(exclude_embeddings=False)
    opt.build(model.trainable_variables)
    assert [opt._should_use_adamw(v) for v in model.trainable_variables] == [False, False, True]


def test_legacy_optimizers_raise_as_in_keras_3():
    for name in ("Adam", "SGD", "RMSprop", "Adagrad", "Ftrl", "Optimizer"):
        with pytest.raises(ImportError, match="not supported in Keras 3"):
            getattr(ember.optimizers.legacy, name)(learning_rate=0.1)


def test_multi_optimizer_trains_as_keras():
    keras = _keras()
    x = RNG.normal(size=(16, 4)).astype("float32")
    y = RNG.normal(size=(16, 2)).astype("float32")
    results, counts = [], []
    for k in (keras, ember):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(3, name="a"), k.layers.Dense(2, name="b")])
        model.set_weights(
            [np.full(w.shape, 0.01, "float32") * np.arange(w.size).reshape(w.shape) for w in model.get_weights()]
        )
        # Keras 3.15 paths read "sequential/a/kernel", Ember's "a/kernel": a pattern for both
        mapping = k.optimizers.OptimizerMap(k.optimizers.SGD(0.1), {".*a/.*": k.optimizers.Adam(0.01)})
        optimizer = k.optimizers.MultiOptimizer(mapping)
        model.compile(optimizer, "mse")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
        counts.append(len(optimizer.variables))
    assert counts[0] == counts[1]
    for a, b in zip(results[1], results[0]):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    again = ember.optimizers.MultiOptimizer.from_config(optimizer.get_config())
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "SGD"]
    with pytest.raises(AttributeError, match="sub-optimizers"):
        _ = optimizer.learning_rate
    with pytest.raises(ValueError, match="cannot be LossScaleOptimizer"):
        mapping["x"] = ember.optimizers.LossScaleOptimizer(ember.optimizers.SGD())
