"""The program corpus (``tests/programs/``): each program runs under Ember and under real Keras 3, results compared.

Every program is a file with ``main(keras) -> dict``: it receives the module it runs under (``ember``, or
``keras`` on its torch backend), builds small data from fixed NumPy seeds, trains for 1-3 epochs and returns
its final metrics. Its ``EXPECT`` says how each metric is judged, honestly for two frameworks whose random
streams differ:

- ``("at_least", v)`` / ``("at_most", v)``: both frameworks reach the floor (ceiling) the task makes meaningful
  (a separable task well above chance, a loss well below the untrained one);
- ``("near", atol)``: both values within ``atol`` of each other (different initial weights or dropout masks);
- ``("same", rtol)``: the programs start from identical weights (``_support.deterministic_init``), do not
  shuffle and draw nothing at random, so the values agree up to float32 rounding accumulated over the steps;
- ``("equal",)``: exactly equal (counts, epochs run, flags).

Ember's run must also be quiet: a warning that Keras would not print fails the program (a program lists the
warnings Keras prints too in ``EXPECTED_WARNINGS``).
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import ember

PROGRAMS_DIR = Path(__file__).resolve().parent / "programs"
PROGRAMS = sorted(p.name for p in PROGRAMS_DIR.glob("*.py") if not p.name.startswith("_"))

# programs that fail on Ember because a name another engineer is adding has not landed yet:
# program -> the exact missing name. Remove an entry as soon as its name lands.
MISSING_ON_EMBER: dict[str, str] = {}


def _load(name):
    if str(PROGRAMS_DIR) not in sys.path:
        sys.path.insert(0, str(PROGRAMS_DIR))
    spec = importlib.util.spec_from_file_location(f"corpus_{name[:-3]}", PROGRAMS_DIR / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def real_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="real Keras 3 (the oracle) is not installed")
    if keras.backend.backend() != "torch":
        pytest.skip(f"the Keras oracle runs on the torch backend; this process has {keras.backend.backend()!r}")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core, as the corpus's time budget is stated
    yield keras
    torch.set_num_threads(threads)


def _run(module, keras, workdir, label):
    cwd = os.getcwd()
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = module.main(keras)
    finally:
        os.chdir(cwd)
    assert isinstance(result, dict) and result, f"{label}: main() should return a dict of final metrics"
    return result, [str(w.message) for w in caught]


def _check(name, key, spec, mine, theirs):
    kind = spec[0]
    where = f"{name}: {key} (Ember {mine!r}, Keras {theirs!r})"
    if kind == "equal":
        assert mine == theirs, f"{where}: expected equal values"
        return
    mine, theirs = float(mine), float(theirs)
    assert math.isfinite(mine) and math.isfinite(theirs), f"{where}: not finite"
    if kind == "at_least":
        assert mine >= spec[1] and theirs >= spec[1], f"{where}: both should be >= {spec[1]}"
    elif kind == "at_most":
        assert mine <= spec[1] and theirs <= spec[1], f"{where}: both should be <= {spec[1]}"
    elif kind == "near":
        assert abs(mine - theirs) <= spec[1], f"{where}: should be within {spec[1]} of each other"
    elif kind == "same":
        assert abs(mine - theirs) <= spec[1] * max(abs(theirs), 1e-3), f"{where}: rtol {spec[1]}"
    else:
        raise AssertionError(f"{name}: unknown check {spec!r} for {key}")


def test_corpus_size():
    assert len(PROGRAMS) >= 40, f"the corpus has {len(PROGRAMS)} programs; the issue asks for at least 40"


@pytest.mark.parametrize("name", PROGRAMS)
def test_program(name, real_keras, tmp_path):
    module = _load(name)
    expect = module.EXPECT
    theirs, _ = _run(module, real_keras, tmp_path / "keras", f"{name} under Keras")
    if name in MISSING_ON_EMBER:
        try:
            _run(module, ember, tmp_path / "ember", name)
        except (AttributeError, ImportError, NotImplementedError) as err:
            pytest.xfail(f"Ember lacks {MISSING_ON_EMBER[name]} ({err})")
        raise AssertionError(f"{name} now runs on Ember: remove it from MISSING_ON_EMBER")
    np.random.seed(0)
    mine, messages = _run(module, ember, tmp_path / "ember", f"{name} under Ember")
    allowed = getattr(module, "EXPECTED_WARNINGS", ())
    noise = [m for m in messages if not any(a in m for a in allowed)]
    assert not noise, f"{name}: Ember printed warnings Keras would not: {noise}"
    assert set(mine) == set(theirs), f"{name}: different result keys: Ember {sorted(mine)}, Keras {sorted(theirs)}"
    assert set(expect) == set(theirs), f"{name}: EXPECT covers {sorted(expect)}, the program returns {sorted(theirs)}"
    for key, spec in expect.items():
        _check(name, key, spec, mine[key], theirs[key])
