# ruff: noqa: N803, N806  (X is scikit-learn's name for the inputs)
"""5-fold cross-validation of the seeds' MNIST MLP, sequentially and on a Dask LocalCluster; wall time and scores.

    python benchmarks/dask_cv.py --epochs 5              # the whole 60,000 training images, as seed 000
    python benchmarks/dask_cv.py --n 1000 --epochs 1     # the test's slice

Sequential runs in this process with ``--blas-threads`` BLAS threads (default 1, as on the workers;
0: as the machine comes, two here); the cluster has ``--workers`` processes of one thread each (Dask
sets each worker's BLAS to one thread). The builder seeds Ember's random streams, so each fold trains
identically wherever it runs, and with the same BLAS thread count the fold scores are equal bit for bit.
With a different thread count OpenBLAS splits the matrix products differently, which changes float32
rounding, so the scores then differ in the 4th decimal.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # so the workers import seed_mlp from here

import ember
from ember import layers


def seed_mlp(X, y, seed=0):
    """Dense(512, relu) -> Dense(10, softmax), RMSprop, categorical cross-entropy, seeded."""
    ember.utils.set_random_seed(seed)
    model = ember.Sequential(
        [
            ember.Input((X.shape[1],)),
            layers.Dense(512, activation="relu"),
            layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    import dask_cv  # this file as an importable module, so the builder pickles by reference
    from sklearn.model_selection import KFold, cross_val_score

    from ember.wrappers import SKLearnClassifier, dask_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60000, help="training images used (default all 60,000)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for sequential (0: as they come)")
    args = parser.parse_args()

    (x, y), _ = ember.datasets.mnist.load_data()
    X = x[: args.n].reshape(-1, 784).astype("float32") / 255.0
    y = y[: args.n]
    est = SKLearnClassifier(dask_cv.seed_mlp, fit_kwargs={"epochs": args.epochs, "batch_size": 128, "verbose": 0})
    print(f"5-fold CV of the seed MLP: {len(X)} images, {args.epochs} epoch(s), batch 128")
    seq = None
    if not args.skip_sequential:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(args.blas_threads or None):
            t = time.perf_counter()
            seq = cross_val_score(est, X, y, cv=KFold(5), n_jobs=1)
            elapsed = time.perf_counter() - t
        threads = args.blas_threads or "default"
        print(f"sequential, BLAS threads {threads}:  {elapsed:7.1f} s  scores {seq.tolist()}")
    t = time.perf_counter()
    with dask_cluster(n_workers=args.workers, threads_per_worker=1, processes=True):
        start = time.perf_counter()
        dsk = cross_val_score(est, X, y, cv=KFold(5))
        end = time.perf_counter()
    print(
        f"LocalCluster {args.workers}x1 thread:       {end - start:7.1f} s  scores {dsk.tolist()}"
        f"  (+{start - t:.1f} s to start the cluster)"
    )
    if seq is not None:
        print("fold scores equal bit for bit:", bool(np.array_equal(seq, dsk)))


if __name__ == "__main__":
    main()
