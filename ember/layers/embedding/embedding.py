"""``Embedding``: map integer indices to dense vectors, rows of a trainable (input_dim, output_dim) table."""

from __future__ import annotations

import numbers
import warnings

from ... import constraints, initializers, regularizers
from ...ops.casting import cast
from ...ops.comparison import not_equal
from ...ops.embedding import embedding
from ..layer import Layer

# Keras 1 keywords of Embedding -> Keras 3's
_LEGACY = {
    "init": "embeddings_initializer",
    "W_regularizer": "embeddings_regularizer",
    "W_constraint": "embeddings_constraint",
}


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value} (of type {type(value).__name__})."
        )
    return int(value)


class Embedding(Layer):
    """Turn non-negative integers (indices) into dense vectors of fixed size.

    Shapes: inputs (batch, ...) of integers in ``[0, input_dim)`` -> (batch, ..., output_dim).
    Weights: embeddings (input_dim, output_dim). Its gradient is row-sparse
    (only the looked-up rows), see ``ember.embedding``.

    Args:
        input_dim: the vocabulary size (largest index + 1).
        output_dim: the size of each vector.
        embeddings_initializer: default ``"uniform"`` (U[-0.05, 0.05]); Keras 1: ``init``.
        embeddings_regularizer / embeddings_constraint / activity_regularizer: as Keras
            (Keras 1: ``W_regularizer`` / ``W_constraint``).
        mask_zero: index 0 is padding: the output carries a mask (``inputs != 0``) that
            later layers (LSTM, ...) use to skip those steps; index 0 must then not be a word.
        weights: optional initial table, ``[array]`` or ``array`` of shape (input_dim, output_dim).
        input_length: Keras 2's sequence length; deprecated (warns), used as ``input_shape=(input_length,)``.

    Example: ``Embedding(20000, 128)`` on (batch, 80) word indices -> (batch, 80, 128).
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        given = {
            "embeddings_initializer": embeddings_initializer,
            "embeddings_regularizer": embeddings_regularizer,
            "embeddings_constraint": embeddings_constraint,
        }
        for old, new in _LEGACY.items():
            if old in kwargs:
                warnings.warn(
                    f"Embedding: `{old}` is the Keras 1 name; use `{new}` instead", DeprecationWarning, stacklevel=2
                )
                given[new] = kwargs.pop(old)
        if lora_rank:
            raise NotImplementedError("Embedding: LoRA (lora_rank) is not supported by Ember")
        kwargs.pop("quantization_config", None)
        self.input_dim = _positive_int("input_dim", input_dim)
        self.output_dim = _positive_int("output_dim", output_dim)
        super().__init__(**kwargs)
        self.embeddings_initializer = initializers.get(given["embeddings_initializer"])
        self.embeddings_regularizer = regularizers.get(given["embeddings_regularizer"])
        self.embeddings_constraint = constraints.get(given["embeddings_constraint"])
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha
        if weights is not None:
            self.build()
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            name="embeddings",
            autocast=False,  # gathered in float32 and the rows cast (see call): the table is never copied
        )
        self.built = True

    def call(self, inputs):
        if inputs.dtype.kind not in "iu":
            inputs = cast(inputs, "int32")
        out = embedding(inputs, self.embeddings)
        # under mixed_float16 the float32 table is gathered, then the rows cast (Keras's order; same values)
        compute = self.compute_dtype
        return cast(out, compute) if out.dtype.name != compute and compute.startswith("float") else out

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
