# ruff: noqa: N803, N806  (X is scikit-learn's name for the inputs, and the keyword a builder is called with)
"""ember.wrappers (SKLearnClassifier / Regressor / Transformer) against Keras 3's keras.wrappers.

The Keras and Ember estimators are given builders that start from the same weights and train with
full-batch SGD without shuffling, so after fit both models hold the same weights (float32 arithmetic
apart) and every output of the wrappers (labels, raw outputs, scores, transforms) must agree. Then
scikit-learn's own machinery on Ember models: clone, get/set_params, pickling, GridSearchCV,
RandomizedSearchCV and cross_val_score with KFold, run sequentially.
"""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is the optional dependency ember.wrappers wraps")

from sklearn.base import clone  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, cross_val_score  # noqa: E402

import ember  # noqa: E402
from ember import layers  # noqa: E402
from ember.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer  # noqa: E402

FIT = {"epochs": 3, "batch_size": 1000, "shuffle": False, "verbose": 0}


def _initial_weights(n_in, n_hidden, n_out, seed=3):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(0, 0.5, (n_in, n_hidden)).astype("float32"),
        rng.normal(0, 0.1, (n_hidden,)).astype("float32"),
        rng.normal(0, 0.5, (n_hidden, n_out)).astype("float32"),
        rng.normal(0, 0.1, (n_out,)).astype("float32"),
    ]


def _mlp(lib, X, y, activation, loss, hidden=6):
    """The same MLP in Ember or Keras (``lib``), with fixed initial weights, compiled with SGD."""
    n_out = y.shape[1] if y.ndim == 2 else 1
    model = lib.Sequential(
        [
            lib.Input((X.shape[1],)),
            lib.layers.Dense(hidden, activation="tanh"),
            lib.layers.Dense(n_out, activation=activation),
        ]
    )
    model.set_weights(_initial_weights(X.shape[1], hidden, n_out))
    model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


# module-level builders: importable, so the estimators pickle with them (as pickle requires)
def ember_classifier(X, y, hidden=6):
    return _mlp(ember, X, y, "softmax", "categorical_crossentropy", hidden)


def ember_regressor(X, y, hidden=6):
    return _mlp(ember, X, y, None, "mse", hidden)


def keras_classifier(X, y, hidden=6):
    import keras

    return _mlp(keras, X, y, "softmax", "categorical_crossentropy", hidden)


def keras_regressor(X, y, hidden=6):
    import keras

    return _mlp(keras, X, y, None, "mse", hidden)


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 is the oracle for the wrappers")


def _classification(n=120, seed=0, labels=("cat", "dog", "eel")):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype("float32")
    score = X @ rng.normal(size=(5, len(labels)))
    return X, np.asarray(labels)[np.argmax(score, axis=1)]


def _regression(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype("float32")
    return X, (X @ rng.normal(size=5) + 0.1 * rng.normal(size=n)).astype("float32")


# --- the same behaviour as Keras's wrappers -------------------------------------------------------


@pytest.mark.parametrize("labels", [("cat", "dog", "eel"), (3, 7), (-1.0, 4.0, 2.0, 9.0)])
def test_classifier_matches_keras(keras, labels):
    X, y = _classification(labels=labels)
    ours = SKLearnClassifier(ember_classifier, fit_kwargs=FIT).fit(X, y)
    theirs = keras.wrappers.SKLearnClassifier(keras_classifier, fit_kwargs=dict(FIT)).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-4, atol=1e-5)
    pred = ours.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == theirs.predict(X).dtype
    np.testing.assert_array_equal(pred, theirs.predict(X))
    assert ours.score(X, y) == theirs.score(X, y) == accuracy_score(y, pred)
    proba = ours.predict_proba(X)  # Keras's wrapper has no predict_proba; ours gives the softmax outputs
    assert proba.shape == (len(X), len(labels))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert ours.n_features_in_ == theirs.n_features_in_ == 5
    assert ours.epoch_ == 3 and ours.history_.epoch == [0, 1, 2]
    np.testing.assert_allclose(ours.history_.history["loss"], theirs.history_.history["loss"], rtol=1e-4)


def test_classifier_column_target_matches_keras(keras):
    X, y = _classification()
    y = y.reshape(-1, 1)
    # scikit-learn's input check ravels a classifier's column target (with its DataConversionWarning)
    with pytest.warns(sklearn.exceptions.DataConversionWarning):
        ours = SKLearnClassifier(ember_classifier, fit_kwargs=FIT).fit(X, y)
    with pytest.warns(sklearn.exceptions.DataConversionWarning):
        theirs = keras.wrappers.SKLearnClassifier(keras_classifier, fit_kwargs=dict(FIT)).fit(X, y)
    assert ours.predict(X).shape == theirs.predict(X).shape == (len(X),)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_regressor_matches_keras(keras):
    X, y = _regression()
    ours = SKLearnRegressor(ember_regressor, fit_kwargs=FIT).fit(X, y)
    theirs = keras.wrappers.SKLearnRegressor(keras_regressor, fit_kwargs=dict(FIT)).fit(X, y)
    pred = ours.predict(X)
    assert pred.shape == theirs.predict(X).shape == (len(X),)
    np.testing.assert_allclose(pred, theirs.predict(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.score(X, y), theirs.score(X, y), rtol=1e-4)
    np.testing.assert_allclose(ours.score(X, y), r2_score(y, pred), rtol=1e-6)


def test_transformer_matches_keras(keras):
    X, y = _regression()
    ours = SKLearnTransformer(ember_regressor, fit_kwargs=FIT).fit(X, y)
    theirs = keras.wrappers.SKLearnTransformer(keras_regressor, fit_kwargs=dict(FIT)).fit(X, y)
    out = ours.transform(X)
    assert out.shape == theirs.transform(X).shape == (len(X), 1)  # the model's raw output, not squeezed
    np.testing.assert_allclose(out, theirs.transform(X), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.fit_transform(X, y), out, rtol=1e-6)  # fit again from the same weights
    # like Keras's, the wrappers take one target column: scikit-learn's check refuses a 2-D y
    Y = np.stack([y, -y], axis=1)
    with pytest.raises(ValueError, match="1d array"):
        SKLearnTransformer(ember_regressor, fit_kwargs=FIT).fit(X, Y)
    with pytest.raises(ValueError, match="1d array"):
        keras.wrappers.SKLearnTransformer(keras_regressor, fit_kwargs=dict(FIT)).fit(X, Y)


def test_compiled_model_is_cloned_with_fresh_weights_as_in_keras(keras):
    X, y = _classification()
    template = ember_classifier(X, np.zeros((1, 3)))
    before = [w.copy() for w in template.get_weights()]
    est = SKLearnClassifier(template, fit_kwargs=FIT).fit(X, y)
    assert est.model_ is not template and est.model_.compiled
    assert all(np.array_equal(a, b) for a, b in zip(before, template.get_weights()))  # the template is untouched
    assert not np.array_equal(est.model_.get_weights()[0], before[0])
    k_template = keras_classifier(X, np.zeros((1, 3)))
    k_est = keras.wrappers.SKLearnClassifier(k_template, fit_kwargs=dict(FIT)).fit(X, y)
    assert k_est.model_ is not k_template  # Keras clones too


def test_warm_start_continues_from_the_previous_fit():
    X, y = _classification()
    est = SKLearnClassifier(ember_classifier, warm_start=True, fit_kwargs=FIT).fit(X, y)
    first = est.model_
    after_one = [w.copy() for w in first.get_weights()]
    est.fit(X, y)
    assert est.model_ is first
    cold = SKLearnClassifier(ember_classifier, fit_kwargs={**FIT, "epochs": 6}).fit(X, y)
    for a, b in zip(est.model_.get_weights(), cold.model_.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)  # 3 + 3 epochs of full-batch SGD = 6 epochs
    assert not np.array_equal(after_one[0], first.get_weights()[0])


def test_fit_kwargs_are_merged_without_changing_the_parameter():
    X, y = _classification()
    fit_kwargs = dict(FIT)
    est = SKLearnClassifier(ember_classifier, fit_kwargs=fit_kwargs).fit(X, y, epochs=1)
    assert est.epoch_ == 1 and fit_kwargs == FIT


def test_model_kwargs_reach_the_builder():
    X, y = _classification()
    est = SKLearnClassifier(ember_classifier, model_kwargs={"hidden": 4}, fit_kwargs=FIT).fit(X, y)
    assert est.model_.get_weights()[0].shape == (5, 4)


# --- clear errors --------------------------------------------------------------------------------


def test_errors_name_the_problem():
    X, y = _classification()
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(ember_classifier, fit_kwargs=FIT).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="binary or multiclass"):
        SKLearnClassifier(ember_classifier, fit_kwargs=FIT).fit(X, np.linspace(0, 1, len(X)))
    uncompiled = ember.Sequential([ember.Input((5,)), layers.Dense(3, activation="softmax")])
    with pytest.raises(RuntimeError, match="compiled"):
        SKLearnClassifier(uncompiled).fit(X, y)
    with pytest.raises(TypeError, match="must return an ember Model"):
        SKLearnClassifier(lambda X, y: "not a model").fit(X, y)
    with pytest.raises(TypeError, match="compiled ember Model or a callable"):
        SKLearnClassifier(42).fit(X, y)
    est = SKLearnClassifier(ember_classifier, fit_kwargs=FIT)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        est.predict(X)
    est.fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        est.predict(X[:, :4])


def test_import_ember_does_not_import_sklearn_and_missing_sklearn_is_a_clear_error():
    code = (
        "import sys; import ember; assert 'sklearn' not in sys.modules, 'import ember imported sklearn'\n"
        "sys.modules['sklearn'] = None\n"  # as if scikit-learn were not installed
        "from ember.wrappers import SKLearnClassifier\n"
        "try:\n    SKLearnClassifier(model=None)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install scikit-learn" in out and "SKLearnClassifier" in out


# --- scikit-learn's estimator contract ----------------------------------------------------------


def test_get_set_params_and_clone():
    est = SKLearnClassifier(ember_classifier, model_kwargs={"hidden": 4}, fit_kwargs=FIT)
    assert est.get_params() == {
        "model": ember_classifier,
        "warm_start": False,
        "model_kwargs": {"hidden": 4},
        "fit_kwargs": FIT,
    }
    est.set_params(warm_start=True, model_kwargs={"hidden": 7})
    assert est.warm_start is True and est.model_kwargs == {"hidden": 7}
    twin = clone(est)
    assert type(twin) is SKLearnClassifier and twin.get_params() == est.get_params()
    assert twin.model_kwargs is not est.model_kwargs  # a copy, as sklearn's clone gives
    X, y = _classification()
    est.fit(X, y)
    assert not hasattr(clone(est), "model_")


def test_sklearn_tags():
    from sklearn.utils import get_tags

    assert get_tags(SKLearnClassifier(ember_classifier)).non_deterministic
    assert get_tags(SKLearnClassifier(ember_classifier)).classifier_tags.poor_score
    assert get_tags(SKLearnRegressor(ember_regressor)).regressor_tags.poor_score
    assert get_tags(SKLearnTransformer(ember_regressor)).transformer_tags.preserves_dtype == []
    assert sklearn.base.is_classifier(SKLearnClassifier(ember_classifier))
    assert sklearn.base.is_regressor(SKLearnRegressor(ember_regressor))


@pytest.mark.parametrize("kind", ["callable", "model"])
def test_pickle_round_trip_as_config_and_weights(kind):
    X, y = _classification()
    model = ember_classifier if kind == "callable" else ember_classifier(X, np.zeros((1, 3)))
    est = SKLearnClassifier(model, fit_kwargs=FIT).fit(X, y)
    blob = pickle.dumps(est)
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(back.classes_, est.classes_)
    assert back.history_.history["loss"] == est.history_.history["loss"] and back.history_.model is back.model_
    # the optimizer's state comes back too: one more epoch gives the same weights on both
    est.model_.fit(X, est._encode_target(y), **{**FIT, "epochs": 1})
    back.model_.fit(X, back._encode_target(y), **{**FIT, "epochs": 1})
    for a, b in zip(est.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    # no code is pickled for the model: the payload names only the builder function and Ember's state holder
    assert b"ember_classifier" in blob if kind == "callable" else b"ModelState" in blob
    assert b"Dense" in blob and b"relu" not in blob  # the config (JSON text) names layers; no activation objects


# --- scikit-learn's searches, sequentially ------------------------------------------------------


def test_grid_search():
    X, y = _classification(n=90)
    search = GridSearchCV(
        SKLearnClassifier(ember_classifier, fit_kwargs=FIT), {"model_kwargs": [{"hidden": 2}, {"hidden": 8}]}, cv=3
    ).fit(X, y)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert search.best_params_["model_kwargs"] in ({"hidden": 2}, {"hidden": 8})
    assert search.best_estimator_.model_.get_weights()[0].shape == (5, search.best_params_["model_kwargs"]["hidden"])
    assert search.predict(X).shape == (90,) and set(search.predict(X)) <= set(search.classes_)


def test_randomized_search_regressor():
    X, y = _regression(n=90)
    search = RandomizedSearchCV(
        SKLearnRegressor(ember_regressor, fit_kwargs=FIT),
        {"model_kwargs": [{"hidden": h} for h in (2, 4, 6, 8)]},
        n_iter=3,
        cv=3,
        random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_cross_val_score_kfold_equals_fold_by_fold():
    X, y = _classification(n=90)
    est = SKLearnClassifier(ember_classifier, fit_kwargs=FIT)
    scores = cross_val_score(est, X, y, cv=KFold(3))
    by_hand = []
    for train, test in KFold(3).split(X):
        by_hand.append(clone(est).fit(X[train], y[train]).score(X[test], y[test]))
    np.testing.assert_array_equal(scores, by_hand)  # the builder fixes the weights: each fold repeats exactly


def test_probability_scorer_uses_predict_proba():
    X, y = _classification(n=90)
    scores = cross_val_score(
        SKLearnClassifier(ember_classifier, fit_kwargs=FIT), X, y, cv=KFold(3), scoring="neg_log_loss"
    )
    assert scores.shape == (3,) and np.all(scores < 0) and np.all(np.isfinite(scores))


# --- scikit-learn's own estimator checks, as Keras's wrappers run them --------------------------


def seeded_mlp(X, y, loss, out_activation=None, hidden=(20, 20)):
    """A functional MLP sized from X and y, seeded: scikit-learn's checks expect fit to repeat."""
    ember.utils.set_random_seed(0)
    inputs = ember.Input((X.shape[1],))
    h = inputs
    for units in hidden:
        h = layers.Dense(units, activation="relu")(h)
    outputs = layers.Dense(y.shape[1] if y.ndim > 1 else 1, activation=out_activation)(h)
    model = ember.Model(inputs, outputs)
    model.compile(loss=loss, optimizer="rmsprop")
    return model


# of the checks Keras 3.15 expects its classifier to fail (its sklearn_test.py), two for the same reasons; the
# reproducibility ones pass because the builder is seeded; one more fails because Ember adds predict_proba
_EXPECTED_FAILURES = {
    "SKLearnClassifier": {
        "check_classifiers_classes": "with small test cases the model does not always predict every class",
        "check_classifiers_train": "decision_function gives the model's outputs (n, n_classes), not sklearn's scores",
        "check_decision_proba_consistency": "decision_function gives (n, n_classes) outputs, not a binary score",
    },
}


def _checked_estimators():
    quiet = {"verbose": 0}
    return [
        SKLearnClassifier(
            seeded_mlp,
            model_kwargs={"loss": "categorical_crossentropy", "out_activation": "softmax"},
            fit_kwargs={"epochs": 5, **quiet},
        ),
        SKLearnRegressor(seeded_mlp, model_kwargs={"loss": "mse"}, fit_kwargs=quiet),
        SKLearnTransformer(seeded_mlp, model_kwargs={"loss": "mse"}, fit_kwargs=quiet),
    ]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("estimator", _checked_estimators(), ids=lambda e: type(e).__name__)
def test_sklearn_estimator_checks(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    expected = _EXPECTED_FAILURES.get(type(estimator).__name__, {})
    results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    failed = sorted({(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"})
    assert not failed
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_fit_idempotent", "check_estimators_pickle", "check_n_features_in", "check_dict_unchanged"} <= ran
