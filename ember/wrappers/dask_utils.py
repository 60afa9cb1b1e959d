"""Run scikit-learn's searches and cross-validation on a Dask cluster, through joblib's Dask backend.

scikit-learn parallelises ``GridSearchCV``, ``RandomizedSearchCV`` and ``cross_val_score`` with joblib;
joblib's ``"dask"`` backend sends each (candidate, fold) fit to a Dask worker. Ember adds no scheduler:
``dask_cluster`` only starts (or connects to) a Dask cluster and switches joblib to it::

    from sklearn.model_selection import KFold, cross_val_score
    from ember.wrappers import SKLearnClassifier, dask_cluster

    with dask_cluster(n_workers=2):                     # a LocalCluster of 2 processes
        scores = cross_val_score(SKLearnClassifier(build_mlp), X, y, cv=KFold(5))

    with dask_cluster("tcp://scheduler:8786"):          # a running cluster
        search = GridSearchCV(SKLearnClassifier(build_mlp), grid).fit(X, y)

The estimators travel to the workers pickled as data (the models' configs and weights); a builder
function travels by reference when it is defined at module level in a module the workers can import
(otherwise cloudpickle sends its code).
"""

from __future__ import annotations

import contextlib

__all__ = ["dask_cluster"]


@contextlib.contextmanager
def dask_cluster(address=None, *, n_workers=2, threads_per_worker=1, processes=True, **cluster_kwargs):
    """Within the block, joblib (and so scikit-learn's ``n_jobs`` loops) runs on a Dask cluster.

    Args:
        address: a running scheduler's address (``"tcp://host:8786"``); None starts a
            ``distributed.LocalCluster`` for the block and closes it afterwards.
        n_workers, threads_per_worker, processes, **cluster_kwargs: the LocalCluster's arguments (ignored
            with ``address``). One thread per worker suits Ember, whose matrix products use BLAS threads.

    Yields:
        the ``distributed.Client``.

    Raises:
        ImportError: Dask's ``distributed`` package is not installed.
    """
    try:
        import joblib
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise ImportError(
            'dask_cluster needs Dask\'s distributed scheduler and joblib: pip install "dask[distributed]"'
        ) from err
    with contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=threads_per_worker,
                    processes=processes,
                    dashboard_address=cluster_kwargs.pop("dashboard_address", None),
                    **cluster_kwargs,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(address))
        stack.enter_context(joblib.parallel_backend("dask"))
        yield client
