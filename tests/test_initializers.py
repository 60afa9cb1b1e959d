"""ember.initializers against Keras 3 (torch backend): fans, configs, identifiers, constant values, statistics.

Random values cannot match Keras draw for draw (different generators), so the
random initializers are checked on their distribution: for N samples the
sample mean and standard deviation must lie within 6 standard errors of the
value the formula gives (and of Keras's own sample), and bounded distributions
must stay inside their bounds.
"""

import math
import os

import numpy as np
import pytest

import ember
from ember import initializers

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) defines the initializers")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


def _np(t):
    """A Keras (torch) or Ember tensor as a NumPy array."""
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return t.numpy() if isinstance(t, ember.Tensor) else np.asarray(t)


SHAPES = [(), (7,), (5, 3), (3, 3, 4, 8), (2, 3, 5, 4, 6), (1, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_compute_fans_match_keras(keras, shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert initializers.compute_fans(shape) == compute_fans(shape)


def test_compute_fans_with_axes_match_keras(keras):
    from keras.src.initializers.random_initializers import compute_fans

    shape = (4, 5, 6, 7)
    for inp, out in [((0,), (1, 2, 3)), ((0, 1), (2, 3)), ((2,), (3,))]:
        assert initializers.compute_fans(shape, inp, out) == compute_fans(shape, inp, out)


# ---- deterministic initializers: the values themselves --------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Zeros", {}, (3, 4)),
        ("Ones", {}, (2, 3, 4)),
        ("Constant", {"value": 0.25}, (5, 2)),
        ("Constant", {"value": -3}, (4,)),
        ("Identity", {}, (4, 4)),
        ("Identity", {"gain": 2.5}, (3, 5)),
        ("Identity", {"gain": 0.5}, (5, 3)),
    ],
)
def test_constant_initializers_match_keras(keras, name, kwargs, shape):
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(**kwargs)
    for dtype in (None, "float64"):
        a, b = ours(shape, dtype=dtype), _np(theirs(shape, dtype=dtype))
        assert a.shape == b.shape and str(a.dtype) == str(b.dtype)
        np.testing.assert_array_equal(a.numpy(), b)
    if name == "Identity":
        # Keras 3.15's Identity forgets its gain in get_config ({}); Ember keeps it, and Keras rebuilds from it
        assert ours.get_config() == {"gain": kwargs.get("gain", 1.0)} and theirs.get_config() == {}
        rebuilt = type(theirs).from_config(ours.get_config())
        np.testing.assert_array_equal(_np(rebuilt(shape)), ours(shape).numpy())
    else:
        assert ours.get_config() == theirs.get_config()


def test_identity_rejects_other_ranks():
    with pytest.raises(ValueError, match="2-D"):
        initializers.Identity()((2, 3, 4))


# ---- configs and identifiers ----------------------------------------------------------------------------------

CONFIG_CASES = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {"value": 1.5}),
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.3, "seed": 4}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": -2.0, "maxval": 1.0, "seed": 9}),
    ("TruncatedNormal", {"mean": 0.5, "stddev": 2.0, "seed": 1}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "normal", "seed": 3}),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_out", "distribution": "UNIFORM"}),
    ("VarianceScaling", {"distribution": "untruncated_normal", "input_axes": [0], "output_axes": [1]}),
    ("GlorotUniform", {}),
    ("GlorotNormal", {"seed": 5}),
    ("HeUniform", {"seed": 2}),
    ("HeNormal", {}),
    ("LecunUniform", {}),
    ("LecunNormal", {"seed": 11}),
    ("Orthogonal", {"gain": 2.0, "seed": 7}),
]


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_get_config_and_serialize_match_keras(keras, name, kwargs):
    ours = getattr(initializers, name)(**kwargs)
    theirs = getattr(keras.initializers, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    again = initializers.deserialize(keras.initializers.serialize(theirs))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()


def test_every_keras_identifier_resolves_to_the_same_class(keras):
    from keras.src.initializers import ALL_OBJECTS_DICT

    names = [n for n, cls in ALL_OBJECTS_DICT.items() if "stft" not in n.lower() and cls.__name__ != "Initializer"]
    assert {"glorot_uniform", "he_normal", "zeros", "ones", "uniform", "normal", "zero", "one"} <= set(names)
    for name in names:
        ours = initializers.get(name)
        if type(ours).__name__ == "Constant":
            # Keras 3.15 cannot build Constant from its name (its from_config needs "value"); Ember uses value=0.0
            assert ours.get_config() == {"value": 0.0}
            continue
        theirs = keras.initializers.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        if type(ours).__name__ != "Identity":  # see test_constant_initializers_match_keras
            assert ours.get_config() == theirs.get_config(), name
    # dicts, classes and the lower-case class aliases resolve as in Keras
    cfg = {"class_name": "HeNormal", "config": {"seed": 3}}
    assert initializers.get(cfg).get_config() == keras.initializers.get(cfg).get_config()
    assert isinstance(initializers.get(initializers.GlorotNormal), initializers.GlorotNormal)
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.get(None) is None and keras.initializers.get(None) is None


def test_get_passes_callables_and_wraps_arrays(keras):
    def fn(shape, dtype=None):
        return ember.ones(shape, dtype=dtype)

    assert initializers.get(fn) is fn
    value = np.arange(6, dtype="float64").reshape(2, 3)
    ours, theirs = initializers.get(value), keras.initializers.get(value)
    np.testing.assert_array_equal(ours((2, 3)).numpy(), _np(theirs((2, 3))))
    assert ours((2, 3)).dtype == np.float32
    with pytest.raises(ValueError, match=r"expected shape=\(2, 3\)"):
        ours((3, 2))


def test_unknown_identifiers_are_explained(keras):
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError):
        keras.initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="expected None, a name"):
        initializers.get(42)


def test_invalid_arguments_raise(keras):
    for kwargs in ({"scale": 0.0}, {"mode": "fan_sum"}, {"distribution": "cauchy"}):
        with pytest.raises(ValueError):
            keras.initializers.VarianceScaling(**kwargs)
        with pytest.raises(ValueError, match="VarianceScaling"):
            initializers.VarianceScaling(**kwargs)
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="7")
    with pytest.raises(ValueError, match="rank >= 2"):
        initializers.Orthogonal()((5,))


# ---- random initializers: distributions ------------------------------------------------------------------------

_TRUNC_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def _expected(name, kwargs, shape):
    """(kind, parameter, std) of the distribution Keras documents for an initializer and shape."""
    if name == "RandomNormal":
        return "normal", kwargs.get("mean", 0.0), kwargs.get("stddev", 0.05)
    if name == "RandomUniform":
        lo, hi = kwargs.get("minval", -0.05), kwargs.get("maxval", 0.05)
        return "uniform", (lo, hi), (hi - lo) / math.sqrt(12)
    if name == "TruncatedNormal":
        s = kwargs.get("stddev", 0.05)
        return "truncated", (kwargs.get("mean", 0.0), s), s * _TRUNC_STD
    scale, mode, dist = {
        "GlorotUniform": (1.0, "fan_avg", "uniform"),
        "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
        "HeUniform": (2.0, "fan_in", "uniform"),
        "HeNormal": (2.0, "fan_in", "truncated_normal"),
        "LecunUniform": (1.0, "fan_in", "uniform"),
        "LecunNormal": (1.0, "fan_in", "truncated_normal"),
    }.get(name, (kwargs.get("scale", 1.0), kwargs.get("mode", "fan_in"), kwargs.get("distribution")))
    # fans written out by hand for the shapes used below
    fan_in, fan_out = {(400, 300): (400, 300), (5, 5, 32, 64): (800, 1600), (2000,): (2000, 2000)}[shape]
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / n)
    if dist == "uniform":
        return "uniform", (-math.sqrt(3) * std, math.sqrt(3) * std), std
    if dist == "untruncated_normal":
        return "normal", 0.0, std
    return "truncated", (0.0, std / _TRUNC_STD), std


def _check_sample(x, kind, param, std):
    n = x.size
    # 6 standard errors; the std's standard error uses kurtosis 3 (the largest of these distributions)
    mean_tol, std_tol = 6 * std / math.sqrt(n), 6 * std / math.sqrt(2 * n)
    center = {"normal": param, "uniform": None, "truncated": None}[kind]
    if kind == "uniform":
        center = (param[0] + param[1]) / 2
        lo, hi = param
        assert x.min() >= lo and x.max() < hi
        assert x.min() < lo + 1e-3 * (hi - lo) and x.max() > hi - 1e-3 * (hi - lo)
    if kind == "truncated":
        center, s = param
        assert np.abs(x - center).max() <= 2 * s * (1 + 1e-6)
        assert np.abs(x - center).max() > 1.99 * s
    assert abs(x.mean() - center) < mean_tol
    assert abs(x.std() - std) < std_tol


RANDOM_CASES = [
    ("RandomNormal", {}, (400, 300)),
    ("RandomNormal", {"mean": 2.0, "stddev": 0.5}, (400, 300)),
    ("RandomUniform", {}, (400, 300)),
    ("RandomUniform", {"minval": 1.0, "maxval": 4.0}, (2000,)),
    ("TruncatedNormal", {"mean": -1.0, "stddev": 3.0}, (400, 300)),
    ("GlorotUniform", {}, (400, 300)),
    ("GlorotNormal", {}, (5, 5, 32, 64)),
    ("HeUniform", {}, (5, 5, 32, 64)),
    ("HeNormal", {}, (400, 300)),
    ("LecunUniform", {}, (2000,)),
    ("LecunNormal", {}, (400, 300)),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_out", "distribution": "untruncated_normal"}, (400, 300)),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}, (5, 5, 32, 64)),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "normal"}, (5, 5, 32, 64)),
]


@pytest.mark.parametrize("name, kwargs, shape", RANDOM_CASES)
def test_random_initializers_follow_keras_distributions(keras, name, kwargs, shape):
    kind, param, std = _expected(name, kwargs, shape)
    ours = getattr(initializers, name)(seed=123, **kwargs)(shape)
    assert ours.shape == shape and ours.dtype == np.float32
    _check_sample(ours.numpy().astype(np.float64), kind, param, std)
    # Keras's own sample obeys the same statistics (so the expectations above are Keras's)
    theirs = _np(getattr(keras.initializers, name)(seed=123, **kwargs)(shape)).astype(np.float64)
    _check_sample(theirs, kind, param, std)


def test_float64_request_is_honoured():
    for name in ("RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "HeNormal", "Orthogonal"):
        assert getattr(initializers, name)(seed=1)((6, 4), dtype="float64").dtype == np.float64


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (3, 3, 8, 16), (30, 30)])
@pytest.mark.parametrize("gain", [1.0, 1.7])
def test_orthogonal_rows_or_columns_are_orthonormal(keras, shape, gain):
    rows, cols = math.prod(shape[:-1]), shape[-1]
    for init in (initializers.Orthogonal(gain=gain, seed=3), keras.initializers.Orthogonal(gain=gain, seed=3)):
        q = _np(init(shape)).astype(np.float64)
        assert q.shape == shape
        m = q.reshape(rows, cols)
        gram = m.T @ m if rows >= cols else m @ m.T
        np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=2e-5 * gain**2)


def test_orthogonal_is_uniformly_signed():
    # with R's diagonal signs folded in, the first column's first entry is positive or negative at random
    signs = [np.sign(initializers.Orthogonal(seed=s)((6, 6)).numpy()[0, 0]) for s in range(40)]
    assert 5 < sum(s > 0 for s in signs) < 35


# ---- seeds ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "Orthogonal"])
def test_seeds(name):
    cls = getattr(initializers, name)
    # an int seed: the same values on every call and from every instance
    a, b = cls(seed=42)((8, 6)).numpy(), cls(seed=42)((8, 6)).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, cls(seed=42)((8, 6)).numpy())
    assert not np.array_equal(a, cls(seed=43)((8, 6)).numpy())
    # seed None: the process-wide generator, so ember.random.seed makes initialisation repeat
    init = cls()
    ember.random.seed(7)
    first = [init((8, 6)).numpy(), cls()((8, 6)).numpy()]
    ember.random.seed(7)
    second = [init((8, 6)).numpy(), cls()((8, 6)).numpy()]
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], first[1])  # consecutive draws differ
    # a Generator is its own stream
    g1, g2 = ember.random.Generator(5), ember.random.Generator(5)
    np.testing.assert_array_equal(cls(seed=g1)((8, 6)).numpy(), cls(seed=g2)((8, 6)).numpy())


def test_initializer_builds_a_variable():
    v = ember.Variable(initializers.get("glorot_uniform"), shape=(4, 3), name="kernel")
    assert v.shape == (4, 3) and v.dtype == np.float32 and v.requires_grad
    limit = math.sqrt(6 / 7)
    assert np.abs(v.numpy()).max() <= limit


def test_custom_initializer_subclass():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return ember.full(shape, 0.5, dtype=dtype)

    out = initializers.get(Halves)((2, 2))
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 0.5, np.float32))
    cfg = initializers.serialize(Halves())
    assert cfg["class_name"] == "Halves" and cfg["registered_name"] == "Halves"
    assert isinstance(initializers.deserialize(cfg, custom_objects={"Halves": Halves}), Halves)
    with pytest.raises(NotImplementedError):
        initializers.Initializer()((2,))
