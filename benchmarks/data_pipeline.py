"""Input-pipeline throughput: how fast batches of 128 reach a training loop.

Feeds a 60000 x 784 float32 array (MNIST-sized; integer pixel values 0-255 stored as float32) in batches of 128,
three ways, and prints samples/s (median of several timed passes) and the ratio to plain slicing:

1. plain in-memory slicing ``x[i:i + 128]`` (the floor: what a hand-written loop costs), and the same with a
   shuffle, ``x[perm[i:i + 128]]`` (a random gather costs about twice a slice whoever does it),
2. ``Dataset.from_tensor_slices((x, y)).shuffle(60000).batch(128).prefetch(2)``,
3. ``Dataset.from_csv(path, label="label").batch(128).prefetch(2)`` from a CSV file written once to a temp dir
   (parsing text dominates; ``.cache()`` after the first pass turns it into case 2).

Each batch is touched (summed) so lazily produced batches are really produced.

Then the issue's real measure, fit throughput: the seed MLP (Dense 512 relu, Dense 10 softmax, RMSprop,
batch 128, sparse categorical cross-entropy) trained one epoch at a time with ``model.fit`` on ``--fit-rows``
samples (default 10000) from in-memory arrays, from ``from_tensor_slices(...).shuffle().batch(128).prefetch()``,
and from a CSV file via ``from_csv`` without and with ``.cache()`` (its first pass fills the cache); samples/s is
the median over ``--fit-passes`` epochs after one warm-up epoch, with the ratio to in-memory ``fit``.

Run: ``python3 benchmarks/data_pipeline.py [--rows 60000] [--passes 5] [--csv-passes 3] [--fit-rows 10000]
[--fit-passes 3]`` (``--fit-only`` skips the feeding-only part).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ember.data import Dataset  # noqa: E402

BATCH = 128


def consume(batches):
    n = 0
    for x, _ in batches:
        x.sum()  # touch the batch (about what a first layer reads)
        n += len(x)
    return n


def plain(x, y):
    for i in range(0, len(x), BATCH):
        yield x[i : i + BATCH], y[i : i + BATCH]


def plain_shuffled(x, y, rng):
    perm = rng.permutation(len(x))
    for i in range(0, len(x), BATCH):
        idx = perm[i : i + BATCH]
        yield x[idx], y[idx]


def timed(make_batches, passes, rows):
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        n = consume(make_batches())
        times.append(time.perf_counter() - start)
        assert n == rows, (n, rows)
    return rows / statistics.median(times)


def fit_throughput(rows, passes, tmp):
    """samples/s of ``model.fit`` (one epoch per pass) for arrays, a Dataset from arrays and CSV sources."""
    import pandas as pd

    import ember

    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(rows, 784), dtype=np.uint8)
    x = pixels.astype(np.float32) / 255.0
    y = rng.integers(0, 10, size=rows).astype(np.int64)
    path = os.path.join(tmp, "fit.csv")
    frame = pd.DataFrame(x, columns=[f"p{i}" for i in range(784)])
    frame["label"] = y
    frame.to_csv(path, index=False, float_format="%.6g")

    def model():
        ember.random.seed(0)
        m = ember.models.Sequential(
            [
                ember.Input((784,)),
                ember.layers.Dense(512, activation="relu"),
                ember.layers.Dense(10, activation="softmax"),
            ]
        )
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m

    def rate(fit_one_epoch):
        m = model()
        fit_one_epoch(m)  # warm-up (and, for .cache(), the pass that fills the cache)
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            fit_one_epoch(m)
            times.append(time.perf_counter() - start)
        return rows / statistics.median(times)

    ds = Dataset.from_tensor_slices((x, y)).shuffle(rows).batch(BATCH).prefetch(2)
    csv = Dataset.from_csv(path, label="label", chunksize=5000).batch(BATCH).prefetch(2)
    cached = Dataset.from_csv(path, label="label", chunksize=5000).cache().shuffle(rows).batch(BATCH).prefetch(2)
    return [
        ("fit(x, y) in-memory arrays", rate(lambda m: m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0))),
        ("fit(from_tensor_slices.shuffle.batch.prefetch)", rate(lambda m: m.fit(ds, epochs=1, verbose=0))),
        ("fit(from_csv.batch.prefetch) (parses each epoch)", rate(lambda m: m.fit(csv, epochs=1, verbose=0))),
        ("fit(from_csv.cache.shuffle.batch.prefetch)", rate(lambda m: m.fit(cached, epochs=1, verbose=0))),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--csv-passes", type=int, default=3)
    parser.add_argument("--fit-rows", type=int, default=10000)
    parser.add_argument("--fit-passes", type=int, default=3)
    parser.add_argument("--fit-only", action="store_true")
    args = parser.parse_args()
    if not args.fit_only:
        feeding(args)
    with tempfile.TemporaryDirectory() as tmp:
        fits = fit_throughput(args.fit_rows, args.fit_passes, tmp)
    print(f"\nseed MLP fit, {args.fit_rows} x 784, batch {BATCH}, median of {args.fit_passes} epochs")
    print(f"{'fit input':<52}{'samples/s':>12}{'vs arrays':>11}")
    for name, r in fits:
        print(f"{name:<52}{r:>12,.0f}{r / fits[0][1]:>11.2f}")


def feeding(args):
    import pandas as pd

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(args.rows, 784), dtype=np.uint8)
    x = pixels.astype(np.float32)
    y = rng.integers(0, 10, size=args.rows).astype(np.int64)

    results = []
    results.append(("in-memory slicing", timed(lambda: plain(x, y), args.passes, args.rows)))
    results.append(
        ("in-memory shuffled x[perm[i:i+128]]", timed(lambda: plain_shuffled(x, y, rng), args.passes, args.rows))
    )
    ds = Dataset.from_tensor_slices((x, y)).shuffle(args.rows).batch(BATCH).prefetch(2)
    results.append(("from_tensor_slices.shuffle.batch.prefetch", timed(lambda: ds, args.passes, args.rows)))
    ds_plain = Dataset.from_tensor_slices((x, y)).batch(BATCH)
    results.append(("from_tensor_slices.batch (no shuffle)", timed(lambda: ds_plain, args.passes, args.rows)))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.csv")
        start = time.perf_counter()
        frame = pd.DataFrame(pixels, columns=[f"p{i}" for i in range(784)])
        frame["label"] = y
        frame.to_csv(path, index=False)
        write_s = time.perf_counter() - start
        size_mb = os.path.getsize(path) / 2**20
        csv = Dataset.from_csv(path, label="label", chunksize=10000).batch(BATCH).prefetch(2)
        results.append(("from_csv.batch.prefetch", timed(lambda: csv, args.csv_passes, args.rows)))
        cached = Dataset.from_csv(path, label="label", chunksize=10000).cache()
        consume(cached.batch(BATCH))  # first pass fills the cache
        shuffled = cached.shuffle(args.rows).batch(BATCH).prefetch(2)
        results.append(("from_csv.cache (2nd+ pass).shuffle.batch", timed(lambda: shuffled, args.passes, args.rows)))

    base = results[0][1]
    print(f"{args.rows} x 784 float32, batches of {BATCH}; CSV {size_mb:.0f} MiB written in {write_s:.1f} s")
    print(f"{'pipeline':<44}{'samples/s':>14}{'vs slicing':>12}")
    for name, rate in results:
        print(f"{name:<44}{rate:>14,.0f}{rate / base:>12.2f}")


if __name__ == "__main__":
    main()
