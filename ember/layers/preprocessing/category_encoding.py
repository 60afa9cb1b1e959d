"""``CategoryEncoding``: integer categories -> one-hot, multi-hot or count vectors."""

from __future__ import annotations

from ... import ops
from ...engine.tensor import Tensor
from ..layer import Layer
from ._encoding import encode_categorical


class CategoryEncoding(Layer):
    """Encodes integer features in ``[0, num_tokens)`` as dense vectors.

    Shapes:
        - ``"one_hot"``: ``(batch,)`` or ``(batch, 1)`` -> ``(batch, num_tokens)``;
          ``(batch, n)`` -> ``(batch, n, num_tokens)``.
        - ``"multi_hot"`` / ``"count"``: ``(batch, n)`` -> ``(batch, num_tokens)`` (the last
          axis is one sample; a 1-D input is one sample -> ``(num_tokens,)``).

    Args:
        num_tokens: the number of categories (required, >= 1).
        output_mode: ``"multi_hot"`` (default; Keras 2's ``"binary"``), ``"one_hot"`` or ``"count"``.
        sparse: not supported by Ember (must be False).

    Call args:
        inputs: integers (Tensor, array or list).
        count_weights: in ``"count"`` mode, a weight per input entry (same shape as ``inputs``).
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known beforehand, "
                "use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: sparse=True is not supported by Ember (dense tensors only)")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "`count_weights` is not used when `output_mode` is not 'count'. "
                f"Received `count_weights={count_weights}`."
            )
        if inputs.dtype.kind == "f":
            inputs = ops.cast(inputs, "int64")
        if count_weights is not None and not isinstance(count_weights, Tensor):
            count_weights = Tensor(count_weights)
        return encode_categorical(inputs, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            if input_shape[-1] != 1 or len(input_shape) == 1:
                return input_shape + (self.num_tokens,)
            return input_shape[:-1] + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config
