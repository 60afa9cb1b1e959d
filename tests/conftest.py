"""Shared test setup: every test starts from the same random state.

The strict device (docs/devices.md): ``EMBER_DEVICE=strict python -m pytest <files>`` runs the tests with
every new tensor on the ``strict`` device, whose arrays refuse implicit host conversion as CuPy's do. Tests
about the host itself (zero-copy views of ``tensor.numpy()``, the default device being cpu) carry
``@pytest.mark.host_only("why")`` and are skipped there; so are the files in ``STRICT_EXCLUDED_FILES``,
host-only features.
"""

import os

import numpy as np
import pytest

import ember

# the BLAS thread policy follows the machine's load, and OpenBLAS rounds some float32 products differently with 1
# and 2 threads: tests compare runs bit for bit, so they keep OpenBLAS's own count (tests/test_threads.py tests it)
os.environ.setdefault("EMBER_BLAS_THREADS", "off")

STRICT = os.environ.get("EMBER_DEVICE", "").strip().lower() == "strict"

# whole files that test host-only features: skipped on the strict device, with the reason
STRICT_EXCLUDED_FILES = {
    "test_onnx.py": "ONNX export reads weights on the host by design",
    "test_serving.py": "serving answers JSON from host arrays",
    "test_serving_hardening.py": "serving answers JSON from host arrays",
    "test_datasets.py": "dataset loaders produce host arrays",
    "test_data_dataset.py": "the Dataset pipeline works on host arrays",
    "test_data_sources.py": "CSV/SQL sources produce host arrays",
    "test_data_docs.py": "documentation examples of host data loading",
    "test_plots.py": "plots draw host data",
    "test_mxnet_api.py": "the MXNet front is host-only (NDArray wraps NumPy)",
    "test_mxnet_blocks.py": "the MXNet front is host-only (NDArray wraps NumPy)",
    "test_mxnet_files.py": "the MXNet front is host-only (NDArray wraps NumPy)",
    "test_mxnet_ndarray.py": "the MXNet front is host-only (NDArray wraps NumPy)",
    "test_mxnet_programs.py": "the MXNet front is host-only (NDArray wraps NumPy)",
}

_NUMBA = "checks a numba CPU kernel or the flat host buffers, which run only on NumPy arrays"
# single tests (any parameters) about host-only machinery, where a one-line marker in the file is not wanted
STRICT_EXCLUDED_TESTS = {
    "test_optimizers.py::test_fused_updates_are_bit_identical_on_both_jit_paths_and_flat": _NUMBA,
    "test_optimizers.py::test_sparse_adam_kernel_equals_numpy": _NUMBA,
    "test_optimizers.py::test_flat_groups_are_views_and_follow_assign": _NUMBA,
    "test_ops_conv_blocks.py::test_winograd_against_torch": _NUMBA,
    "test_ops_conv_blocks.py::test_winograd_against_im2col_float32": _NUMBA,
    "test_ops_conv_blocks.py::test_winograd_gradients_against_im2col": _NUMBA,
    "test_ops_conv_blocks.py::test_tap_sum_forward_against_torch_and_finite_differences": _NUMBA,
    "test_ops_conv_blocks.py::test_the_scratch_buffer_is_reused_and_bounded": _NUMBA,
    "test_ops_conv_blocks.py::test_conv2d_transpose_stride1_backward_takes_winograd": _NUMBA,
    "test_ops_conv_blocks.py::test_conv2d_transpose_stride1_input_grad_takes_winograd": _NUMBA,
    "test_engine.py::test_mixing_devices_says_so": "mixes cpu and cuda (test_strict_device.py mixes cpu and strict)",
    "test_ops_recurrent_kernels.py::test_lstm_inference_kernel_runs_only_without_a_graph": _NUMBA,
    "test_ops_recurrent_kernels.py::test_the_kernels_run_only_where_they_apply": _NUMBA,
    "test_ops_recurrent_kernels.py::test_gru_kernels_run_only_for_reset_after_and_the_default_activations": (_NUMBA),
    "test_metrics.py::test_lean_update_gives_update_states_numbers": "the lean metric update is a cpu-only fast path",
    "test_compile.py::test_flat_buffers_in_use_and_set_weights_after_flattening": _NUMBA,
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "host_only(reason): asserts host (cpu) behaviour; skipped when EMBER_DEVICE=strict"
    )


def pytest_collection_modifyitems(config, items):
    if not STRICT:
        return
    for item in items:
        reason = STRICT_EXCLUDED_FILES.get(item.path.name)
        reason = STRICT_EXCLUDED_TESTS.get(f"{item.path.name}::{item.originalname}", reason)
        marker = item.get_closest_marker("host_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "asserts host behaviour"
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"strict device: {reason}"))


@pytest.fixture(autouse=True)
def _seeded():
    ember.random.seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
