"""A denoising autoencoder: the convolutional autoencoder trained to turn noisy digits into clean ones.

Gaussian noise (standard deviation 0.5, clipped to [0, 1]) is added to MNIST images; the network of
``autoencoder_conv.py`` learns noisy -> clean. Reports the peak signal-to-noise ratio of the noisy and the
denoised test images against the clean ones, and draws the three rows (``autoencoder_denoising.png``).
"""

from __future__ import annotations

import numpy as np

import ember as keras


def add_noise(images: np.ndarray, stddev: float, seed: int) -> np.ndarray:
    noisy = images + np.random.default_rng(seed).normal(0.0, stddev, images.shape).astype("float32")
    return np.clip(noisy, 0.0, 1.0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1]."""
    return float(10 * np.log10(1.0 / np.mean((a - b) ** 2)))


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, plot_image_grid
    from autoencoder_conv import build

    keras.utils.set_random_seed(0)
    (x_train, _), (x_test, _) = mnist_images(2000 if quick else None, 500 if quick else None, flat=False)
    noisy_train, noisy_test = add_noise(x_train, 0.5, 1), add_noise(x_test, 0.5, 2)
    autoencoder, _ = build(code_size=32)
    autoencoder.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
    autoencoder.fit(noisy_train, x_train, epochs=8 if quick else 10, batch_size=64, verbose=2)
    denoised = autoencoder.predict(noisy_test, verbose=0)
    before, after = psnr(noisy_test, x_test), psnr(denoised, x_test)
    print(f"PSNR of the noisy test images {before:.2f} dB, denoised {after:.2f} dB")
    grid = np.concatenate([noisy_test[:10], denoised[:10], x_test[:10]])
    path = plot_image_grid(grid, 3, 10, figure_path(out, "autoencoder_denoising.png"), "noisy / denoised / clean")
    return {"psnr_noisy": before, "psnr_denoised": after, "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
