"""A variational autoencoder with a Sampling layer and a custom train_step (keras.io's VAE, torch style):
reconstruction and KL losses, three Mean trackers, the encoder's reparameterised sample."""

import numpy as np

EXPECT = {"improved": ("equal",), "kl_loss": ("at_most", 3.0), "total_loss": ("near", 1.0), "keys": ("equal",)}


def main(keras):
    ops, layers = keras.ops, keras.layers
    latent_dim = 2
    keras.utils.set_random_seed(61)

    class Sampling(layers.Layer):
        """z = mean + exp(log_var / 2) * epsilon."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    encoder_inputs = keras.Input(shape=(16,))
    h = layers.Dense(16, activation="relu")(encoder_inputs)
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent_dim,))
    decoder_outputs = layers.Dense(16, activation="sigmoid")(layers.Dense(16, activation="relu")(latent_inputs))
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

        def call(self, data):
            return self.decoder(self.encoder(data)[2])

        def train_step(self, data):
            self.zero_grad()
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(
                    keras.losses.binary_crossentropy(ops.expand_dims(data, -1), ops.expand_dims(reconstruction, -1)),
                    axis=1,
                )
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
            total_loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply([v.value.grad for v in weights], weights)
            self.total_loss_tracker.update_state(total_loss)
            self.reconstruction_loss_tracker.update_state(reconstruction_loss)
            self.kl_loss_tracker.update_state(kl_loss)
            return {m.name: m.result() for m in self.metrics}

    rng = np.random.RandomState(61)
    codes = rng.normal(size=(320, 2))
    data = 1 / (1 + np.exp(-(codes @ rng.normal(size=(2, 16)))))
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = vae.fit(data.astype("float32"), epochs=3, batch_size=32, verbose=0)
    out = {k: float(history.history[k][-1]) for k in ("total_loss", "kl_loss")}
    out["improved"] = bool(history.history["total_loss"][-1] < history.history["total_loss"][0])
    out["keys"] = sorted(history.history)
    return out
