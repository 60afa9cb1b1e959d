"""``GroupQueryAttention``: attention with fewer key/value heads than query heads (Ainslie et al., 2023)."""

from __future__ import annotations

import math

import numpy

from ... import constraints, initializers, regularizers
from ...engine.tensor import Tensor
from ...ops import expand_dims, logical_and, multiply, repeat
from ...ops.einsum import einsum
from ..activations.softmax import Softmax
from ..core.einsum_dense import EinsumDense
from ..layer import Layer
from ..regularization.dropout import Dropout
from .multi_head_attention import (
    _bool,
    fused_attention_path,
    prepare_attention_call,
    softmax_keeping_masked_rows,
)


class GroupedQueryAttention(Layer):
    """Grouped-query attention, as ``keras.layers.GroupQueryAttention``.

    Each group of ``num_query_heads // num_key_value_heads`` query heads shares
    one key head and one value head.

    Shapes: query (B, T, dim), value (B, S, dim), key (B, S, dim) (default value)
    -> (B, T, dim); scores (B, num_query_heads, T, S).
    Weights (Keras's order): query kernel (dim, num_query_heads, head_dim) and bias,
    key and value kernels (dim, num_key_value_heads, head_dim) and biases, output
    kernel (num_query_heads, head_dim, dim) and bias (dim,).

    Args:
        head_dim: the size of each head.
        num_query_heads, num_key_value_heads: the head counts (the second divides the first).
        dropout, use_bias, sliding_window, initializers, regularizers, constraints, use_gate,
        seed: as :class:`MultiHeadAttention`.

    Call arguments: as :class:`MultiHeadAttention` (masks attached to the
    tensors fill ``query_mask``/``value_mask``/``key_mask``).
    """

    _keras_export_name = "GroupQueryAttention"  # the class name Keras writes in saved configs

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        if sliding_window is not None and (not isinstance(sliding_window, int) or sliding_window <= 0):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window}"
            )
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer_config = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        self._build_shapes = None

    def _sublayer(self, equation, output_shape, bias_axes, name, activation=None):
        return EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            activation=activation,
            name=name,
            kernel_initializer=type(self.kernel_initializer).from_config(self.kernel_initializer.get_config()),
            bias_initializer=type(self.bias_initializer).from_config(self.bias_initializer.get_config()),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            activity_regularizer=self._activity_regularizer_config,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype_policy,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            raise ValueError(f"GroupQueryAttention '{self.name}': build() needs query_shape and value_shape")
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self.feature_dim = query_shape[-1]
        q_heads, kv_heads, dim = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._sublayer("bqm,muh->bquh", (None, q_heads, dim), "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._sublayer("bkm,mvh->bkvh", (None, kv_heads, dim), "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._sublayer("bqm,muh->bquh", (None, q_heads, dim), "uh", "gate", "sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._sublayer("bkm,mvh->bkvh", (None, kv_heads, dim), "vh", "value")
        self._value_dense.build(value_shape)
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = self._sublayer("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output")
        self._output_dense.build((None, None, q_heads, dim))
        self.built = True

    def get_build_config(self):
        if self._build_shapes is None:
            return None
        return {"shapes_dict": {k: list(v) for k, v in self._build_shapes.items()}}

    def build_from_config(self, config):
        shapes = config.get("shapes_dict") or {}
        if shapes:
            self.build(**{k: tuple(v) for k, v in shapes.items()})

    def __call__(self, *args, **kwargs):
        args, kwargs = prepare_attention_call(self, args, kwargs, masks_from=("query", "value", "key"))
        return super().__call__(*args, **kwargs)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        if key is None:
            key = value
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self.use_gate else None
        query = self._query_dense(query)
        key = repeat(self._key_dense(key), self.num_repeats, axis=2)
        value = repeat(self._value_dense(value), self.num_repeats, axis=2)
        output, scores = self._compute_attention(query, key, value, attention_mask, training, return_attention_scores)
        if gate is not None:
            output = multiply(output, gate)
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention_mask(
        self, query, value, query_mask=None, value_mask=None, key_mask=None, attention_mask=None, use_causal_mask=False
    ):
        auto = None

        def both(a, b):
            return b if a is None else logical_and(a, b)

        if query_mask is not None:
            auto = expand_dims(_bool(query_mask), -1)
        if value_mask is not None:
            auto = both(auto, expand_dims(_bool(value_mask), -2))
        if key_mask is not None:
            auto = both(auto, expand_dims(_bool(key_mask), -2))
        t, s = query.shape[1], value.shape[1]
        if use_causal_mask:
            auto = both(auto, Tensor(numpy.tril(numpy.ones((t, s), dtype=bool))[None]))
        if self.sliding_window is not None:
            band = numpy.abs(numpy.arange(t)[:, None] - numpy.arange(s)[None, :]) < self.sliding_window
            auto = both(auto, Tensor(band[None]))
        if auto is not None:
            attention_mask = auto if attention_mask is None else logical_and(_bool(attention_mask), auto)
        elif attention_mask is not None:
            attention_mask = _bool(attention_mask)
        return attention_mask

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False):
        query = multiply(query, numpy.asarray(self._inverse_sqrt_head_dim, dtype=query.dtype))
        scores = einsum(self._dot_product_equation, query, key)
        if attention_mask is not None:
            for _ in range(scores.ndim - attention_mask.ndim):
                attention_mask = expand_dims(attention_mask, -3)
        if attention_mask is not None and fused_attention_path(query, self.dropout, return_attention_scores):
            scores = softmax_keeping_masked_rows(scores, attention_mask)
        else:
            scores = self._softmax(scores, mask=attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self.dropout > 0.0 else scores
        return einsum(self._combine_equation, dropped, value), scores

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer_config),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }


GroupQueryAttention = GroupedQueryAttention
