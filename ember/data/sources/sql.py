"""A SQL query as a dataset, through SQLAlchemy, fetched in chunks (SQLite is the embedded default)."""

from __future__ import annotations

import os

from ..dataset import Dataset
from .frames import TableConverter, import_pandas

__all__ = ["SQLDataset"]


def _import_sqlalchemy():
    try:
        import sqlalchemy
    except ImportError as e:  # pragma: no cover - SQLAlchemy is installed where the tests run
        raise ImportError("from_sql needs SQLAlchemy: pip install 'ember[data]'") from e
    return sqlalchemy


class SQLDataset(Dataset):
    """The rows of ``query``'s result; each row is one element.

    Args:
        url: a SQLAlchemy URL (``"sqlite:///train.db"``, ``"postgresql+psycopg://user@host/db"``), a path to an
            SQLite file (the embedded default), or a SQLAlchemy ``Engine`` (left open; one made from a URL is
            disposed of after each pass).
        query: the SQL text (``SELECT ...``).
        label, columns, dtype, label_dtype: as in ``from_csv``; ``columns`` defaults to every result column
            but the label(s).
        chunksize: rows fetched (and converted to NumPy) at a time.

    The query runs on each pass, when iteration starts. If the database rejects it, a ValueError carries the
    database's own message, and the connection is closed before it is raised. A NULL or non-numeric value
    raises ValueError naming the column and the row of the result (1-based).
    """

    _chunked = True

    def __init__(self, url, query, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000):
        import_pandas("from_sql")
        sa = _import_sqlalchemy()
        if isinstance(url, sa.engine.Engine):
            self._engine, self._url = url, None
        else:
            url = os.fspath(url) if isinstance(url, os.PathLike) else str(url)
            self._engine, self._url = None, (url if "://" in url else f"sqlite:///{url}")
        if int(chunksize) < 1:
            raise ValueError(f"from_sql: chunksize must be at least 1, got {chunksize}")
        self._query, self._chunksize = str(query), int(chunksize)
        self._label, self._columns = label, columns
        self._dtype, self._label_dtype = dtype, label_dtype
        self._spec = ("tuple", None, (None, None)) if label is not None else None

    def _where(self, row):
        return f"row {row + 1} of the query result (1-based)"

    def _iter(self):
        pd = import_pandas("from_sql")
        sa = _import_sqlalchemy()
        engine = self._engine if self._engine is not None else sa.create_engine(self._url)
        try:
            with engine.connect() as conn:
                try:
                    result = conn.execution_options(stream_results=True).execute(sa.text(self._query))
                except sa.exc.DBAPIError as e:
                    conn.close()
                    raise ValueError(f"from_sql: the database rejected the query: {e.orig}") from e
                with result:
                    keys = list(result.keys())
                    converter = self._converter(keys)
                    while True:
                        try:
                            rows = result.fetchmany(self._chunksize)
                        except sa.exc.DBAPIError as e:  # errors raised while the result streams in
                            conn.close()
                            raise ValueError(f"from_sql: the database failed during the query: {e.orig}") from e
                        if not rows:
                            break
                        yield converter.convert(pd.DataFrame.from_records(rows, columns=keys))
        finally:
            if self._engine is None:
                engine.dispose()

    def _converter(self, keys):
        labels = [] if self._label is None else ([self._label] if isinstance(self._label, str) else list(self._label))
        features = [k for k in keys if k not in labels] if self._columns is None else list(self._columns)
        missing = [c for c in labels + features if c not in keys]
        if missing:
            raise ValueError(f"from_sql: no column {missing[0]!r} in the query result; its columns are {keys}")
        if not features:
            raise ValueError(f"from_sql: no feature columns left (result columns {keys}, label {self._label!r})")
        return TableConverter("from_sql", features, self._label, self._dtype, self._label_dtype, where=self._where)
