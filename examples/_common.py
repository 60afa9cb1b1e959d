"""What every example shares: its command line (``--quick``, ``--out``), MNIST slices, and where figures go.

Each example is a program of its own with a ``main(quick=False, out=".")`` function that returns its results
as a dict; ``tests/test_examples.py`` calls ``main(quick=True, ...)`` (small data, seconds) and checks a floor.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def parse_args(description: str) -> argparse.Namespace:
    """``--quick`` (small data, seconds) and ``--out`` (the folder for figures, default: the current one)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a small slice of the data and few epochs (seconds)")
    parser.add_argument("--out", default=".", help="folder for the figures it draws (PNG)")
    return parser.parse_args()


def figure_path(out: str, name: str) -> str:
    """``out/name``, creating ``out`` when needed."""
    os.makedirs(out, exist_ok=True)
    return os.path.join(out, name)


def mnist_images(n_train: int | None = None, n_test: int | None = None, flat: bool = True):
    """MNIST scaled to [0, 1]: ``(x_train, y_train), (x_test, y_test)``, the first n of each split.

    Images are float32, shape (n, 784) when ``flat`` else (n, 28, 28, 1); labels are int digits.
    """
    from ember.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    shape = (-1, 784) if flat else (-1, 28, 28, 1)
    return (
        (x_train.reshape(shape).astype("float32") / 255, y_train.astype("int64")),
        (x_test.reshape(shape).astype("float32") / 255, y_test.astype("int64")),
    )


def save_figure(fig, path: str) -> str:
    """Write a matplotlib figure as PNG and close it; return the path."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_image_grid(images: np.ndarray, rows: int, cols: int, path: str, title: str | None = None) -> str:
    """``rows * cols`` grey images (n, 28, 28[, 1]) in a grid, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1))
    for ax, image in zip(np.ravel(axes), images):
        ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
