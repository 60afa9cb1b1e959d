"""W5 ``dcgan``: one DCGAN training step (discriminator, then generator) on 32x32x3 images, batch 64.

Keras's DCGAN example, sized for 32x32 RGB. Generator: latent 128 -> Dense 4*4*256 -> LeakyReLU 0.2 -> Reshape
(4, 4, 256) -> three Conv2DTranspose (128, 64, 32 filters, 4x4, stride 2, 'same') each with LeakyReLU 0.2 ->
Conv2D 3 5x5 'same' tanh. Discriminator: three Conv2D (64, 128, 128 filters, 4x4, stride 2, 'same') each with
LeakyReLU 0.2 -> Flatten -> Dropout 0.2 -> Dense 1 (a logit). Both with Adam(2e-4, beta_1=0.5) and binary
cross-entropy on logits.

One step, as the keras.io GAN guide for the torch backend writes it (``zero_grad``, ``backward``,
``optimizer.apply``) and as PyTorch's DCGAN example does: the generator draws a batch of fakes from the batch's
noise; the discriminator learns on fakes (label 1, gradient stopped at the fakes) and real images (label 0)
concatenated; then the generator learns through the discriminator to have its fakes called real. The data are the
step's inputs, identical in every framework: ``x`` the noise (batch, 128), ``y`` the real images; there is no
random label smoothing, so the three frameworks compute the same numbers. ``predict`` is the generator on the
noise (what a user samples with).

PyTorch runs the same step inside the harness's ``zero_grad / forward / loss / backward / step`` loop:
the model's forward is the generator, the loss function first makes the discriminator's whole update and returns
the generator's loss, whose ``backward`` and ``step`` (the generator's Adam) finish the step. Layout NCHW; the
generator's Dense columns and the discriminator's Dense rows are permuted between Keras's (h, w, c) order and
PyTorch's (c, h, w), kernels transposed, so all three start from the same function.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import conv_weights, dense_weights, glorot_uniform

NAME = "dcgan"
BATCH = 64
CHUNK_BATCHES = 3
SEED = 5
LATENT = 128
IMAGE = 32


def make_data(rows: int = BATCH * CHUNK_BATCHES):
    rng = np.random.default_rng(SEED)
    noise = rng.standard_normal((rows, LATENT)).astype(np.float32)
    images = (rng.random((rows, IMAGE, IMAGE, 3), dtype=np.float32) * 2.0 - 1.0).astype(np.float32)
    return noise, images


def _transpose_weights(rng, kh, kw, c_out, c_in):
    """A Conv2DTranspose's ``[kernel (kh, kw, out, in), bias (out,)]`` in Keras layout."""
    kernel = glorot_uniform(rng, (kh, kw, c_out, c_in), kh * kw * c_in, kh * kw * c_out)
    return [kernel, np.zeros(c_out, np.float32)]


def generator_weights(rng):
    return (
        dense_weights(rng, LATENT, 4 * 4 * 256)
        + _transpose_weights(rng, 4, 4, 128, 256)
        + _transpose_weights(rng, 4, 4, 64, 128)
        + _transpose_weights(rng, 4, 4, 32, 64)
        + conv_weights(rng, 5, 5, 32, 3)
    )


def discriminator_weights(rng):
    return (
        conv_weights(rng, 4, 4, 3, 64)
        + conv_weights(rng, 4, 4, 64, 128)
        + conv_weights(rng, 4, 4, 128, 128)
        + dense_weights(rng, 4 * 4 * 128, 1)
    )


def initial_weights():
    """Generator's weights then discriminator's, in Keras order (the GAN model's ``get_weights`` order)."""
    rng = np.random.default_rng(SEED + 1)
    return generator_weights(rng) + discriminator_weights(rng)


def _generator(keras):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((LATENT,)),
            layers.Dense(4 * 4 * 256),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((4, 4, 256)),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(32, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, 5, padding="same", activation="tanh"),
        ],
        name="generator",
    )


def _discriminator(keras):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((IMAGE, IMAGE, 3)),
            layers.Conv2D(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1),
        ],
        name="discriminator",
    )


def _no_grad(keras):
    """The framework's no-gradient context (Ember's own; PyTorch's for Keras on torch)."""
    if keras.__name__.split(".")[0] == "ember":
        return keras.no_grad
    import torch

    return torch.no_grad


def build_keras_like(keras):
    no_grad = _no_grad(keras)

    class GAN(keras.Model):
        """Generator and discriminator trained against each other by one ``fit``; ``call`` is the generator."""

        def __init__(self, generator, discriminator):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

        def call(self, noise, training=False):
            return self.generator(noise, training=training)

        def compile(self):
            super().compile()
            self.d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
            self.g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def train_step(self, data):
            noise, real = data
            batch = keras.ops.shape(real)[0]
            fake = self.generator(noise, training=True)
            images = keras.ops.concatenate([keras.ops.stop_gradient(fake), real], axis=0)
            labels = keras.ops.concatenate([keras.ops.ones((batch, 1)), keras.ops.zeros((batch, 1))], axis=0)

            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(images, training=True))
            d_loss.backward()
            d_weights = self.discriminator.trainable_weights
            with no_grad():
                self.d_optimizer.apply([w.value.grad for w in d_weights], d_weights)

            self.zero_grad()
            g_loss = self.loss_fn(keras.ops.zeros((batch, 1)), self.discriminator(fake, training=True))
            g_loss.backward()
            g_weights = self.generator.trainable_weights
            with no_grad():
                self.g_optimizer.apply([w.value.grad for w in g_weights], g_weights)

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    model = GAN(_generator(keras), _discriminator(keras))
    model.compile()
    return model


def _keras_dense_to_torch_columns(kernel, bias, hw, channels):
    """A Dense feeding Reshape((h, w, c)): output columns from Keras's (h, w, c) order to PyTorch's (c, h, w)."""
    k = kernel.reshape(kernel.shape[0], hw, channels).transpose(0, 2, 1).reshape(kernel.shape[0], -1)
    return k.T, bias.reshape(hw, channels).T.reshape(-1)


def build_torch(weights):
    import torch
    from torch import nn

    g_w, d_w = weights[:10], weights[10:]
    generator = nn.Sequential(
        nn.Linear(LATENT, 4 * 4 * 256),
        nn.LeakyReLU(0.2),
        nn.Unflatten(1, (256, 4, 4)),
        nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 3, 5, padding=2),
        nn.Tanh(),
    )
    discriminator = nn.Sequential(
        nn.Conv2d(3, 64, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(128, 128, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(4 * 4 * 128, 1),
    )
    dense_k, dense_b = _keras_dense_to_torch_columns(g_w[0], g_w[1], 16, 256)
    g_torch = [dense_k, dense_b]
    for i in (2, 4, 6):  # Conv2DTranspose (kh, kw, out, in) -> ConvTranspose2d (in, out, kh, kw)
        g_torch += [g_w[i].transpose(3, 2, 0, 1), g_w[i + 1]]
    g_torch += [g_w[8].transpose(3, 2, 0, 1), g_w[9]]
    d_torch = []
    for i in (0, 2, 4):
        d_torch += [d_w[i].transpose(3, 2, 0, 1), d_w[i + 1]]
    flat_rows = d_w[6].reshape(4, 4, 128, 1).transpose(2, 0, 1, 3).reshape(-1, 1)
    d_torch += [flat_rows.T, d_w[7]]
    with torch.no_grad():
        for module, values in ((generator, g_torch), (discriminator, d_torch)):
            for param, value in zip(module.parameters(), values):
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    bce = nn.BCEWithLogitsLoss()

    class Pair(nn.Module):
        """Both networks; the forward is the generator (the harness times ``model(noise)`` for inference)."""

        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

        def forward(self, noise):
            return self.generator(noise)

    def gan_loss(fake, real):
        """The discriminator's update (fakes detached, label 1; real, label 0), then the generator's loss."""
        batch = real.shape[0]
        labels = torch.cat([torch.ones(batch, 1), torch.zeros(batch, 1)])
        d_optimizer.zero_grad(set_to_none=True)
        d_loss = bce(discriminator(torch.cat([fake.detach(), real])), labels)
        d_loss.backward()
        d_optimizer.step()
        return bce(discriminator(fake), torch.zeros(batch, 1))

    def prepare(x, y):
        images = torch.from_numpy(np.ascontiguousarray(y.transpose(0, 3, 1, 2)))
        return torch.from_numpy(x), images, torch.zeros(len(x))

    return Pair(), g_optimizer, gan_loss, prepare


def torch_correct(out, labels):
    return 0  # a GAN step has no accuracy (Ember's and Keras's steps track the two losses instead)
