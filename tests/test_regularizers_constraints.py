"""ember.regularizers and ember.constraints against Keras 3 (torch backend).

The same weights go through Ember and Keras: penalties, their gradients
(PyTorch autograd through Keras's implementation) and constrained weights must
agree at float32 tolerances; configs, serialisation and identifiers must match.
"""

import os

import numpy as np
import pytest

import ember
from ember import constraints, regularizers

os.environ.setdefault("KERAS_BACKEND", "torch")

RTOL, ATOL = 1e-5, 1e-6


def assert_config_close(ours: dict, theirs: dict, where: str = "") -> None:
    """Configs equal key by key: floats to 1e-7 relative (Keras keeps some factors in float32), the rest exactly."""
    assert ours.keys() == theirs.keys(), where
    for key, value in ours.items():
        other = theirs[key]
        if isinstance(value, float) or isinstance(other, float):
            assert value == pytest.approx(other, rel=1e-7), f"{where} {key}"
        else:
            assert value == other, f"{where} {key}"


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines regularizers and constraints")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _torch():
    return pytest.importorskip("torch", reason="PyTorch differentiates Keras's regularizers")


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


WEIGHTS = {
    "dense": (7, 5),
    "wide": (3, 9),
    "conv": (3, 3, 4, 6),
    "bias": (8,),
}


def _weight(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).normal(0.0, 1.3, size=shape).astype(dtype)


# ---- regularizers -------------------------------------------------------------------------------------------------

REGULARIZERS = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 1e-4}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.01}),
    ("L1L2", {"l2": 0.2}),
    ("L1L2", {"l1": 0.05, "l2": 0.02}),
]


@pytest.mark.parametrize("name, kwargs", REGULARIZERS)
@pytest.mark.parametrize("weight", sorted(WEIGHTS))
def test_norm_penalties_and_gradients_match_keras(keras, name, kwargs, weight):
    torch = _torch()
    w = _weight(WEIGHTS[weight])
    ours_reg = getattr(regularizers, name)(**kwargs)
    theirs_reg = getattr(keras.regularizers, name)(**kwargs)

    x = ember.tensor(w, requires_grad=True)
    penalty = ours_reg(x)
    assert isinstance(penalty, ember.Tensor) and penalty.shape == () and penalty.dtype == np.float32

    t = torch.tensor(w, requires_grad=True)
    expected = theirs_reg(t)
    np.testing.assert_allclose(penalty.numpy(), _np(expected), rtol=RTOL, atol=ATOL)
    if expected.requires_grad:
        penalty.backward()
        expected.backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
    else:  # L1L2() with both factors 0: a constant 0
        assert float(penalty.numpy()) == 0.0


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(7, 5), (3, 9), (4, 4)])
@pytest.mark.parametrize("factor", [0.01, 1.5])
def test_orthogonal_regularizer_matches_keras(keras, mode, shape, factor):
    torch = _torch()
    w = _weight(shape, seed=3)
    w[1] = 0.0  # a zero row: Keras caps 1 / norm at 1 / epsilon, so it stays zero
    x = ember.tensor(w, requires_grad=True)
    t = torch.tensor(w, requires_grad=True)
    penalty = regularizers.OrthogonalRegularizer(factor, mode)(x)
    expected = keras.regularizers.OrthogonalRegularizer(factor, mode)(t)
    np.testing.assert_allclose(penalty.numpy(), _np(expected), rtol=RTOL, atol=ATOL)
    penalty.backward()
    expected.backward()
    keep = np.ones(shape, bool)
    if mode == "rows":
        # Keras's rsqrt(0) = inf makes the zero row's gradient NaN; Ember clamps first and gives 0 (the limit)
        assert np.isnan(t.grad.numpy()[1]).all()
        np.testing.assert_array_equal(x.grad.numpy()[1], 0.0)
        keep[1] = False
    np.testing.assert_allclose(x.grad.numpy()[keep], t.grad.numpy()[keep], rtol=1e-4, atol=1e-6, equal_nan=False)


def test_orthogonal_regularizer_is_zero_for_orthogonal_rows():
    q = np.linalg.qr(_weight((6, 6), np.float64))[0]
    assert abs(float(regularizers.OrthogonalRegularizer(1.0)(ember.tensor(q, dtype="float64")).numpy())) < 1e-12


def test_orthogonal_regularizer_errors(keras):
    reg = regularizers.OrthogonalRegularizer()
    with pytest.raises(ValueError, match="2-D"):
        reg(ember.ones((2, 3, 4)))
    # one row has no pair to compare: Keras divides 0 by 0 (NaN), Ember says why
    with pytest.raises(ValueError, match="at least 2 rows"):
        reg(ember.ones((1, 5)))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_regularizers_keep_float64():
    x = ember.tensor(_weight((4, 3), np.float64), dtype="float64")
    for reg in (regularizers.L1(), regularizers.L2(), regularizers.L1L2(0.1, 0.1), regularizers.L1L2()):
        assert reg(x).dtype == np.float64
    np.testing.assert_allclose(regularizers.L2(0.5)(x).numpy(), 0.5 * np.sum(x.numpy() ** 2), rtol=1e-14)


def test_regularizer_accepts_arrays_and_variables():
    w = _weight((3, 2))
    v = ember.Variable(w, name="kernel")
    np.testing.assert_allclose(regularizers.L1(0.1)(w).numpy(), regularizers.L1(0.1)(v).numpy())
    regularizers.L1(0.1)(v).backward()
    np.testing.assert_allclose(v.grad.numpy(), 0.1 * np.sign(w))


@pytest.mark.parametrize("name, kwargs", REGULARIZERS + [("OrthogonalRegularizer", {"factor": 0.2, "mode": "columns"})])
def test_regularizer_configs_match_keras(keras, name, kwargs):
    ours = getattr(regularizers, name)(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    # Keras keeps L1's and OrthogonalRegularizer's factor as a float32 tensor, so its config holds the float32
    # rounding of the factor (0.009999999776482582); Ember keeps the float it was given
    assert_config_close(ours.get_config(), theirs.get_config())
    ser, their_ser = regularizers.serialize(ours), keras.regularizers.serialize(theirs)
    assert {**ser, "config": None} == {**their_ser, "config": None}
    assert_config_close(ser["config"], their_ser["config"])
    again = regularizers.deserialize(keras.regularizers.serialize(theirs))
    assert type(again) is type(ours)
    assert_config_close(again.get_config(), ours.get_config())
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()


def test_regularizer_identifiers_match_keras(keras):
    from keras.src.regularizers import ALL_OBJECTS_DICT

    for name, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ == "Regularizer":
            continue
        ours, theirs = regularizers.get(name), keras.regularizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        assert_config_close(ours.get_config(), theirs.get_config(), name)
    cfg = {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert regularizers.get(cfg).get_config() == keras.regularizers.get(cfg).get_config()
    assert regularizers.get(None) is None
    assert isinstance(regularizers.get(regularizers.L2), regularizers.L2)
    assert regularizers.l1_l2 is regularizers.L1L2 and regularizers.l2 is regularizers.L2

    def fn(w):
        return ember.sum(w)

    assert regularizers.get(fn) is fn
    # Keras 3 only knows "l1l2" as a string; Ember also accepts "l1_l2", the Python alias's name
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)
    with pytest.raises(ValueError, match="known names"):
        regularizers.get("l3")


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1"])
def test_regularizer_factor_validation(keras, bad):
    with pytest.raises(ValueError):
        keras.regularizers.L2(bad)
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2(bad)
    with pytest.raises(ValueError, match="l1"):
        regularizers.L1L2(l1=bad)


def test_base_regularizer():
    assert float(regularizers.Regularizer()(ember.ones((2, 2))).numpy()) == 0.0
    with pytest.raises(NotImplementedError):
        regularizers.Regularizer().get_config()


# ---- constraints -------------------------------------------------------------------------------------------------

CONSTRAINTS = [
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 1.0, "axis": 1}),
    ("MaxNorm", {"max_value": 0.5, "axis": [0, 1, 2]}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.5, "rate": 0.3}),
    ("MinMaxNorm", {"min_value": 0.2, "max_value": 0.6, "rate": 1.0, "axis": -1}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": 1}),
    ("UnitNorm", {"axis": [0, 1, 2]}),
    ("NonNeg", {}),
]


def _applies_to(kwargs, shape):
    axis = kwargs.get("axis", 0)
    axes = axis if isinstance(axis, list) else [axis]
    return all(-len(shape) <= a < len(shape) for a in axes)


@pytest.mark.parametrize(
    "name, kwargs, weight",
    [(n, kw, w) for n, kw in CONSTRAINTS for w in sorted(WEIGHTS) if _applies_to(kw, WEIGHTS[w])],
)
def test_constraints_match_keras(keras, name, kwargs, weight):
    shape = WEIGHTS[weight]
    w = _weight(shape, seed=5)
    w *= np.linspace(0.05, 1.5, w.shape[-1], dtype=np.float32)  # some vectors inside the bounds, some outside
    ours = getattr(constraints, name)(**kwargs)(ember.tensor(w))
    theirs = _np(getattr(keras.constraints, name)(**kwargs)(w))
    assert ours.shape == shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=RTOL, atol=ATOL)


def test_constraint_on_a_variable_after_an_update():
    w = _weight((6, 4))
    v = ember.Variable(w, name="kernel")
    with ember.no_grad():
        v.assign(constraints.MaxNorm(1.0)(v))
    assert np.all(np.linalg.norm(v.numpy(), axis=0) <= 1.0 + 1e-6)
    assert v.shape == (6, 4) and v.dtype == np.float32


def test_norm_constraints_reach_their_norms():
    w = _weight((10, 6), np.float64)
    unit = constraints.UnitNorm()(ember.tensor(w, dtype="float64")).numpy()
    np.testing.assert_allclose(np.linalg.norm(unit, axis=0), 1.0, rtol=1e-6)
    mm = constraints.MinMaxNorm(2.0, 3.0)(ember.tensor(w, dtype="float64")).numpy()
    norms = np.linalg.norm(mm, axis=0)
    assert np.all((norms >= 2.0 - 1e-6) & (norms <= 3.0 + 1e-6))
    assert constraints.NonNeg()(ember.tensor(w)).numpy().min() == 0.0


@pytest.mark.parametrize("name, kwargs", CONSTRAINTS)
def test_constraint_configs_match_keras(keras, name, kwargs):
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == keras.constraints.serialize(theirs)
    again = constraints.deserialize(keras.constraints.serialize(theirs))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_constraint_identifiers_match_keras(keras):
    from keras.src.constraints import ALL_OBJECTS_DICT

    for name in ALL_OBJECTS_DICT:
        ours, theirs = constraints.get(name), keras.constraints.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        assert ours.get_config() == theirs.get_config(), name
    assert constraints.get(None) is None
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg
    cfg = {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1]}}
    assert constraints.get(cfg).get_config() == keras.constraints.get(cfg).get_config()
    with pytest.raises(ValueError, match="known names"):
        constraints.get("maxnorm")
    with pytest.raises(ValueError, match="expected None"):
        constraints.get(3)
    w = ember.tensor(_weight((2, 2)))
    assert constraints.Constraint()(w) is w
