"""A CSV file as a dataset, read with pandas in chunks (so files larger than memory stream through)."""

from __future__ import annotations

import os
from contextlib import closing

from ..dataset import Dataset
from .frames import TableConverter, import_pandas

__all__ = ["CSVDataset"]


class CSVDataset(Dataset):
    """Rows of a CSV file with one header line; each row is one element.

    Args:
        path: the file.
        label: the label column name (or a list of names), or None for features only.
        columns: feature columns, in order; default every column but the label(s).
        dtype: feature dtype, default floatx (float32).
        label_dtype: default: integer labels stay integer (int64), float labels become floatx.
        chunksize: rows read (and converted to NumPy) at a time.
        sep: the field separator.

    Elements are ``features`` (1-D, one value per feature column) or ``(features, label)``. A missing or
    non-numeric value in a feature or label column raises ValueError naming the column and its line in the
    file (1-based, the header being line 1; blank lines count, so the number is the one an editor shows
    unless a quoted field spans lines). The header is read when the dataset is made (unknown columns fail
    early); the data are read on each pass.
    """

    _chunked = True

    def __init__(self, path, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000, sep=","):
        pd = import_pandas("from_csv")
        self._path = os.fspath(path)
        if int(chunksize) < 1:
            raise ValueError(f"from_csv: chunksize must be at least 1, got {chunksize}")
        self._chunksize = int(chunksize)
        self._sep = sep
        header = list(pd.read_csv(self._path, nrows=0, sep=sep).columns)
        labels = [] if label is None else ([label] if isinstance(label, str) else list(label))
        features = [c for c in header if c not in labels] if columns is None else list(columns)
        missing = [c for c in labels + features if c not in header]
        if missing:
            raise ValueError(f"from_csv: no column {missing[0]!r} in {self._path}; its columns are {header}")
        if not features:
            raise ValueError(f"from_csv: no feature columns left in {self._path} (columns {header}, label {label!r})")
        self._features, self._labels = features, labels
        self._convert_args = (features, label, dtype, label_dtype)
        self._spec = ("tuple", None, (None, None)) if label is not None else None

    def _where(self, row):
        return f"line {row + 2} of {self._path} (1-based, line 1 is the header)"

    def _iter(self):
        pd = import_pandas("from_csv")
        converter = TableConverter("from_csv", *self._convert_args, where=self._where)
        usecols = list(dict.fromkeys(self._features + self._labels))
        reader = pd.read_csv(
            self._path, sep=self._sep, usecols=usecols, chunksize=self._chunksize, skip_blank_lines=False
        )
        with closing(reader):
            for frame in reader:
                yield converter.convert(frame)
