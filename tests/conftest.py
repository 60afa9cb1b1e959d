"""Shared test setup: every test starts from the same random state."""

import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def _seeded():
    ember.random.seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
