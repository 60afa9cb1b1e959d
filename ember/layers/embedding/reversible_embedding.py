"""``ReversibleEmbedding``: an embedding that can also map vectors back to logits over its vocabulary."""

from __future__ import annotations

from ...ops import cast, matmul, tanh, transpose
from .embedding import Embedding


class ReversibleEmbedding(Embedding):
    """``Embedding`` plus ``layer(x, reverse=True)``: ``x @ embeddings.T`` (tied) or ``x @ reverse_embeddings``,
    as ``keras.layers.ReversibleEmbedding`` (the output projection of a language model sharing the input table).

    Shapes: forward (batch, ...) ints -> (batch, ..., output_dim); reverse (batch, ..., output_dim) ->
    (batch, ..., input_dim).
    Weights: embeddings (input_dim, output_dim); with ``tie_weights=False`` also
    reverse_embeddings (output_dim, input_dim).

    Args:
        input_dim, output_dim, embeddings_initializer/regularizer/constraint, mask_zero: as Embedding.
        tie_weights: reuse the embedding table for the reverse projection.
        reverse_dtype: compute the reverse projection in this dtype.
        logit_soft_cap: if set, logits become ``tanh(logits / cap) * cap``.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self._reversing = False

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )
        self.built = True

    def call(self, inputs, reverse=False):
        self._reversing = bool(reverse)
        if not reverse:
            return super().call(inputs)
        kernel = transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = cast(inputs, self.reverse_dtype), cast(kernel, self.reverse_dtype)
        logits = matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None if self._reversing else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        }
