"""Model server: real HTTP requests on loopback against uvicorn running ``ember.serving.create_app``.

Good requests must give ``model.predict`` (to float32 rounding: a merged batch
may sum in another order in BLAS than the request alone); bad ones a 4xx with a
message.
"""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the model server runs on Starlette")
uvicorn = pytest.importorskip("uvicorn", reason="the model server is served by uvicorn")

import ember  # noqa: E402
from ember.serving import create_app  # noqa: E402


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype="float32"), want, rtol=1e-5, atol=1e-6)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """uvicorn in a thread on 127.0.0.1; stopped on exit."""

    def __init__(self, app):
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive()

    def request(self, path, body=None, method=None, headers=None):
        """(status, parsed JSON) of one HTTP request; ``body`` is bytes or JSON-able."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


@pytest.fixture(scope="module")
def seq_model():
    ember.random.seed(1)
    return ember.Sequential(
        [ember.Input((4,)), ember.layers.Dense(8, activation="relu"), ember.layers.Dense(3, activation="softmax")],
        name="classifier",
    )


@pytest.fixture(scope="module")
def server(seq_model):
    with _Server(create_app(seq_model, max_batch_size=16, batch_timeout_ms=5, max_body_bytes=200_000)) as srv:
        yield srv


def _x(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype("float32")


def test_predict_rows_and_columns_equal_model_predict(server, seq_model):
    x = _x(5)
    expected = seq_model.predict(x, verbose=0)
    status, body = server.request("/predict", {"instances": x.tolist()})
    assert status == 200
    _close(body["predictions"], expected)
    status, body = server.request("/predict", {"inputs": x.tolist(), "signature_name": "serving_default"})
    assert status == 200
    _close(body["outputs"], expected)
    status, body = server.request("/v1/models/classifier:predict", {"instances": x[:1].tolist()})
    assert status == 200
    _close(body["predictions"], expected[:1])


def test_health_and_metadata(server):
    assert server.request("/health")[0] == 200
    assert server.request("/health")[1]["status"] == "ok"
    status, meta = server.request("/metadata")
    assert status == 200
    assert meta["model"] == {"name": "classifier", "class_name": "Sequential"}
    assert [(i["shape"], i["dtype"]) for i in meta["inputs"]] == [([None, 4], "float32")]
    assert [(o["shape"], o["dtype"]) for o in meta["outputs"]] == [([None, 3], "float32")]
    assert meta["server"]["max_batch_size"] == 16
    assert server.request("/v1/models/classifier/metadata")[1]["inputs"] == meta["inputs"]
    assert server.request("/v1/models/classifier")[1]["model_version_status"][0]["state"] == "AVAILABLE"


def test_concurrent_requests_are_batched(server, seq_model):
    before = server.request("/health")[1]
    xs = [_x(1 + i % 3, seed=i) for i in range(80)]

    def one(i):
        return i, server.request("/predict", {"instances": xs[i].tolist()})

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(80)))
    for i, (status, body) in results:
        assert status == 200
        _close(body["predictions"], seq_model.predict(xs[i], verbose=0))
    after = server.request("/health")[1]
    assert after["requests"] - before["requests"] == 80
    calls = after["predict_calls"] - before["predict_calls"]
    assert 1 <= calls < 80  # concurrent requests were merged into fewer model calls


BAD = [
    (b"not json", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not UTF-8"),
    (b"", 400, "empty"),
    (b"[1, 2]", 400, "JSON object"),
    ({"instance": [[1, 2, 3, 4]]}, 400, "unexpected key"),
    ({"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}, 400, "exactly one"),
    ({"instances": [[1, 2, 3]]}, 400, "shape (4,)"),
    ({"instances": [[[1, 2, 3, 4]]]}, 400, "shape (4,)"),
    ({"instances": [[1, 2, 3, 4], [1, 2]]}, 400, "ragged"),
    ({"instances": [["a", "b", "c", "d"]]}, 400, "got a string"),
    ({"instances": [[1, 2, 3, None]]}, 400, "got null"),
    ({"instances": [[1, 2, 3, True]]}, 400, "got a boolean"),
    ({"instances": [{"b64": "AAAA"}]}, 400, "b64"),
    ({"instances": []}, 400, "empty"),
    ({"instances": "1,2,3,4"}, 400, "list of examples"),
    ({"instances": [[1, 2, 3, 1e300]]}, 400, "range of float32"),
    (b'{"instances": [[1, 2, 3, NaN]]}', 400, "finite"),
    (b'{"instances": [[1, 2, 3, -Infinity]]}', 400, "finite"),
    ({"instances": [[1, 2, 3, 10**40]]}, 400, "too large"),
    ({"instances": [[1, 2, 3, 4]], "signature_name": 3}, 400, "signature_name"),
    (b"[" * 100_000, 400, "nested too deeply"),
    ({"instances": [[0.5, 0.5, 0.5, 0.5]] * 20_000}, 413, "limit"),
]


@pytest.mark.parametrize("body, status, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_payloads_get_4xx_with_message(server, body, status, message):
    got_status, got = server.request("/predict", body, method="POST")
    assert got_status == status, got
    assert message in got["error"]


def test_bad_routes_and_methods(server):
    assert server.request("/nowhere")[0] == 404
    assert server.request("/predict", method="GET")[0] == 405
    status, body = server.request("/v1/models/other:predict", {"instances": [[1, 2, 3, 4]]})
    assert status == 404 and "classifier" in body["error"]
    status, body = server.request("/predict", b"{}", headers={"Content-Length": "10000000"})
    assert status == 413
    assert server.request("/health")[0] == 200  # still serving after all of the above


def test_multi_input_multi_output_functional(tmp_path):
    ember.random.seed(2)
    a = ember.Input((3,), name="a")
    b = ember.Input((2,), name="b")
    h = ember.layers.Concatenate()([ember.layers.Dense(4, name="ha")(a), b])
    out1 = ember.layers.Dense(2, name="score")(h)
    out2 = ember.layers.Dense(1, name="value")(h)
    model = ember.Model([a, b], [out1, out2], name="two_heads")
    path = tmp_path / "two_heads.keras"
    model.save(path)
    rng = np.random.default_rng(3)
    xa, xb = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")
    want = model.predict([xa, xb], verbose=0)
    with _Server(create_app(str(path))) as srv:
        instances = [{"a": ra.tolist(), "b": rb.tolist()} for ra, rb in zip(xa, xb)]
        status, body = srv.request("/predict", {"instances": instances})
        assert status == 200
        _close([p["score"] for p in body["predictions"]], want[0])
        _close([p["value"] for p in body["predictions"]], want[1])
        status, body = srv.request("/predict", {"inputs": {"a": xa.tolist(), "b": xb.tolist()}})
        assert status == 200
        _close(body["outputs"]["score"], want[0])
        status, meta = srv.request("/metadata")
        assert [i["name"] for i in meta["inputs"]] == ["a", "b"]
        assert [o["name"] for o in meta["outputs"]] == ["score", "value"]
        status, body = srv.request("/predict", {"instances": [{"a": [1, 2, 3]}]})
        assert status == 400 and "['a', 'b']" in body["error"]
        status, body = srv.request("/predict", {"inputs": {"a": xa.tolist(), "b": xb[:2].tolist()}})
        assert status == 400 and "same number of examples" in body["error"]
        status, body = srv.request("/predict", {"instances": xa.tolist()})
        assert status == 400 and "one per model input" in body["error"]


def test_integer_inputs_and_nonfinite_allowed():
    ember.random.seed(4)
    model = ember.Sequential([ember.Input((3,), dtype="int32"), ember.layers.Embedding(10, 2), ember.layers.Flatten()])
    with _Server(create_app(model)) as srv:
        ids = np.array([[1, 2, 3], [9, 0, 4]])
        status, body = srv.request("/predict", {"instances": ids.tolist()})
        assert status == 200
        np.testing.assert_array_equal(np.asarray(body["predictions"], "float32"), model.predict(ids, verbose=0))
        status, body = srv.request("/predict", {"instances": [[1, 2.5, 3]]})
        assert status == 400 and "integers" in body["error"]
        status, body = srv.request("/predict", {"instances": [[1, 2, 2**40]]})
        assert status == 400 and "int32" in body["error"]
    dense = ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)])
    with _Server(create_app(dense, allow_nonfinite=True)) as srv:
        status, body = srv.request("/predict", b'{"instances": [[NaN, 1.0]]}', method="POST")
        assert status == 200 and np.isnan(body["predictions"][0][0])  # written as the NaN token
