"""``AdditiveAttention``: Bahdanau-style attention, scores ``sum(scale * tanh(query + key))``."""

from __future__ import annotations

from ...ops import expand_dims, tanh
from ...ops import sum as reduce_sum
from .attention import Attention


class AdditiveAttention(Attention):
    """Additive attention, as ``keras.layers.AdditiveAttention``.

    Shapes and call arguments as :class:`Attention`. Weights: ``scale`` (dim,)
    when ``use_scale`` (the default).

    Args:
        use_scale: learn a per-feature scale of the tanh terms.
        dropout: the dropout rate on the attention distribution while training.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(input_shape[0][-1],), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        pairs = tanh(expand_dims(query, -2) + expand_dims(key, -3))  # (B, Tq, Tv, dim)
        if self.use_scale:
            pairs = self.scale * pairs
        return reduce_sum(pairs, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
