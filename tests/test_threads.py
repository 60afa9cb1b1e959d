"""The BLAS thread policy (ember/backend/threads.py): settings, the contention arithmetic, the scope, fit's numbers."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from ember.backend import threads


@pytest.fixture
def fresh(monkeypatch):
    """No code setting, no measurements, no user thread variables; restored afterwards."""
    for var in (*threads.USER_THREAD_VARS, "EMBER_BLAS_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMBER_THREAD_SPLIT", "off")  # BLAS gets the threads (tests/test_threads_split.py: the split)
    threads._reset_for_tests()
    yield
    threads._reset_for_tests()


def _blas_or_skip():
    if not threads.blas_libraries():
        pytest.skip("no BLAS library whose thread count can be set (threadpoolctl or OpenBLAS) in this NumPy")


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "value, mode", [("auto", "auto"), ("", "auto"), ("off", "off"), ("0", "off"), ("3", 3), (" 2 ", 2), (1, 1)]
)
def test_parse_mode(value, mode):
    assert threads.parse_mode(value) == mode


@pytest.mark.parametrize("value", ["many", "-1", -2, 0, True, "1.5"])
def test_parse_mode_refuses_what_is_not_a_mode_and_says_where(value):
    with pytest.raises(ValueError, match="EMBER_BLAS_THREADS: expected"):
        threads.parse_mode(value)


def test_the_users_thread_variables_switch_the_policy_off(fresh, monkeypatch):
    assert threads.policy() == ("auto", "default")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    mode, why = threads.policy()
    assert mode == "off" and "OPENBLAS_NUM_THREADS=2" in why
    monkeypatch.setenv("EMBER_BLAS_THREADS", "auto")  # an explicit ember setting wins over it
    assert threads.policy() == ("auto", "EMBER_BLAS_THREADS=auto")
    previous = threads.set_policy(1)  # and code wins over the environment
    assert previous is None and threads.policy() == (1, "set_policy() in code")
    assert threads.set_policy(None) == 1 and threads.get_policy() == "auto"


def test_a_bad_environment_value_turns_the_policy_off_with_the_reason(fresh, monkeypatch):
    monkeypatch.setenv("EMBER_BLAS_THREADS", "lots")
    monkeypatch.setattr(threads, "_warned", set())
    with pytest.warns(RuntimeWarning, match="EMBER_BLAS_THREADS: expected 'auto', 'off' or a positive thread count"):
        mode, why = threads.policy()
    assert mode == "off" and "'lots'" in why


def test_set_policy_refuses_a_bad_value(fresh):
    with pytest.raises(ValueError, match="set_policy: expected a positive thread count, got 0"):
        threads.set_policy(0)


# ------------------------------------------------------------------ measuring the neighbours

PROC_STAT = """cpu  1000 50 300 8000 100 0 20 30 0 0
cpu0 500 25 150 4000 50 0 10 15 0 0
intr 12345
procs_running 3
procs_blocked 0
"""


def test_parse_proc_stat_counts_busy_time_without_idle_and_iowait():
    busy, running = threads.parse_proc_stat(PROC_STAT, hz=100)
    assert busy == pytest.approx((1000 + 50 + 300 + 20 + 30) / 100)  # user nice system irq softirq steal
    assert running == 3
    with pytest.raises(ValueError, match="expected a 'cpu ' line"):
        threads.parse_proc_stat("procs_running 1\n")


def test_others_are_the_machines_busy_time_less_our_own():
    a = threads.Sample(wall=10.0, busy=100.0, own=5.0)
    b = threads.Sample(wall=10.5, busy=101.5, own=5.5)  # 1.5 core-seconds busy in 0.5 s, 0.5 of them ours
    assert threads.others_between(a, b) == pytest.approx(2.0)
    assert threads.others_between(a, a) is None
    c = threads.Sample(wall=11.0, busy=100.2, own=5.4)  # clock granularity: never negative
    assert threads.others_between(a, c) == 0.0


@pytest.mark.parametrize(
    "cores, others, current, expected",
    [
        (2, 0.0, None, 2),
        (2, 0.2, None, 2),
        (2, 0.4, None, 1),  # a neighbour on 0.4 of a core takes a thread away
        (2, 1.0, None, 1),
        (2, 3.0, None, 1),  # never below one
        (2, 0.2, 1, 1),  # hysteresis: 0.2 is not low enough to give it back ...
        (2, 0.1, 1, 2),  # ... 0.1 is
        (2, 0.25, 2, 2),
        (16, 3.5, None, 12),
        (16, 0.0, 4, 16),
        (1, 0.0, None, 1),
    ],
)
def test_choose_threads(cores, others, current, expected):
    assert threads.choose_threads(cores, others, current) == expected


# ------------------------------------------------------------------ the scope


def test_a_fixed_count_holds_inside_the_scope_and_is_restored(fresh):
    _blas_or_skip()
    before = threads._blas_threads()
    threads.set_policy(1)
    with threads.scope():
        assert threads._blas_threads() == 1
        with threads.scope():  # nested: the outer scope's setting stays
            assert threads._blas_threads() == 1
        assert threads._blas_threads() == 1
    assert threads._blas_threads() == before


def test_off_changes_nothing(fresh, monkeypatch):
    _blas_or_skip()
    before = threads._blas_threads()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", str(before))
    calls = []
    monkeypatch.setattr(threads, "_set_blas_threads", calls.append)
    with threads.scope():
        pass
    assert calls == []


def test_a_decision_is_applied_only_by_the_thread_that_opened_the_scope(fresh, monkeypatch):
    """OpenBLAS ignores a count set from another thread once the main thread set one: only the owner applies."""
    _blas_or_skip()
    calls = []
    monkeypatch.setattr(threads, "_set_blas_threads", calls.append)
    monkeypatch.setattr(threads, "_blas_threads", lambda: 2)
    # one BLAS (with SciPy's loaded beside NumPy's at other counts, the exit puts each back itself)
    monkeypatch.setattr(threads, "_each_blas_threads", lambda: None)
    threads.set_policy(2)
    with threads.scope():
        threads._pending = 1
        other = threading.Thread(target=threads.tick)
        other.start()
        other.join()
        assert calls == [] and threads._pending == 1
        threads.tick()
        assert calls == [1] and threads._pending is None
    assert calls == [1, 2]  # restored on exit


def test_auto_never_raises_a_limit_set_in_code(fresh, monkeypatch):
    """threadpool_limits(1) around fit (benchmarks/dask_cv.py does so) is a ceiling: a quiet machine keeps it."""
    _blas_or_skip()
    monkeypatch.setattr(threads, "usable_cores", lambda *a: 2)
    monkeypatch.setattr(threads, "take_sample", lambda cpus=None: (threads.Sample(0.0, 0.0, 0.0), 1))  # all quiet
    before = threads._blas_threads()
    threads._set_blas_threads(1)
    try:
        with threads.scope():
            assert threads._blas_threads() == 1 and threads.last_decision() == 1
    finally:
        threads._set_blas_threads(before)


def test_the_policy_never_breaks_training_when_the_blas_call_fails(fresh, monkeypatch):
    _blas_or_skip()

    def boom(n):
        raise OSError("no such symbol")

    threads.set_policy(1)
    monkeypatch.setattr(threads, "_set_blas_threads", boom)
    with threads.scope():
        pass


def test_openblas_is_found_without_threadpoolctl_too(fresh):
    """The /proc/self/maps fallback finds the same OpenBLAS and drives the same thread count."""
    import numpy.linalg  # noqa: F401  (NumPy's BLAS, loaded)

    first = threads.blas_libraries()[0] if threads.blas_libraries() else None
    # match by path: with SciPy's OpenBLAS loaded too (Keras imports SciPy), the order of /proc/self/maps
    # follows the load addresses, which differ from run to run
    found = [lib for lib in threads._openblas_from_maps() if lib.filepath == getattr(first, "filepath", None)]
    if not found:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS listed in /proc/self/maps")
    lib = found[0]
    before = lib.get_num_threads()
    try:
        lib.set_num_threads(1)
        assert threads.blas_libraries()[0].get_num_threads() == 1
    finally:
        lib.set_num_threads(before)


def test_maps_lines_without_openblas_find_nothing():
    text = "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/libc.so.6\n7f02-7f03 rw-p 00000000 00:00 0\n"
    assert threads._openblas_from_maps(text) == []


# ------------------------------------------------------------------ in fit and predict


def _mlp(keras):
    model = keras.Sequential(
        [keras.Input((256,)), keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def test_fit_and_predict_run_under_the_policy_and_restore_blas(fresh):
    _blas_or_skip()
    import ember as keras

    before = threads._blas_threads()
    threads.set_policy(1)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(threads._blas_threads())

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 256)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 64)]
    model = _mlp(keras)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Spy()])
    assert seen == [1, 1] and threads._blas_threads() == before
    model.predict(x, verbose=0)
    assert threads.last_decision() == 1 and threads._blas_threads() == before


def test_one_thread_and_two_train_to_the_same_weights(fresh):
    """Thread count changes how OpenBLAS splits a product, not what it computes (float32 rounding at most)."""
    _blas_or_skip()
    import ember as keras

    rng = np.random.default_rng(1)
    x = rng.standard_normal((512, 256)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 512)]
    start = _mlp(keras).get_weights()
    trained = {}
    for count in (1, 2):
        threads.set_policy(count)
        model = _mlp(keras)
        model.set_weights(start)
        model.fit(x, y, batch_size=128, epochs=2, shuffle=False, verbose=0)
        trained[count] = (model.get_weights(), model.predict(x, batch_size=128, verbose=0))
    for a, b in zip(trained[1][0], trained[2][0]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained[1][1], trained[2][1], rtol=1e-5, atol=1e-6)


def test_users_openblas_num_threads_is_kept_in_a_fresh_process():
    code = (
        "import numpy as np, ember as k\n"
        "from ember.backend import threads\n"
        "m = k.Sequential([k.Input((64,)), k.layers.Dense(4)]); m.compile('sgd', 'mse')\n"
        "m.fit(np.ones((8, 64), 'float32'), np.ones((8, 4), 'float32'), verbose=0)\n"
        "print(threads.get_policy(), threads.last_decision(), threads._blas_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("EMBER_BLAS_THREADS",)}
    env["OPENBLAS_NUM_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    mode, decided, now = out.stdout.split()
    assert (mode, decided) == ("off", "None") and now in ("1", "None")


def test_numbas_pool_gets_the_same_count_and_it_is_restored(fresh):
    """Ember's parallel numba kernels must not add threads on top of BLAS's: the scope sets numba's count too."""
    numba = pytest.importorskip("numba", reason="numba is not installed")
    _blas_or_skip()

    @numba.njit(parallel=True, cache=False)
    def total(a):
        s = 0.0
        for i in numba.prange(a.shape[0]):
            s += a[i]
        return s

    assert total(np.ones(1000)) == 1000.0  # starts numba's thread pool
    before = numba.get_num_threads()
    threads.set_policy(1)
    with threads.scope():
        assert numba.get_num_threads() == 1
        assert total(np.ones(1000)) == 1000.0
    assert numba.get_num_threads() == before


def test_the_single_batch_calls_run_under_the_policy_too(fresh, monkeypatch):
    """train_on_batch / test_on_batch / predict_on_batch in a user's loop: the same scope as fit (a few us a call)."""
    _blas_or_skip()
    import ember as keras

    before = threads._blas_threads()
    threads.set_policy(1)
    inside = []
    real = threads._apply

    def spy(n):
        real(n)
        inside.append(threads._blas_threads())

    monkeypatch.setattr(threads, "_apply", spy)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 256)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 32)]
    model = _mlp(keras)
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)
    assert model.predict_on_batch(x).shape == (32, 10)
    assert inside == [1, 1, 1] and threads._blas_threads() == before


def test_several_blas_libraries_are_each_put_back_as_they_were(fresh, monkeypatch):
    """SciPy's OpenBLAS loaded beside NumPy's with another count: each gets its own count back on leaving."""

    class FakeBlas:
        def __init__(self, n):
            self.n = n

        def get_num_threads(self):
            return self.n

        def set_num_threads(self, n):
            self.n = n

    libs = [FakeBlas(1), FakeBlas(2)]
    monkeypatch.setattr(threads, "blas_libraries", lambda: libs)
    threads.set_policy(1)
    with threads.scope():
        assert [lib.n for lib in libs] == [1, 1]
    assert [lib.n for lib in libs] == [1, 2]
