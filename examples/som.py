"""A Self-Organizing Map of handwritten digits, in a few lines of Ember ops.

A 12 x 12 grid of prototype vectors is pulled towards the data: for each sample the nearest prototype (the
best-matching unit) and its grid neighbours move towards it, the neighbourhood (a Gaussian on the grid) and
the step shrinking over time. Neighbouring units end up holding similar digits. Data: scikit-learn's 8x8
digits (1,797 images, offline). Reports the quantization error (mean distance to the best unit) before and
after, the share of test digits labelled right by their unit's majority label, and draws the map
(``som_digits.png``: each unit's prototype image).
"""

from __future__ import annotations

import numpy as np

import ember


def train_som(x: np.ndarray, rows: int, cols: int, epochs: int, seed: int = 0) -> np.ndarray:
    """Prototypes (rows * cols, features) after ``epochs`` passes of batch updates over ``x`` (n, features)."""
    rng = np.random.default_rng(seed)
    prototypes = ember.tensor(x[rng.choice(len(x), rows * cols, replace=False)])
    grid = np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1).reshape(-1, 2)
    grid_d2 = ember.tensor(((grid[:, None, :] - grid[None, :, :]) ** 2).sum(-1).astype("float32"))
    data = ember.tensor(x)
    for epoch in range(epochs):
        radius = max(rows, cols) / 2 * (0.05 / (max(rows, cols) / 2)) ** (epoch / max(epochs - 1, 1))
        d2 = ((data[:, None, :] - prototypes[None, :, :]) ** 2).sum(axis=-1)  # (n, units)
        best = ember.argmin(d2, axis=1).numpy()
        influence = ember.exp(-grid_d2 / (2 * radius**2))  # (units, units)
        weights = influence.numpy()[best]  # (n, units): how much each sample pulls each unit
        pulled = ember.tensor(weights).T @ data  # batch SOM: each unit goes to its weighted mean
        mass = ember.tensor(weights.sum(axis=0, keepdims=True).T)
        prototypes = ember.where(mass > 1e-6, pulled / ember.maximum(mass, 1e-6), prototypes)
    return prototypes.numpy()


def best_units(x: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    d2 = ((ember.tensor(x)[:, None, :] - ember.tensor(prototypes)[None, :, :]) ** 2).sum(axis=-1)
    return ember.argmin(d2, axis=1).numpy()


def quantization_error(x: np.ndarray, prototypes: np.ndarray) -> float:
    return float(np.linalg.norm(x - prototypes[best_units(x, prototypes)], axis=1).mean())


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, save_figure
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    order = np.random.default_rng(0).permutation(len(x))
    train, test = order[:1400], order[1400:]
    rows = cols = 8 if quick else 12
    start = x[train][np.random.default_rng(0).choice(len(train), rows * cols, replace=False)]
    before = quantization_error(x[test], start)
    prototypes = train_som(x[train], rows, cols, epochs=10 if quick else 40)
    after = quantization_error(x[test], prototypes)
    unit_label = np.zeros(rows * cols, dtype=int)
    train_units = best_units(x[train], prototypes)
    for unit in range(rows * cols):
        hits = y[train][train_units == unit]
        unit_label[unit] = np.bincount(hits, minlength=10).argmax() if len(hits) else -1
    accuracy = float((unit_label[best_units(x[test], prototypes)] == y[test]).mean())
    print(f"quantization error {before:.3f} -> {after:.3f}; test digits labelled by their unit: {accuracy:.3f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.6, rows * 0.6))
    for ax, proto in zip(axes.ravel(), prototypes):
        ax.imshow(proto.reshape(8, 8), cmap="gray_r")
        ax.axis("off")
    fig.suptitle("SOM of 8x8 digits: each unit's prototype")
    path = save_figure(fig, figure_path(out, "som_digits.png"))
    return {"quantization_error_before": before, "quantization_error": after, "accuracy": accuracy, "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
