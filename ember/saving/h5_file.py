"""Opening HDF5 files for reading, with errors that name the file and the problem."""

from __future__ import annotations

import contextlib
import os

from ..errors import FileFormatError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_readable(filepath, what="file") -> str:
    """``filepath`` as a str after checking that it exists and is a non-empty regular file."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such {what}: '{filepath}'")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Expected a {what}, but '{filepath}' is a directory")
    if os.path.getsize(filepath) == 0:
        raise FileFormatError(f"'{filepath}' is empty (0 bytes): it is not a {what}; was a save interrupted?")
    return filepath


def is_hdf5(filepath) -> bool:
    """True when the file starts with the HDF5 signature (at offset 0, as h5py writes it)."""
    with open(filepath, "rb") as f:
        return f.read(8) == _HDF5_SIGNATURE


@contextlib.contextmanager
def open_h5(filepath, what="HDF5 file"):
    """Open ``filepath`` read-only with h5py; a foreign or truncated file raises ValueError naming it."""
    import h5py

    filepath = check_readable(filepath, what)
    if not is_hdf5(filepath):
        with open(filepath, "rb") as f:
            head = f.read(8)
        raise FileFormatError(
            f"'{filepath}' is not an HDF5 file (it starts with {head!r}, expected the HDF5 signature "
            f"{_HDF5_SIGNATURE!r})"
        )
    try:
        f = h5py.File(filepath, "r")
    except OSError as err:
        raise FileFormatError(f"'{filepath}' could not be read as HDF5; it is corrupt or truncated ({err})") from None
    try:
        yield f
    except (OSError, KeyError) as err:
        if isinstance(err, KeyError) and "object" not in str(err).lower():
            raise
        raise FileFormatError(f"'{filepath}' is corrupt or truncated: reading it failed ({err})") from None
    finally:
        f.close()
