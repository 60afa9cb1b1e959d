"""``Attention``: Luong-style dot-product attention (or Bahdanau-style "concat" scores) over [query, value, key]."""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor
from ...ops import dropout, expand_dims, logical_and, logical_not, matmul, softmax, swapaxes, tanh, where
from ...ops import sum as reduce_sum
from ..layer import Layer
from ..regularization._seed import layer_generator


class Attention(Layer):
    """Dot-product attention, as ``keras.layers.Attention``.

    Shapes: inputs [query (B, Tq, dim), value (B, Tv, dim_v)] or [query, value, key (B, Tv, dim)]
    -> output (B, Tq, dim_v); scores (B, Tq, Tv).

    Args:
        use_scale: learn a scalar that multiplies the scores.
        score_mode: ``"dot"`` (query . key) or ``"concat"`` (sum(tanh(query + key))).
        dropout: the dropout rate on the attention distribution while training.
        seed: an int seeding the dropout.

    Call arguments:
        inputs: the list [query, value] or [query, value, key].
        mask: [query_mask (B, Tq), value_mask (B, Tv)]: value positions masked
            out get no attention; masked query positions give zeros.
        training: apply the dropout.
        return_attention_scores: also return the (B, Tq, Tv) attention distribution.
        use_causal_mask: position i attends only to positions <= i.
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self._generator = layer_generator(type(self).__name__, seed)
        self.supports_masking = True
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _calculate_scores(self, query, key):
        """Scores (B, Tq, Tv) of query (B, Tq, dim) against key (B, Tv, dim)."""
        if self.score_mode == "dot":
            scores = matmul(query, swapaxes(key, -2, -1))
            return scores * self.scale if self.scale is not None else scores
        pairs = expand_dims(query, -2) + expand_dims(key, -3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * reduce_sum(tanh(pairs), axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        """``(softmax(scores) @ value, softmax(scores))``; masked-out scores are lowered by 1e9 first."""
        if scores_mask is not None:
            padding = logical_not(scores_mask)
            big = 65504.0 if str(scores.dtype) == "float16" else 1.0e9
            if len(padding.shape) == 2:
                padding = expand_dims(padding, -2)
            scores = where(padding, scores - big, scores)
        weights = softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = dropout(weights, self.dropout, training=True, seed=self._generator)
        return matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if not use_causal_mask:
            return v_mask
        tq, tv = scores.shape[-2], scores.shape[-1]
        causal = Tensor(numpy.tril(numpy.ones((tq, tv), dtype=bool))[None])
        if v_mask is not None:
            return logical_and(expand_dims(v_mask, -2), causal)
        return causal

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None and v_mask.dtype != bool:
            v_mask = v_mask.astype("bool")
        scores = self._calculate_scores(query=q, key=k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, weights = self._apply_scores(scores, v, scores_mask=scores_mask, training=training)
        if q_mask is not None:
            output = where(expand_dims(q_mask.astype("bool"), -1), output, 0.0)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], input_shape[1][-1])

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or (inputs and isinstance(inputs[0], (int, type(None)))):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or [query, value, key]. "
                f"Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
                f"Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
                )
            if not 2 <= len(mask) <= 3:
                raise ValueError(
                    f"{name} layer accepts mask list of length 2 or 3. Received: mask of length {len(mask)}."
                )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
