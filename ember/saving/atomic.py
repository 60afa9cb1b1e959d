"""Atomic file writes: a failed save never replaces a good file.

The data goes to a temporary file in the destination's directory (so the
final rename stays on one file system), is flushed and fsync'ed, and only
then replaces the destination with ``os.replace`` (atomic on POSIX and
Windows). If anything raises before that, the temporary file is removed and
the old file is untouched.

A process killed mid-save cannot remove its temporary file. Each one is named
``.ember-<pid>-<random>.tmp`` (the writer's process id), so the next atomic
save to that directory removes the orphans: those whose writer is no longer
running, and those left before this process started by a process id that
has been reused since.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time

_PREFIX = ".ember-"
_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.ember-(?:(\d+)-)?[^/]*\.tmp$")
_STARTED = time.time()  # this process's temporary files are all newer than this


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
    remove_orphaned_temporaries(directory)
    fd, tmp = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=_SUFFIX, dir=directory)
    os.close(fd)
    os.remove(tmp)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, filepath)
        _fsync_dir(directory)
    finally:
        _remove(tmp)


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


def remove_orphaned_temporaries(directory) -> list:
    """Remove the ``.ember-*.tmp`` files of interrupted saves in ``directory``; return their paths.

    A temporary file is an orphan when the process that wrote it (the pid in
    its name) is not running, or when it is older than this process and was
    not written by it (the pid was reused). This process's own temporaries
    (saves in progress in other threads) are left alone, and so is anything
    not named like a temporary file.
    """
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    me = os.getpid()
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        pid = int(match.group(1)) if match.group(1) else None
        if pid == me:
            continue
        if pid is None or _is_running(pid):
            try:
                if os.lstat(path).st_mtime >= _STARTED:
                    continue  # a live writer's, or one newer than this process: not provably orphaned
            except OSError:
                continue
        if _remove(path):
            removed.append(path)
    return removed


def _is_running(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill(pid, 0) would terminate the process on Windows: judge by age only
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, but owned by someone else
    return True


def _remove(path) -> bool:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    except FileNotFoundError:
        return False
    except OSError:
        return False  # another process removed or holds it; the next save tries again
    return True


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
