"""Reading TensorFlow Serving's JSON requests into arrays, and writing the responses.

Two request forms are accepted, as TensorFlow Serving's REST API defines them:

- row form: ``{"instances": [instance, ...]}``. With one model input each
  instance is that input's value for one example (a number or nested list); with
  several inputs each instance is an object ``{"<input name>": value, ...}``.
  Answered with ``{"predictions": [...]}``: one entry per instance, the output's
  value, or ``{"<output name>": value, ...}`` when the model has several outputs.
- columnar form: ``{"inputs": batch}`` or ``{"inputs": {"<input name>": batch, ...}}``,
  each batch a nested list whose first axis is the examples. Answered with
  ``{"outputs": batch}`` or ``{"outputs": {"<output name>": batch, ...}}``.

An optional ``"signature_name"`` string is accepted and ignored (a model has
one signature). Values must be JSON numbers (booleans for bool inputs); strings,
``null``, TensorFlow Serving's ``{"b64": ...}`` binary values, ragged lists and
numbers that do not fit the input's dtype are refused with a 400.
``NaN``/``Infinity``/``-Infinity`` tokens (which Python's and TensorFlow Serving's
JSON readers accept) are refused unless the server allows non-finite inputs;
non-finite outputs are written as those same tokens, as TensorFlow Serving does.
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
import threading

import numpy as np  # host-side: request parsing and response encoding

from .errors import RequestError
from .signature import ModelSignature, TensorSpec

ROW_KEY = "instances"
COLUMN_KEY = "inputs"


def _describe(value) -> str:
    text = json.dumps(value, allow_nan=True) if not isinstance(value, (bytes, bytearray)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_bad_leaf(value, path="", want_bool=False):
    """The first leaf of a nested list that is not a JSON number (or bool), as ``(path, leaf)``; None if all are."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _first_bad_leaf(item, f"{path}[{i}]", want_bool)
            if found is not None:
                return found
        return None
    if isinstance(value, bool):
        return None if want_bool else (path, value)
    if isinstance(value, float) and not want_bool:
        return None
    if isinstance(value, int) and not want_bool and -(2**63) <= value < 2**64:
        return None
    return (path, value)


def _short_path(path: str) -> str:
    """A place like ``[0][3][0]...`` kept readable in a message (deeply nested bodies make long ones)."""
    return path if len(path) <= 120 else f"{path[:60]}...{path[-40:]}"


def _kind_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a binary {'b64': ...} value" if "b64" in value else "an object"
    if isinstance(value, int):
        return "an integer too large for any dtype"
    return type(value).__name__


def to_array(value, spec: TensorSpec, where: str, allow_nonfinite: bool, check_leaves: bool = True) -> np.ndarray:
    """``value`` (a list of examples) as an array of ``spec.dtype``, checked against ``spec``.

    Args:
        value: a JSON list whose first axis is the examples.
        spec: the model input it is for.
        where: the request's place for messages (``"instances"``, ``"inputs['a']"``).
        allow_nonfinite: accept NaN and infinities.
        check_leaves: look at every value for booleans mixed with numbers
            (which NumPy would read as 0/1); skipped when the body has none.

    Returns:
        An array of shape ``(examples,) + instance shape`` and dtype ``spec.dtype``.

    Raises:
        RequestError: 400 with what was expected and what came.
    """
    dtype = np.dtype(spec.dtype)
    want_bool = dtype.kind == "b"
    expected = "booleans" if want_bool else f"numbers ({dtype.name})"
    if not isinstance(value, list) or not value:
        raise RequestError(400, f"{where}: expected a non-empty list of examples, got {_describe(value)}")
    try:
        raw = np.array(value)
    except (ValueError, OverflowError, TypeError):
        bad = _first_bad_leaf(value, want_bool=want_bool)
        if bad is not None:
            raise RequestError(
                400,
                f"{where}{_short_path(bad[0])}: expected {expected} for input '{spec.name}', got {_kind_name(bad[1])}",
            ) from None
        raise RequestError(
            400,
            f"{where}: the examples are ragged (nested lists of different lengths); expected each to have shape "
            f"{_shape_text(spec.instance_shape)} for input '{spec.name}'",
        ) from None
    kind = raw.dtype.kind
    if kind not in "biuf" or (kind == "b") != want_bool or (check_leaves and kind in "iuf"):
        bad = _first_bad_leaf(value, want_bool=want_bool)
    else:
        bad = None
    if kind not in "biuf" or (kind == "b") != want_bool or bad is not None:
        if bad is None:  # e.g. numbers mixed with booleans
            raise RequestError(
                400, f"{where}: expected {expected} for input '{spec.name}', got {raw.dtype.name} values"
            )
        raise RequestError(
            400, f"{where}{_short_path(bad[0])}: expected {expected} for input '{spec.name}', got {_kind_name(bad[1])}"
        )
    if kind == "f" and not allow_nonfinite and not np.all(np.isfinite(raw)):
        index = np.argwhere(~np.isfinite(raw))[0]
        raise RequestError(
            400,
            f"{where}{''.join(f'[{i}]' for i in index)}: expected finite numbers for input '{spec.name}', got "
            f"{float(raw[tuple(index)])!r} (NaN and infinities are refused by this server; start it with "
            "allow_nonfinite=True to accept them)",
        )
    if dtype.kind in "iu" and kind == "f":
        finite = np.isfinite(raw)
        if not np.all(raw[finite] == np.floor(raw[finite])) or not np.all(finite):
            index = np.argwhere(~finite | (np.where(finite, raw, 0) != np.floor(np.where(finite, raw, 0))))[0]
            raise RequestError(
                400,
                f"{where}{''.join(f'[{i}]' for i in index)}: expected integers ({dtype.name}) for input "
                f"'{spec.name}', got {float(raw[tuple(index)])!r}",
            )
    if dtype.kind in "iu" and raw.size:
        info = np.iinfo(dtype)
        if raw.min() < info.min or raw.max() > info.max:
            raise RequestError(
                400,
                f"{where}: expected integers in [{info.min}, {info.max}] ({dtype.name}) for input '{spec.name}', "
                f"got values in [{raw.min()}, {raw.max()}]",
            )
    with np.errstate(over="ignore", invalid="ignore"):
        arr = raw.astype(dtype)
    if dtype.kind == "f" and kind in "iuf" and not np.array_equal(np.isfinite(arr), np.isfinite(raw)):
        raise RequestError(
            400,
            f"{where}: values out of the range of {dtype.name} for input '{spec.name}' "
            f"(largest: {float(np.abs(raw).max())!r})",
        )
    return _check_shape(arr, spec, where)


def _shape_text(shape) -> str:
    if shape is None:
        return "any"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_shape(arr: np.ndarray, spec: TensorSpec, where: str) -> np.ndarray:
    expected = spec.instance_shape
    if expected is None:
        return arr
    got = arr.shape[1:]
    if expected == (1,) and got == ():  # scalars for a (None, 1) input, as models accept (batch,) data
        return arr.reshape(-1, 1)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        raise RequestError(
            400,
            f"{where}: expected each example of input '{spec.name}' to have shape {_shape_text(expected)} "
            f"(model input shape {_shape_text(spec.shape)}), got {len(arr)} example(s) of shape {_shape_text(got)}",
        )
    return arr


# Bodies up to this size are parsed by one json.loads call; larger ones example by example (loads_json).
SMALL_BODY_BYTES = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()  # Python's reader: NaN/Infinity tokens are read (and checked later)


class _TooManyItemsError(Exception):
    def __init__(self, key, limit):
        super().__init__(key, limit)
        self.key, self.limit = key, limit


def loads_json(text: str, max_items=None):
    """``json.loads(text)``, read in pieces so a parse of a large body shares the interpreter.

    ``json.loads`` is one C call that holds the GIL from start to end: in a worker thread it still
    stops the event loop (``/health``) for the whole parse (0.5 s for 16 MiB). Here the top-level
    object, the example lists under its keys (``"instances": [...]``, ``"inputs": [...]`` or
    ``"inputs": {"a": [...]}``) and the object under ``"inputs"`` are walked in Python, and each example
    is one ``raw_decode`` call, so other threads run between examples. The result equals ``json.loads``'s
    (same errors, positions, duplicate-key and NaN rules).

    Args:
        text: the JSON document.
        max_items: the most elements an example list may hold; reading stops at the first one over
            (``_TooManyItemsError``), before the rest of the body is parsed.
    """
    value, end = _value(text, 0, 0, False, None, max_items)
    end = _WS.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _value(s, i, depth, parent_is_object, key, max_items):
    i = _WS.match(s, i).end()
    c = s[i : i + 1]
    if c == "[" and (depth < 2 or parent_is_object):
        return _array(s, i, depth, parent_is_object, key, max_items)
    if c == "{" and depth < 2:
        return _object(s, i, depth, max_items)
    try:
        return _DECODER.raw_decode(s, i)
    except StopIteration as e:  # raw_decode's own signal for "no value here"
        raise json.JSONDecodeError("Expecting value", s, e.value) from None


def _array(s, i, depth, parent_is_object, key, max_items):
    out = []
    i = _WS.match(s, i + 1).end()
    if s[i : i + 1] == "]":
        return out, i + 1
    limit = max_items if parent_is_object else None
    while True:
        item, i = _value(s, i, depth + 1, False, None, max_items)
        out.append(item)
        if limit is not None and len(out) > limit:
            raise _TooManyItemsError(key, limit)
        i = _WS.match(s, i).end()
        c = s[i : i + 1]
        if c == ",":
            i += 1
        elif c == "]":
            return out, i + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", s, i)


def _object(s, i, depth, max_items):
    out = {}
    i = _WS.match(s, i + 1).end()
    if s[i : i + 1] == "}":
        return out, i + 1
    while True:
        i = _WS.match(s, i).end()
        if s[i : i + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", s, i)
        name, i = _DECODER.raw_decode(s, i)
        i = _WS.match(s, i).end()
        if s[i : i + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", s, i)
        out[name], i = _value(s, i + 1, depth + 1, True, name, max_items)
        i = _WS.match(s, i).end()
        c = s[i : i + 1]
        if c == ",":
            i += 1
        elif c == "}":
            return out, i + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", s, i)


_gc_lock = threading.Lock()
_gc_holders = [0, False]  # threads inside gc_paused(), and whether the first of them switched the collector off


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off while a large body is read (shared by concurrent readers).

    Reading 16 MiB of JSON makes millions of lists and floats; each full collection the allocations
    trigger walks all of them with the GIL held (~0.1 s each), which stalls the event loop as the parse
    itself would. Parsed JSON holds no reference cycles, so nothing is left uncollected; the collector is
    switched back on (if it was on) when the last reader leaves.
    """
    with _gc_lock:
        if _gc_holders[0] == 0:
            _gc_holders[1] = gc.isenabled()
            gc.disable()
        _gc_holders[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders[0] -= 1
            if _gc_holders[0] == 0 and _gc_holders[1]:
                gc.enable()


def _too_many(count_text: str, limit: int, key) -> RequestError:
    where = f'"{key}"' if key is not None else "the request"
    return RequestError(
        413,
        f"{where} holds {count_text} examples; this server accepts at most {limit} per request "
        "(max_instances, `ember serve --max-instances`); split the request",
    )


def parse_body(body: bytes, max_instances=None):
    """The request body as a JSON object.

    Args:
        body: the raw body.
        max_instances: the most examples an example list may hold (None: no limit); a body over it
            is refused while it is read, before the rest is parsed.

    Raises:
        RequestError: 400 when it is not UTF-8, not JSON (or JSON Python cannot read: nested too
        deeply, an integer of more than 4300 digits), or not an object; 413 over ``max_instances``.
    """
    if not body:
        raise RequestError(400, 'request body is empty; expected JSON such as {"instances": [...]}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"request body is not UTF-8 text: {exc}") from None
    try:
        if len(body) <= SMALL_BODY_BYTES:
            payload = json.loads(text)
        else:
            payload = loads_json(text, max_instances)
    except json.JSONDecodeError as exc:
        raise RequestError(
            400, f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise RequestError(400, "request body is JSON nested too deeply to read") from None
    except _TooManyItemsError as exc:
        raise _too_many(f"more than {exc.limit}", exc.limit, exc.key) from None
    except ValueError as exc:  # Python's int-size guard: "Exceeds the limit (4300 digits) ..."
        raise RequestError(
            400,
            "request body holds a number Python will not read "
            f"({str(exc).split(';')[0]}); expected numbers that fit the model's dtypes",
        ) from None
    if not isinstance(payload, dict):
        raise RequestError(
            400,
            f'expected a JSON object with an "instances" or "inputs" key, '
            f"got {type(payload).__name__} {_describe(payload)}",
        )
    return payload


def read_request(
    payload: dict,
    signature: ModelSignature,
    allow_nonfinite: bool = False,
    has_booleans: bool = True,
    max_instances=None,
):
    """The model inputs a TensorFlow Serving request asks for.

    Args:
        payload: the request's JSON object.
        signature: the served model's signature.
        allow_nonfinite: accept NaN and infinities in the inputs.
        has_booleans: whether the body may hold ``true``/``false`` (when it
            cannot, the per-value check for booleans among numbers is skipped).
        max_instances: the most examples one request may hold (None: no limit).

    Returns:
        ``(arrays, form)``: one array per model input (in the model's order, the
        examples first), and ``"instances"`` or ``"inputs"``, the form used.

    Raises:
        RequestError: 400 with what was expected and what came; 413 over ``max_instances``.
    """
    keys = set(payload)
    unknown = sorted(keys - {ROW_KEY, COLUMN_KEY, "signature_name"})
    if unknown:
        raise RequestError(
            400,
            f"unexpected key(s) {unknown} in the request; "
            'expected "instances" or "inputs" (and optionally "signature_name")',
        )
    if (ROW_KEY in keys) == (COLUMN_KEY in keys):
        raise RequestError(
            400,
            'expected exactly one of "instances" (row form) or "inputs" (columnar form), got '
            + ("both" if ROW_KEY in keys else f"keys {sorted(keys)}"),
        )
    name = payload.get("signature_name", "serving_default")
    if not isinstance(name, str):
        raise RequestError(400, f'"signature_name": expected a string, got {_describe(name)}')
    names = [spec.name for spec in signature.inputs]
    if ROW_KEY in payload:
        columns = _row_columns(payload[ROW_KEY], names)
        where = [ROW_KEY if len(names) == 1 else f"{ROW_KEY}[*]['{n}']" for n in names]
        form = ROW_KEY
    else:
        columns = _columnar(payload[COLUMN_KEY], names)
        where = [COLUMN_KEY if len(names) == 1 else f"{COLUMN_KEY}['{n}']" for n in names]
        form = COLUMN_KEY
    if max_instances is not None:
        for col, w in zip(columns, where):
            if isinstance(col, list) and len(col) > max_instances:
                raise _too_many(str(len(col)), max_instances, w)
    arrays = [
        to_array(col, spec, w, allow_nonfinite, has_booleans) for col, spec, w in zip(columns, signature.inputs, where)
    ]
    sizes = {len(a) for a in arrays}
    if len(sizes) > 1:
        raise RequestError(
            400,
            f"{COLUMN_KEY}: expected the same number of examples for every input, got "
            + ", ".join(f"{n}: {len(a)}" for n, a in zip(names, arrays)),
        )
    return arrays, form


def _row_columns(instances, names: list) -> list:
    if not isinstance(instances, list):
        raise RequestError(400, f'"{ROW_KEY}": expected a list of examples, got {_describe(instances)}')
    if not instances:
        raise RequestError(400, f'"{ROW_KEY}" is empty; expected at least one example')
    named = isinstance(instances[0], dict) and "b64" not in instances[0]
    if len(names) == 1 and not named:
        return [instances]
    columns = [[] for _ in names]
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict) or "b64" in instance:
            raise RequestError(
                400,
                f"{ROW_KEY}[{i}]: expected an object with keys {names} (one per model input), "
                f"got {_describe(instance)}",
            )
        if set(instance) != set(names):
            raise RequestError(
                400, f"{ROW_KEY}[{i}]: expected keys {names} (the model's inputs), got keys {sorted(instance)}"
            )
        for column, n in zip(columns, names):
            column.append(instance[n])
    return columns


def _columnar(inputs, names: list) -> list:
    if isinstance(inputs, dict) and "b64" not in inputs:
        if set(inputs) != set(names):
            raise RequestError(
                400, f'"{COLUMN_KEY}": expected keys {names} (the model\'s inputs), got keys {sorted(inputs)}'
            )
        return [inputs[n] for n in names]
    if len(names) != 1:
        raise RequestError(
            400,
            f'"{COLUMN_KEY}": the model has {len(names)} inputs {names}; expected an object with one batch per input',
        )
    return [inputs]


_ROWS_PER_PIECE = 1024  # rows encoded by one json.dumps call (it holds the GIL while it runs)


def _encode(value) -> str:
    return json.dumps(value, allow_nan=True, separators=(",", ":"))


def _array_text(array: np.ndarray) -> str:
    """``_encode(array.tolist())``, built a piece of rows at a time so other threads run in between."""
    if array.ndim == 0 or len(array) <= _ROWS_PER_PIECE:
        return _encode(array.tolist())
    pieces = (_encode(array[i : i + _ROWS_PER_PIECE].tolist())[1:-1] for i in range(0, len(array), _ROWS_PER_PIECE))
    return "[" + ",".join(pieces) + "]"


def _named_rows_text(outputs: list, names: list) -> str:
    """The row form with several outputs: ``[{"<name>": value, ...}, ...]``, built a piece at a time."""
    n = len(outputs[0])
    pieces = []
    for i in range(0, n, _ROWS_PER_PIECE):
        lists = [o[i : i + _ROWS_PER_PIECE].tolist() for o in outputs]
        pieces.append(_encode([dict(zip(names, row)) for row in zip(*lists)])[1:-1])
    return "[" + ",".join(p for p in pieces if p) + "]"


def write_response(outputs: list, signature: ModelSignature, form: str) -> bytes:
    """The JSON answer to a request of ``form`` (see the module docstring), encoded as UTF-8.

    Equal to ``json.dumps(answer, allow_nan=True, separators=(",", ":"))``; large outputs are encoded
    in pieces of rows (run it in a worker thread: the event loop keeps answering between pieces).
    """
    names = [spec.name for spec in signature.outputs] or [f"output_{i}" for i in range(len(outputs))]
    if len(names) != len(outputs):
        names = [f"output_{i}" for i in range(len(outputs))]
    if form == ROW_KEY:
        key = "predictions"
        text = _array_text(outputs[0]) if len(outputs) == 1 else _named_rows_text(outputs, names)
    else:
        key = "outputs"
        if len(outputs) == 1:
            text = _array_text(outputs[0])
        else:
            text = "{" + ",".join(f"{_encode(n)}:{_array_text(o)}" for n, o in zip(names, outputs)) + "}"
    return ("{" + _encode(key) + ":" + text + "}").encode("utf-8")
