"""The same DCGAN written the classic Keras 2 way: a frozen discriminator inside a combined model.

A combined model ``noise -> generator -> discriminator`` is trained with the discriminator frozen, so
``combined.train_on_batch`` moves only the generator, while ``discriminator.train_on_batch`` moves the
discriminator. Keras 2 read ``trainable`` once, at ``compile``; Keras 3 (and Ember) read it at every step, so
the flag is set before each of the two updates, as GAN code ported to Keras 3 does. Draws
``dcgan_classic_digits.png`` and reports what ``dcgan.py`` reports.
"""

from __future__ import annotations

import numpy as np

import ember as keras


def main(quick: bool = False, out: str = ".") -> dict:
    from _common import figure_path, mnist_images, plot_image_grid
    from dcgan import LATENT, brightness_gap, certainty, digit_classifier, discriminator, generator

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, _) = mnist_images(1024 if quick else None, 500, flat=False)
    gen, disc = generator(), discriminator()
    z = np.random.default_rng(1).normal(size=(100, LATENT)).astype("float32")
    before = gen.predict(z, verbose=0)
    gap_before = brightness_gap(before, x_train)
    disc.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.losses.BinaryCrossentropy(from_logits=True))
    noise_in = keras.Input((LATENT,))
    combined = keras.Model(noise_in, disc(gen(noise_in)))
    combined.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.losses.BinaryCrossentropy(from_logits=True))

    rng = np.random.default_rng(0)
    batch, epochs = 64, (2 if quick else 5)
    steps = len(x_train) // batch
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        for step in range(steps):
            real = x_train[order[step * batch : (step + 1) * batch]]
            fake = gen.predict_on_batch(rng.normal(size=(batch, LATENT)).astype("float32"))
            images = np.concatenate([fake, real])
            labels = np.concatenate([np.ones((batch, 1)), np.zeros((batch, 1))]).astype("float32")
            labels += 0.05 * rng.uniform(size=labels.shape).astype("float32")
            disc.trainable = True
            d_loss = disc.train_on_batch(images, labels)
            disc.trainable = False
            noise = rng.normal(size=(batch, LATENT)).astype("float32")
            g_loss = combined.train_on_batch(noise, np.zeros((batch, 1), "float32"))  # "these are real"
        d_value, g_value = float(np.ravel(d_loss)[0]), float(np.ravel(g_loss)[0])
        print(f"epoch {epoch + 1}/{epochs}: d_loss {d_value:.4f}, g_loss {g_value:.4f}")

    samples = gen.predict(z, verbose=0)
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
    result["figure"] = plot_image_grid(samples, 10, 10, figure_path(out, "dcgan_classic_digits.png"), "samples")
    return result


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__.splitlines()[0])
    main(quick=args.quick, out=args.out)
