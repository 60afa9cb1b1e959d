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
