"""Data-parallel training on MPI (issue 16): ``mpiexec -n 2`` runs of tests/mpi_scripts/dp_train.py.

Each test starts real processes under mpiexec (mpi4py + an MPI runtime: ``pip install mpi4py mpich``)
and compares them with a single-process run of the same script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="needs mpi4py and an MPI runtime: pip install mpi4py mpich")

SCRIPT = Path(__file__).parent / "mpi_scripts" / "dp_train.py"
ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
if MPIEXEC is None:
    pytest.skip("needs an mpiexec launcher (pip install mpich puts one next to python)", allow_module_level=True)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "OMPI_"))}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT), **extra)
    return env


def _run(out, batch, mode, n=2, timeout=60, **env):
    command = [sys.executable, str(SCRIPT), str(out), str(batch), mode]
    if n:
        command = [MPIEXEC, "-n", str(n), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=_env(**env))


def _weights(out):
    with np.load(out / "weights.npz") as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.mark.parametrize("mode", ["plain", "eager", "dataset"])  # compiled step, eager step, a Dataset
@pytest.mark.slow
def test_two_processes_equal_one_process_with_the_global_batch(tmp_path, mode):
    single, double = tmp_path / "one", tmp_path / "two"
    single.mkdir(), double.mkdir()
    r1 = _run(single, 16, mode, n=0)
    assert r1.returncode == 0, r1.stderr
    # rank 1 starts from other initial weights: the broadcast from rank 0 must replace them
    r2 = _run(double, 8, mode)
    assert r2.returncode == 0, r2.stderr
    for a, b in zip(_weights(single), _weights(double), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    # the logged loss is reduced over both ranks: the mean over the global data, as in one process
    np.testing.assert_allclose(np.load(double / "loss.npy"), np.load(single / "loss.npy"), rtol=1e-5)
    assert not np.allclose(_weights(single)[0], 0)


@pytest.mark.slow
def test_writing_callbacks_run_on_rank_0_only(tmp_path):
    r = _run(tmp_path, 8, "checkpoint")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ckpt_rank0.weights.h5").exists() and (tmp_path / "log_rank0.csv").exists()
    assert not (tmp_path / "ckpt_rank1.weights.h5").exists()
    assert not (tmp_path / "log_rank1.csv").exists()
    assert len((tmp_path / "log_rank0.csv").read_text().strip().splitlines()) == 5  # header + 4 epochs


@pytest.mark.slow
def test_a_killed_rank_ends_the_job_and_the_rerun_resumes_from_the_backup(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    assert _run(reference, 8, "plain").returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    start = time.monotonic()
    r = _run(work, 8, "die", timeout=30)  # rank 1 kills itself (SIGKILL) after epoch 1
    assert time.monotonic() - start < 30
    assert r.returncode != 0
    assert "Killed (signal 9)" in r.stdout + r.stderr  # the launcher names the dead rank's signal
    assert not (work / "weights.npz").exists()
    assert (work / "backup").is_dir()
    r = _run(work, 8, "resume")
    assert r.returncode == 0, r.stderr
    assert np.load(work / "epochs.npy")[0] > 0  # resumed after the last backed-up epoch, not from scratch
    for a, b in zip(_weights(reference), _weights(work), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_a_silent_rank_makes_the_others_stop_with_a_clear_error(tmp_path):
    start = time.monotonic()
    r = _run(tmp_path, 8, "hang", timeout=45, EMBER_MPI_TIMEOUT="3")  # rank 1 sleeps 120 s after epoch 1
    assert time.monotonic() - start < 30
    assert r.returncode != 0
    assert "another rank has died or stopped answering" in r.stderr
    assert "rank 0 of 2 waited more than 3 s" in r.stderr


def test_api_in_one_process():
    import ember
    from ember import distribution

    assert distribution.rank() == 0 and distribution.size() == 1
    assert distribution.list_devices() == ["cpu:0"]
    grads = [ember.ones((2, 3)), None]
    out = distribution.all_reduce(grads)
    assert out[1] is None and np.array_equal(out[0].numpy(), np.ones((2, 3), "float32"))
    with pytest.raises(NotImplementedError, match="DataParallel"):
        distribution.ModelParallel()
    with pytest.raises(NotImplementedError, match="DataParallel"):
        distribution.LayoutMap(None)
    with pytest.raises(ValueError, match="mpiexec -n 2"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    distribution.set_distribution(distribution.DataParallel())
    try:
        assert isinstance(distribution.distribution(), distribution.DataParallel)
    finally:
        distribution.set_distribution(None)


def test_import_ember_does_not_import_mpi4py():
    code = "import sys, ember, ember.distribution; ember.distribution.size(); print('mpi4py' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=60)
    assert r.stdout.strip() == "False", r.stderr
