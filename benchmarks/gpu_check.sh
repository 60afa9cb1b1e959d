#!/usr/bin/env bash
# The prepared device check of issue 19 (docs/gpu.md): on a machine with an NVIDIA GPU, from the repository root,
#
#   bash benchmarks/gpu_check.sh [--venv DIR] [--python PY] [--wheels DIR] [--out DIR] [--budget SECONDS]
#                                [--skip-bench] [--dry-run]
#
# 1. checks the GPU (nvidia-smi), 2. makes or reuses a virtualenv (with the system's site-packages, so a PyTorch
# with CUDA already on the image is used as is: its CUDA build is too large to install here), 3. installs Ember and
# cupy-cuda12x[ctk] (from PyPI, or from --wheels DIR without network), 4. runs tests/test_cuda_backend.py with
# EMBER_REQUIRE_GPU=1 (a GPU test that would skip fails instead), 5. runs the four benchmarks with
# `benchmarks/run.py --device cuda` against PyTorch on the same GPU (PyTorch left out, and said so, when it has no
# CUDA) and prints the table of ratios. Every step runs under `timeout` within --budget (300 s: the whole check in
# under 5 minutes); any failure or overrun stops the script with a non-zero status and the step's name.
# --dry-run prints the steps without running them (no GPU needed; the tests use it).
set -Eeuo pipefail

VENV=".venv-gpu"
PYTHON="python3"
WHEELS=""
OUT_DIR="gpu_check_out"
BUDGET=300
SKIP_BENCH=0
DRY=0
WORKLOADS="mnist_mlp,mnist_cnn,imdb_lstm,tiny_mlp"

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --venv) VENV="$2"; shift 2 ;;
        --python) PYTHON="$2"; shift 2 ;;
        --wheels) WHEELS="$2"; shift 2 ;;
        --out) OUT_DIR="$2"; shift 2 ;;
        --budget) BUDGET="$2"; shift 2 ;;
        --skip-bench) SKIP_BENCH=1; shift ;;
        --dry-run) DRY=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu_check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$BUDGET" in
    ''|*[!0-9]*) echo "gpu_check: --budget expects whole seconds, got '$BUDGET'" >&2; exit 2 ;;
esac
if [ ! -f pyproject.toml ] || [ ! -d ember ]; then
    echo "gpu_check: run it from the repository root (no pyproject.toml and ember/ here: $(pwd))" >&2
    exit 2
fi

START=$(date +%s)
STEP="start"
trap 'echo "gpu_check: FAILED at step: $STEP (status $?, $(( $(date +%s) - START )) s in)" >&2' ERR

left() {  # seconds left of the budget; fails loudly when it is spent
    local rest=$(( BUDGET - ($(date +%s) - START) ))
    if [ "$rest" -le 0 ]; then
        echo "gpu_check: out of time before step: $STEP (budget ${BUDGET} s)" >&2
        return 1
    fi
    echo "$rest"
}

step() {  # step NAME: announce the step
    STEP="$1"
    echo "== gpu_check: $STEP ($(( $(date +%s) - START )) s)"
}

run() {  # run CMD...: print it, and run it under the budget's timeout unless --dry-run
    echo "+ $*"
    if [ "$DRY" = 1 ]; then
        return 0
    fi
    local rest
    rest=$(left)
    timeout --kill-after=10 "$rest" "$@"
}

PY="$VENV/bin/python"

step "GPU present"
if [ "$DRY" = 1 ]; then
    echo "+ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader"
else
    command -v nvidia-smi >/dev/null || { echo "gpu_check: nvidia-smi not found: no NVIDIA driver here" >&2; false; }
    run nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
fi

step "virtualenv $VENV"
if [ "$DRY" = 1 ] || [ ! -x "$PY" ]; then
    run "$PYTHON" -m venv --system-site-packages "$VENV"
fi

step "install Ember and CuPy"
PIP_ARGS=(-q --disable-pip-version-check)
if [ -n "$WHEELS" ]; then
    PIP_ARGS+=(--no-index --find-links "$WHEELS")
fi
run "$PY" -m pip install "${PIP_ARGS[@]}" -e . pytest "cupy-cuda12x[ctk]"
run "$PY" -c "from ember.backend import cuda; import sys; ok = cuda.is_available(); print('cupy sees a GPU:', ok); sys.exit(0 if ok else 1)"

step "PyTorch with CUDA"
FRAMEWORKS="ember,torch"
if [ "$DRY" = 1 ]; then
    echo "+ $PY -c 'import torch; torch.cuda.is_available()'"
elif "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    "$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
else
    FRAMEWORKS="ember"
    echo "gpu_check: no PyTorch with CUDA in this environment: the PyTorch comparison is SKIPPED (Ember alone)"
fi

step "GPU tests"
run env EMBER_REQUIRE_GPU=1 "$PY" -m pytest tests/test_cuda_backend.py -q -x -p no:cacheprovider

if [ "$SKIP_BENCH" = 1 ]; then
    echo "gpu_check: --skip-bench: benchmarks not run"
else
    step "benchmarks on cuda ($FRAMEWORKS)"
    run mkdir -p "$OUT_DIR"
    run "$PY" benchmarks/run.py --device cuda --workloads "$WORKLOADS" --frameworks "$FRAMEWORKS" --quick \
        --timeout 120 --json "$OUT_DIR/gpu_bench.json"
    step "benchmark results complete"
    run "$PY" -c "import json, sys; r = json.load(open(sys.argv[1]))['results']; bad = [x for x in r if 'error' in x]; \
[print('gpu_check: FAILED', x['workload'], x['framework'], x['error'], file=sys.stderr) for x in bad]; sys.exit(1 if bad else 0)" \
        "$OUT_DIR/gpu_bench.json"
fi

STEP="done"
echo "== gpu_check: passed in $(( $(date +%s) - START )) s$([ "$DRY" = 1 ] && echo ' (dry run: nothing was run)')"
