"""``ember.quantizers`` (Keras's ``keras.quantizers``).

Ember has no quantized layers (no int8/int4/float8 kernels), so Keras's
quantizer classes and quantization configs raise NotImplementedError: keep the
model in float32. The plain array arithmetic of absmax quantization is here
with Keras's meaning (:func:`abs_max_quantize`), useful to measure what int8
storage of weights would cost.
"""

from __future__ import annotations

import numpy as np

from .layers.quantizer import Quantizer

__all__ = [
    "AWQConfig",
    "AbsMaxQuantizer",
    "Float8QuantizationConfig",
    "GPTQConfig",
    "Int4QuantizationConfig",
    "Int8QuantizationConfig",
    "QuantizationConfig",
    "Quantizer",
    "abs_max_quantize",
    "abs_max_quantize_grouped_with_zero_point",
    "compute_float8_amax_history",
    "compute_float8_scale",
    "deserialize",
    "fake_quant_with_min_max_vars",
    "get",
    "pack_int4",
    "quantize_and_dequantize",
    "serialize",
    "unpack_int4",
]

_ADVICE = "Ember has no quantized layers or kernels; keep the model in float32"


def _refuse(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(f"{name}: {_ADVICE}")

    refuse.__name__ = name
    refuse.__doc__ = f"Keras's ``{name}``; raises NotImplementedError on Ember ({_ADVICE})."
    return refuse


def _refused_class(name):
    def refuse(self, *args, **kwargs):
        raise NotImplementedError(f"{name}: {_ADVICE}")

    doc = f"Keras's ``{name}``; constructing one raises NotImplementedError on Ember ({_ADVICE})."
    return type(name, (), {"__init__": refuse, "__doc__": doc})


AbsMaxQuantizer = type(
    "AbsMaxQuantizer", (Quantizer,), {"__doc__": "Keras's absmax weight quantizer; raises NotImplementedError."}
)
QuantizationConfig = _refused_class("QuantizationConfig")
Int8QuantizationConfig = _refused_class("Int8QuantizationConfig")
Int4QuantizationConfig = _refused_class("Int4QuantizationConfig")
Float8QuantizationConfig = _refused_class("Float8QuantizationConfig")
GPTQConfig = _refused_class("GPTQConfig")
AWQConfig = _refused_class("AWQConfig")

abs_max_quantize_grouped_with_zero_point = _refuse("abs_max_quantize_grouped_with_zero_point")
compute_float8_amax_history = _refuse("compute_float8_amax_history")
compute_float8_scale = _refuse("compute_float8_scale")
fake_quant_with_min_max_vars = _refuse("fake_quant_with_min_max_vars")
pack_int4 = _refuse("pack_int4")
# Keras rounds through a float8 dtype here; NumPy (and so Ember) has none
quantize_and_dequantize = _refuse("quantize_and_dequantize")
unpack_int4 = _refuse("unpack_int4")
get = _refuse("quantizers.get")
serialize = _refuse("quantizers.serialize")
deserialize = _refuse("quantizers.deserialize")


def _as_array(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=1e-7, to_numpy=False):
    """Absmax quantization along ``axis``, as Keras's.

    ``scale = value_range[1] / (max(|inputs|, axis, keepdims) + epsilon)``;
    ``quantized = clip(round(inputs * scale), *value_range)`` cast to ``dtype``.

    Args:
        inputs: float array or tensor, any shape.
        axis: the axis (or axes) reduced for the scale.

    Returns:
        ``(quantized, scale)`` as Ember tensors: ``quantized`` has ``inputs``' shape and ``dtype``;
        ``scale`` has ``inputs``' float dtype and size 1 along ``axis``.
    """
    from .engine import tensor

    x = _as_array(inputs)
    if x.dtype.kind != "f":
        raise TypeError(f"abs_max_quantize: expected float inputs, got dtype {x.dtype}")
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    scale = (value_range[1] / (np.max(np.abs(x), axis=axis, keepdims=True) + epsilon)).astype(x.dtype)
    quantized = np.clip(np.round(x * scale), value_range[0], value_range[1]).astype(dtype)
    return tensor(quantized), tensor(scale)
