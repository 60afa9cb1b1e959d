# ruff: noqa: N803, N806  (X is scikit-learn's name for the inputs, and the keyword a builder is called with)
"""scikit-learn's cross-validation and search of Ember models on a Dask LocalCluster (joblib's Dask backend).

The issue's done-when: a 5-fold CV of the seed MLP (Dense 512 relu -> Dense 10 softmax, RMSprop,
categorical cross-entropy) on MNIST runs on a LocalCluster with the same fold scores as sequentially.
The builder seeds Ember's random streams itself, so each fold's model starts from the same weights and
sees the same batches whichever process builds it. Bit for bit needs one more thing: the same BLAS
thread count (Dask gives each worker one; OpenBLAS with two threads splits the matrix products
differently and rounds differently, so on the full data some fold scores then differ in the 4th
decimal), so the sequential runs here use one BLAS thread too. Here on 1,000 training images for 1 epoch, so the
test stays well under a minute; benchmarks/dask_cv.py measures the full 60,000.
"""

import os

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is the optional dependency ember.wrappers wraps")
threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl pins the sequential run's BLAS threads")
pytest.importorskip("distributed", reason='Dask\'s distributed scheduler is needed: pip install "dask[distributed]"')

from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate  # noqa: E402

import ember  # noqa: E402
from ember import layers  # noqa: E402
from ember.wrappers import SKLearnClassifier, dask_cluster  # noqa: E402

threadpool_limits = threadpoolctl.threadpool_limits

FIT = {"epochs": 1, "batch_size": 128, "verbose": 0}


def seed_mlp(X, y, seed=0, hidden=512):
    """The seeds' MNIST network; named after the process that built it, so a test can tell where it ran."""
    ember.utils.set_random_seed(seed)
    model = ember.Sequential(
        [
            ember.Input((X.shape[1],)),
            layers.Dense(hidden, activation="relu"),
            layers.Dense(y.shape[1], activation="softmax"),
        ],
        name=f"seed_mlp_pid{os.getpid()}",
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def mnist_slice():
    (x, y), _ = ember.datasets.mnist.load_data()
    return x[:1000].reshape(1000, 784).astype("float32") / 255.0, y[:1000]


@pytest.fixture(scope="module")
def cluster():
    with dask_cluster(n_workers=2, threads_per_worker=1, processes=True) as client:
        yield client


@pytest.mark.slow
def test_five_fold_cv_of_the_seed_mlp_on_a_local_cluster_equals_sequential(mnist_slice, cluster):
    X, y = mnist_slice
    est = SKLearnClassifier(seed_mlp, fit_kwargs=FIT)
    with threadpool_limits(1):  # the workers' BLAS thread count (Dask sets one), so the products round alike
        sequential = cross_val_score(est, X, y, cv=KFold(5), n_jobs=1)  # n_jobs=1: in this process, not on Dask
    on_dask = cross_validate(est, X, y, cv=KFold(5), return_estimator=True)  # joblib's Dask backend
    np.testing.assert_array_equal(on_dask["test_score"], sequential)  # bit for bit
    assert 0.6 < sequential.mean() <= 1.0  # one epoch on 800 images learns the digits a good way
    # the fitted models came back from the workers (as config + weights) and were built there
    worker_pids = set(cluster.run(os.getpid).values())
    built_in = {int(e.model_.name.rsplit("pid", 1)[1]) for e in on_dask["estimator"]}
    assert built_in <= worker_pids and os.getpid() not in built_in
    # and they score here exactly as they scored on the worker
    for fitted, score, (_, test) in zip(on_dask["estimator"], on_dask["test_score"], KFold(5).split(X)):
        assert fitted.score(X[test], y[test]) == score


def test_grid_search_on_a_local_cluster_equals_sequential(mnist_slice, cluster):
    X, y = mnist_slice
    X, y = X[:400], y[:400]
    grid = {"model_kwargs": [{"hidden": 16}, {"hidden": 64}], "fit_kwargs": [FIT, {**FIT, "epochs": 2}]}
    est = SKLearnClassifier(seed_mlp)
    with threadpool_limits(1):
        sequential = GridSearchCV(est, grid, cv=KFold(3), n_jobs=1).fit(X, y)
    on_dask = GridSearchCV(est, grid, cv=KFold(3)).fit(X, y)
    np.testing.assert_array_equal(on_dask.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])
    assert on_dask.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(on_dask.predict(X), sequential.predict(X))


def test_dask_cluster_without_distributed_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match="pip install"):
        with dask_cluster():
            pass


@pytest.mark.slow
def test_a_compiled_model_travels_to_the_workers_as_config_and_weights(mnist_slice, cluster):
    X, y = mnist_slice
    template = seed_mlp(X[:1], np.zeros((1, 10)), hidden=32)  # a compiled Model as the parameter
    # the clones start from fresh (unseeded) weights in each worker: 2 steps of one epoch left a fold at 0.21 once,
    # so train long enough (35 steps) for the floor to say "it learned" whatever the draw (chance is 0.1)
    est = SKLearnClassifier(template, fit_kwargs={"epochs": 5, "batch_size": 32, "verbose": 0})
    out = cross_validate(est, X[:400], y[:400], cv=KFold(2), return_estimator=True)
    assert out["test_score"].shape == (2,) and np.all(out["test_score"] > 0.3), out["test_score"]
    for fitted in out["estimator"]:
        assert fitted.model_ is not template and fitted.model_.get_weights()[0].shape == (784, 32)
        assert not np.array_equal(fitted.model_.get_weights()[0], template.get_weights()[0])  # cloned, then trained
