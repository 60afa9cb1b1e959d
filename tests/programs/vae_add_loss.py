"""A VAE trained by plain fit(): the KL term enters through add_loss() in the encoder's layer, the
reconstruction through the compiled loss."""

import numpy as np

EXPECT = {"loss": ("at_most", 0.9), "kl_positive": ("equal",), "recon_error": ("near", 0.1)}


def main(keras):
    ops, layers = keras.ops, keras.layers

    class KLSampling(layers.Layer):
        def __init__(self, weight, **kwargs):
            super().__init__(**kwargs)
            self.weight = weight
            self.seed_generator = keras.random.SeedGenerator(7)

        def call(self, inputs):
            mean, log_var = inputs
            kl = -0.5 * ops.mean(ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1))
            self.add_loss(self.weight * kl)
            return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.seed_generator)

    keras.utils.set_random_seed(62)
    rng = np.random.RandomState(62)
    x = np.tanh(rng.normal(size=(320, 2)) @ rng.normal(size=(2, 12))).astype("float32")
    inputs = keras.Input((12,))
    h = layers.Dense(16, activation="relu")(inputs)
    z = KLSampling(0.01)([layers.Dense(2)(h), layers.Dense(2)(h)])
    outputs = layers.Dense(12)(layers.Dense(16, activation="relu")(z))
    vae = keras.Model(inputs, outputs)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = vae.fit(x, x, epochs=3, batch_size=32, verbose=0)
    vae(x[:32])
    recon = vae.predict(x, verbose=0)
    return {
        "loss": float(history.history["loss"][-1]),
        "kl_positive": bool(float(vae.losses[0]) > 0),
        "recon_error": float(np.mean((recon - x) ** 2)),
    }
