"""The thread policy's split mode (ember/backend/threads.py): BLAS at one thread, Ember's splits get the threads."""

import os
import warnings

import pytest

from ember.backend import threads, workers


@pytest.fixture
def fresh(monkeypatch):
    for var in (*threads.USER_THREAD_VARS, "EMBER_BLAS_THREADS", "EMBER_THREAD_SPLIT"):
        monkeypatch.delenv(var, raising=False)
    threads._reset_for_tests()
    libs = threads.blas_libraries()
    if not libs:
        pytest.skip("no BLAS library whose thread count can be set (threadpoolctl or OpenBLAS) in this NumPy")
    before = [lib.get_num_threads() for lib in libs]
    yield
    threads._reset_for_tests()
    for lib, count in zip(threads.blas_libraries(), before):
        lib.set_num_threads(count)
    workers.set_split_parts(1)


@pytest.mark.parametrize("value, on", [("on", True), ("1", True), ("yes", True), ("off", False), ("0", False)])
def test_parse_split(value, on):
    assert threads.parse_split(value) is on


def test_the_default_the_environment_and_code_in_that_order(fresh, monkeypatch):
    assert threads.split_mode() is threads.SPLIT_DEFAULT
    monkeypatch.setenv("EMBER_THREAD_SPLIT", "off")
    assert threads.split_mode() is False
    monkeypatch.setenv("EMBER_THREAD_SPLIT", "on")
    assert threads.split_mode() is True
    assert threads.set_split("off") is None and threads.split_mode() is False
    assert threads.set_split(None) is False and threads.split_mode() is True
    with pytest.raises(ValueError, match="set_split: expected 'on' or 'off', got 'maybe'"):
        threads.set_split("maybe")


def test_a_bad_environment_value_warns_once_and_keeps_the_default(fresh, monkeypatch):
    monkeypatch.setenv("EMBER_THREAD_SPLIT", "sometimes")
    monkeypatch.setattr(threads, "_warned", set())
    with pytest.warns(RuntimeWarning, match="EMBER_THREAD_SPLIT: expected 'on' or 'off', got 'sometimes'"):
        assert threads.split_mode() is threads.SPLIT_DEFAULT
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert threads.split_mode() is threads.SPLIT_DEFAULT


def test_with_two_threads_granted_the_first_own_split_holds_blas_at_one_and_the_rest_split_too(fresh):
    threads._set_blas_threads(2)
    threads.set_policy(2)
    threads.set_split(True)
    with threads.scope():
        # before any convolution or LSTM splits its work, a dense product leaves the threads to BLAS
        assert threads._blas_threads() == 2 and workers.parts_once_split() == 1
        assert threads.last_decision() == 2
        assert workers.split_parts() == 2  # a convolution's split engages the splits ...
        assert threads._blas_threads() == 1 and workers.parts_once_split() == 2  # ... and the dense products follow
        with threads.scope():  # nested: unchanged
            assert threads._blas_threads() == 1 and workers.split_parts() == 2
        assert workers.split_parts() == 2
    assert threads._blas_threads() == 2 and workers.split_parts() == 1 and workers.parts_once_split() == 1


def test_a_scope_starts_engaged_when_the_last_one_split_its_work(fresh):
    threads._set_blas_threads(2)
    threads.set_policy(2)
    threads.set_split(True)
    with threads.scope():  # a model of dense layers alone: BLAS keeps its threads throughout
        assert threads._blas_threads() == 2 and workers.parts_once_split() == 1
    with threads.scope():
        assert threads._blas_threads() == 2 and workers.parts_once_split() == 1
        assert workers.split_parts() == 2
    with threads.scope():  # the same convolutional model's next predict: engaged from its first op
        assert threads._blas_threads() == 1 and workers.parts_once_split() == 2
        assert workers.split_parts() == 2
    with threads.scope():  # engaged at the start, but nothing split its own work ...
        assert threads._blas_threads() == 1
    with threads.scope():  # ... so the next scope starts with BLAS at its threads again
        assert threads._blas_threads() == 2 and workers.parts_once_split() == 1
    assert threads._blas_threads() == 2


def test_with_the_split_off_blas_gets_the_threads(fresh):
    threads._set_blas_threads(2)
    threads.set_policy(2)
    threads.set_split(False)
    with threads.scope():
        assert threads._blas_threads() == 2 and workers.split_parts() == 1
    assert threads._blas_threads() == 2


def test_one_thread_granted_means_no_split(fresh):
    threads._set_blas_threads(2)
    threads.set_policy(1)
    threads.set_split(True)
    with threads.scope():
        assert threads._blas_threads() == 1 and workers.split_parts() == 1


def test_a_users_limit_in_code_is_a_ceiling_for_the_split_too(fresh, monkeypatch):
    """threadpool_limits(1) around fit: the quiet machine's 2 threads are not granted, so nothing splits."""
    monkeypatch.setattr(threads, "usable_cores", lambda *a: 2)
    monkeypatch.setattr(threads, "take_sample", lambda cpus=None: (threads.Sample(0.0, 0.0, 0.0), 1))  # all quiet
    threads.set_split(True)
    threads._set_blas_threads(1)
    with threads.scope():
        assert threads._blas_threads() == 1 and workers.split_parts() == 1
    threads._set_blas_threads(2)
    with threads.scope():  # no limit: the quiet machine's two threads go to the splits
        assert workers.split_parts() == 2 and threads._blas_threads() == 1


def test_the_users_blas_variables_turn_the_policy_and_the_split_off(fresh, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    threads._set_blas_threads(2)
    with threads.scope():
        assert threads._blas_threads() == 2 and workers.split_parts() == 1


def test_a_decision_applied_at_a_tick_moves_the_threads_between_blas_and_the_splits(fresh, monkeypatch):
    threads._set_blas_threads(2)
    threads.set_policy(2)
    threads.set_split(True)
    with threads.scope():
        threads._pending = 1  # the monitor saw a busy machine
        threads.tick()
        assert threads._blas_threads() == 1 and workers.split_parts() == 1 and threads.last_decision() == 1
        threads._pending = 2  # ... and a quiet one again: BLAS's threads until an op splits its work
        threads.tick()
        assert threads._blas_threads() == 2 and threads.last_decision() == 2
        assert workers.split_parts() == 2 and threads._blas_threads() == 1
        threads._pending = 1  # busy again: one thread for all
        threads.tick()
        assert threads._blas_threads() == 1 and workers.split_parts() == 1 and workers.parts_once_split() == 1
        threads._pending = 2  # quiet: the splits stay engaged for the rest of the scope
        threads.tick()
        assert threads._blas_threads() == 1 and workers.parts_once_split() == 2
    assert threads._blas_threads() == 2 and workers.split_parts() == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is not available on this platform")
def test_a_forked_child_does_not_inherit_the_split(fresh):
    threads.set_policy(2)
    threads.set_split(True)
    with threads.scope():
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.write(write, bytes([workers.split_parts()]))
            finally:
                os._exit(0)
        os.close(write)
        got = os.read(read, 1)
        os.waitpid(pid, 0)
        os.close(read)
    assert got == bytes([1])


def test_a_count_set_from_another_thread_is_not_dropped(fresh):
    """threadpoolctl (3.8) drops an OpenBLAS count set from any thread but the first that set one; Ember drives a
    pthreads OpenBLAS through its own functions, so a policy opened in a worker thread still holds BLAS at one."""
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl", reason="the case is threadpoolctl's own thread gate")
    controllers = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    if not controllers or getattr(controllers[0], "threading_layer", None) == "openmp":
        pytest.skip("no pthreads OpenBLAS here")
    controllers[0].set_num_threads(2)  # this thread now controls OpenBLAS for threadpoolctl
    other = threading.Thread(target=threads._set_blas_threads, args=(1,))
    other.start()
    other.join()
    assert threads._blas_threads() == 1
