"""A step's graph is freed by reference counting as soon as nothing holds it, not later by the cyclic collector.

A reference cycle anywhere on the per-step path (a self-calling closure holding the step's tensors, say) keeps
every saved array of the step's graph alive until the garbage collector happens to run: W5 (a GAN step) held
70+ MiB more than it needed that way. These tests run with the collector off and count what it would find.
"""

import gc

import numpy as np
import pytest

import ember
from ember.engine.function import Function
from ember.layers.symbolic import pack_like


@pytest.fixture
def collector_off():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _cyclic_garbage():
    """The objects the collector would free now (kept in gc.garbage to be counted, then dropped)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


def test_pack_like_leaves_no_cycle(collector_off):
    flat = [np.zeros(3), np.ones(2), np.arange(4), np.full(1, 7.0)]
    packed = pack_like([flat[0], (flat[1], {"a": flat[2]}), flat[3]], flat)
    assert packed[1][1]["a"] is flat[2] and packed[2] is flat[3]
    assert isinstance(packed[1], tuple)
    assert _cyclic_garbage() == []


def test_custom_train_step_graph_is_freed_without_the_collector(collector_off):
    keras = ember

    class Step(keras.Model):
        def __init__(self):
            super().__init__()
            self.net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.LeakyReLU(0.2)])

        def call(self, x, training=False):
            return self.net(x, training=training)

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = keras.ops.mean((self(x, training=True) - y) ** 2)
            loss.backward()
            weights = self.trainable_weights
            with keras.no_grad():
                self.optimizer.apply([w.value.grad for w in weights], weights)
            return {"loss": loss}

    model = Step()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)).astype("float32"), rng.standard_normal((16, 3)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    _cyclic_garbage()  # (the first fit's one-time set-up)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    held = [o for o in _cyclic_garbage() if isinstance(o, (Function, ember.Tensor))]
    assert held == [], f"{len(held)} graph objects were left to the cyclic collector: {held[:5]}"
