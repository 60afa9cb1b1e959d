"""Helpers shared by the corpus programs: synthetic data with fixed NumPy seeds, framework-independent weights.

Nothing here imports Ember or Keras: each program receives the ``keras`` module it runs under.
"""

from __future__ import annotations

import numpy as np


def deterministic_init(model, seed=0, scale=1.0):
    """Give every weight a value drawn from one NumPy stream, so Ember and Keras start from the same point.

    Kernels get Glorot-uniform values, biases and BatchNormalization's beta/mean zeros, gamma and the
    moving variance ones. The stream is consumed in ``model.weights`` order, which both frameworks share.
    """
    rng = np.random.RandomState(seed)
    for v in model.weights:
        shape = tuple(int(s) for s in v.shape)
        name = v.name.split("/")[-1].split(":")[0]
        if name in ("gamma", "moving_variance"):
            value = np.ones(shape)
        elif name in ("beta", "moving_mean", "bias") or len(shape) == 0:
            value = np.zeros(shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else shape[0]
            fan_out = shape[-1]
            limit = scale * np.sqrt(6.0 / (fan_in + fan_out))
            value = rng.uniform(-limit, limit, size=shape)
        v.assign(value.astype(str(v.dtype).replace("torch.", "")))


def blobs(n=300, d=8, k=3, seed=0, spread=1.0):
    """``k`` Gaussian clusters in ``d`` dimensions: x float32 (n, d), integer labels (n,)."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(0, 3.0, size=(k, d))
    y = rng.randint(0, k, size=n)
    x = centers[y] + rng.normal(0, spread, size=(n, d))
    return x.astype("float32"), y.astype("int64")


def bar_images(n=256, size=12, seed=0):
    """Images (n, size, size, 1) with one horizontal (label 0) or vertical (label 1) bar, plus noise."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(0, 0.3, size=(n, size, size, 1)).astype("float32")
    y = rng.randint(0, 2, size=n)
    for i in range(n):
        pos = rng.randint(1, size - 1)
        if y[i] == 0:
            x[i, pos, :, 0] = 1.0
        else:
            x[i, :, pos, 0] = 1.0
    return x, y.astype("int64")


def token_sequences(n=300, length=12, vocab=20, seed=0):
    """Integer sequences in [2, vocab); label 1 when the marker token 1 appears (it is put in half of them)."""
    rng = np.random.RandomState(seed)
    x = rng.randint(2, vocab, size=(n, length))
    y = rng.randint(0, 2, size=n)
    for i in np.where(y == 1)[0]:
        x[i, rng.randint(0, length)] = 1
    return x.astype("int64"), y.astype("int64")


def sine_windows(n=300, window=16, seed=0):
    """Windows of a noisy sum of sines (n, window, 1) and the next value (n, 1)."""
    rng = np.random.RandomState(seed)
    t = np.arange(n + window + 1) * 0.2
    series = np.sin(t) + 0.5 * np.sin(0.31 * t) + rng.normal(0, 0.05, size=t.shape)
    x = np.stack([series[i : i + window] for i in range(n)])[..., None]
    y = series[window : window + n][:, None]
    return x.astype("float32"), y.astype("float32")


def last(history, key):
    """The final epoch's value of ``key`` in a History, as a float."""
    return float(history.history[key][-1])
