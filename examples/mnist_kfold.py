"""Seed 000's method, k-fold cross-validation of the MNIST network, with progress while it runs.

The seeds' network (Dense 512 relu -> Dense 10 softmax, RMSprop, batch 128) is trained from scratch on each of
5 folds of MNIST's 60,000 training images (scikit-learn's ``KFold``, shuffled) and scored on the held-out
fold. A full run trains 5 networks for 5 epochs each (25 epochs in all), so it says where it is: one line per
epoch with the fold, the validation accuracy and an estimate of the time left, and one line per fold with its
score. The box plot of the fold scores and the curves of every fold go to ``kfold.png`` (``plot_kfold``).
Published (seed 000): fold accuracies of 98-99 %.
"""

from __future__ import annotations

import time

import numpy as np

import ember as keras
from ember import layers


def build() -> keras.Model:
    network = keras.Sequential(
        [keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]
    )
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return network


class FoldProgress(keras.callbacks.Callback):
    """Prints ``fold i/k epoch j/n`` with the validation accuracy and the time left, estimated from the epochs done."""

    def __init__(self, fold: int, folds: int, epochs: int, started: float, done_before: int):
        super().__init__()
        self.fold, self.folds, self.epochs = fold, folds, epochs
        self.started, self.done_before = started, done_before

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        done = self.done_before + epoch + 1
        total = self.folds * self.epochs
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * (total - done)
        print(
            f"fold {self.fold}/{self.folds}  epoch {epoch + 1}/{self.epochs}  "
            f"loss {logs.get('loss', float('nan')):.4f}  val_accuracy {logs.get('val_accuracy', float('nan')):.4f}  "
            f"[{done}/{total} epochs, {elapsed:.0f} s, about {left:.0f} s left]",
            flush=True,
        )


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int, epochs: int) -> tuple[list[float], list]:
    """Train a fresh network per fold; return the held-out accuracies and the fold histories."""
    from sklearn.model_selection import KFold

    scores, histories = [], []
    started = time.perf_counter()
    for fold, (train_ix, test_ix) in enumerate(KFold(folds, shuffle=True, random_state=1).split(x), start=1):
        network = build()
        progress = FoldProgress(fold, folds, epochs, started, done_before=(fold - 1) * epochs)
        history = network.fit(
            x[train_ix],
            y[train_ix],
            epochs=epochs,
            batch_size=128,
            validation_data=(x[test_ix], y[test_ix]),
            callbacks=[progress],
            verbose=0,
        )
        _, accuracy = network.evaluate(x[test_ix], y[test_ix], verbose=0)
        print(f"> fold {fold}/{folds}: accuracy {accuracy * 100:.3f} %", flush=True)
        scores.append(float(accuracy))
        histories.append(history)
    return scores, histories


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images

    keras.utils.set_random_seed(0)
    (x, labels), _ = mnist_images(n_train=3000 if quick else None)
    y = keras.utils.to_categorical(labels, 10)
    folds, epochs = (3, 2) if quick else (5, 5)
    scores, histories = cross_validate(x, y, folds, epochs)
    print(f"Accuracy: mean={np.mean(scores) * 100:.3f} std={np.std(scores) * 100:.3f}, n={len(scores)}")
    figure = figure_path(out, "kfold.png")
    keras.utils.plot_kfold(scores, histories, to_file=figure)
    return {"scores": scores, "mean": float(np.mean(scores)), "figure": figure}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
