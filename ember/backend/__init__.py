"""The array-module seam (devices, NumPy/CuPy) and process-wide numeric settings."""

from .config import epsilon, floatx, set_epsilon, set_floatx
from .device import CPU, Device, default_device, device, device_of_array

__all__ = [
    "CPU",
    "Device",
    "default_device",
    "device",
    "device_of_array",
    "epsilon",
    "floatx",
    "set_epsilon",
    "set_floatx",
]
