"""ember.data sources on files the tests make: CSV (pandas) and SQLite (SQLAlchemy), chunked, with bad input."""

import sqlite3

import numpy as np
import pytest

from ember.data import Dataset

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
        ("a,b,y\n1,2,0\n\n3,4,1\n", r"feature column 'a' has a missing value at line 3"),  # blank lines count
        ("a,b,y\n1,2,0\n3,4,\n", r"label column 'y' has a missing value at line 3"),
        ("a,b,y\n1,2,0\n3,4,cat\n", r"label column 'y' has the non-numeric value 'cat' at line 3"),
    ],
)
def test_csv_bad_values_name_column_and_line(tmp_path, text, message):
    path = _write(tmp_path / "t.csv", text)
    with pytest.raises(ValueError, match=message):
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
        list(Dataset.from_sql(engine, "SELEKT 1"))
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
