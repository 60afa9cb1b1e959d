"""A DCGAN that draws MNIST digits, written the Keras 3 way: a ``Model`` subclass with its own ``train_step``.

The generator maps 64 random numbers to a 28x28 image (Dense to 7x7x64, two strided transposed
convolutions, sigmoid); the discriminator is two strided convolutions with LeakyReLU and a logit. Each step
trains the discriminator on real and generated images, then the generator through the discriminator, each
with its own Adam, as keras.io's GAN guides do (``zero_grad``, ``backward``, ``optimizer.apply``). Draws a
grid of generated digits (``dcgan_digits.png``) and reports how sure a digit classifier trained on real MNIST
is of their class, beside its certainty on the untrained generator's images and on real digits, and how far
the samples' mean brightness is from real digits' before and after training.
"""

from __future__ import annotations

import numpy as np

import ember
import ember as keras
from ember import layers

LATENT = 64


def generator():
    return keras.Sequential(
        [
            keras.Input((LATENT,)),
            layers.Dense(7 * 7 * 64),
            layers.LeakyReLU(0.2),
            layers.Reshape((7, 7, 64)),
            layers.Conv2DTranspose(32, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def discriminator():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1),
        ],
        name="discriminator",
    )


class GAN(keras.Model):
    """Two networks trained against each other by one ``fit``."""

    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator, self.generator = discriminator, generator
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        batch = keras.ops.shape(real_images)[0]
        noise = keras.random.normal((batch, LATENT), seed=self.seed_generator)
        fake_images = self.generator(noise)
        images = keras.ops.concatenate([fake_images, real_images], axis=0)
        # label 1 for generated, 0 for real, with a little noise on the labels (a known GAN stabilizer)
        labels = keras.ops.concatenate([keras.ops.ones((batch, 1)), keras.ops.zeros((batch, 1))], axis=0)
        labels = labels + 0.05 * keras.random.uniform(keras.ops.shape(labels), seed=self.seed_generator)

        self.zero_grad()
        d_loss = self.loss_fn(labels, self.discriminator(images))
        d_loss.backward()
        d_weights = self.discriminator.trainable_weights
        with ember.no_grad():
            self.d_optimizer.apply([w.value.grad for w in d_weights], d_weights)

        noise = keras.random.normal((batch, LATENT), seed=self.seed_generator)
        self.zero_grad()
        g_loss = self.loss_fn(keras.ops.zeros((batch, 1)), self.discriminator(self.generator(noise)))
        g_loss.backward()
        g_weights = self.generator.trainable_weights
        with ember.no_grad():
            self.g_optimizer.apply([w.value.grad for w in g_weights], g_weights)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def digit_classifier(x, y):
    """A small MLP trained on real digits, used only to judge the generated ones."""
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(128, "relu"), layers.Dense(10, "softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    return model


def brightness_gap(images, real) -> float:
    """How far the images' mean pixel value is from real digits' (about 0.13: mostly black background)."""
    return float(abs(images.mean() - real.mean()))


def certainty(classifier, images) -> float:
    """Mean top-class probability: near 0.1 for images no digit class claims, near 1 for clear digits."""
    return float(classifier.predict(images, verbose=0).max(axis=1).mean())


def train_gan(gan, x, epochs, batch_size=64):
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    gan.fit(x, epochs=epochs, batch_size=batch_size, verbose=2)


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, plot_image_grid

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist_images(1024 if quick else None, 500, flat=False)
    gan = GAN(discriminator(), generator())
    z = np.random.default_rng(1).normal(size=(100, LATENT)).astype("float32")
    before = gan.generator.predict(z, verbose=0)
    gap_before = brightness_gap(before, x_train)
    train_gan(gan, x_train, epochs=2 if quick else 5)
    samples = gan.generator.predict(z, verbose=0)
    judge = digit_classifier(x_train[:5000], y_train[:5000])
    result = {
        "certainty_generated": certainty(judge, samples),
        "certainty_before": certainty(judge, before),
        "certainty_real": certainty(judge, x_test[:100]),
        "brightness_gap_before": gap_before,
        "brightness_gap": brightness_gap(samples, x_train),
    }
    print("classifier certainty: generated {certainty_generated:.3f} (untrained {certainty_before:.3f}), "
          "real {certainty_real:.3f}; brightness gap {brightness_gap_before:.3f} -> {brightness_gap:.3f}"
          .format(**result))  # fmt: skip
    result["figure"] = plot_image_grid(samples, 10, 10, figure_path(out, "dcgan_digits.png"), "DCGAN samples")
    return result


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
