"""numba is a default dependency, yet ``import ember`` and training work without it (hidden, or broken)."""

import os
import subprocess
import sys

import pytest

# a small LSTM and a small CNN: both families that carry numba kernels
TRAIN = """
import warnings
warnings.simplefilter("default")
import numpy as np
import ember as keras
from ember.backend import jit
from ember.tools.doctor import checks
rng = np.random.default_rng(0)
lstm = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
lstm.compile("adam", "mse")
lstm.fit(rng.random((16, 5, 3), dtype="float32"), rng.random((16, 1), dtype="float32"), verbose=0)
cnn = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.MaxPooling2D(),
                        keras.layers.Flatten(), keras.layers.Dense(1)])
cnn.compile("adam", "mse")
cnn.fit(rng.random((16, 8, 8, 1), dtype="float32"), rng.random((16, 1), dtype="float32"), verbose=0)
(check,) = checks.check_kernels()
print("RESULT", jit.available(), check.status, "|", check.summary)
"""


def _run(prelude, env_extra=None):
    env = dict(os.environ)
    env.pop("EMBER_JIT", None)
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", prelude + TRAIN], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    available, status, _, summary = line[len("RESULT ") :].split(" ", 3)
    return available, status, summary, out.stderr


@pytest.mark.slow
def test_without_numba_installed_ember_trains_on_numpy_kernels_silently():
    # sys.modules[name] = None is how Python spells "not importable": find_spec says None, import fails
    available, status, summary, stderr = _run("import sys; sys.modules['numba'] = None\n")
    assert available == "False" and status == "missing"
    assert summary.startswith("NumPy fallback: numba is not installed")
    assert "Warning" not in stderr  # a missing optional speed-up is not worth a warning


@pytest.mark.slow
def test_a_numba_that_fails_to_import_falls_back_with_one_warning(tmp_path):
    fake = tmp_path / "numba"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('this numba build is broken (test)')\n")
    available, status, summary, stderr = _run(
        "", {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    )
    assert available == "False" and status == "warn" and "this numba build is broken (test)" in summary
    assert stderr.count("numba is installed but failed to import") == 1


@pytest.mark.slow
def test_with_numba_the_default_install_runs_the_compiled_kernels():
    pytest.importorskip("numba", reason="numba is not installed")
    available, status, summary, _ = _run("")
    assert available == "True" and status == "ok" and "compiled kernels active" in summary
