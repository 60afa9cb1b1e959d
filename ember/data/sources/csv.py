"""A CSV file as a dataset, read with pandas in chunks (so files larger than memory stream through)."""

from __future__ import annotations

import csv
import os
import re
from contextlib import closing

import numpy as np

from ...errors import DataError
from ..dataset import Dataset
from .frames import TableConverter, import_pandas

__all__ = ["CSVDataset"]

# pandas' C parser reports a row with more fields than the header as "Expected 3 fields in line 7, saw 5".
_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


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

    Elements are ``features`` (1-D, one value per feature column) or ``(features, label)``. Every row must
    have exactly as many fields as the header: a longer or shorter row (a blank line is a row of 0 fields)
    raises :class:`ember.errors.DataError` naming the file, the line and both field counts; a row is never
    shifted, cut or padded. A missing or non-numeric value in a feature or label column raises DataError
    naming the column and its line in the file (1-based, the header being line 1; blank lines count, so the
    number is the one an editor shows unless a quoted field spans lines). The header is read when the
    dataset is made (unknown columns fail early); the data are read on each pass.
    """

    _chunked = True

    def __init__(self, path, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000, sep=","):
        pd = import_pandas("from_csv")
        self._path = os.fspath(path)
        if int(chunksize) < 1:
            raise ValueError(f"from_csv: chunksize must be at least 1, got {chunksize}")
        self._chunksize = int(chunksize)
        self._sep = sep
        try:
            header = list(pd.read_csv(self._path, nrows=0, sep=sep).columns)
        except pd.errors.EmptyDataError:
            raise DataError(f"from_csv: {self._path} is empty; expected a header line of column names") from None
        except pd.errors.ParserError as e:
            raise DataError(f"from_csv: cannot read the header line of {self._path}: {e}") from None
        labels = [] if label is None else ([label] if isinstance(label, str) else list(label))
        features = [c for c in header if c not in labels] if columns is None else list(columns)
        missing = [c for c in labels + features if c not in header]
        if missing:
            raise ValueError(f"from_csv: no column {missing[0]!r} in {self._path}; its columns are {header}")
        if not features:
            raise ValueError(f"from_csv: no feature columns left in {self._path} (columns {header}, label {label!r})")
        self._header = header
        self._features, self._labels = features, labels
        self._convert_args = (features, label, dtype, label_dtype)
        self._spec = ("tuple", None, (None, None)) if label is not None else None

    def _where(self, row):
        return f"line {row + 2} of {self._path} (1-based, line 1 is the header)"

    def _field_count_error(self, line, got):
        want = len(self._header)
        what = "is blank (0 fields)" if got == 0 else f"has {got} fields"
        return DataError(
            f"from_csv: line {line} of {self._path} {what}, expected {want} (one per header column {self._header}); "
            "rows are never shifted, cut or padded: fix the row or quote the field that holds the separator"
        )

    def _iter(self):
        pd = import_pandas("from_csv")
        converter = TableConverter("from_csv", *self._convert_args, where=self._where)
        # Every column is parsed (no usecols): pandas silently drops the extra fields of a long row when only
        # some columns are asked for. Short rows come back padded with NaN; _RecordFields tells them apart
        # from rows whose last field is merely empty.
        reader = pd.read_csv(self._path, sep=self._sep, chunksize=self._chunksize, skip_blank_lines=False)
        fields = _RecordFields(self._path, self._sep)
        start = 0
        with closing(reader), closing(fields):
            while True:
                try:
                    frame = next(reader)
                except StopIteration:
                    return
                except pd.errors.ParserError as e:
                    found = _TOO_MANY.search(str(e))
                    if found is None:
                        raise DataError(f"from_csv: cannot parse {self._path}: {e}") from None
                    line, got = int(found.group(2)), int(found.group(3))
                    for row in range(start, line - 2):  # a short row earlier in this chunk comes first
                        earlier = fields.count(row)
                        if earlier is not None and earlier != len(self._header):
                            raise self._field_count_error(row + 2, earlier) from None
                    raise self._field_count_error(line, got) from None
                if len(frame) == 0:  # a header-only file: no rows (pandas gives the columns no dtype)
                    continue
                if start == 0:
                    # pandas reads a first row longer than the header as an implicit index (shifting the row,
                    # and every later one): count the first record's fields from the file itself
                    got = fields.count(0)
                    if got is None and not isinstance(frame.index, pd.RangeIndex):
                        got = len(self._header) + frame.index.nlevels  # a regex separator: judge by the index
                    if got is not None and got > len(self._header):
                        raise self._field_count_error(2, got)
                short = np.flatnonzero(frame.iloc[:, -1].isna().to_numpy())
                for r in short:
                    got = fields.count(start + int(r))
                    if got is not None and got < len(self._header):
                        raise self._field_count_error(start + int(r) + 2, got)
                start += len(frame)
                yield converter.convert(frame)  # it takes its columns by name


class _RecordFields:
    """Field counts of a CSV file's data records, read forward once with the ``csv`` module.

    Used only for rows whose last column came back missing: pandas pads a short row with NaN, so the row's
    own field count must be read from the file to tell ``1,2`` (2 fields) from ``1,2,`` (3, the last empty).
    Rows are asked for in increasing order, so the file is read at most once per pass.
    """

    def __init__(self, path, sep):
        self._path, self._sep = path, sep
        self._file = self._reader = None
        self._next = 0  # index of the data record the reader yields next
        self._last = (None, None)  # (row, count) of the record read last: a row may be asked for twice

    def count(self, row):
        """The number of fields of data record ``row`` (0-based, after the header); None if unknown."""
        if not isinstance(self._sep, str) or len(self._sep) != 1:
            return None  # a regex separator: the csv module cannot split it the same way
        try:
            if self._reader is None:
                self._file = open(self._path, newline="", encoding="utf-8", errors="replace")
                self._reader = csv.reader(self._file, delimiter=self._sep)
                next(self._reader, None)  # the header
            if row == self._last[0]:
                return self._last[1]
            if row < self._next:
                return None
            for record in self._reader:
                self._next += 1
                if self._next - 1 == row:
                    self._last = (row, len(record))
                    return len(record)
        except csv.Error:
            return None
        return None

    def close(self):
        if self._file is not None:
            self._file.close()
