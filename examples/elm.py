"""An Extreme Learning Machine on MNIST, beside a trained MLP of the same width.

An ELM draws its hidden layer at random and never trains it: hidden = sigmoid(x W + b) with W, b fixed; only
the output weights are fitted, in closed form, by ridge regression of one-hot targets on the hidden
activations: beta = (H^T H + lambda I)^-1 H^T T. One linear solve instead of gradient descent; the seeds
compare it with backpropagation. Reports test accuracy and seconds for both.
"""

from __future__ import annotations

import time

import numpy as np

import ember
import ember as keras


def fit_elm(x: np.ndarray, y: np.ndarray, hidden: int, ridge: float = 1.0, seed: int = 0):
    """``(w, b, beta)``: the random hidden layer (784, hidden), (hidden,) and the fitted output (hidden, 10)."""
    ember.random.seed(seed)
    w = ember.random.normal((x.shape[1], hidden), stddev=1.0 / np.sqrt(x.shape[1]))
    b = ember.random.normal((hidden,), stddev=1.0)
    h = ember.sigmoid(ember.tensor(x) @ w + b)
    t = ember.tensor(np.eye(10, dtype="float32")[y])
    gram = (h.T @ h).numpy().astype("float64") + ridge * np.eye(hidden)
    beta = np.linalg.solve(gram, (h.T @ t).numpy().astype("float64")).astype("float32")
    return w, b, ember.tensor(beta)


def predict_elm(model, x: np.ndarray) -> np.ndarray:
    w, b, beta = model
    return (ember.sigmoid(ember.tensor(x) @ w + b) @ beta).numpy().argmax(axis=1)


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import mnist_images

    hidden = 500 if quick else 2000
    (x_train, y_train), (x_test, y_test) = mnist_images(5000 if quick else None, 1000 if quick else None)
    start = time.perf_counter()
    elm = fit_elm(x_train, y_train, hidden)
    elm_seconds = time.perf_counter() - start
    elm_accuracy = float((predict_elm(elm, x_test) == y_test).mean())
    print(f"ELM, {hidden} random hidden units: test accuracy {elm_accuracy:.4f} in {elm_seconds:.1f} s")

    keras.utils.set_random_seed(0)
    mlp = keras.Sequential([keras.Input((784,)), keras.layers.Dense(hidden, "sigmoid"), keras.layers.Dense(10)])
    mlp.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    mlp.fit(x_train, y_train, epochs=3 if quick else 5, batch_size=128, verbose=0)
    mlp_seconds = time.perf_counter() - start
    mlp_accuracy = float(mlp.evaluate(x_test, y_test, verbose=0)[1])
    print(f"MLP trained by backpropagation: test accuracy {mlp_accuracy:.4f} in {mlp_seconds:.1f} s")
    return {"elm_accuracy": elm_accuracy, "elm_seconds": elm_seconds, "mlp_accuracy": mlp_accuracy}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
