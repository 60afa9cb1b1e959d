"""``SimpleRNNCell`` and ``SimpleRNN``: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``."""

from __future__ import annotations

from ...ops.arithmetic import matmul
from ...ops.recurrent import simple_rnn
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


class SimpleRNNCell(RecurrentCell):
    """One step of a fully connected recurrence whose output is its state.

    Shapes: inputs (batch, features), states [(batch, units)] -> output (batch, units), [new state].
    Weights (Keras's order): kernel (features, units), recurrent_kernel (units, units), bias (units,).

    Args:
        units: the size of the state and output.
        activation: default ``"tanh"``; None is linear.
        use_bias, kernel/recurrent/bias initializer (recurrent default ``"orthogonal"``),
        regularizers and constraints: as Keras.
        dropout: fraction of the input features dropped (one mask per sequence) while training.
        recurrent_dropout: fraction of the previous state's units dropped in the recurrent projection.
        seed: an int for reproducible dropout masks (None: the process-wide generator).
    """

    gates = 1
    has_recurrent_activation = False

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        self.state_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape)
        self._add_bias((self.units,), self.bias_initializer)
        self.built = True

    def _fused_call(self, sequences, states, mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask):
        outputs, h = simple_rnn(
            sequences,
            states[0],
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=mask,
            go_backwards=go_backwards,
            activation=op_activation(self.activation),
            recurrent_dropout_mask=recurrent_dropout_mask,
            zero_output_for_mask=zero_output_for_mask,
        )
        return outputs, [h]

    def _composite_step(self, inputs, states, recurrent_dropout_mask):
        h_prev = states[0] if recurrent_dropout_mask is None else states[0] * recurrent_dropout_mask
        z = matmul(inputs, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        out = self.activation(z + matmul(h_prev, self.recurrent_kernel))
        return out, [out]


class SimpleRNN(RNN):
    """A fully connected recurrent layer (``SimpleRNNCell`` over the sequence, one fused op).

    Shapes: inputs (batch, timesteps, features) -> (batch, units), or (batch,
    timesteps, units) with ``return_sequences``; with ``return_state`` a tuple
    ``(output, final_state)``.

    Args:
        units, activation, use_bias, initializers, regularizers, constraints, dropout,
        recurrent_dropout, seed: as :class:`SimpleRNNCell`; activity_regularizer as Keras.
        return_sequences, return_state, go_backwards, stateful, unroll: as :class:`RNN`.
        Keras 2 spellings: ``output_dim``, ``init``, ``inner_init``, ``dropout_W``, ``dropout_U``,
        ``W_regularizer``, ``b_regularizer`` (with a DeprecationWarning).
    """

    def __init__(
        self,
        units=None,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        params = cell_arguments(
            "SimpleRNN",
            kwargs,
            {
                "units": units,
                "activation": activation,
                "use_bias": use_bias,
                "kernel_initializer": kernel_initializer,
                "recurrent_initializer": recurrent_initializer,
                "bias_initializer": bias_initializer,
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
        cell = SimpleRNNCell(name="simple_rnn_cell", **params)
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

    def get_config(self) -> dict:
        return layer_config(self, CELL_ATTRIBUTES)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


forward_cell_attributes(SimpleRNN, CELL_ATTRIBUTES)
