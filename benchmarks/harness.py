"""Measurement core shared by the workloads: timing, memory, initial weights and the per-framework loops.

One call of :func:`measure` runs in a fresh process for one (workload, framework) pair and returns a dict:

- ``train_sps``: training samples/s, the median over ``reps`` timed chunks after one warm-up chunk. A chunk is
  ``chunk_batches`` batches: ``model.fit(x, y, epochs=1, shuffle=False, verbose=0)`` for Ember and Keras, the
  idiomatic ``zero_grad / forward / loss / backward / step`` loop (plus the same accuracy metric) for PyTorch.
- ``infer_sps``: inference samples/s, the same way with ``model.predict(x, batch_size, verbose=0)`` (PyTorch:
  ``model.eval()`` under ``torch.no_grad()``, batch by batch).
- ``peak_mb``: the growth of the process's resident-memory high-water mark (``ru_maxrss``) from just before the
  model is built (imports and data already loaded) to the end of the timed work: what the framework itself
  needed to build, train and predict.
- ``rss_mb``: the absolute high-water mark of the process, imports included.
"""

from __future__ import annotations

import os
import resource
import statistics
import time

import numpy as np


def max_rss_mb() -> float:
    """The process's resident-memory high-water mark in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------------- initial weights
def glorot_uniform(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def dense_weights(rng, n_in, n_out, init="glorot"):
    """A Dense layer's ``[kernel (n_in, n_out), bias (n_out,)]`` in Keras layout."""
    if init == "uniform":
        kernel = rng.uniform(-0.05, 0.05, size=(n_in, n_out)).astype(np.float32)
    else:
        kernel = glorot_uniform(rng, (n_in, n_out), n_in, n_out)
    return [kernel, np.zeros(n_out, np.float32)]


def conv_weights(rng, kh, kw, c_in, c_out):
    """A Conv2D layer's ``[kernel (kh, kw, c_in, c_out), bias (c_out,)]`` in Keras layout."""
    kernel = glorot_uniform(rng, (kh, kw, c_in, c_out), kh * kw * c_in, kh * kw * c_out)
    return [kernel, np.zeros(c_out, np.float32)]


def lstm_weights(rng, n_in, units):
    """An LSTM's ``[kernel (n_in, 4u), recurrent_kernel (u, 4u), bias (4u,)]``, gates i, f, c, o (Keras)."""
    kernel = glorot_uniform(rng, (n_in, 4 * units), n_in, 4 * units)
    q, r = np.linalg.qr(rng.normal(size=(4 * units, units)))
    recurrent = (q * np.sign(np.diag(r))).T.astype(np.float32)
    bias = np.zeros(4 * units, np.float32)
    bias[units : 2 * units] = 1.0  # unit_forget_bias
    return [kernel, recurrent, bias]


# ---------------------------------------------------------------------------------------------- timing
def _median_rate(run_chunk, samples, reps):
    run_chunk()  # warm-up (first-batch tracing, allocator, BLAS thread start)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run_chunk()
        times.append(time.perf_counter() - start)
    return samples / statistics.median(times), times


def _keras_like(module, workload, framework, x, y, reps):
    n = workload.BATCH * workload.CHUNK_BATCHES
    xs, ys = x[:n], y[:n]
    base = max_rss_mb()
    model = workload.build_keras_like(module)
    model.set_weights(workload.initial_weights())

    def train():
        model.fit(xs, ys, batch_size=workload.BATCH, epochs=1, shuffle=False, verbose=0)

    def infer():
        model.predict(xs, batch_size=workload.BATCH, verbose=0)

    train_sps, train_times = _median_rate(train, n, reps)
    infer_sps, infer_times = _median_rate(infer, n, reps)
    return dict(
        train_sps=train_sps,
        infer_sps=infer_sps,
        train_times=train_times,
        infer_times=infer_times,
        peak_mb=max_rss_mb() - base,
        rss_mb=max_rss_mb(),
    )


def _torch(workload, x, y, reps, threads):
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    n = workload.BATCH * workload.CHUNK_BATCHES
    base = max_rss_mb()
    model, optimizer, loss_fn, prepare = workload.build_torch(workload.initial_weights())
    device = os.environ.get("EMBER_BENCH_DEVICE", "cpu")  # run.py --device cuda: the same GPU as Ember
    model.to(device)  # in place: the optimizer keeps the same (moved) parameters
    xt, yt, y_metric = (t.to(device) for t in prepare(x[:n], y[:n]))
    batch = workload.BATCH

    def train():
        model.train()
        correct = 0
        for i in range(0, n, batch):
            xb, yb = xt[i : i + batch], yt[i : i + batch]
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                correct += workload.torch_correct(out, y_metric[i : i + batch])
        return float(loss), int(correct)

    def infer():
        model.eval()
        with torch.no_grad():
            outs = [model(xt[i : i + batch]) for i in range(0, n, batch)]
        return torch.cat(outs).cpu().numpy()

    train_sps, train_times = _median_rate(train, n, reps)
    infer_sps, infer_times = _median_rate(infer, n, reps)
    return dict(
        train_sps=train_sps,
        infer_sps=infer_sps,
        train_times=train_times,
        infer_times=infer_times,
        peak_mb=max_rss_mb() - base,
        rss_mb=max_rss_mb(),
        torch_threads=torch.get_num_threads(),
    )


def _start_numba(values):
    """A trivial numba kernel (through ember's jit.kernel): its first call starts numba's code generator."""
    return values.sum()


def measure(workload, framework: str, reps: int, torch_threads: int | None) -> dict:
    """Time one workload in one framework (call it in a fresh process). See the module docstring."""
    if framework == "keras":
        os.environ["KERAS_BACKEND"] = "torch"
    x, y = workload.make_data()
    if framework == "ember":
        import ember
        from ember.backend import jit

        # numba is imported lazily, on Ember's first compiled kernel, and its first kernel call starts numba's LLVM
        # engine (50-60 MiB, even when the kernel comes from numba's disk cache). Do both here, with a kernel of the
        # harness's own, as PyTorch and Keras are imported before the baseline: peak_mb then compares training
        # memory, not one framework's library pages. Compiling Ember's own kernels (a cold cache) still counts.
        if jit.available():
            jit.kernel(_start_numba)(np.zeros(4, np.float32))
        result = _keras_like(ember, workload, framework, x, y, reps)
        from ember.backend import threads

        # what the BLAS thread policy (backend/threads.py) chose in the last timed call, and why
        result["blas_policy"] = threads.get_policy()
        result["blas_threads_chosen"] = threads.last_decision()
    elif framework == "keras":
        import keras
        import torch

        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        result = _keras_like(keras, workload, framework, x, y, reps)
        result["torch_threads"] = torch.get_num_threads()
    elif framework == "torch":
        result = _torch(workload, x, y, reps, torch_threads)
    else:
        raise ValueError(f"framework: expected one of 'ember', 'torch', 'keras', got {framework!r}")
    result.update(
        workload=workload.NAME,
        framework=framework,
        batch=workload.BATCH,
        chunk_samples=workload.BATCH * workload.CHUNK_BATCHES,
        reps=reps,
    )
    return result
