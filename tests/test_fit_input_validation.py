"""fit/evaluate/predict on bad input (issue 13): a clear DataError naming the argument, what was expected and what
came, raised before any step runs; the error type matches Keras 3's (KERAS_BACKEND=torch) where Keras raises one.
"""

import os

import numpy as np
import pytest

import ember
from ember.errors import DataError, EmberError

X = np.random.default_rng(0).random((10, 3)).astype("float32")
Y = np.random.default_rng(1).random((10, 1)).astype("float32")
SPARSE = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1])


def _model(lib, loss="mse", units=1):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(units)])
    model.compile("sgd", loss)
    return model


# (id, call(lib), message the Ember error must hold, what Keras 3 does: an exception type or None = accepts it)
CASES = [
    ("fit_x_none", lambda k: _model(k).fit(None, Y, verbose=0), r"^x is None: expected the model inputs", ValueError),
    ("evaluate_x_none", lambda k: _model(k).evaluate(None, Y, verbose=0), r"^x is None", ValueError),
    ("predict_x_none", lambda k: _model(k).predict(None, verbose=0), r"^x is None", KeyError),
    (
        "fit_empty",
        lambda k: _model(k).fit(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0),
        r"x: expected at least one sample, got no samples \(empty arrays: x \(0, 3\), y \(0, 1\)\)",
        ValueError,
    ),
    (
        "evaluate_empty",
        lambda k: _model(k).evaluate(np.zeros((0, 3)), np.zeros((0, 1)), verbose=0),
        r"at least one sample",
        ValueError,
    ),
    ("predict_empty", lambda k: _model(k).predict(np.zeros((0, 3)), verbose=0), r"at least one sample", NameError),
    (
        "batch_size_fraction",
        lambda k: _model(k).fit(X, Y, batch_size=8.5, verbose=0),
        r"batch_size: expected a positive integer \(or None\), got 8.5 \(float\)",
        ValueError,
    ),
    ("batch_size_bool", lambda k: _model(k).fit(X, Y, batch_size=True, verbose=0), r"got True \(bool\)", ValueError),
    ("batch_size_text", lambda k: _model(k).evaluate(X, Y, batch_size="8", verbose=0), r"got '8' \(str\)", TypeError),
    ("batch_size_negative", lambda k: _model(k).predict(X, batch_size=-2, verbose=0), r"got -2$", ValueError),
    (
        "fractional_sparse_labels",
        lambda k: _model(k, "sparse_categorical_crossentropy", 3).fit(X, SPARSE + 0.5 * (SPARSE == 1), verbose=0),
        r"sparse_categorical_crossentropy: expected integer class labels in y_true, got fractional values \[1.5",
        None,
    ),
    (
        "complex_x",
        lambda k: _model(k).fit(X.astype(complex), Y, verbose=0),
        r"x: expected real numbers, got complex values \(dtype complex128, shape \(10, 3\)\)",
        None,
    ),
    ("complex_y", lambda k: _model(k).fit(X, Y + 1j, verbose=0), r"^y: expected real numbers", None),
    (
        "string_x",
        lambda k: _model(k).fit(np.array([["a", "b", "c"]] * 10), Y, verbose=0),
        r"x: expected numbers, got strings \(dtype <U1, shape \(10, 3\); element \[0\]\[0\] is 'a'\) "
        r"and model '.*' has no layer that reads strings",
        ValueError,
    ),
    (
        "string_predict",
        lambda k: _model(k).predict(np.array([["1", "2", "x"]]), verbose=0),
        r"x: expected numbers, got strings",
        ValueError,
    ),
    (
        "string_dataset",
        lambda k: _model(k).fit(
            ember.data.Dataset.from_tensor_slices((np.array([["1", "2", "3"]] * 10), Y)).batch(4), verbose=0
        ),
        r"x \(a batch of the dataset\): expected numbers, got strings \(dtype <U1, shape \(4, 3\)",
        "skip",  # Keras has no ember.data.Dataset
    ),
    (
        "string_sample_weight",
        lambda k: _model(k).fit(X, Y, sample_weight=np.array(["1"] * 10), verbose=0),
        r"^sample_weight: expected numbers, got strings",
        ValueError,
    ),
    (
        "ragged_lists",
        lambda k: _model(k).fit([[1, 2, 3], [1, 2]] * 5, Y, verbose=0),
        r"x: expected an array or nested lists of one shape .*: x\[1\] is a list of 2 but x\[0\] is a list of 3",
        ValueError,
    ),
    (
        "ragged_deeper",
        lambda k: _model(k).predict([[1, 2, 3], [4, 5, [6]]], verbose=0),
        r"x\[1\]\[2\] is a list of 1 but x\[1\]\[0\] is a int",
        ValueError,
    ),
    (
        "object_array",
        lambda k: _model(k).fit(np.array([1, "a", None] * 10, dtype=object).reshape(10, 3), Y, verbose=0),
        r"x: expected numeric data, got an array of Python objects",
        ValueError,
    ),
    (
        "scalar_x",
        lambda k: _model(k).predict(3.0, verbose=0),
        r"x: expected an array with the samples on its",
        ValueError,
    ),
    (
        "sample_counts_differ",
        lambda k: _model(k).fit(X, Y[:5], verbose=0),
        r"different numbers of samples \(\(10, 3\), \(5, 1\)\)",
        ValueError,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_data_error_naming_what_was_expected(case):
    _, call, message, _ = case
    with pytest.raises(DataError, match=message) as err:
        call(ember)
    assert isinstance(err.value, EmberError) and isinstance(err.value, ValueError)
    assert len(str(err.value)) < 400  # one readable sentence, not an array dump


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for the error types")
    if keras.backend.backend() != "torch":
        pytest.skip("the Keras oracle runs with KERAS_BACKEND=torch")
    return keras


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_error_type_matches_keras_where_keras_raises(case):
    """Keras raises ValueError for most of these: DataError is one. Where Keras raises something else (a KeyError,
    an UnboundLocalError: its own bugs) or accepts the input, Ember's ValueError is the deliberate difference."""
    keras = _keras()
    _, call, _, keras_does = case
    if keras_does == "skip":
        pytest.skip("an Ember-only input")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if keras_does is None:
            call(keras)  # Keras accepts it (and Ember refuses it on purpose)
            return
        with pytest.raises(Exception) as err:
            call(keras)
    assert isinstance(err.value, keras_does), (type(err.value), err.value)
    if keras_does is ValueError:
        assert issubclass(DataError, type(err.value))


def test_good_input_still_trains_and_strings_reach_layers_that_read_them():
    model = _model(ember)
    history = model.fit(X, Y, batch_size=np.int64(4), epochs=1, verbose=0)  # NumPy integers are integers
    assert np.isfinite(history.history["loss"][0])
    assert model.predict(X.tolist(), verbose=0).shape == (10, 1)  # nested lists of one shape are arrays
    labels = ember.Sequential([ember.Input((3,)), ember.layers.Dense(3)])
    labels.compile("sgd", "sparse_categorical_crossentropy")
    labels.fit(X, SPARSE.astype("float32"), verbose=0)  # whole numbers in a float array are labels
    lookup = ember.Sequential([ember.layers.StringLookup(vocabulary=["a", "b", "c"]), ember.layers.Embedding(4, 2)])
    out = lookup.predict(np.array([["a"], ["c"], ["zz"]]), verbose=0)
    assert out.shape == (3, 1, 2)
