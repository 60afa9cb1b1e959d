"""keras.wrappers.SKLearnClassifier inside a scikit-learn workflow (fit, predict, score)."""

import numpy as np
from _support import blobs

# the three blobs overlap: Ember and Keras both score 0.83 on the held-out 60 (chance 0.33)
EXPECT = {"score": ("at_least", 0.75), "classes": ("equal",), "pred_shape": ("equal",)}


def main(keras):
    keras.utils.set_random_seed(96)
    x, y = blobs(300, d=4, k=3, seed=96)

    def build(X, y):  # noqa: N803 - the wrapper passes X= and y=
        model = keras.Sequential(
            [
                keras.Input((X.shape[1],)),
                keras.layers.Dense(16, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
        return model

    clf = keras.wrappers.SKLearnClassifier(model=build, fit_kwargs={"epochs": 5, "batch_size": 32, "verbose": 0})
    clf.fit(x[:240], y[:240])
    pred = clf.predict(x[240:])
    return {
        "score": float(clf.score(x[240:], y[240:])),
        "classes": [int(c) for c in clf.classes_],
        "pred_shape": list(np.shape(pred)),
    }
