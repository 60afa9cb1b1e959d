"""MXNet's initializers (``mx.init``): Normal, Uniform, Xavier, MSRAPrelu, Constant, Zero, One.

Gluon's rule: a parameter's own initializer (Dense's bias ``'zeros'``, BatchNorm's gamma ``'ones'``) wins;
otherwise the one given to ``initialize()`` fills it, whatever its name. Samples come from Ember's generator
(``mx.random.seed``), so values differ from MXNet's draws; the distributions are MXNet's.
"""

from __future__ import annotations

import numpy as np

import ember


class Initializer:
    """Fills a NumPy array in place from its parameter name and shape."""

    def __call__(self, name: str, array: np.ndarray) -> None:
        self._init_weight(name, array)

    def _init_weight(self, name, array):
        raise NotImplementedError

    def dumps(self) -> str:
        return f'["{type(self).__name__.lower()}", {self.__dict__}]'

    def __repr__(self):
        return f"{type(self).__name__}({self.__dict__})"


def _sample(kind: str, shape, a: float, b: float) -> np.ndarray:
    if kind == "normal":
        return ember.random.normal(shape, mean=a, stddev=b).numpy()
    return ember.random.uniform(shape, minval=a, maxval=b).numpy()


class Zero(Initializer):
    def _init_weight(self, name, array):
        array[...] = 0


class One(Initializer):
    def _init_weight(self, name, array):
        array[...] = 1


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def _init_weight(self, name, array):
        array[...] = np.asarray(self.value, dtype=array.dtype)


class Uniform(Initializer):
    """U(-scale, scale); MXNet's default for ``initialize()``."""

    def __init__(self, scale=0.07):
        self.scale = scale

    def _init_weight(self, name, array):
        array[...] = _sample("uniform", array.shape, -self.scale, self.scale)


class Normal(Initializer):
    """N(0, sigma^2)."""

    def __init__(self, sigma=0.01):
        self.sigma = sigma

    def _init_weight(self, name, array):
        array[...] = _sample("normal", array.shape, 0.0, self.sigma)


class Xavier(Initializer):
    """Scale sqrt(magnitude / factor) with factor fan_in, fan_out or their mean; uniform or gaussian.

    MXNet's fans: fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]).
    """

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        if rnd_type not in ("uniform", "gaussian"):
            raise ValueError(f"Xavier: rnd_type must be 'uniform' or 'gaussian', got {rnd_type!r}")
        if factor_type not in ("avg", "in", "out"):
            raise ValueError(f"Xavier: factor_type must be 'avg', 'in' or 'out', got {factor_type!r}")
        self.rnd_type, self.factor_type, self.magnitude = rnd_type, factor_type, float(magnitude)

    def _init_weight(self, name, array):
        shape = array.shape
        if len(shape) < 2:
            raise ValueError(f"Xavier: parameter {name!r} has shape {shape}; it needs at least 2 dimensions")
        hw = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw, shape[0] * hw
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        scale = np.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            array[...] = _sample("uniform", shape, -scale, scale)
        else:
            array[...] = _sample("normal", shape, 0.0, scale)


class MSRAPrelu(Xavier):
    """He et al.'s initializer for PReLU nets: gaussian Xavier with magnitude 2 / (1 + slope^2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope**2))


_BY_NAME = {
    "zeros": Zero,
    "zero": Zero,
    "ones": One,
    "one": One,
    "uniform": Uniform,
    "normal": Normal,
    "xavier": Xavier,
    "msraprelu": MSRAPrelu,
    "constant": Constant,
}


def create(init) -> Initializer:
    """An Initializer from itself, a name (``'zeros'``, ``'xavier'``, ...) or None (None stays None)."""
    if init is None or isinstance(init, Initializer):
        return init
    if isinstance(init, str) and init.lower() in _BY_NAME:
        return _BY_NAME[init.lower()]()
    raise ValueError(f"init: unknown initializer {init!r} (expected an mx.init object or one of {sorted(_BY_NAME)})")
