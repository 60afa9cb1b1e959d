"""A convolutional autoencoder on MNIST, measured against PCA with the same number of numbers per image.

Encoder: two strided 3x3 convolutions (28 -> 14 -> 7) and a Dense code of 16; decoder: Dense back to 7x7x32
and two strided transposed convolutions to 28x28, sigmoid. Trained with Adam on binary cross-entropy.
Draws originals above reconstructions (``autoencoder_conv.png``) and reports the test reconstruction error
beside PCA's with 16 components (scikit-learn), the linear answer to the same compression.
"""

from __future__ import annotations

import numpy as np

import ember as keras
from ember import layers


def build(code_size: int = 16):
    """``(autoencoder, encoder)`` for (28, 28, 1) images in [0, 1]."""
    inputs = keras.Input((28, 28, 1))
    h = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(h)
    code = layers.Dense(code_size, name="code")(layers.Flatten()(h))
    h = layers.Dense(7 * 7 * 32, activation="relu")(code)
    h = layers.Reshape((7, 7, 32))(h)
    h = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(h)
    outputs = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(h)
    return keras.Model(inputs, outputs, name="conv_autoencoder"), keras.Model(inputs, code, name="encoder")


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, plot_image_grid
    from sklearn.decomposition import PCA

    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, _) = mnist_images(2000 if quick else None, 500 if quick else None, flat=False)
    autoencoder, _ = build()
    autoencoder.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    autoencoder.fit(x_train, x_train, epochs=8 if quick else 10, batch_size=64, verbose=2)
    reconstructed = autoencoder.predict(x_test, verbose=0)
    mse = float(np.mean((reconstructed - x_test) ** 2))
    pca = PCA(16, random_state=0).fit(x_train.reshape(len(x_train), -1))
    flat_test = x_test.reshape(len(x_test), -1)
    pca_mse = float(np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2))
    print(f"test reconstruction MSE {mse:.4f}; PCA with 16 components: {pca_mse:.4f}")
    grid = np.concatenate([x_test[:10], reconstructed[:10]])
    path = plot_image_grid(grid, 2, 10, figure_path(out, "autoencoder_conv.png"), "originals / reconstructions")
    return {"mse": mse, "pca_mse": pca_mse, "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
