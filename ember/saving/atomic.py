"""Atomic file writes: a failed save never replaces a good file.

The data goes to a temporary file in the destination's directory (so the
final rename stays on one file system), is flushed and fsync'ed, and only
then replaces the destination with ``os.replace`` (atomic on POSIX and
Windows). If anything raises before that, the temporary file is removed and
the old file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_path(filepath):
    """Yield a temporary path beside ``filepath``; on success move it over ``filepath``.

    Use it for writers that want a path (h5py, zipfile)::

        with atomic_path("m.keras") as tmp:
            write_everything_to(tmp)

    Args:
        filepath: the destination (str or path-like).

    Yields:
        str: the temporary path to write to. It does not exist yet.
    """
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot save to '{filepath}': the directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".ember-", suffix=".tmp", dir=directory)
    os.close(fd)
    os.remove(tmp)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, filepath)
        _fsync_dir(directory)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_open(filepath, mode="wb"):
    """Like ``open(filepath, mode)`` for writing, but the file appears only when the block succeeds.

    Args:
        filepath: the destination (str or path-like).
        mode: a write mode, ``"wb"`` (default) or ``"w"``.

    Yields:
        the open temporary file object.
    """
    if "w" not in mode:
        raise ValueError(f"atomic_open: expected a write mode such as 'wb' or 'w', got mode={mode!r}")
    with atomic_path(filepath) as tmp:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def _fsync_file(path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory) -> None:
    # makes the rename itself durable; not possible on every platform (Windows)
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
