"""``MultiHeadAttention``: scaled dot-product attention over several heads, with Keras's weight layout.

Each of query, key and value is projected by an ``EinsumDense`` to
``(batch, <positions>, num_heads, head_dim)``; the scores
``softmax(q . k / sqrt(key_dim))`` (masked) weight the values; an output
``EinsumDense`` maps ``(num_heads, value_dim)`` back to the query's feature
size (or ``output_shape``). Weights, in order: query kernel
``(d_query, num_heads, key_dim)`` and bias ``(num_heads, key_dim)``, key, value,
then the output kernel ``(num_heads, value_dim, d_out)`` and bias ``(d_out,)``.
"""

from __future__ import annotations

import math
import string

import numpy

from ... import constraints, initializers, regularizers
from ...engine.tensor import Tensor
from ...ops import cast, expand_dims, logical_and, multiply, softmax, where
from ...ops.einsum import einsum
from ..activations.softmax import Softmax
from ..core.einsum_dense import EinsumDense
from ..layer import Layer
from ..regularization.dropout import Dropout
from ..symbolic import SymbolicTensor


class MultiHeadAttention(Layer):
    """Multi-head attention ("Attention is all you need", Vaswani et al. 2017), as ``keras.layers.MultiHeadAttention``.

    Shapes: query (B, T, dim_q), value (B, S, dim_v), key (B, S, dim_k) (default: value)
    -> output (B, T, dim_q) or (B, T, *output_shape); scores (B, num_heads, T, S).
    Higher-rank inputs attend over ``attention_axes``.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default key_dim).
        dropout: the dropout rate on the attention scores while training.
        use_bias: whether the projections have biases.
        output_shape: the output's feature shape (default: the query's last axis).
        attention_axes: the axes attention runs over (default all but batch, heads, features).
        sliding_window: restrict each query position to keys within ``sliding_window - 1`` positions.
        kernel_initializer / bias_initializer / regularizers / constraints: for every projection.
        use_gate: gate the attention output with ``sigmoid`` of a projection of the query.
        seed: an int seeding the dropout.

    Call arguments:
        query, value, key: the tensors (positionally or by keyword).
        attention_mask: boolean (B, T, S): 1 lets a query position attend to a key position.
        return_attention_scores: also return the (B, num_heads, T, S) scores.
        training: apply the dropout.
        use_causal_mask: let position t attend only to positions <= t.
        query_mask / value_mask / key_mask: default the masks attached to the tensors.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
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
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not _positive_int(value):
                raise ValueError(
                    f"Received an invalid value for argument `{arg}`, expected a positive integer. "
                    f"Received: {arg}={value}"
                )
        if value_dim is not None and not _positive_int(value_dim):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive integer or `None`. "
                f"Received: value_dim={value_dim}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(
                    f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be of "
                    "type tuple, list, or int."
                ) from None
        self._output_shape = output_shape or None
        self._flash_attention = flash_attention  # a hint Keras passes to its backends; Ember computes the same
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple. Received: attention_axes={attention_axes}"
            )
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None and not _positive_int(sliding_window):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._build_shapes = None

    # ---- Keras's read-only properties -------------------------------------------------
    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    # the projections live under Keras's public names (the weight files' paths); Keras code reads the private ones
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    # ---- build --------------------------------------------------------------------------
    def build(self, query_shape, value_shape=None, key_shape=None):
        """Create the projections for inputs of these shapes (each with the batch axis)."""
        if value_shape is None:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': build() needs query_shape and value_shape, got only "
                f"query_shape={query_shape}"
            )
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value_shape} and key_shape={key_shape}"
            )
        common = self._sublayer_kwargs()
        heads = self._num_heads

        def projection(rank, width, name, activation=None):
            equation, bias_axes, out_rank = _projection_equation(rank - 1, bound_dims=1, output_dims=2)
            return EinsumDense(
                equation,
                output_shape=[None] * (out_rank - 3) + [heads, width],
                bias_axes=bias_axes if self._use_bias else None,
                activation=activation,
                name=name,
                **common(),
            )

        self.query_dense = projection(len(query_shape), self._key_dim, "query")
        self._query_dense.build(query_shape)
        self.key_dense = projection(len(key_shape), self._key_dim, "key")
        self._key_dense.build(key_shape)
        if self._use_gate:
            self._gate_dense = projection(len(query_shape), self._value_dim, "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self.value_dense = projection(len(value_shape), self._value_dim, "value")
        self._value_dense.build(value_shape)
        rank = len(value_shape) + 1  # the projected rank
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = _attention_equations(
            rank, self._attention_axes
        )
        norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)
        out_features = self._output_shape or (query_shape[-1],)
        equation, bias_axes, out_rank = _projection_equation(
            len(query_shape) - 1, bound_dims=2, output_dims=len(out_features)
        )
        self.output_dense = EinsumDense(
            equation,
            output_shape=[None] * (out_rank - 1 - len(out_features)) + list(out_features),
            bias_axes=bias_axes if self._use_bias else None,
            name="attention_output",
            **common(),
        )
        out_in_shape = list(self._query_dense.compute_output_shape(query_shape))
        out_in_shape[-1] = self._value_dim
        self._output_dense.build(tuple(out_in_shape))
        self.built = True

    def _sublayer_kwargs(self):
        def make():
            return dict(
                kernel_initializer=type(self._kernel_initializer).from_config(self._kernel_initializer.get_config()),
                bias_initializer=type(self._bias_initializer).from_config(self._bias_initializer.get_config()),
                kernel_regularizer=self._kernel_regularizer,
                bias_regularizer=self._bias_regularizer,
                activity_regularizer=self._activity_regularizer,
                kernel_constraint=self._kernel_constraint,
                bias_constraint=self._bias_constraint,
                dtype=self.dtype_policy,
            )

        return make

    def get_build_config(self):
        """Keras's ``{"shapes_dict": {"query_shape": ..., "value_shape": ...}}`` once built."""
        if self._build_shapes is None:
            return None
        return {"shapes_dict": {k: list(v) for k, v in self._build_shapes.items()}}

    def build_from_config(self, config):
        shapes = config.get("shapes_dict") or {}
        if shapes:
            self.build(**{k: tuple(v) for k, v in shapes.items()})

    # ---- call ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        args, kwargs = prepare_attention_call(self, args, kwargs)
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
        query_mask = getattr(query, "_keras_mask", None)
        attention_mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self._use_gate else None
        query = self._query_dense(query)
        key = self._key_dense(key)
        value = self._value_dense(value)
        output, scores = self._compute_attention(query, key, value, attention_mask, training, return_attention_scores)
        if gate is not None:
            output = multiply(output, gate)
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False):
        """Attention of projected query (B, T, N, key_dim), key (B, S, N, key_dim), value (B, S, N, value_dim).

        Returns the combined values (B, T, N, value_dim) and the scores (B, N, T, S).
        """
        query = multiply(query, numpy.asarray(self._inverse_sqrt_key_dim, dtype=query.dtype))
        scores = einsum(self._dot_product_equation, key, query)
        if attention_mask is not None and fused_attention_path(query, self._dropout, return_attention_scores):
            scores = softmax_keeping_masked_rows(scores, self._expand_mask(scores, attention_mask))
        else:
            scores = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0.0 else scores
        return einsum(self._combine_equation, dropped, value), scores

    def _expand_mask(self, scores, attention_mask):
        # (B, T, S) -> (B, 1, T, S): the mask is shared by the heads
        axis = -len(self._attention_axes) * 2 - 1
        for _ in range(len(scores.shape) - len(attention_mask.shape)):
            attention_mask = expand_dims(attention_mask, axis)
        return attention_mask

    def _masked_softmax(self, scores, attention_mask=None):
        if attention_mask is not None:
            # (B, T, S) -> (B, 1, T, S): the mask is shared by the heads
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(len(scores.shape) - len(attention_mask.shape)):
                attention_mask = expand_dims(attention_mask, axis)
        return self._softmax(scores, mask=attention_mask)

    def _compute_attention_mask(
        self, query, value, query_mask=None, value_mask=None, key_mask=None, attention_mask=None, use_causal_mask=False
    ):
        """The (B, T, S) boolean mask: the inputs' masks, the causal/sliding-window masks and ``attention_mask``."""
        auto = None

        def both(a, b):
            return b if a is None else logical_and(a, b)

        if query_mask is not None:
            auto = expand_dims(_bool(query_mask), -1)  # (B, T, 1)
        if value_mask is not None:
            auto = both(auto, expand_dims(_bool(value_mask), -2))  # (B, 1, S)
        if key_mask is not None:
            auto = both(auto, expand_dims(_bool(key_mask), -2))
        if use_causal_mask:
            auto = both(auto, self._compute_causal_mask(query, value))
        if self._sliding_window is not None:
            t, s = query.shape[1], value.shape[1]
            band = numpy.abs(numpy.arange(t)[:, None] - numpy.arange(s)[None, :]) < self._sliding_window
            auto = both(auto, Tensor(band[None]))
        if attention_mask is not None:
            attention_mask = _bool(attention_mask)
        if auto is not None:
            attention_mask = auto if attention_mask is None else logical_and(attention_mask, auto)
        return attention_mask

    def _compute_causal_mask(self, query, value=None):
        """The (1, T, S) lower-triangular mask: position t sees positions <= t."""
        t = query.shape[1]
        s = t if value is None else value.shape[1]
        return Tensor(numpy.tril(numpy.ones((t, s), dtype=bool))[None])

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self._bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }


def prepare_attention_call(layer, args, kwargs, masks_from=("value", "key")):
    """``(args, kwargs)`` for ``Layer.__call__`` of an attention layer, which is built first if need be.

    query, value and key come positionally or by keyword (they are made
    positional); the mask attached to each tensor named in ``masks_from`` fills
    its ``<name>_mask`` argument unless one is given, as Keras's ``__call__`` does.
    """
    names = ("query", "value", "key")
    args = list(args)
    for i, name in enumerate(names):
        if name in kwargs:
            if i < len(args):
                raise TypeError(f"{type(layer).__name__} '{layer.name}': got `{name}` both positionally and by keyword")
            if i == len(args):
                args.append(kwargs.pop(name))
    if len(args) < 2:
        raise TypeError(f"{type(layer).__name__} '{layer.name}' needs `query` and `value`; got {len(args)} tensor(s)")
    for name, tensor in zip(names, args[:3]):
        mask = getattr(tensor, "_keras_mask", None)
        if name in masks_from and mask is not None and kwargs.get(f"{name}_mask") is None:
            kwargs[f"{name}_mask"] = mask
    if not layer.built:
        shapes = [tuple(getattr(t, "shape", numpy.shape(t))) if t is not None else None for t in args[:3]]
        layer.build(*shapes)
    return args, kwargs


def fused_attention_path(query, dropout, return_attention_scores) -> bool:
    """Whether Keras computes this attention with its fused ``dot_product_attention`` (4-D projections, no
    dropout, no scores returned), where a query position with every key masked attends to all keys evenly
    (its softmax path gives such a row zero attention instead)."""
    return query.ndim == 4 and not dropout and not return_attention_scores


def softmax_keeping_masked_rows(scores, mask):
    """``softmax(where(mask, scores, -1e9))`` over the last axis (masked keys get 0; a fully masked row is even)."""
    return softmax(where(mask, scores, -1e9), axis=-1)


def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _bool(mask):
    if isinstance(mask, (Tensor, SymbolicTensor)):
        return mask if mask.dtype == bool else cast(mask, "bool")
    return Tensor(numpy.asarray(mask).astype(bool))


def _projection_equation(free_dims, bound_dims, output_dims):
    """``(equation, bias_axes, output_rank)`` of a projection: free input letters, contracted ones, new ones."""
    letters = string.ascii_lowercase
    free = letters[:free_dims]
    bound = letters[free_dims : free_dims + bound_dims]
    new = letters[free_dims + bound_dims : free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{new}->{free}{new}", new, free_dims + output_dims


def _attention_equations(rank, attn_axes):
    """The query-key product and the combination einsums for projected tensors of ``rank``.

    Projected tensors are (batch, <other axes>, <attention axes>, heads, channels);
    the scores are (batch, <other axes>, heads, <query attention axes>, <key attention axes>).
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)
