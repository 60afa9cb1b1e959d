"""Table chunks (pandas DataFrames) to dataset chunks, shared by the CSV and SQL sources.

Each chunk becomes one feature matrix and one label vector with one ``to_numpy`` each; a missing or non-numeric
value is located (column and row) only when the cheap whole-chunk check finds one.
"""

from __future__ import annotations

import numpy as np

from ...backend.config import floatx
from ...errors import DataError

__all__ = ["import_pandas", "TableConverter"]


def import_pandas(what):
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - pandas is installed where the tests run
        raise ImportError(f"{what} needs pandas: pip install 'ember[data]'") from e
    return pandas


class TableConverter:
    """Turns successive chunks of one table into ``[features]`` or ``[features, label]`` arrays.

    Args:
        op: the name used in error messages (``"from_csv"``).
        features: feature column names, in output order.
        label: a label column name, a list of them, or None.
        dtype: feature dtype (default floatx).
        label_dtype: label dtype; default: integer labels stay integer (int64), float labels become floatx,
            decided by the first chunk and kept for the rest.
        where: ``where(row)`` describes 0-based data row ``row`` for messages (``"line 7 of a.csv (...)"``).
    """

    def __init__(self, op, features, label, dtype, label_dtype, where):
        self.op = op
        self.features = list(features)
        self.label = label
        self.dtype = np.dtype(dtype if dtype is not None else floatx())
        self.label_dtype = None if label_dtype is None else np.dtype(label_dtype)
        self.where = where
        self.rows = 0  # data rows converted so far

    def convert(self, frame):
        pd = import_pandas(self.op)
        start, self.rows = self.rows, self.rows + len(frame)
        out = [self._matrix(pd, frame, self.features, self.dtype, start, "feature")]
        if self.label is not None:
            labels = [self.label] if isinstance(self.label, str) else list(self.label)
            y = self._labels(pd, frame, labels, start)
            out.append(y[:, 0].copy() if isinstance(self.label, str) else y)
        return out

    def _matrix(self, pd, frame, cols, dtype, start, kind):
        sub = given = frame[cols]
        if not all(_numeric(pd, t) for t in sub.dtypes):  # text columns (SQL TEXT, CSV quirks) holding numbers
            sub = sub.apply(lambda c: c if _numeric(pd, c.dtype) else pd.to_numeric(c, errors="coerce"))
        if sub.isna().to_numpy().any():
            self._raise_first_bad(pd, given, start, kind)
        return np.ascontiguousarray(sub.to_numpy(dtype=dtype))  # pandas hands out column-major blocks

    def _labels(self, pd, frame, labels, start):
        sub = frame[labels]
        if self.label_dtype is None:
            numeric = all(pd.api.types.is_numeric_dtype(t) for t in sub.dtypes)
            if not numeric or sub.isna().to_numpy().any():
                self._raise_first_bad(pd, sub, start, "label")
            kinds = {t.kind for t in sub.dtypes}
            self.label_dtype = np.dtype("int64") if kinds <= {"i", "u", "b"} else np.dtype(floatx())
        if self.label_dtype.kind in "iu":
            values = self._matrix(pd, frame, labels, np.float64, start, "label")
            fractional = values != np.round(values)
            if fractional.any():
                r, c = np.argwhere(fractional)[0]
                raise DataError(
                    f"{self.op}: label column {labels[c]!r} has the fractional value {float(values[r, c])} at "
                    f"{self.where(start + r)}, but earlier labels were integers; pass label_dtype='float32'"
                )
            return values.astype(self.label_dtype)
        return self._matrix(pd, frame, labels, self.label_dtype, start, "label")

    def _raise_first_bad(self, pd, sub, start, kind):
        first = None  # (row, column position, raw value)
        for c, name in enumerate(sub.columns):
            col = sub[name]
            bad = col.isna().to_numpy()
            if not _numeric(pd, col.dtype):
                bad = bad | pd.to_numeric(col, errors="coerce").isna().to_numpy()
            if bad.any():
                r = int(np.argmax(bad))
                if first is None or r < first[0]:
                    first = (r, c, col.iloc[r])
        if first is None:  # pragma: no cover - callers only come here after finding a problem
            raise DataError(f"{self.op}: unreadable {kind} columns {list(sub.columns)}")
        r, c, raw = first
        what = "a missing value" if pd.isna(raw) else f"the non-numeric value {raw!r}"
        raise DataError(
            f"{self.op}: {kind} column {sub.columns[c]!r} has {what} at {self.where(start + r)}; "
            f"{kind} columns must be numeric"
        )


def _numeric(pd, dtype):
    return pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
