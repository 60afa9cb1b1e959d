"""A GAN trained with fit() through an overridden train_step, as keras.io writes it for the torch backend:
two optimizers given to a custom compile(), self.zero_grad(), loss.backward(), optimizer.apply, loss trackers."""

import numpy as np

EXPECT = {"bounded": ("equal",), "d_loss": ("near", 0.6), "g_loss": ("near", 1.5), "keys": ("equal",)}


def main(keras):
    ops = keras.ops
    latent_dim = 4

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def call(self, samples):
            return self.discriminator(samples)

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real):
            if isinstance(real, (tuple, list)):
                real = real[0]
            batch_size = real.shape[0]
            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            fake = self.generator(noise)
            combined = ops.concatenate([fake, ops.convert_to_tensor(real)], axis=0)
            labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
            labels = labels + 0.05 * keras.random.uniform(ops.shape(labels), seed=self.seed_generator)

            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(combined))
            d_loss.backward()
            d_weights = self.discriminator.trainable_weights
            self.d_optimizer.apply([v.value.grad for v in d_weights], d_weights)

            noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
            misleading = ops.zeros((batch_size, 1))
            self.zero_grad()
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(noise)))
            g_loss.backward()
            g_weights = self.generator.trainable_weights
            self.g_optimizer.apply([v.value.grad for v in g_weights], g_weights)

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    keras.utils.set_random_seed(60)
    rng = np.random.RandomState(60)
    real = (rng.normal(size=(256, 2)) * 0.3 + np.array([2.0, -1.0])).astype("float32")
    discriminator = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(16), keras.layers.LeakyReLU(0.2), keras.layers.Dense(1)],
        name="discriminator",
    )
    generator = keras.Sequential(
        [keras.Input((latent_dim,)), keras.layers.Dense(16), keras.layers.LeakyReLU(0.2), keras.layers.Dense(2)],
        name="generator",
    )
    gan = GAN(discriminator, generator, latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(3e-3),
        g_optimizer=keras.optimizers.Adam(3e-3),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    history = gan.fit(real, batch_size=32, epochs=3, verbose=0)
    d_loss, g_loss = history.history["d_loss"][-1], history.history["g_loss"][-1]
    return {
        "bounded": bool(0.05 < d_loss < 3.0 and 0.05 < g_loss < 5.0),
        "d_loss": float(d_loss),
        "g_loss": float(g_loss),
        "keys": sorted(history.history),
    }
