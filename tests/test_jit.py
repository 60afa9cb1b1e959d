"""The optional numba seam (ember/backend/jit.py): switch, fallback, and no numba at ``import ember``."""

import subprocess
import sys

import numpy as np
import pytest

from ember.backend import jit


@jit.kernel
def _total(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s


@pytest.fixture
def restore_switch():
    previous = jit.enabled()
    yield
    jit.set_enabled(previous)


def test_switched_off_means_no_compiled_kernel_and_the_python_function_runs(restore_switch):
    jit.set_enabled(False)
    assert not jit.available()
    assert _total.compiled() is None
    assert _total(np.arange(5.0)) == 10.0


def test_without_numba_every_kernel_falls_back(monkeypatch, restore_switch):
    jit.set_enabled(True)
    monkeypatch.setattr(jit, "_numba", False)
    fresh = jit.Kernel(_total.function, _total.options)
    assert fresh.compiled() is None and not jit.available()
    assert fresh(np.arange(4.0)) == 6.0


def test_with_numba_the_kernel_is_compiled_and_agrees(restore_switch):
    pytest.importorskip("numba", reason="numba (a default dependency) is not installed")
    jit.set_enabled(True)
    dispatcher = _total.compiled()
    assert dispatcher is not None and dispatcher is _total.compiled()  # compiled once, then reused
    a = np.random.default_rng(0).standard_normal(100)
    assert dispatcher(a) == pytest.approx(_total.function(a), rel=1e-12)


def test_import_ember_does_not_import_numba_and_env_switch_is_read():
    code = "import sys, ember; from ember.backend import jit; print('numba' in sys.modules, jit.enabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(EMBER_JIT="0"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def _env(**extra):
    import os

    env = dict(os.environ)
    env.update(extra)
    return env
