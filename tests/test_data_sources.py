"""ember.data sources on files the tests make: CSV (pandas) and SQLite (SQLAlchemy), chunked, with bad input."""

import sqlite3

import numpy as np
import pytest

from ember.data import Dataset
from ember.errors import DataError

pd = pytest.importorskip("pandas", reason="from_csv/from_sql need the data extra")
sa = pytest.importorskip("sqlalchemy", reason="from_sql needs the data extra")


@pytest.fixture
def table(rng):
    x = rng.normal(size=(23, 4))
    y = rng.integers(0, 3, size=23)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "d": x[:, 3], "label": y})


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("chunksize", [1, 5, 23, 1000])
def test_csv_matches_pandas_across_chunks(tmp_path, table, chunksize):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    expected = pd.read_csv(path)
    ds = Dataset.from_csv(path, label="label", chunksize=chunksize)
    xb, yb = zip(*ds.batch(4))
    x, y = np.concatenate(xb), np.concatenate(yb)
    np.testing.assert_array_equal(x, expected[["a", "b", "c", "d"]].to_numpy().astype(np.float32))
    np.testing.assert_array_equal(y, expected["label"].to_numpy())
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert all(b.flags.c_contiguous and len(b) == 4 for b in xb[:-1]) and len(xb[-1]) == 3


def test_csv_columns_label_dtypes_and_features_only(tmp_path, table):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    x, y = next(iter(Dataset.from_csv(path, label="a", columns=["d", "b"], chunksize=7).batch(30)))
    np.testing.assert_array_equal(x, table[["d", "b"]].to_numpy(np.float32))
    assert y.dtype == np.float32  # float labels become floatx
    (x,) = list(Dataset.from_csv(path, columns=["c"]).batch(100))
    assert x.shape == (23, 1)
    xs = list(Dataset.from_csv(path, dtype="float64", label_dtype="int32", label="label").take(1))
    assert xs[0][0].dtype == np.float64 and xs[0][1].dtype == np.int32
    with pytest.raises(ValueError, match=r"no column 'zz' .* its columns are \['a', 'b', 'c', 'd', 'label'\]"):
        Dataset.from_csv(path, label="zz")


def test_csv_shuffle_cache_and_repeat(tmp_path, table):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    ds = Dataset.from_csv(path, label="label", chunksize=6).shuffle(8, seed=0).batch(5)
    x = np.concatenate([b[0] for b in ds])
    assert sorted(map(tuple, x.tolist())) == sorted(
        map(tuple, table[["a", "b", "c", "d"]].to_numpy(np.float32).tolist())
    )
    cached = Dataset.from_csv(path, label="label", chunksize=6).cache()
    assert len(list(cached)) == 23 and len(cached) == 23
    assert len(list(cached.repeat(3).batch(10))) == 7


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,y\n1,2,0\n3,,1\n", r"feature column 'b' has a missing value at line 3 of .*t.csv \(1-based, line 1 is"),
        ("a,b,y\n1,2,0\n3,4,1\n5,x7,0\n", r"feature column 'b' has the non-numeric value 'x7' at line 4 of"),
        ("a,b,y\n1,2,0\n\n3,4,1\n", r"line 3 of .*t.csv is blank \(0 fields\), expected 3"),  # blank lines count
        ("a,b,y\n1,2,0\n3,4,\n", r"label column 'y' has a missing value at line 3"),
        ("a,b,y\n1,2,0\n3,4,cat\n", r"label column 'y' has the non-numeric value 'cat' at line 3"),
    ],
)
def test_csv_bad_values_name_column_and_line(tmp_path, text, message):
    path = _write(tmp_path / "t.csv", text)
    with pytest.raises(DataError, match=message):
        list(Dataset.from_csv(path, label="y"))


def test_csv_bad_value_in_a_later_chunk(tmp_path):
    rows = "\n".join(f"{i},{i + 1}" for i in range(50))
    path = _write(tmp_path / "t.csv", "a,b\n" + rows.replace("37,38", "37,?") + "\n")
    with pytest.raises(ValueError, match=r"column 'b' has the non-numeric value '\?' at line 39 "):
        list(Dataset.from_csv(path, chunksize=8))


def test_csv_label_changes_to_fractional(tmp_path):
    path = _write(tmp_path / "t.csv", "a,y\n1,0\n2,1\n3,0.5\n")
    with pytest.raises(ValueError, match=r"fractional value 0.5 at line 4"):
        list(Dataset.from_csv(path, label="y", chunksize=2))


def _sqlite(path, table):
    with sqlite3.connect(path) as conn:
        table.to_sql("train", conn, index=False)
    return path


@pytest.mark.parametrize("chunksize", [1, 4, 100])
def test_sql_sqlite_matches_the_table(tmp_path, table, chunksize):
    db = _sqlite(tmp_path / "t.db", table)
    for url in (db, f"sqlite:///{db}"):
        ds = Dataset.from_sql(url, "SELECT a, b, c, d, label FROM train ORDER BY rowid", label="label",
                              chunksize=chunksize)  # fmt: skip
        x, y = zip(*ds.batch(5))
        np.testing.assert_array_equal(np.concatenate(x), table[["a", "b", "c", "d"]].to_numpy(np.float32))
        np.testing.assert_array_equal(np.concatenate(y), table["label"].to_numpy())
        assert np.concatenate(x).dtype == np.float32 and np.concatenate(y).dtype == np.int64


def test_sql_engine_connection_closed_after_error_and_early_stop(tmp_path, table):
    db = _sqlite(tmp_path / "t.db", table)
    engine = sa.create_engine(f"sqlite:///{db}")
    with pytest.raises(ValueError, match="the database rejected the query: no such table: nope"):
        list(Dataset.from_sql(engine, "SELECT * FROM nope"))
    assert engine.pool.checkedout() == 0
    with pytest.raises(ValueError, match="syntax error"):
        list(Dataset.from_sql(engine, "SELECT 1 FROM FROM"))
    assert engine.pool.checkedout() == 0
    it = iter(Dataset.from_sql(engine, "SELECT a, label FROM train", label="label", chunksize=2))
    next(it)
    assert engine.pool.checkedout() == 1
    it.close()
    assert engine.pool.checkedout() == 0
    ds = Dataset.from_sql(engine, "SELECT a, label FROM train", label="label", chunksize=2).batch(3).prefetch(2)
    for _ in ds:
        break
    import gc

    gc.collect()
    assert engine.pool.checkedout() == 0
    engine.dispose()


def test_sql_null_and_text_values(tmp_path):
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a REAL, b TEXT, y INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1.0, "2", 0), (2.0, None, 1), (3.0, "x", 1)])
    with pytest.raises(ValueError, match=r"feature column 'b' has a missing value at row 2 of the query result"):
        list(Dataset.from_sql(db, "SELECT * FROM t", label="y"))
    with pytest.raises(ValueError, match=r"column 'b' has the non-numeric value 'x' at row 2"):
        list(Dataset.from_sql(db, "SELECT * FROM t WHERE b IS NOT NULL OR a = 3", label="y", chunksize=1))
    with pytest.raises(ValueError, match=r"no column 'zz' in the query result"):
        list(Dataset.from_sql(db, "SELECT * FROM t", label="zz"))


# ---------------------------------------------------------------- CSV rows with the wrong number of fields


@pytest.mark.parametrize(
    "text, line, got",
    [
        ("a,b,c,y\n1,2,3,0\n99,4,5,6,1\n3,4,5,1\n", 3, 5),  # the row: never read as label 6
        ("a,b,c,y\n99,4,5,6,1\n3,4,5,1\n", 2, 5),  # a long first row: pandas would make it an index
        ("a,b,c,y\n99,4,5,6,7,1\n3,4,5,1\n", 2, 6),
        ("a,b,c,y\n1,2,3,0\n3,4,1\n", 3, 3),  # short: pandas would pad it with NaN
        ("a,b,c,y\n1,2,3,0\n3,4,5,1,\n", 3, 5),  # a trailing separator is one more (empty) field
        ("a,b,c,y\n1,2,3,0\n\n", 3, 0),  # blank
    ],
)
@pytest.mark.parametrize("columns", [None, ["a"]])  # asking for fewer columns must not hide the extra fields
def test_csv_wrong_field_count_names_file_line_and_counts(tmp_path, text, line, got, columns):
    path = _write(tmp_path / "t.csv", text)
    fields = "is blank \\(0 fields\\)" if got == 0 else f"has {got} fields"
    with pytest.raises(DataError, match=rf"line {line} of .*t\.csv {fields}, expected 4"):
        list(Dataset.from_csv(path, label="y", columns=columns, chunksize=1))
    with pytest.raises(ValueError):  # DataError is a ValueError, as Keras users catch
        list(Dataset.from_csv(path, label="y", columns=columns))


def test_csv_wrong_field_count_in_a_later_chunk_and_empty_fields_still_read(tmp_path):
    rows = [f"{i},{i + 1},{i % 2}" for i in range(40)]
    rows[30] = "30,31"
    path = _write(tmp_path / "t.csv", "a,b,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"line 32 of .* has 2 fields, expected 3"):
        list(Dataset.from_csv(path, label="y", chunksize=8))
    # a row whose last field is empty has the right count: it reads, and the unused empty column is fine
    path = _write(tmp_path / "u.csv", "a,y,note\n1,0,\n2,1,x\n3,0,\n")
    x, y = next(iter(Dataset.from_csv(path, label="y", columns=["a"]).batch(10)))
    np.testing.assert_array_equal(x[:, 0], [1, 2, 3])
    np.testing.assert_array_equal(y, [0, 1, 0])


def test_csv_empty_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"t.csv is empty; expected a header line"):
        Dataset.from_csv(_write(tmp_path / "t.csv", ""))


# ---------------------------------------------------------------- SQL only reads


def _fingerprint(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT sql FROM sqlite_master").fetchall(), conn.execute("SELECT * FROM t").fetchall()


@pytest.fixture
def small_db(tmp_path):
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a REAL, y INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1.0, 0), (2.0, 1)])
    return db


WRITES = [
    "DROP TABLE t",
    "INSERT INTO t VALUES (3, 1)",
    "UPDATE t SET a = 0",
    "DELETE FROM t",
    "CREATE TABLE u (x)",
    "ALTER TABLE t ADD COLUMN z",
    "REPLACE INTO t VALUES (3, 1)",
    "ATTACH DATABASE 'other.db' AS o",
    "PRAGMA user_version = 7",
    "SELECT * FROM t; DROP TABLE t",
    "WITH x AS (SELECT 1) DELETE FROM t",
    "select a, y into u from t",
    "  -- a comment\n drop table t",
    "VACUUM",
]


@pytest.mark.parametrize("query", WRITES)
def test_sql_statements_that_write_are_refused_and_the_database_is_unchanged(tmp_path, small_db, query):
    before = _fingerprint(small_db)
    engine = sa.create_engine(f"sqlite:///{small_db}")
    for url in (small_db, f"sqlite:///{small_db}", engine):
        with pytest.raises(DataError, match=r"from_sql: (refusing|expected one SELECT)"):
            list(Dataset.from_sql(url, query))
    engine.dispose()
    assert _fingerprint(small_db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.db"]


def test_sql_connection_itself_is_read_only(small_db, monkeypatch):
    """Behind the statement check, SQLite itself refuses writes: mode=ro (paths, URLs), query_only (engines)."""
    from ember.data.sources import sql

    monkeypatch.setattr(sql, "check_read_only_query", lambda q: q)
    before = _fingerprint(small_db)
    engine = sa.create_engine(f"sqlite:///{small_db}")
    for url in (small_db, f"sqlite:///{small_db}", engine):
        for query in ("DROP TABLE t", "INSERT INTO t VALUES (3, 1)", "UPDATE t SET a = 0"):
            with pytest.raises(DataError, match=r"rejected the query: attempt to write a readonly database"):
                list(Dataset.from_sql(url, query))
    assert _fingerprint(small_db) == before
    with engine.connect() as conn:  # the caller's engine gets its connections back writable
        assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 0
    engine.dispose()


def test_sql_quoted_keywords_and_functions_are_not_writes(small_db):
    query = "SELECT replace('drop', 'x', 'y') AS \"update\", a, y FROM t -- delete me\n"
    ds = Dataset.from_sql(small_db, "SELECT a AS \"delete\", y FROM t WHERE 'insert' != ''", label="y")
    x, y = next(iter(ds.batch(5)))
    np.testing.assert_array_equal(x[:, 0], [1, 2])
    x, y = next(iter(Dataset.from_sql(small_db, "SELECT a AS release, y AS lock FROM t", label="lock").batch(5)))
    np.testing.assert_array_equal(y, [0, 1])  # words that only begin other statements are fine as names
    with pytest.raises(DataError, match="non-numeric value 'drop'"):  # it ran: the text is data, not a statement
        list(Dataset.from_sql(small_db, query, label="y"))


def test_sql_url_with_driver_options_is_read_only_too(small_db, monkeypatch):
    from ember.data.sources import sql

    monkeypatch.setattr(sql, "check_read_only_query", lambda q: q)
    before = _fingerprint(small_db)
    for url in (f"sqlite:///{small_db}?timeout=5", f"sqlite:///file:{small_db}?uri=true"):
        x, y = next(iter(Dataset.from_sql(url, "SELECT a, y FROM t", label="y").batch(5)))
        np.testing.assert_array_equal(y, [0, 1])
        with pytest.raises(DataError, match="attempt to write a readonly database"):
            list(Dataset.from_sql(url, "DELETE FROM t"))
    assert _fingerprint(small_db) == before


def test_sql_missing_database_is_an_error_not_a_new_file(tmp_path):
    for url in (
        tmp_path / "nope.db",
        f"sqlite:///{tmp_path / 'nope.db'}",
        f"sqlite:///{tmp_path / 'nope.db'}?timeout=5",
        f"sqlite:///file:{tmp_path / 'nope.db'}?uri=true",
    ):
        with pytest.raises(FileNotFoundError, match=r"no SQLite database at .*nope.db .*never creates one"):
            Dataset.from_sql(url, "SELECT 1")
    assert list(tmp_path.iterdir()) == []
