"""Model server under hostile or clumsy clients: limits, timeouts, disconnects, a responsive /health (issue 13).

Each test runs uvicorn on loopback in a thread and talks to it with ``http.client`` or raw sockets, so slow
bodies, half-sent heads and dropped connections are real ones.
"""

import http.client
import json
import logging
import pickle
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the model server runs on Starlette")
uvicorn = pytest.importorskip("uvicorn", reason="the model server is served by uvicorn")

import ember  # noqa: E402
from ember.errors import PayloadError  # noqa: E402
from ember.serving import RequestError, create_app  # noqa: E402
from ember.serving.payload import SMALL_BODY_BYTES, loads_json, parse_body  # noqa: E402
from ember.serving.server import header_timeout_protocol, uvicorn_options  # noqa: E402


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """uvicorn in a thread on 127.0.0.1 (logs go to the root logger, where caplog sees them)."""

    def __init__(self, app, **config):
        self.port = _free_port()
        config.setdefault("log_level", "info")
        cfg = uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="on", log_config=None, **config)
        self.server = uvicorn.Server(cfg)
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

    def request(self, path, body=None, method=None, timeout=30):
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def start_post(self, body: bytes, sent: int, path="/predict"):
        """A POST whose head and first ``sent`` body bytes are on the wire; the rest is not sent yet."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:sent])
        return conn


def _answer(conn):
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), json.loads(resp.read())


def _wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def model():
    ember.random.seed(3)
    return ember.Sequential([ember.Input((4,)), ember.layers.Dense(3)], name="small")


def _body(n, seed=0):
    return json.dumps({"instances": np.random.default_rng(seed).normal(size=(n, 4)).round(4).tolist()}).encode()


# ---------------------------------------------------------------- payloads that used to be a 500


@pytest.mark.parametrize("pad", [0, SMALL_BODY_BYTES])  # one json.loads call, and the piecewise reader
def test_5000_digit_integer_is_a_400_not_a_500(model, pad):
    with _Server(create_app(model, max_instances=200_000)) as srv:
        big = "9" * 5000
        filler = ",".join(["[1,2,3,4]"] * (pad // 10))
        text = '{"instances": [' + (filler + "," if filler else "") + f"[1, 2, 3, {big}]]}}"
        status, body = srv.request("/predict", text.encode(), method="POST")
        assert status == 400, body
        assert "4300 digits" in body["error"] and "number" in body["error"]
        assert srv.request("/health")[0] == 200


MALFORMED = [
    (b'{"instances": [[1, 2, 3, NaN]]}', 400, "finite"),
    (b'{"inputs": [[1, 2, 3, Infinity]]}', 400, "finite"),
    ({"instances": {"a": [1, 2, 3, 4]}}, 400, "list of examples"),
    ({"instances": [[[[1, 2, 3, 4]]]]}, 400, "shape (4,)"),
    ({"inputs": [1, 2, 3, 4]}, 400, "shape (4,)"),
    ({"instances": [[1, 2, 3, [4]]]}, 400, "instances"),
    ({"instances": [[1, 2, 3, "4"]]}, 400, "got a string"),
    ({"instances": [[1, 2, 3, {"b64": "AA=="}]]}, 400, "b64"),
    ({"instances": [[1, 2, 3, 2**64]]}, 400, "too large"),
    ({"instances": [[1, 2, 3, -(2**63) - 1]]}, 400, "too large"),
    ({"instances": [[1e308, 1, 2, -1e308]]}, 400, "range of float32"),
    ({"instances": [[0.5] * 4] * 11}, 413, "at most 10"),
    ({"inputs": [[0.5] * 4] * 11}, 413, "at most 10"),
    ({"instances": [[0.5] * 100_000]}, 400, "shape (4,)"),
    (b'{"instances": [[1, 2, 3, 4]], "instances": 5}', 400, "list of examples"),  # duplicate keys: the last wins
    (b'{"instances": [[1, 2, 3, 4]]} trailing', 400, "not valid JSON"),
    (b'{"instances": [[1, 2, 3, 4]]', 400, "not valid JSON"),
    (("[" * 5000 + "]" * 5000).encode(), 400, "nested too deeply"),
]


@pytest.mark.parametrize("body, status, message", MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_bodies_get_a_4xx_json_error(model, body, status, message):
    with _Server(create_app(model, max_instances=10)) as srv:
        got_status, got = srv.request("/predict", body, method="POST")
        assert got_status == status, got
        assert message in got["error"]


def test_loads_json_reads_what_json_loads_reads():
    docs = [
        '{"instances": [[1, 2.5, -3e4, 4]], "signature_name": "serving_default"}',
        ' \n{ "inputs" : { "a" : [ [1] , [2] ] , "b" : [] } , "x" : {"y": [[{"z": [1]}]]} } \t',
        '{"instances": [NaN, Infinity, -Infinity, true, false, null, "s\\u00e9", {"b64": "AA=="}]}',
        '{"a": 1, "a": [2]}',
        "[[1, 2], [3, [4, [5]]], {}]",
        '"just a string"',
        "12",
    ]
    for doc in docs:
        got, want = loads_json(doc), json.loads(doc)
        assert json.dumps(got, allow_nan=True) == json.dumps(want, allow_nan=True)
    for bad in ['{"a": [1, 2,]}', '{"a" 1}', '{"a": [1 2]}', "{'a': 1}", '{"a": 1} x', "", "[", '{"a": [1], }']:
        with pytest.raises(json.JSONDecodeError) as got:
            loads_json(bad)
        with pytest.raises(json.JSONDecodeError) as want:
            json.loads(bad)
        assert (got.value.msg, got.value.pos) == (want.value.msg, want.value.pos), bad


def test_instance_limit_stops_reading_a_large_body_early():
    """Over max_instances the reader stops: the broken tail of this body is never reached (413, not 400)."""
    text = '{"instances": [' + "[1, 2, 3, 4]," * 200_000 + "not json at all"
    assert len(text) > SMALL_BODY_BYTES
    with pytest.raises(RequestError) as err:
        parse_body(text.encode(), max_instances=1000)
    assert err.value.status == 413 and "more than 1000" in err.value.message
    with pytest.raises(RequestError) as err:  # without the limit the whole body is read: invalid JSON
        parse_body(text.encode())
    assert err.value.status == 400


def test_request_error_is_a_payload_error_and_pickles():
    err = RequestError(413, "too big", {"Connection": "close"})
    assert isinstance(err, PayloadError) and isinstance(err, ValueError)
    back = pickle.loads(pickle.dumps(err))
    assert (back.status, back.message, back.headers) == (413, "too big", {"Connection": "close"})


# ---------------------------------------------------------------- concurrency, timeouts, disconnects


def test_requests_beyond_max_concurrent_get_503_and_the_others_finish(model):
    with _Server(create_app(model, max_concurrent=2, body_timeout_s=20)) as srv:
        body = _body(3)
        held = [srv.start_post(body, len(body) // 2) for _ in range(2)]  # two requests in flight, bodies unfinished
        assert _wait_for(lambda: srv.request("/health")[1]["in_flight"] == 2)
        status, answer = srv.request("/predict", body, method="POST")
        assert status == 503 and "max_concurrent" in answer["error"] and "--max-concurrent" in answer["error"]
        third = srv.start_post(body, len(body))
        status, headers, answer = _answer(third)
        assert status == 503 and headers["retry-after"] == "1"
        assert srv.request("/health")[0] == 200  # /health is not counted
        for conn in held:
            conn.send(body[len(body) // 2 :])
            status, _, answer = _answer(conn)
            assert status == 200 and len(answer["predictions"]) == 3
        assert srv.request("/predict", body, method="POST")[0] == 200  # slots were given back


def test_slow_body_gets_408_after_body_timeout(model):
    with _Server(create_app(model, body_timeout_s=0.5)) as srv:
        body = _body(2)
        start = time.perf_counter()
        conn = srv.start_post(body, 10)
        status, headers, answer = _answer(conn)
        elapsed = time.perf_counter() - start
        assert status == 408 and "within 0.5 s" in answer["error"] and "--body-timeout" in answer["error"]
        assert headers.get("connection") == "close"
        assert 0.4 < elapsed < 5.0
        assert srv.request("/predict", body, method="POST")[0] == 200


def test_header_timeout_closes_a_connection_that_never_finishes_its_head(model):
    with _Server(create_app(model), http=header_timeout_protocol(0.5)) as srv:
        silent = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        dribbling = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        dribbling.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        start = time.perf_counter()
        assert dribbling.recv(1024) == b""  # closed by the server
        assert silent.recv(1024) == b""
        assert time.perf_counter() - start < 5.0
        silent.close()
        dribbling.close()
        assert srv.request("/predict", _body(2), method="POST")[0] == 200  # complete requests are untouched
        # a slow body is not a slow head: the head timer stops once the head is in
        conn = srv.start_post(_body(2), 5)
        time.sleep(1.0)
        conn.send(_body(2)[5:])
        assert _answer(conn)[0] == 200


def test_oversized_request_head_is_refused(model):
    options = uvicorn_options(max_header_bytes=2048, header_timeout_s=5)
    with _Server(create_app(model), http=options["http"], h11_max_incomplete_event_size=2048) as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        # h11 checks the size of a head still incomplete: one over the limit is refused before it ends
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 4096)
        answer = sock.recv(4096)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 400")
        assert srv.request("/health")[0] == 200


def test_serve_options_are_checked():
    options = uvicorn_options(header_timeout_s=3, keep_alive_timeout_s=2, max_header_bytes=8192)
    assert options["timeout_keep_alive"] == 2 and options["h11_max_incomplete_event_size"] == 8192
    assert options["http"].__name__ == "HeaderTimeoutH11Protocol"
    for bad in ({"header_timeout_s": 0}, {"keep_alive_timeout_s": float("inf")}, {"max_header_bytes": 10}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            uvicorn_options(**bad)
    for bad in ({"max_instances": 0}, {"max_concurrent": 1.5}, {"body_timeout_s": -1}, {"max_body_bytes": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            create_app(ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)]), **bad)


def test_client_disconnect_is_one_quiet_log_line(model, caplog):
    caplog.set_level(logging.INFO)
    with _Server(create_app(model)) as srv:
        body = _body(50)
        for _ in range(3):
            conn = srv.start_post(body, 100)
            conn.sock.shutdown(socket.SHUT_RDWR)
            conn.close()
        assert _wait_for(lambda: sum("disconnected" in r.getMessage() for r in caplog.records) >= 3)
        assert srv.request("/health")[0] == 200
    ours = [r for r in caplog.records if r.name == "ember.serving"]
    assert len(ours) == 3 and all("disconnected during POST /predict" in r.getMessage() for r in ours)
    assert all("\n" not in r.getMessage() for r in ours)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]  # no traceback anywhere


@pytest.mark.slow
def test_health_answers_while_a_large_request_is_read_and_parsed(model):
    """A 12 MiB body sent slowly and then parsed: /health keeps answering during the parse (0.06-0.28 s seen on a
    quiet machine), never waiting for it."""
    n = 300_000
    x = np.random.default_rng(1).normal(size=(n, 4)).round(5)
    body = json.dumps({"instances": x.tolist()}).encode()
    app = create_app(model, max_instances=n, max_body_bytes=len(body) + 1, max_batch_size=4096)
    with _Server(app, log_level="warning") as srv:
        result = {}

        def send():
            conn = srv.start_post(body, 0)
            for i in range(0, len(body), 1 << 20):
                conn.send(body[i : i + (1 << 20)])
                time.sleep(0.02)
            result["sent"] = time.perf_counter()
            resp = conn.getresponse()
            result["answer"] = resp.status, resp.read()  # parsed after the polling: json.loads holds the GIL
            result["done"] = time.perf_counter()

        sender = threading.Thread(target=send)
        sender.start()
        latencies = []  # (when asked, seconds to answer)
        while sender.is_alive():
            start = time.perf_counter()
            assert srv.request("/health", timeout=10)[0] == 200
            latencies.append((start, time.perf_counter() - start))
            time.sleep(0.02)
        sender.join()
        status, raw = result["answer"]
        answer = json.loads(raw)
        assert status == 200 and len(answer["predictions"]) == n
        np.testing.assert_allclose(
            answer["predictions"][-5:], model.predict(x[-5:].astype("float32"), verbose=0), rtol=1e-5, atol=1e-6
        )
        during_parse = [dt for t, dt in latencies if result["sent"] <= t <= result["done"]]
        assert len(during_parse) >= 3, "the body was parsed too fast to overlap any /health"
        # were the body parsed on the event loop, one /health would wait for the whole parse; compare with that
        # duration rather than a wall-clock bound, which a busy machine stretches for both alike
        parse = result["done"] - result["sent"]
        slowest = max(dt for _, dt in latencies)
        assert slowest < 0.5 * parse, (slowest, parse, sorted(dt for _, dt in latencies)[-5:])


def test_ember_serve_flags_reach_serve(tmp_path, monkeypatch):
    import ember.serving
    from ember.tools.cli import main

    path = str(tmp_path / "m.keras")
    ember.Sequential([ember.Input((2,)), ember.layers.Dense(1)]).save(path)
    calls = []
    monkeypatch.setattr(ember.serving, "serve", lambda *a, **kw: calls.append((a, kw)))
    flags = ["--batch-size", "8", "--max-request-bytes", "1000", "--max-instances", "5", "--max-concurrent", "3"]
    flags += ["--body-timeout", "2.5", "--header-timeout", "4", "--keep-alive-timeout", "1", "--allow-nonfinite"]
    flags += ["--max-header-bytes", "4096", "--batch-timeout-ms", "0.5"]
    assert main(["serve", path, *flags]) == 0
    ((args, kwargs),) = calls
    assert args == (path,)
    assert kwargs == {
        "host": "127.0.0.1",
        "port": 8000,
        "max_batch_size": 8,
        "batch_timeout_ms": 0.5,
        "max_body_bytes": 1000,
        "max_instances": 5,
        "max_concurrent": 3,
        "body_timeout_s": 2.5,
        "header_timeout_s": 4.0,
        "keep_alive_timeout_s": 1.0,
        "max_header_bytes": 4096,
        "allow_nonfinite": True,
    }
    assert main(["serve", path]) == 0  # defaults: ember.serving.limits
    from ember.serving.limits import SERVE_DEFAULTS

    assert {k: calls[1][1][k] for k in SERVE_DEFAULTS} == SERVE_DEFAULTS
    for bad in (["--max-instances", "0"], ["--body-timeout", "-1"], ["--batch-size", "8.5"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["serve", path, *bad])
        assert exit_info.value.code == 2


@pytest.mark.slow
def test_four_16_mib_requests_with_default_limits_are_refused_quickly(model):
    """The issue's probe (4 x 16 MiB of instances at once: 1.46 GB, 107 s): refused over max_instances, fast."""
    x = np.random.default_rng(2).normal(size=(420_000, 4)).round(6)
    body = json.dumps({"instances": x.tolist()}, separators=(",", ":")).encode()
    body = body[: 16 * 2**20 - 100]
    body = body[: body.rindex(b"],[")] + b"]]}"  # valid JSON just under the default 16 MiB limit
    with _Server(create_app(model), log_level="warning") as srv:
        answers = []

        def post():
            conn = srv.start_post(body, len(body))
            answers.append(_answer(conn))

        start = time.perf_counter()
        threads = [threading.Thread(target=post) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        assert [a[0] for a in answers] == [413] * 4
        assert all("at most 8192" in a[2]["error"] for a in answers)
        assert elapsed < 20.0, elapsed
