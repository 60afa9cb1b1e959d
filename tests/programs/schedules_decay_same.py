"""Learning-rate schedules as optimizer arguments (ExponentialDecay, CosineDecay with warmup,
PiecewiseConstantDecay): the rates they give and the training they drive."""

import numpy as np
from _support import deterministic_init

EXPECT = {"exp_rates": ("equal",), "cos_rates": ("equal",), "piece_rates": ("equal",), "loss": ("same", 2e-4)}


def main(keras):
    schedules = keras.optimizers.schedules
    exp = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    cos = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5, alpha=0.1)
    piece = schedules.PiecewiseConstantDecay([3, 6], [0.1, 0.05, 0.01])

    def rates(schedule):
        return [round(float(keras.ops.convert_to_numpy(schedule(step))), 6) for step in range(0, 16, 3)]

    rng = np.random.RandomState(85)
    x = rng.normal(size=(80, 3)).astype("float32")
    y = (x[:, :1] * 3 - x[:, 1:2]).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(1)])
    deterministic_init(model, seed=86)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=exp, momentum=0.5), loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0)
    return {
        "exp_rates": rates(exp),
        "cos_rates": rates(cos),
        "piece_rates": rates(piece),
        "loss": float(history.history["loss"][-1]),
    }
