"""``Quantizer`` (``keras.Quantizer``): Keras's weight quantizers; Ember has no quantized layers."""

from __future__ import annotations


class Quantizer:
    """The base of Keras's quantizers (int8/int4/float8 weights).

    Ember computes in floating point only, so creating one raises
    NotImplementedError; train and save float models (``dtype="float32"``).
    """

    def __init__(self, output_dtype="int8"):
        raise NotImplementedError(
            f"Quantizer(output_dtype={output_dtype!r}): Ember has no quantized layers or quantizers; keep the model "
            "in float32 (layer.quantize() and quantization_config are not supported)"
        )
