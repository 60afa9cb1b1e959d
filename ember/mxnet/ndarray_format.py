"""MXNet's binary NDArray file format (``nd.save`` / ``nd.load``, Gluon's ``.params``), read and written without pickle.

Layout (little-endian), as MXNet 1.x writes it (src/ndarray/ndarray.cc):

    uint64 0x112 (list magic)   uint64 0 (reserved)
    uint64 n, then n arrays:
        uint32 0xF993FAC9 (V2; 0xF993FACA = V3, NumPy shape semantics; 0xF993FAC8 = V1, no storage type)
        int32 storage type (0 = dense; V2/V3 only)
        uint32 ndim, int64 dims[ndim]
        int32 dev_type (1 = cpu), int32 dev_id
        int32 dtype flag (0 f32, 1 f64, 2 f16, 3 u8, 4 i32, 5 i8, 6 i64, 7 bool)
        the data, C order
    uint64 k, then k keys: uint64 length, bytes (k = 0 for a list, k = n for a dict)

Files older than V1 start each array with its uint32 ndim and uint32 dims; they are read too.
"""

from __future__ import annotations

import struct

import numpy as np

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
DTYPES = {
    0: np.float32,
    1: np.float64,
    2: np.float16,
    3: np.uint8,
    4: np.int32,
    5: np.int8,
    6: np.int64,
    7: np.bool_,
}
DTYPE_FLAGS = {np.dtype(v): k for k, v in DTYPES.items()}


class _Reader:
    def __init__(self, buffer: bytes, path: str):
        self.buffer, self.pos, self.path = buffer, 0, path

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buffer):
            raise ValueError(f"nd.load({self.path!r}): the file ends early at byte {self.pos} (truncated?)")
        values = struct.unpack_from("<" + fmt, self.buffer, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        if self.pos + n > len(self.buffer):
            raise ValueError(f"nd.load({self.path!r}): the file ends early at byte {self.pos} (truncated)")
        out = self.buffer[self.pos : self.pos + n]
        self.pos += n
        return out


def _read_array(r: _Reader) -> np.ndarray:
    magic = r.take("I")
    if magic in (V2_MAGIC, V3_MAGIC, V1_MAGIC):
        if magic != V1_MAGIC:
            stype = r.take("i")
            if stype != 0:
                raise ValueError(f"nd.load({r.path!r}): sparse storage type {stype} is not supported (dense only)")
        ndim = r.take("i")
        if ndim < 0:  # V3's unknown shape: an empty array
            return np.zeros((0,), np.float32)
        shape = tuple(r.take(f"{ndim}q")) if ndim > 1 else ((r.take("q"),) if ndim == 1 else ())
        if ndim == 0 and magic != V3_MAGIC:
            # legacy semantics: ndim 0 is "none"; MXNet still writes the context, dtype and one element
            pass
    else:  # pre-V1: magic was ndim, dims are uint32
        ndim = magic
        if ndim > 32:
            raise ValueError(f"nd.load({r.path!r}): not an MXNet NDArray (bad array magic {magic:#x})")
        shape = tuple(r.take(f"{ndim}I")) if ndim > 1 else ((r.take("I"),) if ndim == 1 else ())
        if ndim == 0:
            return np.zeros((0,), np.float32)
    r.take("ii")  # dev_type, dev_id: arrays are loaded on the CPU
    flag = r.take("i")
    if flag not in DTYPES:
        raise ValueError(f"nd.load({r.path!r}): unknown dtype flag {flag} (expected one of {sorted(DTYPES)})")
    dtype = np.dtype(DTYPES[flag])
    count = int(np.prod(shape)) if shape else 1
    data = np.frombuffer(r.raw(count * dtype.itemsize), dtype=dtype.newbyteorder("<")).astype(dtype)
    return data.reshape(shape)


def read_ndarray_file(path: str):
    """Read an MXNet NDArray file: a list of NumPy arrays, or a dict when the file has keys."""
    with open(path, "rb") as f:
        buffer = f.read()
    r = _Reader(buffer, str(path))
    if len(buffer) < 16:
        raise ValueError(f"nd.load({str(path)!r}): {len(buffer)} bytes is too short for an MXNet NDArray file")
    magic, _reserved = r.take("QQ")
    if magic != LIST_MAGIC:
        raise ValueError(f"nd.load({str(path)!r}): not an MXNet NDArray file (magic {magic:#x}, expected 0x112)")
    n = r.take("Q")
    arrays = [_read_array(r) for _ in range(n)]
    k = r.take("Q")
    keys = [r.raw(r.take("Q")).decode("utf-8") for _ in range(k)]
    if k == 0:
        return arrays
    if k != n:
        raise ValueError(f"nd.load({str(path)!r}): {n} arrays but {k} keys")
    return dict(zip(keys, arrays))


def _write_array(out: list, array: np.ndarray):
    array = np.ascontiguousarray(array)
    if array.dtype not in DTYPE_FLAGS:
        raise TypeError(f"nd.save: dtype {array.dtype} has no MXNet code (supported: {sorted(map(str, DTYPE_FLAGS))})")
    out.append(struct.pack("<Iii", V2_MAGIC, 0, array.ndim))
    if array.ndim:
        out.append(struct.pack(f"<{array.ndim}q", *array.shape))
    out.append(struct.pack("<iii", 1, 0, DTYPE_FLAGS[array.dtype]))
    out.append(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())


def write_ndarray_file(path: str, data) -> None:
    """Write a list or a str-keyed dict of arrays (NumPy or NDArray) in MXNet's format (V2 arrays, as MXNet 1.x)."""
    if isinstance(data, dict):
        keys = list(data)
        for key in keys:
            if not isinstance(key, str):
                raise TypeError(f"nd.save: dict keys must be str, got {type(key).__name__} ({key!r})")
        arrays = [data[k] for k in keys]
    elif isinstance(data, (list, tuple)):
        keys, arrays = [], list(data)
    else:
        keys, arrays = [], [data]
    out = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    for a in arrays:
        _write_array(out, np.asarray(a.numpy() if hasattr(a, "numpy") else a))
    out.append(struct.pack("<Q", len(keys)))
    for key in keys:
        raw = key.encode("utf-8")
        out.append(struct.pack("<Q", len(raw)) + raw)
    with open(path, "wb") as f:
        f.write(b"".join(out))
