"""Plain named tensors to and from ``.npz`` and ``.safetensors`` files (no pickle, no extra dependency).

The safetensors layout: 8 bytes little-endian header length N, N bytes of
JSON ``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
"__metadata__": {...}}``, then the raw little-endian bytes of every tensor.
"""

from __future__ import annotations

import json
import os
import struct

import numpy

from ..errors import FileFormatError
from .atomic import atomic_open
from .h5_file import check_readable
from .limits import LoadLimits, check_declared_bytes, check_zip_members, load_json

_ST_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}
_ST_NAMES = {numpy.dtype(v): k for k, v in _ST_DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


def save_tensors(tensors, path, metadata=None) -> None:
    """Write a dict of name -> tensor/array to ``path`` (``.npz`` or ``.safetensors``), atomically.

    Args:
        tensors: dict of str -> Ember Tensor / NumPy array.
        path: the file; the suffix picks the format.
        metadata: safetensors only: a dict of str -> str stored in the header.
    """
    path = os.fspath(path)
    arrays = {}
    for name, value in dict(tensors).items():
        if not isinstance(name, str):
            raise TypeError(f"save_tensors: names must be str, got {name!r}")
        array = numpy.asarray(value.numpy() if hasattr(value, "numpy") else value)
        arrays[name] = numpy.require(array, requirements="C")  # keeps 0-d arrays 0-d
        if arrays[name].dtype == object:
            raise TypeError(f"save_tensors: tensor {name!r} has dtype object; only numeric arrays can be saved")
    if path.endswith(".npz"):
        with atomic_open(path, "wb") as f:
            numpy.savez(f, **arrays)
    elif path.endswith(".safetensors"):
        with atomic_open(path, "wb") as f:
            _write_safetensors(f, arrays, metadata)
    else:
        raise ValueError(f"save_tensors: the filename must end in .npz or .safetensors, got '{path}'")


def load_tensors(path, *, max_bytes=None, max_compression_ratio=None) -> dict:
    """Read a dict of name -> NumPy array from a ``.npz`` or ``.safetensors`` file (never unpickles).

    Every array's declared size (the npy header in each npz member, the safetensors header) is checked
    against the file and against ``max_bytes`` before it is read; an npz member may not expand more
    than ``max_compression_ratio`` times.

    Raises:
        ember.errors.FileFormatError: truncated, corrupt or foreign file; ResourceLimitError: over a limit.
    """
    from .boundary import boundary

    limits = LoadLimits.make(None, max_bytes=max_bytes, max_compression_ratio=max_compression_ratio)
    path = check_readable(path, "tensor file")
    with open(path, "rb") as f:
        head = f.read(4)
    with boundary(f"'{path}'", "tensor file"):
        if head.startswith(b"PK"):
            return _read_npz(path, limits)
        return _read_safetensors(path, limits)


def _read_npz(path, limits) -> dict:
    import zipfile

    from numpy.lib import format as npy

    source = f"'{path}'"
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise FileFormatError(f"{source} is a corrupt or truncated .npz file ({err})") from None
    out = {}
    with zf:
        infos = check_zip_members(zf, source, limits)
        for name, info in infos.items():
            if info.is_dir():
                continue
            key = name[:-4] if name.endswith(".npy") else name
            with zf.open(info) as fp:
                try:
                    version = npy.read_magic(fp)
                    reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                    shape, _, dtype = reader(fp, max_header_size=10_000)
                except ValueError as err:
                    raise FileFormatError(f"{source}: member {name!r} is not a .npy array ({err})") from None
                if dtype.hasobject:
                    raise FileFormatError(
                        f"{source}: member {name!r} holds Python objects (dtype {dtype}); reading them would need "
                        "pickle, which Ember never uses"
                    )
                nbytes = _elements(shape) * dtype.itemsize
                check_declared_bytes(nbytes, source, f"member {name!r} (shape {shape}, {dtype})", limits)
                if nbytes > info.file_size:
                    raise FileFormatError(
                        f"{source}: member {name!r} declares shape {shape} ({nbytes} bytes of {dtype}) but holds "
                        f"only {info.file_size} bytes: truncated or corrupt"
                    )
            with zf.open(info) as fp:
                out[key] = npy.read_array(fp, allow_pickle=False)
    return out


def _elements(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _write_safetensors(f, arrays, metadata) -> None:
    header, offset = {}, 0
    for name, array in arrays.items():
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if numpy.dtype(dtype) not in _ST_NAMES:
            raise TypeError(f"save_tensors: dtype {array.dtype} of {name!r} has no safetensors name")
        nbytes = array.nbytes
        header[name] = {
            "dtype": _ST_NAMES[numpy.dtype(dtype)],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # align the data to 8 bytes
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for array in arrays.values():
        f.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


def _read_safetensors(path, limits) -> dict:
    source = f"'{path}'"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise FileFormatError(f"{source} is too short ({size} bytes) for a safetensors or npz file")
        (n,) = struct.unpack("<Q", first)
        if n > _MAX_HEADER or 8 + n > size:
            raise FileFormatError(
                f"{source} is not a safetensors file (header length {n} does not fit in the file's {size} bytes) "
                "or it is truncated; load_tensors reads .npz and .safetensors"
            )
        header = load_json(f.read(n), source, "the safetensors header", limits)
        if not isinstance(header, dict):
            raise FileFormatError(f"{source}: the safetensors header is a JSON {type(header).__name__}, not an object")
        check_declared_bytes(size - 8 - n, source, "its data", limits)
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        where = f"{source}: tensor {name!r}"
        if not isinstance(info, dict) or info.get("dtype") not in _ST_DTYPES:
            dtype = info.get("dtype") if isinstance(info, dict) else info
            raise FileFormatError(f"{where} has unsupported dtype {dtype!r}")
        offsets, shape = info.get("data_offsets"), info.get("shape")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
            and isinstance(shape, list)
            and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise FileFormatError(
                f"{where}: expected 'shape' (a list of sizes) and 'data_offsets' ([begin, end]), got {info!r}"
            )
        begin, end = offsets
        dtype = numpy.dtype(_ST_DTYPES[info["dtype"]])
        shape = tuple(shape)
        expected = _elements(shape) * dtype.itemsize
        if end > len(data) or begin > end or end - begin != expected:
            raise FileFormatError(
                f"{source} is truncated or corrupt: tensor {name!r} {shape} {info['dtype']} needs bytes "
                f"[{begin}, {end}) of the data but the data has {len(data)} bytes"
            )
        out[name] = numpy.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    return out
