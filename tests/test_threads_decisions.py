"""The BLAS thread policy's decisions over time (ember/backend/threads.py), fed fake readings; and the CPU caps.

A fake machine stands in for /proc/stat and getrusage: each reading comes a quarter second (of fake time) after
the last, with the neighbours' load a function of that time. No test here depends on how busy the real machine is.
"""

import threading
import time

import pytest

from ember.backend import threads

STEP = 0.25  # fake seconds between readings: the monitor's window


@pytest.fixture
def fresh(monkeypatch):
    for var in (*threads.USER_THREAD_VARS, "EMBER_BLAS_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMBER_THREAD_SPLIT", "off")  # the counts given to BLAS (tests/test_threads_split.py: the split)
    threads._reset_for_tests()
    yield
    threads._reset_for_tests()


class FakeMachine:
    """Readings of a machine where other processes keep ``load(t)`` CPUs busy and this process ``own`` CPUs."""

    def __init__(self, load, own=1.0, start=100.0):
        self.load, self.own = load, own
        self.t, self.busy, self.mine = start, 0.0, 0.0
        self.lock = threading.Lock()

    def advance(self, seconds):
        """Time passes between readings (a pause between calls, say) at the load of its start."""
        self.busy += (self.load(self.t) + self.own) * seconds
        self.mine += self.own * seconds
        self.t += seconds

    def sample(self, cpus=None):
        with self.lock:
            reading = threads.Sample(self.t, self.busy, self.mine)
            self.advance(STEP)
            return reading, None


def timeline(load, seconds, cores=2, current=2, cpus=None):
    """Feed ``seconds`` of readings to a LoadHistory and decide after each: [(time, threads)] at each change."""
    machine, history = FakeMachine(load), threads.LoadHistory()
    history.add(machine.sample()[0])
    changes, n = [], current
    for _ in range(round(seconds / STEP)):
        sample = machine.sample()[0]
        history.add(sample)
        new = threads.decide(history, sample.wall, cores, n, cpus)
        if new != n:
            changes.append((round(sample.wall - 100.0, 3), new))
            n = new
    return changes


def between(a, b, level, otherwise=0.0):
    return lambda t: level if a <= t - 100.0 < b else otherwise


# ------------------------------------------------------------------ decisions over time


def test_a_quiet_machine_keeps_every_thread():
    assert timeline(lambda t: 0.0, 10) == []


def test_a_transient_burst_shorter_than_a_second_takes_no_thread():
    """The final-benchmark failure: load left by jobs that had just ended must not cost the whole run a thread."""
    assert timeline(between(0.0, 0.75, 1.0), 10) == []
    assert timeline(between(2.0, 2.75, 2.0), 10) == []
    # a neighbour that comes and goes every half second is never busy through a whole second either
    assert timeline(lambda t: 1.0 if int((t - 100.0) / 0.5) % 2 else 0.0, 10) == []


def test_sustained_contention_takes_a_thread_after_a_second_and_gives_it_back_when_it_ends():
    """A long fit: a CPU-bound neighbour from the start until t=3 s, then gone."""
    changes = timeline(between(0.0, 3.0, 1.0), 8)
    assert [n for _, n in changes] == [1, 2], changes
    (dropped, _), (restored, _) = changes
    assert threads.SUSTAIN_S <= dropped <= threads.SUSTAIN_S + STEP  # one second of readings, then at once
    assert 3.0 + threads.RECOVER_S <= restored <= 3.0 + threads.RECOVER_S + STEP  # back within 0.75 s


def test_a_neighbour_that_arrives_mid_run_takes_the_thread_a_second_later():
    changes = timeline(between(4.0, 100.0, 1.0), 10)
    assert len(changes) == 1 and changes[0][1] == 1 and 5.0 <= changes[0][0] <= 5.25, changes


def test_light_background_load_keeps_every_thread_and_hysteresis_holds_a_dropped_one():
    assert timeline(lambda t: 0.2, 10) == []  # below the third of a core that costs a thread
    changes = timeline(lambda t: 1.0 if t - 100.0 < 2.0 else 0.2, 10)  # the neighbour leaves, 0.2 remains
    assert [n for _, n in changes] == [1], changes  # 0.2 is inside the hysteresis band: not given back


def test_more_cores_lose_as_many_threads_as_the_neighbours_take():
    assert timeline(lambda t: 3.5, 4, cores=16, current=16) == [(1.0, 12)]


def test_the_quota_caps_threads_while_the_load_is_read_over_the_cpus_we_may_use():
    """A container with a 2-CPU quota on a 64-CPU host: the host's busy CPUs count against 64, the cap is 2."""
    assert timeline(lambda t: 30.0, 4, cores=2, current=2, cpus=64) == []  # 34 CPUs free: both threads
    assert timeline(lambda t: 63.0, 4, cores=2, current=2, cpus=64) == [(1.0, 1)]
    # a count above the cap comes down at once, before any reading
    assert threads.decide(threads.LoadHistory(), 0.0, 2, 16) == 2


def test_a_pause_longer_than_fresh_forgets_the_readings():
    machine, history = FakeMachine(lambda t: 1.0), threads.LoadHistory()
    for _ in range(8):
        history.add(machine.sample()[0])
    assert history.level(machine.t, threads.SUSTAIN_S, min) == pytest.approx(1.0)
    machine.advance(threads.FRESH_S + 1.0)
    history.add(machine.sample()[0])  # a window longer than FRESH_S: everything before it is stale
    assert not history.fresh(machine.t) and history.level(machine.t, threads.RECOVER_S, max) is None
    assert threads.decide(history, machine.t, 2, 2) == 2


def test_readings_closer_than_half_a_window_are_skipped():
    history = threads.LoadHistory()
    history.add(threads.Sample(0.0, 0.0, 0.0))
    history.add(threads.Sample(0.05, 0.1, 0.0))  # too short to measure: the window still starts at 0
    history.add(threads.Sample(0.5, 1.0, 0.5))
    assert list(history.windows) == [(0.5, 0.5, pytest.approx(1.0))]


# ------------------------------------------------------------------ the scope with a fake machine


def _scope_setup(monkeypatch, machine, cores=2):
    if not threads.blas_libraries():
        pytest.skip("no BLAS library whose thread count can be set (threadpoolctl or OpenBLAS) in this NumPy")
    monkeypatch.setattr(threads, "usable_cores", lambda *a: cores)
    monkeypatch.setattr(threads, "affinity_cpus", lambda: None)
    monkeypatch.setattr(threads, "take_sample", machine.sample)
    monkeypatch.setattr(threads, "WINDOW_S", 0.005)  # real seconds between the monitor's readings
    monkeypatch.setattr(threads, "_blas_threads", lambda: cores)
    seen = []
    monkeypatch.setattr(threads, "_set_blas_threads", lambda n: seen.append((round(machine.t - 100.0, 3), n)))
    return seen


def test_a_long_fit_drops_a_thread_under_a_lasting_neighbour_and_regains_it_when_it_leaves(fresh, monkeypatch):
    machine = FakeMachine(between(0.0, 3.0, 1.0))
    seen = _scope_setup(monkeypatch, machine)
    with threads.scope():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and [n for _, n in seen] != [1, 2]:
            threads.tick()  # the trainer's once-per-batch call: applies the monitor's decision
            time.sleep(0.001)
    assert [n for _, n in seen[:2]] == [1, 2], seen
    (dropped, _), (restored, _) = seen[:2]
    assert 1.0 <= dropped <= 1.5 and 3.5 <= restored <= 4.0, seen  # a reading or so of slack for the tick
    assert seen[2:] == []  # nothing to restore: the count on leaving is the one found on entry


def test_a_call_right_after_another_reuses_the_decision_and_one_after_a_pause_starts_full(fresh, monkeypatch):
    machine = FakeMachine(lambda t: 1.0)
    seen = _scope_setup(monkeypatch, machine)
    with threads.scope():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            threads.tick()
            time.sleep(0.001)
    assert [n for _, n in seen] == [1, 2]  # dropped inside, restored on leaving
    with threads.scope():  # a predict right after: the readings are fresh, the decision holds from the start
        assert [n for _, n in seen] == [1, 2, 1]
    assert threads.last_decision() == 1
    machine.advance(threads.FRESH_S + 1.0)  # a pause: those readings say nothing about now
    seen.clear()
    with threads.scope():
        assert seen == []  # starts at the full count; a lasting neighbour costs one second to notice again


def test_a_series_of_short_calls_is_judged_over_the_series(fresh, monkeypatch):
    """Calls shorter than a window never see the monitor read: their entries read /proc/stat instead."""
    machine = FakeMachine(lambda t: 1.0)
    _scope_setup(monkeypatch, machine)
    monkeypatch.setattr(threads, "WINDOW_S", 0.25)  # the real window: the monitor never reads during a call
    monkeypatch.setattr(threads.time, "monotonic", lambda: machine.t)  # entries see the fake clock
    decisions = []
    for _ in range(8):
        with threads.scope():
            decisions.append(threads.last_decision())
    assert decisions[:3] == [2, 2, 2] and decisions[-1] == 1, decisions  # after a second of readings


# ------------------------------------------------------------------ the CPU caps


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_is_read_up_the_hierarchy(tmp_path):
    _write(tmp_path / "cpu.max", "max 100000\n")
    _write(tmp_path / "a" / "cpu.max", "150000 100000\n")
    _write(tmp_path / "a" / "b" / "cpu.max", "max 100000\n")
    assert threads.cgroup_cpu_limit(str(tmp_path), "0::/a/b\n") == pytest.approx(1.5)
    assert threads.cgroup_cpu_limit(str(tmp_path), "0::/\n") is None


def test_cgroup_v2_inside_a_container_reads_the_mounts_root(tmp_path):
    """/proc/self/cgroup names the host's path; the container sees its own cgroup at the mount's root."""
    _write(tmp_path / "cpu.max", "250000 100000\n")
    assert threads.cgroup_cpu_limit(str(tmp_path), "0::/kubepods/burstable/pod1/abc\n") == pytest.approx(2.5)


def test_cgroup_v1_quota(tmp_path):
    folder = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    _write(folder / "cpu.cfs_quota_us", "300000\n")
    _write(folder / "cpu.cfs_period_us", "100000\n")
    _write(tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")
    _write(tmp_path / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    text = "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n"
    assert threads.cgroup_cpu_limit(str(tmp_path), text) == pytest.approx(3.0)
    _write(folder / "cpu.cfs_quota_us", "-1\n")
    assert threads.cgroup_cpu_limit(str(tmp_path), text) is None


def test_no_cgroup_information_means_no_quota(tmp_path):
    assert threads.cgroup_cpu_limit(str(tmp_path), "") is None
    assert threads.cgroup_cpu_limit(str(tmp_path), "0::/a\n") is None  # no cpu.max anywhere
    _write(tmp_path / "cpu.max", "garbage\n")
    assert threads.cgroup_cpu_limit(str(tmp_path), "0::/\n") is None


def test_this_process_limit_reads_without_error():
    limit = threads.cgroup_cpu_limit()
    assert limit is None or limit > 0
    assert 1 <= threads.usable_cores() <= (len(threads.affinity_cpus() or ()) or 10**6)


@pytest.mark.parametrize(
    "cpus, quota, cores", [(8, 1.5, 1), (8, 2.0, 2), (2, None, 2), (2, 16.0, 2), (4, 0.5, 1), (16, 3.999, 3)]
)
def test_usable_cores_is_the_affinity_capped_by_the_quota_rounded_down(cpus, quota, cores):
    assert threads.usable_cores(cpus, quota) == cores


PROC_STAT = """cpu  1000 0 0 8000 0 0 0 0 0 0
cpu0 100 0 0 4000 0 0 0 0 0 0
cpu1 900 0 0 4000 0 0 0 0 0 0
procs_running 3
"""


def test_proc_stat_busy_time_is_summed_over_the_cpus_we_may_run_on():
    assert threads.parse_proc_stat(PROC_STAT, hz=100)[0] == pytest.approx(10.0)
    assert threads.parse_proc_stat(PROC_STAT, hz=100, cpus={1})[0] == pytest.approx(9.0)
    assert threads.parse_proc_stat(PROC_STAT, hz=100, cpus={0, 1})[0] == pytest.approx(10.0)
    assert threads.parse_proc_stat(PROC_STAT, hz=100, cpus={7})[0] == pytest.approx(10.0)  # unlisted: the total


def test_describe_reports_the_cap_and_its_parts(fresh):
    state = threads.describe()
    assert state["cores"] == threads.usable_cores(state["cpus"], state["cpu_quota"])


def test_numbas_pool_started_after_the_count_was_lowered_gets_it_too(fresh, monkeypatch):
    numba = pytest.importorskip("numba", reason="numba is not installed")
    machine = FakeMachine(lambda t: 1.0)
    _scope_setup(monkeypatch, machine)
    pool = {"started": False}
    monkeypatch.setattr(threads, "_numba_pool_started", lambda: pool["started"])
    with threads.scope():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and threads._current != 1:
            threads.tick()
            time.sleep(0.001)
        assert threads._current == 1
        before = numba.get_num_threads()
        pool["started"] = True  # a parallel kernel ran for the first time: numba's pool exists now
        while time.monotonic() < deadline and numba.get_num_threads() != 1:
            threads.tick()
            time.sleep(0.001)
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
