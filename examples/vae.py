"""A variational autoencoder of MNIST digits, written the Keras 3 way (a ``Model`` with its own ``train_step``).

The encoder gives a mean and a log-variance for a 2-D latent code; a ``Sampling`` layer draws
z = mean + exp(log_var / 2) * eps with the reparameterization trick; the decoder maps z back to an image. The
loss is the reconstruction's binary cross-entropy summed over pixels plus the KL divergence of the code's
distribution from N(0, I), tracked separately. Draws the decoder's digits over a grid of latent points
(``vae_manifold.png``) and reports the final losses beside the first epoch's.
"""

from __future__ import annotations

import numpy as np

import ember
import ember as keras
from ember import layers, ops

LATENT = 2


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I), drawn from the layer's own seed generator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def encoder():
    inputs = keras.Input((28, 28, 1))
    h = layers.Flatten()(inputs)
    h = layers.Dense(256, activation="relu")(h)
    h = layers.Dense(64, activation="relu")(h)
    z_mean = layers.Dense(LATENT, name="z_mean")(h)
    z_log_var = layers.Dense(LATENT, name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])], name="encoder")


def decoder():
    return keras.Sequential(
        [
            keras.Input((LATENT,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(256, activation="relu"),
            layers.Dense(784, activation="sigmoid"),
            layers.Reshape((28, 28, 1)),
        ],
        name="decoder",
    )


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        per_pixel = keras.losses.binary_crossentropy(data, reconstruction)  # (batch, 28, 28)
        reconstruction_loss = ops.mean(ops.sum(per_pixel, axis=(1, 2)))
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        weights = self.trainable_weights
        with ember.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, plot_image_grid

    keras.utils.set_random_seed(0)
    (x_train, _), _ = mnist_images(4000 if quick else None, 1, flat=False)
    vae = VAE(encoder(), decoder())
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(x_train, epochs=4 if quick else 30, batch_size=128, verbose=2)
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    first = float(history.history["reconstruction_loss"][0])
    print("reconstruction {reconstruction_loss:.2f}, KL {kl_loss:.2f}, total {total_loss:.2f}".format(**logs))

    grid = np.linspace(-2.0, 2.0, 12)
    latent = np.array([[x, y] for y in grid[::-1] for x in grid], dtype="float32")
    digits = vae.decoder.predict(latent, verbose=0)
    path = plot_image_grid(digits, 12, 12, figure_path(out, "vae_manifold.png"), "VAE: decoded latent grid")
    return {**logs, "first_reconstruction_loss": first, "figure": path}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
