"""The Gluon program corpus (tests/mxnet_programs) on ember.mxnet against real MXNet 1.9.1's numbers
(tests/fixtures/mxnet/programs.json, written by tests/fixtures/make_mxnet_fixtures.py)."""

import importlib
import json
import os

import numpy as np
import pytest

import ember.mxnet as mx
from tests.mxnet_programs import PROGRAMS

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet", "programs.json")
with open(FIXTURES) as f:
    EXPECTED = json.load(f)


def _compare(name, got, want, rtol):
    assert set(got) == set(want), f"{name}: keys {sorted(got)} != MXNet's {sorted(want)}"
    for key, value in want.items():
        if isinstance(value, list) and value and isinstance(value[0], str) or isinstance(value, str):
            assert got[key] == value, f"{name}[{key}]"
            continue
        a, b = np.asarray(got[key], dtype=np.float64), np.asarray(value, dtype=np.float64)
        assert a.shape == b.shape, f"{name}[{key}]: shape {a.shape} != MXNet's {b.shape}"
        scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6 * scale, err_msg=f"{name}[{key}]")


def test_corpus_is_big_enough():
    assert len(PROGRAMS) >= 15
    assert set(PROGRAMS) == set(EXPECTED)


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_mxnet(name):
    module = importlib.import_module(f"tests.mxnet_programs.{name}")
    got = module.main(mx)
    _compare(name, got, EXPECTED[name], rtol=1e-5)


# ---- the seed's Gluon programs (examples/gluon), MXNet code with only the import line changed ----------------

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "gluon")


@pytest.fixture
def run_seed_example(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)

    def run(name):
        return importlib.import_module(name).main(quick=True, out=str(tmp_path))

    return run


@pytest.mark.parametrize(
    "name", ["raw_ndarray_mlp", "block_mlp", "sequential_classifier", "l2_regression", "checkpoint"]
)
def test_seed_example_changes_only_the_import_lines(name):
    with open(os.path.join(EXAMPLES, f"{name}.py")) as f:
        source = f.read()
    assert "import ember.mxnet as mx  # was: import mxnet as mx" in source
    lines = [line for line in source.splitlines() if "ember" in line and not line.lstrip().startswith(('"', "#"))]
    assert all("# was: " in line for line in lines), f"{name}: Ember-specific lines besides the imports: {lines}"


@pytest.mark.slow
def test_seed_raw_ndarray_mlp_learns(run_seed_example):
    result = run_seed_example("raw_ndarray_mlp")  # quick: 0.92
    assert result["loss"] < 0.7 * result["first_loss"]
    assert result["test_accuracy"] > 0.85  # chance is 0.38 (the largest class)


def test_seed_block_mlp_learns(run_seed_example):
    assert run_seed_example("block_mlp")["test_accuracy"] > 0.93  # quick: 0.968


def test_seed_sequential_classifier_learns(run_seed_example):
    result = run_seed_example("sequential_classifier")  # quick: 0.955 / 0.954
    assert result["test_accuracy"] > 0.92 and result["train_accuracy"] > 0.92


def test_seed_l2_regression_fits(run_seed_example):
    result = run_seed_example("l2_regression")  # the target's variance is about 27; the noise's 1e-4
    assert result["test_mse"] < 0.01 and result["loss"] < 0.01 * result["first_loss"]


def test_seed_checkpoint_round_trips(run_seed_example, tmp_path):
    result = run_seed_example("checkpoint")
    assert result["data_ok"] and result["max_difference"] == 0.0 and result["accuracy"] > 0.9
    assert os.path.exists(tmp_path / "MyNet.params") and os.path.exists(tmp_path / "test.dat")


with open(os.path.join(os.path.dirname(FIXTURES), "seed_examples.json")) as f:
    SEED_ON_MXNET = json.load(f)  # the same examples run on real MXNet 1.9.1 with the import lines put back


@pytest.mark.parametrize(
    "name, key, tolerance",
    [
        ("raw_ndarray_mlp", "test_accuracy", 0.06),
        ("block_mlp", "test_accuracy", 0.03),
        ("sequential_classifier", "test_accuracy", 0.03),
        ("l2_regression", "test_mse", 1e-4),
        ("checkpoint", "max_difference", 0.0),
    ],
)
def test_seed_example_quality_matches_mxnet(run_seed_example, name, key, tolerance):
    # initial draws and shuffles come from different generators, so the runs agree in quality, not digits
    got, want = run_seed_example(name)[key], SEED_ON_MXNET[name][key]
    assert abs(got - want) <= tolerance, f"{name}: {key} {got} on Ember, {want} on MXNet"
