"""Text classification from a bag of words: a plain tokenizer and vocabulary, CategoryEncoding multi_hot,
a Dense classifier (the keras.io bag-of-words baseline, without TensorFlow's TextVectorization)."""

import numpy as np

EXPECT = {"accuracy": ("at_least", 0.85), "test_accuracy": ("at_least", 0.85), "vocab_size": ("equal",)}


def main(keras):
    keras.utils.set_random_seed(76)
    rng = np.random.RandomState(76)
    good = ["great", "good", "lovely", "excellent", "fine"]
    bad = ["awful", "bad", "poor", "terrible", "boring"]
    filler = ["the", "movie", "was", "plot", "a", "really", "acting", "quite"]
    texts, labels = [], []
    for _ in range(360):
        label = rng.randint(0, 2)
        words = list(rng.choice(filler, size=5)) + list(rng.choice(good if label else bad, size=2))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + "!")
        labels.append(label)
    labels = np.array(labels, dtype="float32")
    tokens = [t.lower().strip("!").split() for t in texts]
    vocabulary = {w: i + 1 for i, w in enumerate(sorted({w for ts in tokens[:300] for w in ts}))}
    ids = keras.utils.pad_sequences([[vocabulary.get(w, 0) for w in ts] for ts in tokens], maxlen=8)
    num_tokens = len(vocabulary) + 1
    model = keras.Sequential(
        [
            keras.Input((8,), dtype="int64"),
            keras.layers.CategoryEncoding(num_tokens=num_tokens, output_mode="multi_hot"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(2e-2), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ids[:300], labels[:300], batch_size=30, epochs=6, verbose=0)
    _, test_accuracy = model.evaluate(ids[300:], labels[300:], verbose=0)
    return {
        "accuracy": float(history.history["accuracy"][-1]),
        "test_accuracy": float(test_accuracy),
        "vocab_size": num_tokens,
    }
