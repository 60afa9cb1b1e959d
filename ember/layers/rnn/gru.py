"""``GRUCell`` and ``GRU``: the gated recurrent unit (Cho et al., 2014), gate order z, r, h as Keras.

Per step, with ``reset_after=True`` (Keras 3's default, cuDNN's formulation)::

    x_z, x_r, x_h = x_t @ kernel + input_bias
    m_z, m_r, m_h = h_{t-1} @ recurrent_kernel + recurrent_bias
    z = recurrent_activation(x_z + m_z);  r = recurrent_activation(x_r + m_r)
    hh = activation(x_h + r * m_h);  h_t = z * h_{t-1} + (1 - z) * hh

with ``reset_after=False`` the candidate is ``activation(x_h + (r * h_{t-1}) @ recurrent_kernel_h)``
and the bias is one (3*units,) vector.
"""

from __future__ import annotations

from ...ops.arithmetic import matmul
from ...ops.recurrent import gru
from ...ops.shaping import split
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

_GRU_ATTRIBUTES = (*CELL_ATTRIBUTES, "recurrent_activation", "reset_after", "seed")


class GRUCell(RecurrentCell):
    """One GRU step.

    Shapes: inputs (batch, features), states [h (batch, units)] -> output h (batch, units), [h].
    Weights (Keras's order): kernel (features, 3*units), recurrent_kernel (units, 3*units),
    bias (2, 3*units) [input bias; recurrent bias] with ``reset_after``, else (3*units,).

    Args:
        units: the size of the state.
        activation: of the candidate (default ``"tanh"``); recurrent_activation: of the gates (``"sigmoid"``).
        use_bias, initializers (recurrent default ``"orthogonal"``), regularizers, constraints: as Keras.
        dropout / recurrent_dropout: as :class:`LSTMCell` (one mask shared by the three gates).
        reset_after: apply the reset gate after the recurrent matmul (default True).
        seed: an int for reproducible dropout masks.
    """

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        reset_after=True,
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
        self.reset_after = bool(reset_after)
        self.state_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape)
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_bias(shape, self.bias_initializer)
        self.built = True

    def _fused_call(self, sequences, states, mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask):
        outputs, h = gru(
            sequences,
            states[0],
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            mask=mask,
            go_backwards=go_backwards,
            reset_after=self.reset_after,
            activation=op_activation(self.activation),
            recurrent_activation=op_activation(self.recurrent_activation),
            recurrent_dropout_mask=recurrent_dropout_mask,
            zero_output_for_mask=zero_output_for_mask,
        )
        return outputs, [h]

    def _composite_step(self, inputs, states, recurrent_dropout_mask):
        h_prev = states[0]
        h_in = h_prev if recurrent_dropout_mask is None else h_prev * recurrent_dropout_mask
        u = self.units
        act, rec = self.activation, self.recurrent_activation
        x = matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + (self.bias[0] if self.reset_after else self.bias)
        x_z, x_r, x_h = split(x, 3, axis=-1)
        if self.reset_after:
            m = matmul(h_in, self.recurrent_kernel)
            if self.bias is not None:
                m = m + self.bias[1]
            m_z, m_r, m_h = split(m, 3, axis=-1)
            z, r = rec(x_z + m_z), rec(x_r + m_r)
            hh = act(x_h + r * m_h)
        else:
            m = matmul(h_in, self.recurrent_kernel[:, : 2 * u])
            z, r = rec(x_z + m[:, :u]), rec(x_r + m[:, u:])
            hh = act(x_h + matmul(r * h_in, self.recurrent_kernel[:, 2 * u :]))
        h = z * h_prev + (1 - z) * hh
        return h, [h]

    def get_config(self) -> dict:
        return {**super().get_config(), "reset_after": self.reset_after}


class GRU(RNN):
    """Gated recurrent unit layer (``GRUCell`` over the sequence, one fused op).

    Shapes: inputs (batch, timesteps, features) -> (batch, units), or (batch,
    timesteps, units) with ``return_sequences``; with ``return_state`` a tuple
    ``(output, final_h)``.

    Args:
        units, activation, recurrent_activation, use_bias, initializers, regularizers,
        constraints, dropout, recurrent_dropout, reset_after, seed: as :class:`GRUCell`.
        activity_regularizer: as Keras.
        return_sequences, return_state, go_backwards, stateful, unroll: as :class:`RNN`.
        use_cudnn: accepted for Keras compatibility; Ember always uses its own op.
        Keras 2 spellings as :class:`LSTM`.
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
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        params = cell_arguments(
            "GRU",
            kwargs,
            {
                "units": units,
                "activation": activation,
                "recurrent_activation": recurrent_activation,
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
                "reset_after": reset_after,
                "seed": seed,
            },
        )
        cell = GRUCell(name="gru_cell", **params)
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
        return layer_config(self, _GRU_ATTRIBUTES)

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


forward_cell_attributes(GRU, _GRU_ATTRIBUTES)
