"""``LSTMCell`` and ``LSTM``: the long short-term memory recurrence (Hochreiter and Schmidhuber, 1997).

Gate order i, f, c, o as Keras; per step::

    z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
    i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_c)
    c_t = f * c_{t-1} + i * g;  h_t = o * activation(c_t)
"""

from __future__ import annotations

from ... import initializers
from ...ops.arithmetic import matmul
from ...ops.recurrent import lstm
from ...ops.shaping import concatenate, split
from ..input_spec import InputSpec
from .cell_base import (
    CELL_ATTRIBUTES,
    RecurrentCell,
    cell_arguments,
    forward_cell_attributes,
    layer_config,
    op_activation,
)
from .rnn import RNN

_LSTM_ATTRIBUTES = (*CELL_ATTRIBUTES, "recurrent_activation", "unit_forget_bias", "seed")


class LSTMCell(RecurrentCell):
    """One LSTM step.

    Shapes: inputs (batch, features), states [h (batch, units), c (batch, units)]
    -> output h (batch, units), [h, c].
    Weights (Keras's order): kernel (features, 4*units), recurrent_kernel (units, 4*units), bias (4*units,).

    Args:
        units: the size of the states.
        activation: of the candidate and of the cell state (default ``"tanh"``).
        recurrent_activation: of the gates (default ``"sigmoid"``).
        use_bias, initializers (recurrent default ``"orthogonal"``), regularizers, constraints: as Keras.
        unit_forget_bias: start the forget gate's bias at 1 (Jozefowicz et al.), as Keras.
        dropout / recurrent_dropout: fractions dropped from the inputs / from h_{t-1} in the
            recurrent projection while training; one mask per sequence, shared by the four gates
            (Keras draws one per gate when recurrent_dropout > 0).
        seed: an int for reproducible dropout masks.
    """

    gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def build(self, input_shape):
        self._add_kernels(input_shape)
        initializer = self.bias_initializer
        if self.unit_forget_bias:
            units, base, ones = self.units, self.bias_initializer, initializers.get("ones")

            def initializer(shape, dtype=None):
                return concatenate(
                    [base((units,), dtype=dtype), ones((units,), dtype=dtype), base((2 * units,), dtype=dtype)]
                )

        self._add_bias((4 * self.units,), initializer)
        self.built = True

    def _fused_call(self, sequences, states, mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask):
        outputs, h, c = lstm(
            sequences,
            states[0],
            states[1],
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=mask,
            go_backwards=go_backwards,
            activation=op_activation(self.activation),
            recurrent_activation=op_activation(self.recurrent_activation),
            recurrent_dropout_mask=recurrent_dropout_mask,
            zero_output_for_mask=zero_output_for_mask,
        )
        return outputs, [h, c]

    def _composite_step(self, inputs, states, recurrent_dropout_mask):
        h_prev, c_prev = states[0], states[1]
        if recurrent_dropout_mask is not None:
            h_prev = h_prev * recurrent_dropout_mask
        z = matmul(inputs, self.kernel) + matmul(h_prev, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = split(z, 4, axis=-1)
        act, rec = self.activation, self.recurrent_activation
        c = rec(z_f) * c_prev + rec(z_i) * act(z_c)
        h = rec(z_o) * act(c)
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class LSTM(RNN):
    """Long short-term memory layer (``LSTMCell`` over the sequence, one fused op).

    Shapes: inputs (batch, timesteps, features) -> (batch, units), or (batch,
    timesteps, units) with ``return_sequences``; with ``return_state`` a tuple
    ``(output, final_h, final_c)``.

    Args:
        units, activation, recurrent_activation, use_bias, initializers, unit_forget_bias,
        regularizers, constraints, dropout, recurrent_dropout, seed: as :class:`LSTMCell`.
        activity_regularizer: as Keras.
        return_sequences, return_state, go_backwards, stateful, unroll: as :class:`RNN`.
        use_cudnn: accepted for Keras compatibility ("auto", True, False); Ember always uses its own op.
        Keras 2 spellings: ``output_dim``, ``init``, ``inner_init``, ``inner_activation``,
        ``dropout_W``, ``dropout_U``, ``W_regularizer``, ``b_regularizer`` (with a DeprecationWarning).

    Example: ``LSTM(128, dropout=0.2, recurrent_dropout=0.2)`` after ``Embedding(20000, 128)``.
    """

    def __init__(
        self,
        units=None,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        params = cell_arguments(
            "LSTM",
            kwargs,
            {
                "units": units,
                "activation": activation,
                "recurrent_activation": recurrent_activation,
                "use_bias": use_bias,
                "kernel_initializer": kernel_initializer,
                "recurrent_initializer": recurrent_initializer,
                "bias_initializer": bias_initializer,
                "unit_forget_bias": unit_forget_bias,
                "kernel_regularizer": kernel_regularizer,
                "recurrent_regularizer": recurrent_regularizer,
                "bias_regularizer": bias_regularizer,
                "kernel_constraint": kernel_constraint,
                "recurrent_constraint": recurrent_constraint,
                "bias_constraint": bias_constraint,
                "dropout": dropout,
                "recurrent_dropout": recurrent_dropout,
                "seed": seed,
            },
        )
        cell = LSTMCell(name="lstm_cell", **params)
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = InputSpec(ndim=3)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, False}. "
                f"Received: use_cudnn={use_cudnn}"
            )
        self.use_cudnn = use_cudnn

    def get_config(self) -> dict:
        return layer_config(self, _LSTM_ATTRIBUTES)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


forward_cell_attributes(LSTM, _LSTM_ATTRIBUTES)
