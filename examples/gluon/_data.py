"""The seed's kinds of data for the Gluon examples, made with NumPy (the seed read CSV files we don't have)."""

import numpy as np


def three_classes(n, seed=0):
    """x (n, 3) float32 from N(0, 1); y in {0, 1, 2} by distance from the origin (< 1.2, < 1.9, beyond)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = np.digitize(np.sqrt((x**2).sum(axis=1)), [1.2, 1.9]).astype("float32")
    return x, y


def linear_regression(n, nf=20, seed=0):
    """x (n, nf) and y = x @ w + 4.2 + noise (sd 0.01), the seed's 20-feature regression set."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, nf)).astype("float32")
    w = rng.uniform(-2, 2, size=nf)
    y = (x @ w + 4.2 + 0.01 * rng.normal(size=n)).astype("float32")
    return x, y
