"""Ember's worker threads (ember/backend/workers.py): run_parts' guarantees and split_parts()."""

import os
import threading
import time

import pytest

from ember.backend import threads, workers


@pytest.fixture(autouse=True)
def one_part_outside():
    """Every test starts and ends with split_parts() at 1 (as outside a thread-policy scope)."""
    previous = workers.set_split_parts(1)
    yield
    workers.set_split_parts(previous)


def test_split_parts_is_one_outside_a_policy_and_forced_parts_sets_it_for_a_block():
    assert workers.split_parts() == 1
    with workers.forced_parts(3):
        assert workers.split_parts() == 3
        with workers.forced_parts(2):
            assert workers.split_parts() == 2
        assert workers.split_parts() == 3
    assert workers.split_parts() == 1


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_run_parts_returns_each_parts_result_in_order(count):
    parts = [(i, i * 10) for i in range(count)]
    assert workers.run_parts(lambda a, b: a + b, parts) == [a + b for a, b in parts]


def test_the_parts_after_the_first_run_on_worker_threads_at_the_same_time():
    """Two parts that each wait for the other can only finish if they run at once, on two threads."""
    barrier = threading.Barrier(2, timeout=10)
    names = workers.run_parts(lambda i: (barrier.wait(), threading.current_thread().name)[1], [(0,), (1,)])
    assert names[0] == threading.current_thread().name
    assert names[1].startswith("ember-worker")


def test_a_part_that_raises_is_raised_in_the_caller_after_every_part_finished():
    finished = []

    def run(i):
        if i == 1:
            raise ValueError("part 1 failed")
        time.sleep(0.05)
        finished.append(i)

    with pytest.raises(ValueError, match="part 1 failed"):
        workers.run_parts(run, [(0,), (1,)])
    assert finished == [0]

    def first_raises(i):
        if i == 0:
            raise KeyError("first")
        time.sleep(0.05)
        finished.append(i)

    finished.clear()
    with pytest.raises(KeyError, match="first"):
        workers.run_parts(first_raises, [(0,), (1,)])
    assert finished == [1]  # the worker's part was waited for
    assert workers.run_parts(lambda i: i, [(0,), (1,)]) == [0, 1]  # and the workers still serve


def test_inside_a_part_split_parts_is_one_and_a_nested_split_runs_in_its_own_thread():
    seen = []

    def inner(i):
        return threading.current_thread().name

    def outer(i):
        seen.append(workers.split_parts())
        return workers.run_parts(inner, [(0,), (1,)])

    with workers.forced_parts(2):
        results = workers.run_parts(outer, [(0,), (1,)])
        assert workers.split_parts() == 2  # after the split
    assert seen == [1, 1]
    for names in results:  # each part's own nested parts ran one after another in that part's thread
        assert names[0] == names[1]


def test_one_split_at_a_time_another_threads_split_runs_its_parts_in_its_own_thread():
    release, holding = threading.Event(), threading.Event()

    def hold(i):
        if i == 0:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=workers.run_parts, args=(hold, [(0,), (1,)]))
    holder.start()
    try:
        assert holding.wait(10)
        names = workers.run_parts(lambda i: threading.current_thread().name, [(0,), (1,)])
        assert names == [threading.current_thread().name] * 2
    finally:
        release.set()
        holder.join(10)


def test_blas_is_held_at_one_thread_while_the_parts_run_and_put_back_after():
    libs = threads.blas_libraries()
    if not libs:
        pytest.skip("no BLAS library whose thread count can be read here")
    before = [lib.get_num_threads() for lib in libs]
    threads._set_blas_threads(2)
    try:
        counts = workers.run_parts(lambda i: [lib.get_num_threads() for lib in libs], [(0,), (1,)])
        assert counts[0] == [1] * len(libs)
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)
    finally:
        for lib, count in zip(libs, before):
            lib.set_num_threads(count)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is not available on this platform")
def test_a_forked_child_starts_fresh_even_when_the_parent_was_splitting():
    workers.run_parts(lambda i: i, [(0,), (1,)])  # the parent's workers exist
    workers.set_split_parts(2)
    workers._busy.acquire()  # as if a split were running when the fork happened
    read, write = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child: report and leave without running pytest's exit handlers
            code = 1
            try:
                barrier = threading.Barrier(2, timeout=10)
                names = workers.run_parts(lambda i: (barrier.wait(), threading.current_thread().name)[1], [(0,), (1,)])
                ok = workers.split_parts() == 1 and names[1].startswith("ember-worker")
                code = 0 if ok else 2
            finally:
                os.write(write, bytes([code]))
                os._exit(0)
        os.close(write)
        status = os.read(read, 1)
        os.waitpid(pid, 0)
    finally:
        workers._busy.release()
        os.close(read)
    assert status == bytes([0])
