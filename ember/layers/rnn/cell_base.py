"""``RecurrentCell``: what SimpleRNNCell, LSTMCell and GRUCell share.

A cell computes one time step, ``call(inputs, states, training)`` ->
``(output, new_states)``, as Keras's cells do. Ember's cells also run a whole
sequence at once (``_run_sequence``) through the fused ops ``ember.simple_rnn``
/ ``ember.lstm`` / ``ember.gru`` when their activations are ones those ops
implement (tanh, sigmoid, relu, linear, hard_sigmoid); ``RNN`` uses that path.
With another activation the step is a composite of Ember ops and ``RNN`` calls
it once per step.
"""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...ops.recurrent import ACTIVATIONS
from ...ops.shaping import expand_dims
from ..layer import Layer
from .dropout_rnn_cell import DropoutRNNCell, clip_rate, seed_generator
from .rnn import RNN, check_units, resolve_legacy


def op_activation(fn):
    """The name the fused recurrent ops use for activation ``fn``, or None when they do not implement it."""
    try:
        name = activations.serialize(fn)
    except ValueError:
        return None
    return name if isinstance(name, str) and name in ACTIVATIONS else None


class RecurrentCell(Layer, DropoutRNNCell):
    """Base of Ember's cells: arguments, dropout, the fused-sequence and single-step paths.

    Subclasses set ``gates`` and implement ``build``, ``_fused(sequences, states,
    mask, go_backwards, zero_output_for_mask, recurrent_dropout_mask)`` ->
    ``(outputs, states)`` and ``_composite_step(inputs, states,
    recurrent_dropout_mask)`` -> ``(output, states)``.
    """

    _ember_cell = True
    has_recurrent_activation = True

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
        seed=None,
        **kwargs,
    ):
        self.implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation) if self.has_recurrent_activation else None
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = clip_rate(dropout, f"{type(self).__name__} dropout")
        self.recurrent_dropout = clip_rate(recurrent_dropout, f"{type(self).__name__} recurrent_dropout")
        self.seed = seed
        self.seed_generator = seed_generator(seed)
        self.output_size = self.units

    # ---- weights ---------------------------------------------------------------------------
    def _add_kernels(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the last axis (features) of the input must be known, "
                f"got shape {tuple(input_shape)}"
            )
        g = self.gates
        self.kernel = self.add_weight(
            shape=(input_dim, g * self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, g * self.units),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
        )

    def _add_bias(self, shape, initializer):
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=shape,
                initializer=initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )

    # ---- running ----------------------------------------------------------------------------
    @property
    def _fused(self) -> bool:
        """Whether the fused whole-sequence op implements this cell's activations."""
        if op_activation(self.activation) is None:
            return False
        return not self.has_recurrent_activation or op_activation(self.recurrent_activation) is not None

    def _masks(self, step_input, step_state, training):
        """(input mask, recurrent mask) for this call: cached Keras-style, None outside training."""
        if not training:
            return None, None
        return self.get_dropout_mask(step_input), self.get_recurrent_dropout_mask(step_state)

    def _run_sequence(self, sequences, states, mask, go_backwards, zero_output_for_mask, training):
        """Run the whole sequence in one fused op -> (outputs (batch, time, units) in processing order, states)."""
        dp, rdp = self._masks(sequences[:, 0], states[0], training)
        if dp is not None:
            sequences = sequences * expand_dims(dp, 1)
        return self._fused_call(sequences, states, mask, go_backwards, zero_output_for_mask, rdp)

    def call(self, inputs, states, training=False):
        """One step: inputs (batch, features), states list of (batch, units) -> (output, new states)."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        dp, rdp = self._masks(inputs, states[0], training)
        if dp is not None:
            inputs = inputs * dp
        if self._fused:
            outputs, new_states = self._fused_call(expand_dims(inputs, 1), states, None, False, False, rdp)
            return outputs[:, 0], new_states
        return self._composite_step(inputs, states, rdp)

    def get_initial_state(self, batch_size=None):
        from ...engine.creation import zeros

        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [zeros((batch_size, d), dtype=self.compute_dtype) for d in sizes]

    # ---- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
        }
        if self.has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


# the cell arguments a SimpleRNN / LSTM / GRU layer reads from its cell, as Keras's properties do
CELL_ATTRIBUTES = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
)


def forward_cell_attributes(cls, names):
    """Give layer class ``cls`` read-only properties that return ``self.cell.<name>``."""
    for name in names:
        setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n)))
    return cls


def layer_config(layer, names) -> dict:
    """A recurrent layer's config: the RNN keys and the cell's arguments ``names``, without the cell."""
    cell_config = layer.cell.get_config()
    config = RNN.get_config(layer)
    for name in names:
        config[name] = cell_config[name]
    config["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    return config


def cell_arguments(layer_name: str, kwargs: dict, params: dict) -> dict:
    """The cell's arguments from a layer's constructor: Keras 2 keywords applied, dtype/trainable shared."""
    params = resolve_legacy(layer_name, kwargs, params)
    if params.get("units") is None:
        raise TypeError(f"{layer_name}: missing the required argument `units` (the size of the state)")
    params["dtype"] = kwargs.get("dtype")
    params["trainable"] = kwargs.get("trainable", True)
    if "implementation" in kwargs:
        params["implementation"] = kwargs.pop("implementation")
    return params
