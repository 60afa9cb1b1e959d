"""A training loop written from scratch (keras.io's loop for torch): model(x), a loss object, zero_grad,
backward, optimizer.apply(grads, model.trainable_weights), metric objects updated per batch."""

import numpy as np
from _support import deterministic_init

EXPECT = {"loss": ("same", 2e-4), "accuracy": ("same", 1e-6), "val_accuracy": ("same", 1e-6), "steps": ("equal",)}


def main(keras):
    rng = np.random.RandomState(63)
    x = rng.normal(size=(192, 6)).astype("float32")
    y = (x[:, 0] * 2 + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)])
    deterministic_init(model, seed=64)
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc = keras.metrics.SparseCategoricalAccuracy()
    val_acc = keras.metrics.SparseCategoricalAccuracy()
    loss_value = None
    for _epoch in range(2):
        train_acc.reset_state()
        for step in range(0, 160, 32):
            xb, yb = x[step : step + 32], y[step : step + 32]
            logits = model(xb, training=True)
            loss = loss_fn(yb, logits)
            model.zero_grad()
            loss.backward()
            trainable_weights = [v for v in model.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            optimizer.apply(gradients, trainable_weights)
            train_acc.update_state(yb, logits)
            loss_value = float(keras.ops.convert_to_numpy(loss))
    val_acc.update_state(y[160:], model(x[160:], training=False))
    return {
        "loss": loss_value,
        "accuracy": float(train_acc.result()),
        "val_accuracy": float(val_acc.result()),
        "steps": int(optimizer.iterations),
    }
