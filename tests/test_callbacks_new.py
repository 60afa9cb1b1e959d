"""SwapEMAWeights, RemoteMonitor and OrbaxCheckpoint."""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _model(use_ema=True):
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(1)])
    model.compile(ember.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.9), "mse")
    return model


def test_swap_ema_weights_evaluates_with_the_averages_and_restores():
    model = _model()
    model.fit(X, Y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    trained = [w.copy() for w in model.get_weights()]
    averages = [v.numpy().copy() for v in model.optimizer._model_variables_moving_average]
    assert not all(np.allclose(a, b) for a, b in zip(trained, averages))
    swap = ember.callbacks.SwapEMAWeights()
    swap.set_model(model)
    with_ema = model.evaluate(X, Y, verbose=0, callbacks=[swap])
    plain = model.evaluate(X, Y, verbose=0)
    model.set_weights(averages)
    np.testing.assert_allclose(with_ema, model.evaluate(X, Y, verbose=0), rtol=1e-6)
    model.set_weights(trained)
    assert plain != with_ema
    # predict too, and the trained weights come back afterwards
    model.predict(X, verbose=0, callbacks=[swap])
    for a, b in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_on_epoch_leaves_the_averages_after_training():
    model = _model()
    model.fit(X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[ember.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    averages = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    for a, b in zip(model.get_weights(), averages):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_needs_use_ema():
    model = _model(use_ema=False)
    model.fit(X, Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(X, Y, verbose=0, callbacks=[ember.callbacks.SwapEMAWeights()])


class _Recorder(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        _Recorder.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("as_json", [False, True])
def test_remote_monitor_posts_each_epoch(as_json):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.received = []
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}"
        monitor = ember.callbacks.RemoteMonitor(root=root, path="/epochs", send_as_json=as_json)
        _model(use_ema=False).fit(X, Y, epochs=2, verbose=0, callbacks=[monitor])
    finally:
        server.shutdown()
    assert [r[0] for r in _Recorder.received] == ["/epochs", "/epochs"]
    bodies = []
    for _, ctype, body in _Recorder.received:
        if as_json:
            assert ctype == "application/json"
            bodies.append(json.loads(body))
        else:
            bodies.append(json.loads(urllib.parse.parse_qs(body)["data"][0]))
    assert [b["epoch"] for b in bodies] == [0, 1]
    assert all(isinstance(b["loss"], float) for b in bodies)


def test_remote_monitor_warns_when_unreachable():
    monitor = ember.callbacks.RemoteMonitor(root="http://127.0.0.1:9")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        monitor.on_epoch_end(0, {"loss": np.float32(1.0)})


def test_orbax_checkpoint_names_the_alternatives():
    with pytest.raises(NotImplementedError, match="ModelCheckpoint"):
        ember.callbacks.OrbaxCheckpoint("dir")
