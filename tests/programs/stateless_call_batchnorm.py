"""model.stateless_call: outputs from given variable values, and the updated non-trainable variables
(BatchNormalization's moving statistics under training=True), leaving the model itself unchanged."""

import numpy as np
from _support import deterministic_init

EXPECT = {
    "out_sum": ("same", 1e-5),
    "moving_mean_sum": ("same", 1e-5),
    "unchanged": ("equal",),
    "doubled_out_sum": ("same", 1e-5),
}


def main(keras):
    ops = keras.ops
    rng = np.random.RandomState(65)
    x = rng.normal(loc=1.0, size=(16, 4)).astype("float32")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5), keras.layers.BatchNormalization(), keras.layers.Dense(2)]
    )
    deterministic_init(model, seed=66)
    before = [w.copy() for w in model.get_weights()]
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    outputs, new_non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
    unchanged = all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    doubled = [ops.multiply(v, 2.0) for v in trainable]
    doubled_out, _ = model.stateless_call(doubled, non_trainable, x, training=False)
    return {
        "out_sum": float(ops.convert_to_numpy(ops.sum(ops.square(outputs)))),
        "moving_mean_sum": float(ops.convert_to_numpy(ops.sum(new_non_trainable[0]))),
        "unchanged": bool(unchanged),
        "doubled_out_sum": float(ops.convert_to_numpy(ops.sum(doubled_out))),
    }
