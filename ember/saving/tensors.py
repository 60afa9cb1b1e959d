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

from .atomic import atomic_open
from .h5_file import check_readable

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


def load_tensors(path) -> dict:
    """Read a dict of name -> NumPy array from a ``.npz`` or ``.safetensors`` file (never unpickles)."""
    path = check_readable(path, "tensor file")
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        try:
            with numpy.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except ValueError as err:
            raise ValueError(f"'{path}': cannot read it without pickle ({err})") from None
        except (OSError, EOFError, Exception) as err:  # zipfile.BadZipFile and friends
            raise ValueError(f"'{path}' is a corrupt or truncated .npz file ({err})") from None
    return _read_safetensors(path)


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


def _read_safetensors(path) -> dict:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise ValueError(f"'{path}' is too short ({size} bytes) for a safetensors or npz file")
        (n,) = struct.unpack("<Q", first)
        if n > _MAX_HEADER or 8 + n > size:
            raise ValueError(
                f"'{path}' is not a safetensors file (header length {n} does not fit in the file's {size} bytes) "
                "or it is truncated; load_tensors reads .npz and .safetensors"
            )
        try:
            header = json.loads(f.read(n))
        except ValueError as err:
            raise ValueError(f"'{path}': the safetensors header is not valid JSON ({err})") from None
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info.get("dtype") not in _ST_DTYPES:
            raise ValueError(f"'{path}': tensor {name!r} has unsupported dtype {info.get('dtype')!r}")
        dtype = numpy.dtype(_ST_DTYPES[info["dtype"]])
        shape = tuple(info["shape"])
        expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
        if end > len(data) or end - begin != expected:
            raise ValueError(
                f"'{path}' is truncated or corrupt: tensor {name!r} {shape} {info['dtype']} needs bytes "
                f"[{begin}, {end}) of the data but the data has {len(data)} bytes"
            )
        out[name] = numpy.frombuffer(data[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    return out
