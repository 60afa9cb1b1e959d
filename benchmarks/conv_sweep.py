"""Convolution sweep: Ember vs PyTorch (eager, CPU) per shape, forward-only and forward+backward, in one process.

Run from the repository root::

    python benchmarks/conv_sweep.py            # the full grid (a few minutes)
    python benchmarks/conv_sweep.py --quick    # a dozen shapes, under a minute
    python benchmarks/conv_sweep.py --ops conv2d_transpose --threads 1 --json out.json

Each case is one layer's convolution without bias: Conv1D, Conv2D, Conv2DTranspose and depthwise Conv2D,
strided, 'same' and 'valid', 1 to 512 channels, batch 1 to 256, kernels 1, 3, 4 and 5. Ember runs channels-last
(its layout, as Keras); PyTorch runs NCHW, its own layout, on the same numbers (transposed once, before timing),
with TensorFlow's 'same' padding written as PyTorch's symmetric padding where it is symmetric and as ``functional.pad``
plus 'valid' where it is not (what Keras on torch does). ``fwd`` times the op under no_grad; ``fwd+bwd`` times
the op with the input and the kernel requiring gradients and a backward from a fixed output gradient.

Timing: the two frameworks alternate, ``--rounds`` rounds each (median reported), each round repeating the
call until it has run ``--min-time`` seconds. ``--clock cpu`` (the default) is the process's CPU time, honest on
a shared machine with one thread (``--threads 1``, the default, sets OPENBLAS/OMP/MKL threads and
``torch.set_num_threads`` before anything is imported); ``--clock wall`` is ``perf_counter``. ``--parts N`` runs
Ember's ops split over images in N parts at once on its worker threads (``workers.forced_parts``; BLAS stays at
``--threads``, so ``--threads 1 --parts 2`` is the thread policy's split mode) and gives PyTorch N threads: compare
with ``--clock wall`` on a quiet machine (CPU time then shows what the split costs in all).
The ratio column is PyTorch's time / Ember's (above 1: Ember is faster), as the workloads' E/PT ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

# (op, batch, spatial size, in channels, out channels (depthwise: multiplier), kernel, stride, padding)
QUICK = [
    ("conv2d", 128, 28, 1, 32, 3, 1, "valid"),  # W2 first layer
    ("conv2d", 128, 26, 32, 64, 3, 1, "valid"),  # W2 second layer
    ("conv2d", 64, 32, 3, 64, 4, 2, "same"),  # W5 discriminator
    ("conv2d", 64, 16, 64, 128, 4, 2, "same"),
    ("conv2d", 64, 32, 32, 3, 5, 1, "same"),  # W5 generator's last layer
    ("conv2d", 1, 14, 256, 512, 3, 1, "same"),
    ("conv2d", 32, 16, 256, 512, 1, 1, "valid"),
    ("conv2d_transpose", 64, 4, 256, 128, 4, 2, "same"),  # W5 generator
    ("conv2d_transpose", 64, 16, 64, 32, 4, 2, "same"),
    ("conv2d_transpose", 16, 7, 64, 32, 3, 2, "same"),
    ("conv1d", 32, 128, 1, 64, 5, 1, "same"),  # a 1-D FCN
    ("conv1d", 32, 128, 64, 128, 3, 1, "same"),
    ("depthwise_conv2d", 32, 32, 32, 1, 3, 1, "same"),
]

FULL = QUICK + [
    ("conv2d", 64, 8, 128, 128, 4, 2, "same"),
    ("conv2d", 1, 32, 3, 64, 3, 1, "same"),
    ("conv2d", 1, 56, 64, 64, 3, 1, "same"),
    ("conv2d", 8, 8, 512, 512, 3, 1, "same"),
    ("conv2d", 256, 8, 16, 16, 3, 1, "same"),
    ("conv2d", 256, 28, 1, 8, 3, 1, "same"),
    ("conv2d", 64, 32, 3, 8, 3, 1, "same"),
    ("conv2d", 32, 28, 1, 32, 5, 1, "same"),
    ("conv2d", 16, 32, 16, 16, 3, 2, "valid"),
    ("conv2d", 32, 56, 32, 64, 3, 2, "same"),
    ("conv2d", 64, 32, 16, 16, 1, 1, "valid"),
    ("conv2d", 1, 7, 512, 512, 1, 1, "valid"),
    ("conv2d_transpose", 64, 8, 128, 64, 4, 2, "same"),
    ("conv2d_transpose", 1, 8, 128, 64, 4, 2, "same"),
    ("conv2d_transpose", 32, 14, 32, 1, 3, 1, "valid"),
    ("conv2d_transpose", 128, 7, 32, 16, 3, 2, "valid"),
    ("conv2d_transpose", 8, 16, 256, 256, 3, 1, "same"),
    ("conv1d", 256, 100, 128, 128, 3, 1, "valid"),
    ("conv1d", 1, 1000, 16, 32, 5, 2, "same"),
    ("conv1d", 64, 64, 256, 256, 1, 1, "valid"),
    ("conv1d", 128, 200, 8, 16, 5, 1, "same"),
    ("depthwise_conv2d", 8, 56, 64, 1, 3, 1, "same"),
    ("depthwise_conv2d", 32, 16, 128, 2, 3, 2, "same"),
]


def _set_threads(threads: str) -> None:
    if threads != "inherit":
        for var in THREAD_VARS:
            os.environ[var] = threads


def _same_pads(n, k, s):
    """TensorFlow's 'same' padding (before, after) for one axis."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _transpose_torch_args(n, k, s, padding):
    """(padding, output_padding, crop) making torch's conv_transpose give Keras's output size and cells."""
    from ember.ops.convolution import _transpose_geometry

    out, crop = _transpose_geometry("sweep", n, k, s, 1, padding, None)
    full = (n - 1) * s + k
    extra = out - (full - 2 * crop)
    if 0 <= extra < s:
        return crop, extra, None
    return 0, 0, (crop, out)


class Case:
    """One shape: builds the inputs for both frameworks and the four timed callables."""

    def __init__(self, spec, rng):
        import numpy as np
        import torch
        from torch.nn import functional

        import ember

        self.spec = spec
        op, n, size, cin, cout, k, s, padding = spec
        spatial = 1 if op == "conv1d" else 2
        x = rng.standard_normal((n,) + (size,) * spatial + (cin,)).astype(np.float32)
        if op == "conv2d_transpose":
            kernel = rng.standard_normal((k, k, cout, cin)).astype(np.float32) * 0.1
        elif op == "depthwise_conv2d":
            kernel = rng.standard_normal((k, k, cin, cout)).astype(np.float32) * 0.1
        else:
            kernel = rng.standard_normal((k,) * spatial + (cin, cout)).astype(np.float32) * 0.1
        fn = getattr(ember.ops, op)
        kwargs = dict(strides=s, padding=padding)
        ex, ek = ember.tensor(x), ember.tensor(kernel)
        with ember.no_grad():
            y = fn(ex, ek, **kwargs).numpy()
        g = rng.standard_normal(y.shape).astype(np.float32)
        eg = ember.tensor(g)

        def ember_fwd():
            with ember.no_grad():
                fn(ex, ek, **kwargs)

        exg, ekg = ember.tensor(x, requires_grad=True), ember.tensor(kernel, requires_grad=True)

        def ember_fwd_bwd():
            exg.grad = ekg.grad = None
            fn(exg, ekg, **kwargs).backward(eg)

        # PyTorch: channels-first data and OIHW / IOHW kernels
        to_first = (0, 2, 1) if spatial == 1 else (0, 3, 1, 2)
        tx = torch.from_numpy(np.ascontiguousarray(x.transpose(to_first)))
        tg = torch.from_numpy(np.ascontiguousarray(g.transpose(to_first)))
        pre_pad = None
        if op == "conv2d_transpose":
            tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            pad, extra, crop = _transpose_torch_args(size, k, s, padding)

            def call(a, w):
                out = functional.conv_transpose2d(a, w, stride=s, padding=pad, output_padding=extra)
                if crop is not None:
                    out = out[:, :, crop[0] : crop[0] + crop[1], crop[0] : crop[0] + crop[1]]
                return out
        else:
            if op == "depthwise_conv2d":
                tk = torch.from_numpy(np.ascontiguousarray(kernel.reshape(k, k, cin * cout, 1).transpose(2, 3, 0, 1)))
                groups = cin
            else:
                perm = (2, 1, 0) if spatial == 1 else (3, 2, 0, 1)
                tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(perm)))
                groups = 1
            before, after = _same_pads(size, k, s) if padding == "same" else (0, 0)
            conv = functional.conv1d if spatial == 1 else functional.conv2d
            if before == after:
                sym = before
            else:
                sym, pre_pad = 0, (before, after) * spatial

            def call(a, w):
                if pre_pad is not None:
                    a = functional.pad(a, pre_pad)
                return conv(a, w, stride=s, padding=sym, groups=groups)

        with torch.no_grad():
            ty = call(tx, tk).numpy()
        from_first = (0, 2, 1) if spatial == 1 else (0, 2, 3, 1)
        ty = ty.transpose(from_first)
        if ty.shape != y.shape or not np.allclose(ty, y, rtol=1e-3, atol=1e-3 * max(1.0, float(np.abs(y).max()))):
            raise AssertionError(f"{spec}: Ember and PyTorch disagree (shapes {y.shape} / {ty.shape})")

        def torch_fwd():
            with torch.no_grad():
                call(tx, tk)

        txg, tkg = tx.clone().requires_grad_(True), tk.clone().requires_grad_(True)

        def torch_fwd_bwd():
            txg.grad = tkg.grad = None
            call(txg, tkg).backward(tg)

        self.pairs = {"fwd": (ember_fwd, torch_fwd), "fwd+bwd": (ember_fwd_bwd, torch_fwd_bwd)}


def _time(fn, clock, min_time):
    """Seconds per call: repeat ``fn`` until ``min_time`` has passed on ``clock``."""
    calls, start = 0, clock()
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if elapsed >= min_time:
            return elapsed / calls


def measure(case, rounds, clock, min_time):
    """{mode: (ember seconds, torch seconds)} medians over alternating rounds, after one warm-up call each."""
    result = {}
    for mode, (ember_fn, torch_fn) in case.pairs.items():
        ember_fn(), torch_fn()
        te, tt = [], []
        for _ in range(rounds):
            te.append(_time(ember_fn, clock, min_time))
            tt.append(_time(torch_fn, clock, min_time))
        result[mode] = (statistics.median(te), statistics.median(tt))
    return result


def describe(spec):
    op, n, size, cin, cout, k, s, padding = spec
    spatial = str(size) if op == "conv1d" else f"{size}x{size}"
    chans = f"{cin}x{cout}" if op == "depthwise_conv2d" else f"{cin}->{cout}"
    return f"{op:16s} N={n:<3d} {spatial:>7s} {chans:>9s} k{k} s{s} {padding}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK)} shapes, 3 short rounds")
    parser.add_argument("--ops", default=None, help="comma-separated subset of the ops")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds per case (default 5; quick 3)")
    parser.add_argument("--min-time", type=float, default=None, help="seconds per round (default 0.1; quick 0.03)")
    parser.add_argument("--threads", default="1", help="BLAS/OpenMP and torch threads, or 'inherit'")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--parts", type=int, default=1, help="Ember's split over images (and PyTorch's threads)")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    _set_threads(args.threads)
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import numpy as np
    import torch

    if args.threads != "inherit":
        torch.set_num_threads(max(int(args.threads), args.parts))
    from ember.backend import workers

    workers.set_split_parts(args.parts)  # what the thread policy's split mode grants inside fit/predict
    rounds = args.rounds or (3 if args.quick else 5)
    min_time = args.min_time or (0.03 if args.quick else 0.1)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    specs = QUICK if args.quick else FULL
    if args.ops:
        wanted = {o.strip() for o in args.ops.split(",")}
        specs = [s for s in specs if s[0] in wanted]
    rng = np.random.default_rng(0)
    print(
        f"threads {args.threads}, Ember parts {args.parts}, clock {args.clock}, {rounds} rounds of >= {min_time}s; "
        f"load {os.getloadavg()[0]:.2f}; ratio = PyTorch / Ember"
    )
    print(
        "| case | fwd Ember ms | fwd PyTorch ms | fwd ratio | fwd+bwd Ember ms | fwd+bwd PyTorch ms | fwd+bwd ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    results = []
    for spec in specs:
        res = measure(Case(spec, rng), rounds, clock, min_time)
        (fe, ft), (be, bt) = res["fwd"], res["fwd+bwd"]
        results.append(dict(case=list(spec), fwd=[fe, ft], fwd_bwd=[be, bt]))
        print(
            f"| {describe(spec)} | {fe * 1e3:.2f} | {ft * 1e3:.2f} | {ft / fe:.2f} "
            f"| {be * 1e3:.2f} | {bt * 1e3:.2f} | {bt / be:.2f} |",
            flush=True,
        )
    for key, label in (("fwd", "fwd"), ("fwd_bwd", "fwd+bwd")):
        ratios = [r[key][1] / r[key][0] for r in results]
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"{label}: geometric mean ratio {geo:.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
