"""Dimensionality reduction with a dense autoencoder: MNIST digits squeezed to a 2-D code and drawn.

Encoder 784 -> 256 -> 64 -> 2 (ReLU, then a linear code), decoder 2 -> 64 -> 256 -> 784 (sigmoid), trained
with Adam on binary cross-entropy to reproduce its input. The 2-D codes of the test digits are drawn as a
scatter plot coloured by digit (``autoencoder_dense_codes.png``): digits of one kind gather without the labels
ever being used. Reports the test reconstruction error beside the error of always answering the mean image.
"""

from __future__ import annotations

import numpy as np

import ember as keras
from ember import layers


def build(code_size: int = 2):
    """``(autoencoder, encoder)``: two Models sharing the encoder's layers."""
    inputs = keras.Input((784,))
    h = layers.Dense(256, activation="relu")(inputs)
    h = layers.Dense(64, activation="relu")(h)
    code = layers.Dense(code_size, name="code")(h)
    h = layers.Dense(64, activation="relu")(code)
    h = layers.Dense(256, activation="relu")(h)
    outputs = layers.Dense(784, activation="sigmoid")(h)
    return keras.Model(inputs, outputs, name="autoencoder"), keras.Model(inputs, code, name="encoder")


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, save_figure

    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, y_test) = mnist_images(6000 if quick else None, 2000 if quick else None)
    autoencoder, encoder = build()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.fit(x_train, x_train, epochs=3 if quick else 20, batch_size=128, verbose=2)
    reconstructed = autoencoder.predict(x_test, verbose=0)
    mse = float(np.mean((reconstructed - x_test) ** 2))
    baseline = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
    print(f"test reconstruction MSE {mse:.4f} (the mean image: {baseline:.4f})")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codes = encoder.predict(x_test, verbose=0)
    fig, ax = plt.subplots(figsize=(6, 5))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=3)
    fig.colorbar(points, ax=ax, label="digit")
    ax.set_title("MNIST test digits in the autoencoder's 2-D code")
    path = save_figure(fig, figure_path(out, "autoencoder_dense_codes.png"))
    return {"mse": mse, "mean_image_mse": baseline, "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
