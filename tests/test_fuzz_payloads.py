"""Fuzzing the server's payloads and the CSV reader with hypothesis (issue 13).

Properties:

- any body POSTed to ``/predict`` (TensorFlow Serving's ``instances``/``inputs`` forms, nested lists, numbers of
  every kind: huge integers, NaN and infinities, booleans, strings, ``null``, broken JSON) is answered 2xx, or 4xx
  with a JSON ``{"error": ...}``, within a time budget; never a 500;
- the piecewise JSON reader the server uses for large bodies reads exactly what ``json.loads`` reads, and fails
  where it fails, with the same message and position;
- any CSV file (random header width, rows with too few or too many fields, blank lines, text, quotes, empty fields)
  reads into the rows it holds, or raises ``DataError``; a row with the wrong number of fields always raises.

The app is driven in-process through ASGI (no sockets), so each example costs milliseconds; the example counts
keep the file under ~30 s on a loaded 2-core machine.
"""

import asyncio
import csv
import io
import json
import re
import time

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="the fuzz tests draw their inputs with hypothesis")
pytest.importorskip("starlette", reason="the model server runs on Starlette")
pytest.importorskip("pandas", reason="from_csv needs the data extra")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember  # noqa: E402
from ember.data import Dataset  # noqa: E402
from ember.errors import DataError  # noqa: E402
from ember.serving import create_app  # noqa: E402
from ember.serving.payload import loads_json  # noqa: E402

TIME_BUDGET_S = 5.0  # per request or file, generous for a loaded machine; typical is a few ms
FUZZ = settings(
    max_examples=150,
    deadline=None,  # the time budget is asserted per example instead (the first call pays for the model's trace)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples on every run: CI stays reproducible
)


# ---------------------------------------------------------------- an ASGI driver


class _Asgi:
    """POSTs bodies to an ASGI app on one event loop; returns (status, parsed JSON body)."""

    def __init__(self, app):
        self.app = app
        self.loop = asyncio.new_event_loop()

    def post(self, body: bytes, path="/predict"):
        return self.loop.run_until_complete(self._post(body, path))

    async def _post(self, body, path):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        sent = []
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if pending:
                return pending.pop()
            await asyncio.sleep(3600)  # the app never waits for a disconnect here

        async def send(message):
            sent.append(message)

        await self.app(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, json.loads(data)

    def close(self):
        async def drain():  # cancel the batcher's worker task and let the cancellation run
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.loop.run_until_complete(drain())
        self.app.state.batcher.close()
        self.loop.close()


def _apps():
    ember.random.seed(5)
    dense = ember.Sequential([ember.Input((4,)), ember.layers.Dense(2)], name="dense")
    ids = ember.Sequential(
        [ember.Input((3,), dtype="int32"), ember.layers.Embedding(10, 2), ember.layers.Flatten()], name="ids"
    )
    a, b = ember.Input((2,), name="a"), ember.Input((1,), name="b")
    both = ember.Model([a, b], ember.layers.Dense(1, name="y")(ember.layers.Concatenate()([a, b])), name="two")
    limits = {"max_instances": 64, "max_body_bytes": 64 * 1024}
    return {name: _Asgi(create_app(m, **limits)) for name, m in (("dense", dense), ("ids", ids), ("two", both))}


@pytest.fixture(scope="module")
def apps():
    made = _apps()
    yield made
    for driver in made.values():
        driver.close()


# ---------------------------------------------------------------- JSON text of every kind

_PLAIN_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 9).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-10, 10).map(repr),
)
_ODD_NUMBERS = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-400", "-0", "0.0", "2147483648", "1.5", "-1"]
    + ["9" * 5000, "-" + "1" * 4301]  # past Python's 4300-digit guard
)
_NUMBER_TOKENS = st.one_of(_PLAIN_NUMBERS, _PLAIN_NUMBERS, _PLAIN_NUMBERS, _ODD_NUMBERS)
_OTHER_TOKENS = st.sampled_from(['"a"', '""', "true", "false", "null", '{"b64": "AAAA"}', "{}", "[]"])
_LEAF = st.one_of(_NUMBER_TOKENS, _NUMBER_TOKENS, _NUMBER_TOKENS, _OTHER_TOKENS)
_KEYS = st.sampled_from(['"a"', '"b"', '"instances"', '"inputs"', '"signature_name"', '"x"'])


def _array(items):
    return "[" + ",".join(items) + "]"


def _object(pairs):
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6).map(_array),
        st.lists(st.tuples(_KEYS, inner), max_size=3).map(_object),
    ),
    max_leaves=40,
)
# well-formed examples: rows of the right width, so the model runs on some of them
_ROWS = st.sampled_from([1, 2, 3, 3, 4, 4, 4, 5]).flatmap(
    lambda n: st.lists(st.lists(_NUMBER_TOKENS, min_size=n, max_size=n).map(_array), min_size=1, max_size=8)
)
_FORM = st.sampled_from(['"instances"', '"inputs"'])
_PAYLOAD = st.one_of(
    st.tuples(_FORM, _ROWS.map(_array)).map(lambda kv: _object([kv])),
    st.tuples(_FORM, st.one_of(_ROWS.map(_array), _VALUE)).map(lambda kv: _object([kv])),
    st.lists(st.tuples(_KEYS, _VALUE), max_size=3).map(_object),
    _VALUE,
)


@st.composite
def _mutated(draw, texts):
    """A JSON text, sometimes cut short or with a character replaced, inserted or dropped."""
    text = draw(texts)
    how = draw(st.sampled_from(["keep", "keep", "cut", "replace", "insert", "drop"]))
    if how == "keep" or not text:
        return text
    i = draw(st.integers(0, len(text) - 1))
    c = draw(st.sampled_from(list('[]{},:"0123456789.eE+-ntfa \\')))
    return {"cut": text[:i], "replace": text[:i] + c + text[i + 1 :], "insert": text[:i] + c + text[i:]}.get(
        how, text[:i] + text[i + 1 :]
    )


def _check_answer(status, body, elapsed):
    assert elapsed < TIME_BUDGET_S, f"answered in {elapsed:.1f} s"
    assert 200 <= status < 300 or 400 <= status < 500, (status, body)
    if status >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    else:
        assert set(body) <= {"predictions", "outputs"} and len(body) == 1, body


@FUZZ
@given(text=_mutated(_PAYLOAD), model=st.sampled_from(["dense", "ids", "two"]))
@pytest.mark.slow
def test_any_body_is_answered_2xx_or_4xx_json(apps, text, model):
    start = time.perf_counter()
    status, body = apps[model].post(text.encode("utf-8"))
    _check_answer(status, body, time.perf_counter() - start)


@settings(FUZZ, max_examples=60)
@given(raw=st.binary(max_size=200))
def test_any_bytes_are_answered_2xx_or_4xx_json(apps, raw):
    start = time.perf_counter()
    status, body = apps["dense"].post(raw)
    _check_answer(status, body, time.perf_counter() - start)
    assert status != 200 or raw.strip().startswith(b"{")


@settings(FUZZ, max_examples=300)
@given(text=_mutated(_PAYLOAD))
@pytest.mark.slow
def test_piecewise_reader_equals_json_loads(text):
    try:
        want = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        with pytest.raises(type(e)) as got:
            loads_json(text)
        if isinstance(e, json.JSONDecodeError):
            assert (got.value.msg, got.value.pos) == (e.msg, e.pos)
        return
    except ValueError:  # the 4300-digit guard: the same ValueError from the piecewise reader
        with pytest.raises(ValueError, match="digits"):
            loads_json(text)
        return
    got = loads_json(text)
    assert json.dumps(got, allow_nan=True, sort_keys=True) == json.dumps(want, allow_nan=True, sort_keys=True)


# ---------------------------------------------------------------- CSV files

_FIELD = st.sampled_from(["1", "2.5", "-3e5", "0", "", "x", "nan", " 4 ", '"1,2"', '"7"', "1e999", "10"])


@st.composite
def _csv_file(draw):
    width = draw(st.integers(1, 4))
    header = ",".join(f"c{i}" for i in range(width))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "ok", "short", "long", "blank"]))
        n = {"ok": width, "short": max(width - 1, 1), "long": width + draw(st.integers(1, 2)), "blank": 0}[kind]
        rows.append(",".join(draw(st.lists(_FIELD, min_size=n, max_size=n))))
    return header + "\n" + "".join(r + "\n" for r in rows), width


def _field_counts(text):
    records = list(csv.reader(io.StringIO(text)))
    return [len(r) for r in records[1:]], records[1:]


@settings(FUZZ, max_examples=200)
@given(spec=_csv_file(), chunksize=st.sampled_from([1, 3, 100]), with_label=st.booleans())
@pytest.mark.slow
def test_any_csv_reads_its_rows_or_raises_data_error(tmp_path_factory, spec, chunksize, with_label):
    text, width = spec
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(text)
    counts, records = _field_counts(text)
    label = f"c{width - 1}" if with_label and width > 1 else None
    start = time.perf_counter()
    try:
        parts = list(Dataset.from_csv(path, label=label, chunksize=chunksize).batch(1000))
    except DataError as e:
        assert time.perf_counter() - start < TIME_BUDGET_S
        assert str(path) in str(e)
        return
    assert time.perf_counter() - start < TIME_BUDGET_S
    # it read: every row had the header's field count, and the values are the fields' numbers, in order
    assert counts == [width] * len(counts), (counts, text)
    x = np.concatenate([p[0] if label else p for p in parts]) if parts else np.zeros((0, width))
    assert len(x) == len(records)
    features = [[float(f) for f in r[: width - 1 if label else width]] for r in records]
    np.testing.assert_array_equal(x, np.asarray(features, dtype=np.float32).reshape(x.shape))
    if label and parts:
        y = np.concatenate([p[1] for p in parts])
        np.testing.assert_array_equal(y, np.asarray([float(r[-1]) for r in records]).astype(y.dtype))


@settings(FUZZ, max_examples=100)
@given(spec=_csv_file())
def test_a_row_with_the_wrong_field_count_always_raises(tmp_path_factory, spec):
    text, width = spec
    counts, _ = _field_counts(text)
    bad = [i for i, n in enumerate(counts) if n != width]
    hypothesis.assume(bad)
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        list(Dataset.from_csv(path, chunksize=2))
    # the first problem is reported: the bad row itself, or a bad value on a line before it
    line = int(re.search(r"line (\d+) of .*f\.csv", str(err.value)).group(1))
    assert line <= bad[0] + 2, (str(err.value), text)
    if line == bad[0] + 2 and "fields" not in str(err.value):
        assert "is blank" in str(err.value) or counts[bad[0]] == width - 1 and "missing" in str(err.value)
