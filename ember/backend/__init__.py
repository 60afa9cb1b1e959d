"""The array-module seam (devices, NumPy/CuPy), process-wide numeric settings, and Keras's backend helpers."""

# first, before anything imports NumPy: importing blas_coretype may set OPENBLAS_CORETYPE (see its doc)
from . import blas_coretype  # isort: skip
from .allocator import tune_malloc
from .config import epsilon, floatx, set_epsilon, set_floatx
from .device import CPU, Device, default_device, device, device_of_array, is_host_array, to_device, to_host, xp_of
from .keras_api import (
    backend,
    clear_session,
    get_uid,
    image_data_format,
    is_float_dtype,
    is_int_dtype,
    is_keras_tensor,
    register_clear_session_hook,
    reset_uids,
    result_type,
    set_image_data_format,
    standardize_dtype,
)

__all__ = [
    "CPU",
    "Device",
    "backend",
    "clear_session",
    "default_device",
    "device",
    "device_of_array",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_host_array",
    "is_int_dtype",
    "is_keras_tensor",
    "register_clear_session_hook",
    "reset_uids",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
    "to_device",
    "to_host",
    "tune_malloc",
    "xp_of",
]
