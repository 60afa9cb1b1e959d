"""The resource limits a loader checks before it reads: declared sizes, compression ratio, JSON depth.

A file declares its sizes before its data (a zip member's uncompressed size,
an HDF5 dataset's shape and dtype, a safetensors header). Every loader checks
those declarations against :class:`LoadLimits` before reading a byte of data,
so a small hostile file cannot make Ember allocate gigabytes. Each refusal is
a :class:`~ember.errors.ResourceLimitError` naming the file, the member, what
it declared and the limit, and saying which argument raises it.

The defaults fit every model that fits comfortably in memory; a user with a
bigger file passes e.g. ``load_model(path, max_bytes=16 * 2**30)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json

import numpy

from ..errors import FileFormatError, ResourceLimitError

GiB = 1 << 30
MiB = 1 << 20


@dataclasses.dataclass(frozen=True)
class LoadLimits:
    """What a file may declare before Ember refuses to read it.

    Attributes:
        max_bytes: the most bytes the file's contents may declare in all (zip members uncompressed, HDF5 datasets,
            npz arrays, safetensors tensors), and so the most a load may allocate for them.
        max_compression_ratio: the most a zip member may expand (uncompressed / compressed size); checked for
            members larger than ``ratio_floor`` bytes. Keras and Ember store their members uncompressed (ratio 1).
        ratio_floor: members up to this size are not ratio-checked (small JSON compresses well).
        max_json_bytes: the largest JSON text (config.json, metadata.json, a model_config attribute).
        max_json_depth: the deepest nesting of lists/objects in that JSON (Keras configs nest about 10 deep).
        max_stand_in_bytes: the largest example tensor built while wiring a loaded model's layers (Ember infers
            each layer's output shape by running it on such a tensor, sized by the shapes the file declares).
    """

    max_bytes: int = 4 * GiB
    max_compression_ratio: float = 100.0
    ratio_floor: int = 1 * MiB
    max_json_bytes: int = 64 * MiB
    max_json_depth: int = 100
    max_stand_in_bytes: int = 256 * MiB

    @classmethod
    def make(cls, limits=None, **overrides) -> LoadLimits:
        """``limits`` (a LoadLimits, or None for the defaults) with the non-None ``overrides`` applied."""
        base = limits if limits is not None else cls()
        if not isinstance(base, LoadLimits):
            raise TypeError(f"limits must be an ember.saving.LoadLimits, got {type(base).__name__}")
        given = {k: v for k, v in overrides.items() if v is not None}
        for key, value in given.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{key} must be a positive number, got {value!r}")
        return dataclasses.replace(base, **given) if given else base


def refuse(source, member, declared, limit, argument) -> ResourceLimitError:
    """The error for a declaration over a limit: names the file, the member, what it declared and the limit."""
    where = f"{source}, {member}" if member else source
    return ResourceLimitError(
        f"{where} declares {declared}, over the limit of {limit}; if you trust the file, raise it with `{argument}=...`"
    )


def format_bytes(n) -> str:
    n = int(n)
    if n >= GiB:
        return f"{n / GiB:.2f} GiB ({n} bytes)"
    if n >= MiB:
        return f"{n / MiB:.1f} MiB ({n} bytes)"
    return f"{n} bytes"


def check_declared_bytes(nbytes, source, member, limits: LoadLimits) -> None:
    """Refuse one declared size above ``max_bytes``."""
    if nbytes > limits.max_bytes:
        raise refuse(source, member, format_bytes(nbytes), format_bytes(limits.max_bytes), "max_bytes")


def check_zip_members(zf, source, limits: LoadLimits, only=None) -> dict:
    """Check a zip's members' declared sizes and ratios before any is read.

    Args:
        zf: an open ``zipfile.ZipFile``.
        source: the file, quoted, for messages.
        only: member names that will be read (default: every member counts).

    Returns:
        dict name -> ZipInfo of the members.
    """
    infos = {}
    total = 0
    for info in zf.infolist():
        infos.setdefault(info.filename, info)
        if only is not None and info.filename not in only and not info.filename.startswith("assets/"):
            continue
        size = info.file_size
        check_declared_bytes(size, source, f"member {info.filename!r}", limits)
        total += size
        if size > limits.ratio_floor:
            ratio = size / max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise refuse(
                    source,
                    f"member {info.filename!r}",
                    f"{format_bytes(size)} compressed into {info.compress_size} bytes (ratio {ratio:.0f})",
                    f"ratio {limits.max_compression_ratio:g}",
                    "max_compression_ratio",
                )
    if total > limits.max_bytes:
        raise refuse(source, "its members together", format_bytes(total), format_bytes(limits.max_bytes), "max_bytes")
    return infos


def json_depth(raw: bytes, chunk: int = 1 << 20) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text; brackets inside strings do not count.

    Linear in the text and in chunks of ``chunk`` bytes (NumPy, no backtracking, bounded memory):
    a quote is a string delimiter unless an odd run of backslashes precedes it, and a bracket
    counts when an even number of delimiters precede it. Exact for valid JSON; for invalid JSON
    exact up to its first error, which is where a parser stops.
    """
    view = memoryview(raw)
    depth = deepest = 0
    inside = 0  # 1 inside a string at the chunk's start
    run = 0  # backslashes ending the previous chunk
    for start in range(0, len(view), chunk):
        codes = numpy.frombuffer(view[start : start + chunk], dtype=numpy.uint8)
        index = numpy.arange(codes.size, dtype=numpy.int64)
        backslash = codes == ord("\\")
        last_other = numpy.maximum.accumulate(numpy.where(backslash, -run - 1, index))  # last non-backslash <= i
        run_before = numpy.empty(codes.size, dtype=numpy.int64)  # backslashes just before i
        run_before[0] = run
        run_before[1:] = index[:-1] - last_other[:-1]
        delimiter = (codes == ord('"')) & (run_before % 2 == 0)
        seen = numpy.cumsum(delimiter)
        outside = (inside + seen - delimiter) % 2 == 0
        step = ((codes == ord("[")) | (codes == ord("{"))).astype(numpy.int64)
        step -= (codes == ord("]")) | (codes == ord("}"))
        level = numpy.cumsum(step * outside)
        deepest = max(deepest, depth + int(level.max(initial=0)))
        depth += int(level[-1])
        inside = int(inside + seen[-1]) % 2
        run = int(codes.size - 1 - last_other[-1])
    return deepest


def load_json(raw, source, member, limits: LoadLimits):
    """Parse JSON text after checking its size and nesting depth against ``limits``.

    Args:
        raw: bytes or str.
        source, member: how to name the text in messages (``"'m.keras'"``, ``"config.json"``).

    Raises:
        ResourceLimitError: too large or too deep.
        FileFormatError: not valid JSON (or not UTF-8).
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    raw = bytes(raw)
    if len(raw) > limits.max_json_bytes:
        raise refuse(
            source, member, f"{format_bytes(len(raw))} of JSON", format_bytes(limits.max_json_bytes), "max_json_bytes"
        )
    depth = json_depth(raw)
    if depth > limits.max_json_depth:
        raise refuse(source, member, f"JSON nested {depth} deep", f"{limits.max_json_depth}", "max_json_depth")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise FileFormatError(f"{source}: {member} is not valid JSON ({err})") from None


# elements a model may allocate beyond what its file stores (variables a file may omit: seed states, counters)
ALLOCATION_SLACK = 1 << 20


class _Budget:
    def __init__(self, allowed, source, stored, limits):
        self.allowed, self.source, self.stored, self.used = allowed, source, stored, 0
        self.limits = limits

    def __call__(self, layer, name, shape, dtype) -> None:
        n = 1
        for d in shape:
            n *= int(d)
        if layer is None:  # an example tensor for shape inference: checked alone, freed after
            nbytes = n * numpy.dtype(dtype).itemsize
            if nbytes > self.limits.max_stand_in_bytes:
                raise refuse(
                    self.source,
                    "its config",
                    f"{'a layer input' if name == 'stand-in' else name} of shape {tuple(shape)} "
                    f"({format_bytes(nbytes)} as an example tensor)",
                    format_bytes(self.limits.max_stand_in_bytes),
                    "max_stand_in_bytes",
                )
            return
        self.used += n
        if self.used > self.allowed:
            held = (
                f"the file stores {self.stored} weight elements in all"
                if self.stored is not None
                else f"the limit is {self.allowed} elements (max_bytes / 4)"
            )
            raise ResourceLimitError(
                f"{self.source}: building layer '{getattr(layer, 'name', '?')}' from the config asks for weight "
                f"'{name or 'variable'}' of shape {tuple(shape)} ({n} elements; the model would then hold "
                f"{self.used}), but {held}: the config does not match the stored weights. Refused before "
                "allocating."
            )


@contextlib.contextmanager
def allocation_budget(source, stored_elements=None, limits=None):
    """Refuse, before allocating, any weight that takes the model being built past what the file can fill.

    Args:
        source: the file, for messages.
        stored_elements: how many weight elements the file stores (None: a config without weights, bounded by
            ``limits.max_bytes`` as float32).
        limits: the LoadLimits.
    """
    from ..layers.layer import ALLOCATION_CHECK

    limits = limits or LoadLimits()
    if stored_elements is None:
        allowed = limits.max_bytes // 4
    else:
        allowed = min(stored_elements + ALLOCATION_SLACK, limits.max_bytes)
    token = ALLOCATION_CHECK.set(_Budget(allowed, source, stored_elements, limits))
    try:
        yield
    finally:
        ALLOCATION_CHECK.reset(token)
