"""Learning-rate schedules against real Keras 3 (torch backend) at many steps; config round trips."""

import os

import numpy as np
import pytest

import ember
from ember.engine.variable import Variable
from ember.optimizers import schedules

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="the schedule tests compare against Keras 3")


STEPS = [0, 1, 2, 3, 5, 7, 10, 15, 20, 33, 64, 100, 250, 1000]

CASES = {
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)),
    "exponential_staircase": (
        "ExponentialDecay",
        dict(initial_learning_rate=0.5, decay_steps=7, decay_rate=0.5, staircase=True),
    ),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[5, 20, 100], values=[1.0, 0.5, 0.1, 0.01])),
    "piecewise_float_bounds": ("PiecewiseConstantDecay", dict(boundaries=[2.5, 10.0], values=[0.3, 0.2, 0.1])),
    "polynomial": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=50)),
    "polynomial_power_cycle": (
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=30, end_learning_rate=0.01, power=0.5, cycle=True),
    ),
    "inverse_time": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5)),
    "inverse_time_staircase": (
        "InverseTimeDecay",
        dict(initial_learning_rate=0.2, decay_steps=8, decay_rate=2.0, staircase=True),
    ),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    "cosine_alpha": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=40, alpha=0.2)),
    "cosine_warmup": (
        "CosineDecay",
        dict(initial_learning_rate=0.0, decay_steps=100, warmup_target=0.5, warmup_steps=20),
    ),
    "cosine_warmup_alpha": (
        "CosineDecay",
        dict(initial_learning_rate=0.01, decay_steps=30, alpha=0.1, warmup_target=0.1, warmup_steps=7),
    ),
    "cosine_restarts": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    "cosine_restarts_flat": (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=6, t_mul=1.0, m_mul=0.5, alpha=0.05),
    ),
}


def _pair(case):
    name, kwargs = CASES[case]
    return getattr(keras.optimizers.schedules, name)(**kwargs), getattr(schedules, name)(**kwargs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_match_keras(case):
    k_sched, e_sched = _pair(case)
    for step in STEPS:
        expected = float(keras.ops.convert_to_numpy(k_sched(step)))
        got = e_sched(step)
        assert isinstance(got, ember.Tensor) and got.shape == () and got.dtype == np.float32
        np.testing.assert_allclose(float(got), expected, rtol=2e-6, atol=1e-9, err_msg=f"{case} at step {step}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trips(case):
    k_sched, e_sched = _pair(case)
    assert e_sched.get_config() == k_sched.get_config()
    again = type(e_sched).from_config(e_sched.get_config())
    assert again.get_config() == e_sched.get_config()
    ours = schedules.serialize(e_sched)
    assert ours == keras.optimizers.schedules.serialize(k_sched)
    assert schedules.deserialize(ours).get_config() == e_sched.get_config()
    assert keras.optimizers.schedules.deserialize(schedules.serialize(e_sched)).get_config() == e_sched.get_config()


def test_step_may_be_a_variable_or_tensor():
    sched = schedules.ExponentialDecay(0.1, 10, 0.9)
    counter = Variable(np.array(12, dtype=np.int64), trainable=False)
    assert float(sched(counter)) == float(sched(12)) == float(sched(ember.tensor(12.0)))
    assert float(schedules.PiecewiseConstantDecay([3], [1.0, 2.0])(counter)) == 2.0


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.CosineDecay(0.1, -1)
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="unknown schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_subclass():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, start):
            self.start = start

        def __call__(self, step):
            return self.start * 0.5 ** (int(step) // 2)

        def get_config(self):
            return {"start": self.start}

    sched = Halving(0.8)
    config = schedules.serialize(sched)
    assert config["class_name"] == "Halving"
    assert schedules.deserialize(config, custom_objects={"Halving": Halving})(4) == pytest.approx(0.2)
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)
