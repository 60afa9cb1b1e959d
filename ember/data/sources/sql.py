"""A SQL query as a dataset, through SQLAlchemy, fetched in chunks (SQLite is the embedded default).

A data source only reads. Three guards keep a query from changing the database:

- the statement must be one query (``SELECT``, ``WITH ... SELECT`` or ``VALUES``) and name no statement
  that writes (``INSERT``, ``UPDATE``, ``DELETE``, ``DROP``, ``CREATE``, ``ALTER``, ``ATTACH``, ``PRAGMA``,
  ``SELECT ... INTO``, ...); anything else is refused with :class:`ember.errors.DataError` before it is sent;
- SQLite files named by a path or a ``sqlite:///`` URL are opened read-only (SQLite's URI ``mode=ro``), so a
  missing file is an error instead of a new empty database, and the engine is told ``PRAGMA query_only`` on
  every SQLite connection (an ``Engine`` the caller passes too, restored afterwards); PostgreSQL connections
  run with ``postgresql_readonly``;
- the transaction is never committed: it is rolled back when the connection closes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import urllib.request

from ...errors import DataError
from ..dataset import Dataset
from .frames import TableConverter, import_pandas

__all__ = ["SQLDataset", "check_read_only_query"]

_FIRST_WORDS = ("SELECT", "WITH", "VALUES")
# Whole words that make a SELECT/WITH statement write: data-modifying CTEs (``WITH x AS (DELETE ...
# RETURNING *) SELECT``), ``SELECT ... INTO`` (a new table), and DDL or session words that have no place in
# a query. Statements that merely start with another word (GRANT, SET, BEGIN, ...) fail the first-word check;
# REPLACE is left out on purpose: it is also SQLite's string function.
_WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|UPSERT|MERGE|INTO|DROP|CREATE|ALTER|TRUNCATE|ATTACH|DETACH|PRAGMA|VACUUM)\b",
    re.IGNORECASE,
)
# String literals, quoted identifiers and comments: their text is data, not keywords.
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)


def check_read_only_query(query: str) -> str:
    """``query`` if it is one statement that only reads; else a DataError saying what was found.

    Quoted text, quoted identifiers and comments are ignored; the first word must be SELECT, WITH or VALUES,
    and no word may be one that writes (``INSERT``, ``DROP``, ``SELECT ... INTO``, ...). This is a guard in
    front of the database's own read-only mode, not a SQL parser: it may refuse an unusual query that only
    reads (quote the identifier that looks like a keyword), never the other way round for SQLite, whose
    connection is read-only as well.
    """
    if not isinstance(query, str):
        raise DataError(f"from_sql: expected the query as a string, got {type(query).__name__}")
    bare = _QUOTED.sub(" ", query)
    body = bare.strip().rstrip(";").strip()
    if not body:
        raise DataError("from_sql: the query is empty; expected a SELECT statement")
    if ";" in body:
        raise DataError(f"from_sql: expected one SELECT statement, got several (a ';' inside {_short(query)})")
    first = body.split(None, 1)[0].upper().rstrip("(")
    if first not in _FIRST_WORDS:
        raise DataError(
            f"from_sql: refusing {first!r} statement {_short(query)}: a data source only reads; "
            "expected a query starting with SELECT, WITH or VALUES"
        )
    found = _WRITES.search(body)
    if found:
        raise DataError(
            f"from_sql: refusing query {_short(query)}: it contains {found.group(1).upper()!r}, which writes or "
            "changes the session; a data source only reads (quote an identifier that happens to be this word)"
        )
    return query


def _short(query: str) -> str:
    text = " ".join(query.split())
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _import_sqlalchemy():
    try:
        import sqlalchemy
    except ImportError as e:  # pragma: no cover - SQLAlchemy is installed where the tests run
        raise ImportError("from_sql needs SQLAlchemy: pip install 'ember[data]'") from e
    return sqlalchemy


def _sqlite_file(sa, url: str):
    """``(path, plain)`` for an SQLite (pysqlite) URL naming a file, else ``(None, False)``.

    ``plain`` is False when the URL carries driver options (``?timeout=5``) or is already an SQLite URI
    (``sqlite:///file:...``): those keep SQLAlchemy's own connect, guarded by ``query_only`` alone.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.get_driver_name() != "pysqlite":
        return None, False
    database = parsed.database
    if not database or database == ":memory:":
        return None, False
    if database.startswith("file:"):
        path = database[len("file:") :].split("?", 1)[0]
        return (None, False) if not path or path == ":memory:" else (os.path.abspath(path), False)
    return os.path.abspath(database), not parsed.query


def _read_only_sqlite_engine(sa, path: str):
    """An engine whose connections open ``path`` with SQLite's ``mode=ro`` (never creating it)."""
    uri = "file:" + urllib.request.pathname2url(path) + "?mode=ro"

    def connect():
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    return sa.create_engine("sqlite://", creator=connect)


class SQLDataset(Dataset):
    """The rows of ``query``'s result; each row is one element.

    Args:
        url: a SQLAlchemy URL (``"sqlite:///train.db"``, ``"postgresql+psycopg://user@host/db"``), a path to an
            SQLite file (the embedded default), or a SQLAlchemy ``Engine`` (left open; one made from a URL is
            disposed of after each pass).
        query: the SQL text: one ``SELECT`` (or ``WITH ... SELECT``, ``VALUES``) statement; a statement that
            writes is refused with :class:`ember.errors.DataError` (see the module docstring).
        label, columns, dtype, label_dtype: as in ``from_csv``; ``columns`` defaults to every result column
            but the label(s).
        chunksize: rows fetched (and converted to NumPy) at a time.

    An SQLite file named by a path or a ``sqlite:///`` URL is opened read-only and must exist
    (``FileNotFoundError`` otherwise: no empty database is created). The query runs on each pass, when
    iteration starts. If the database rejects it, a DataError carries the database's own message, and the
    connection is closed before it is raised. A NULL or non-numeric value raises DataError naming the column
    and the row of the result (1-based).
    """

    _chunked = True

    def __init__(self, url, query, label=None, columns=None, dtype=None, label_dtype=None, chunksize=10000):
        import_pandas("from_sql")
        sa = _import_sqlalchemy()
        self._sqlite_path, self._sqlite_plain = None, False
        if isinstance(url, sa.engine.Engine):
            self._engine, self._url = url, None
        else:
            url = os.fspath(url) if isinstance(url, os.PathLike) else str(url)
            self._engine, self._url = None, (url if "://" in url else f"sqlite:///{url}")
            self._sqlite_path, self._sqlite_plain = _sqlite_file(sa, self._url)
            if self._sqlite_path is not None and not os.path.isfile(self._sqlite_path):
                raise FileNotFoundError(
                    f"from_sql: no SQLite database at {self._sqlite_path} (from {url!r}); "
                    "from_sql opens databases read-only and never creates one"
                )
        if int(chunksize) < 1:
            raise ValueError(f"from_sql: chunksize must be at least 1, got {chunksize}")
        self._query, self._chunksize = check_read_only_query(query), int(chunksize)
        self._label, self._columns = label, columns
        self._dtype, self._label_dtype = dtype, label_dtype
        self._spec = ("tuple", None, (None, None)) if label is not None else None

    def _where(self, row):
        return f"row {row + 1} of the query result (1-based)"

    def _make_engine(self, sa):
        if self._engine is not None:
            return self._engine
        if self._sqlite_path is not None and self._sqlite_plain:
            return _read_only_sqlite_engine(sa, self._sqlite_path)
        return sa.create_engine(self._url)

    def _iter(self):
        pd = import_pandas("from_sql")
        sa = _import_sqlalchemy()
        engine = self._make_engine(sa)
        try:
            with engine.connect() as conn:
                with _read_only(sa, conn) as conn:
                    try:
                        result = conn.execution_options(stream_results=True).execute(sa.text(self._query))
                    except sa.exc.DBAPIError as e:  # the with blocks restore, roll back and close first
                        raise DataError(f"from_sql: the database rejected the query: {e.orig}") from e
                    with result:
                        keys = list(result.keys())
                        converter = self._converter(keys)
                        while True:
                            try:
                                rows = result.fetchmany(self._chunksize)
                            except sa.exc.DBAPIError as e:  # errors raised while the result streams in
                                raise DataError(f"from_sql: the database failed during the query: {e.orig}") from e
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


class _read_only:  # noqa: N801 - used as a context manager, named for what it does
    """The connection in read-only mode for the duration (SQLite ``query_only``, PostgreSQL read-only)."""

    def __init__(self, sa, conn):
        self.sa, self.conn, self.restore = sa, conn, None

    def __enter__(self):
        dialect = self.conn.dialect.name
        if dialect == "sqlite":
            raw = self.conn.connection.driver_connection
            self.restore = raw.execute("PRAGMA query_only").fetchone()[0]
            raw.execute("PRAGMA query_only = ON")
            return self.conn
        if dialect == "postgresql":
            return self.conn.execution_options(postgresql_readonly=True)
        return self.conn

    def __exit__(self, *exc):
        if self.restore is not None and not self.conn.closed:
            try:
                self.conn.connection.driver_connection.execute(f"PRAGMA query_only = {int(self.restore)}")
            except Exception:  # noqa: BLE001 - the connection is going back to the pool or away; nothing to undo
                pass
        if not self.conn.closed:
            self.conn.rollback()  # never commit
        return False
