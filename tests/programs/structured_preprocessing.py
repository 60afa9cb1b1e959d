"""Structured data with preprocessing layers (the ones Keras runs without TensorFlow): Normalization.adapt for
numbers, CategoryEncoding one-hot for category codes (strings mapped to codes with a plain vocabulary)."""

import numpy as np

EXPECT = {"accuracy": ("at_least", 0.8), "test_accuracy": ("at_least", 0.8), "norm_mean": ("same", 1e-5)}


def main(keras):
    layers = keras.layers
    keras.utils.set_random_seed(75)
    rng = np.random.RandomState(75)
    n = 400
    age = rng.uniform(20, 70, size=(n, 1)).astype("float32")
    income = rng.lognormal(10, 0.5, size=(n, 1)).astype("float32")
    city = rng.choice(["paris", "lyon", "nice", "lille"], size=n)
    plan = rng.choice([1, 2, 3], size=(n, 1)).astype("int64")
    y = ((age[:, 0] > 45) ^ (city == "nice") ^ (plan[:, 0] == 3)).astype("float32")
    vocabulary = sorted(set(city))
    city_codes = np.array([[vocabulary.index(c)] for c in city], dtype="int64")
    numeric = np.concatenate([age, np.log(income)], axis=1)

    normalizer = layers.Normalization()
    normalizer.adapt(numeric[:320])
    num_in = keras.Input((2,), name="numeric")
    city_in = keras.Input((1,), name="city", dtype="int64")
    plan_in = keras.Input((1,), name="plan", dtype="int64")
    features = layers.concatenate(
        [
            normalizer(num_in),
            layers.CategoryEncoding(num_tokens=len(vocabulary), output_mode="one_hot")(city_in),
            layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(plan_in),
        ]
    )
    h = layers.Dense(32, activation="relu")(features)
    h = layers.Dense(16, activation="relu")(h)
    model = keras.Model([num_in, city_in, plan_in], layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    data = [numeric, city_codes, plan]
    history = model.fit([d[:320] for d in data], y[:320], batch_size=32, epochs=10, verbose=0)
    _, test_accuracy = model.evaluate([d[320:] for d in data], y[320:], verbose=0)
    return {
        "accuracy": float(history.history["accuracy"][-1]),
        "test_accuracy": float(test_accuracy),
        "norm_mean": float(np.asarray(keras.ops.convert_to_numpy(normalizer.mean)).ravel()[0]),
    }
