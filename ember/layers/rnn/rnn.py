"""``RNN``: run a recurrent cell over the time axis of a sequence (the base of SimpleRNN, LSTM, GRU).

Two ways to run the loop:

- Ember's own cells (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``) with the
  activations the fused ops know run the whole sequence in ONE op
  (``ember.simple_rnn`` / ``ember.lstm`` / ``ember.gru``): one input matmul,
  one recurrent matmul per step, backpropagation through time in the op.
- Any other cell (a custom ``Layer`` with ``call(inputs, states)`` and a
  ``state_size``) is called once per step, as Keras's ``backend.rnn`` does.

Both follow Keras 3's masking: at a masked step the states are carried over
and the output repeats the previous output (zeros before the first kept step),
or is zeros with ``zero_output_for_mask=True``.
"""

from __future__ import annotations

import numbers

from ...engine.creation import zeros
from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...ops.arithmetic import where
from ...ops.shaping import stack
from ..layer import Layer
from ..legacy import rename_legacy_kwargs
from ..symbolic import flatten
from .dropout_rnn_cell import DropoutRNNCell


class RNN(Layer):
    """A recurrent layer built from a cell.

    Shapes: inputs (batch, timesteps, features) -> outputs (batch, timesteps,
    output_size) with ``return_sequences``, else (batch, output_size); with
    ``return_state`` a tuple ``(output, *final_states)``, each state (batch, size).
    The weights are the cell's (Keras's order: kernel, recurrent_kernel, bias).

    Args:
        cell: a cell instance: a ``Layer`` with ``call(inputs, states)`` returning
            ``(output, new_states)`` and a ``state_size`` (an int or a list of ints).
        return_sequences: return every step's output instead of the last one.
        return_state: also return the final states.
        go_backwards: process the sequence from the last step to the first (the
            returned sequence is in processing order, i.e. reversed, as Keras).
        stateful: keep the final states of each batch as the initial states of the
            next (needs a fixed batch size); ``reset_state()`` zeroes them.
        unroll: accepted for Keras compatibility; Ember's loops are never unrolled.
        zero_output_for_mask: masked steps output zeros instead of repeating the last output.

    Call arguments:
        sequences: (batch, timesteps, features); a list ``[sequences, *initial_states]`` is accepted too.
        initial_state: a tensor or list of tensors, one per state (default zeros).
        mask: (batch, timesteps) bool, True where a step counts (filled from an input mask).
        training: whether dropout applies.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):  # Keras stacks a list of cells
            from .stacked_rnn_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell!r}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of integers, one integer "
                f"per RNN state). Received: cell={cell!r}"
            )
        if not isinstance(state_size, (list, tuple, numbers.Integral)):
            raise ValueError(
                f"state_size must be an integer, or a list/tuple of integers (one for each state tensor), got "
                f"{state_size!r}"
            )
        kwargs.pop("time_major", None)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        self._expected_batch_size = None
        self.single_state = isinstance(state_size, numbers.Integral)
        self.state_size = [int(state_size)] if self.single_state else list(state_size)

    # ---- inputs given as [sequences, *states] ---------------------------------------
    def __call__(self, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        if initial_state is not None:
            if not args:
                if "inputs" not in kwargs:
                    raise TypeError(f"Layer '{self.name}' was called without inputs")
                args = (kwargs.pop("inputs"),)
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            # the states travel with the sequences so that the functional API sees them as inputs
            args = ([args[0], *states], *args[1:])
        return super().__call__(*args, **kwargs)

    @staticmethod
    def _split(sequences, initial_state=None, mask=None):
        """(sequences, initial_state or None, mask of the sequences) from what ``call`` received."""
        if isinstance(sequences, (list, tuple)):
            if initial_state is None and len(sequences) > 1:
                initial_state = list(sequences[1:])
            sequences = sequences[0]
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        return sequences, initial_state, mask

    @staticmethod
    def _sequence_shape(shape):
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
            return tuple(shape[0])
        return tuple(shape)

    # ---- building -----------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = self._sequence_shape(sequences_shape)
        if len(sequences_shape) < 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of shape (batch, timesteps, features), got "
                f"shape {sequences_shape}"
            )
        step_input_shape = (sequences_shape[0], *sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build(step_input_shape)
            self.cell.built = True
            for w in self.cell.weights:
                w.path = f"{self.name}/{w.path}"
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if sequences_shape[0] is None:
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic batch "
                        f"size: sequence.shape={sequences_shape}. Pass batch_size= (or batch_shape=) to the Input, "
                        "or batch_input_shape= to the first layer."
                    )
                self._create_state_variables(sequences_shape[0])
        self.built = True

    def _create_state_variables(self, batch_size):
        from ...engine.variable import Variable

        self.states = [
            Variable(s.numpy(), trainable=False, dtype=self.dtype, name="rnn_state")
            for s in self.get_initial_state(batch_size)
        ]
        for v in self.states:
            v.path = f"{self.name}/rnn_state"
        self._expected_batch_size = int(batch_size)

    def get_initial_state(self, batch_size, device=None):
        """The default initial states: the cell's ``get_initial_state`` or zeros of (batch, state_size)."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None and not getattr(self.cell, "_ember_cell", False):
            states = fn(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        dtype = getattr(self.cell, "compute_dtype", None) or self.cell.dtype  # float16 under mixed_float16
        return [zeros((batch_size, d), dtype=dtype, device=device) for d in self.state_size]

    def reset_state(self) -> None:
        """Zero the states of a stateful layer (no-op otherwise)."""
        if self.states is not None:
            with no_grad():
                for v in self.states:
                    v.assign(v.device.xp.zeros(v.shape, dtype=v.dtype))

    def reset_states(self) -> None:
        """Keras 2's name of :meth:`reset_state`."""
        self.reset_state()

    # ---- shapes and masks -------------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = self._sequence_shape(sequences_shape)
        batch, length = sequences_shape[0], sequences_shape[1]
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        output_shape = (batch, length, output_size) if self.return_sequences else (batch, output_size)
        if self.return_state:
            states = [(batch, d) for d in self.state_size]
            group = getattr(self.cell, "group_states", None)
            return (output_shape, *(group(states) if group is not None else states))
        return output_shape

    def _infer_output_specs(self, inputs, rest, kwargs):
        # symbolic calls: the shapes are known without running the loop (and a stateful layer's
        # states must not be overwritten by the stand-in data the base class would run)
        shapes = self.compute_output_shape(tuple(flatten(inputs)[0].shape))
        n = 1 + len(self.state_size) if self.return_state else 1
        return shapes, [_float_dtype(self.compute_dtype)] * n

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    # ---- the call -------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        sequences, initial_state, mask = self._split(sequences, initial_state, mask)
        if sequences.ndim < 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of shape (batch, timesteps, features), got "
                f"shape {tuple(sequences.shape)}"
            )
        training = bool(training)
        batch = sequences.shape[0]
        if self.stateful and self._expected_batch_size is not None and batch != self._expected_batch_size:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same as the batch size of "
                f"the initial state.\n- Expected batch size: {self._expected_batch_size}\n- Received batch size: "
                f"{batch}"
            )
        if initial_state is None:
            if self.stateful and self.states is not None:
                initial_state = list(self.states)
            else:
                initial_state = self.get_initial_state(batch, device=sequences.device)
        else:
            initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            initial_state = [s if isinstance(s, Tensor) else Tensor(s) for s in initial_state]
        if len(initial_state) != len(self.state_size):
            raise ValueError(
                f"Layer '{self.name}' expects {len(self.state_size)} initial state(s) of shapes "
                f"{[(batch, d) for d in self.state_size]}, but it received {len(initial_state)}: "
                f"{[tuple(s.shape) for s in initial_state]}"
            )
        for s, d in zip(initial_state, self.state_size):
            if tuple(s.shape) != (batch, d):
                raise ValueError(
                    f"Layer '{self.name}': an initial state must have shape (batch, {d}) = {(batch, d)} for inputs of "
                    f"shape {tuple(sequences.shape)}, got shape {tuple(s.shape)}"
                )

        cell = self.cell
        try:
            if getattr(cell, "_fused", False):
                outputs, states = cell._run_sequence(
                    sequences, initial_state, mask, self.go_backwards, self.zero_output_for_mask, training
                )
            else:
                outputs, states = self._step_loop(sequences, initial_state, mask, training)
        finally:
            if isinstance(cell, DropoutRNNCell):
                cell.reset_dropout_mask()
                cell.reset_recurrent_dropout_mask()

        if self.stateful and self.states is not None:
            with no_grad():
                for var, s in zip(self.states, states):
                    var.assign(s.data)
        output = outputs if self.return_sequences else outputs[:, -1]
        if self.return_state:
            group = getattr(cell, "group_states", None)  # stacked cells: one entry per cell, as Keras
            return (output, *(group(states) if group is not None else states))
        return output

    def _step_loop(self, sequences, states, mask, training):
        """Call the cell once per step (any cell); Keras's masking rules."""
        cell = self.cell
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        kwargs = {"training": training} if "training" in getattr(cell, "_call_signature", ()) else {}
        if isinstance(cell, DropoutRNNCell) and training:
            cell.get_dropout_mask(sequences[:, 0])
            cell.get_recurrent_dropout_mask(states[0])
        outputs, prev = [], None
        for t in order:
            out, new_states = cell(sequences[:, t], list(states), **kwargs)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            if mask is not None:
                keep = mask[:, t : t + 1]
                if prev is None:
                    prev = zeros(tuple(out.shape), dtype=out.dtype, device=out.device)
                fallback = (
                    zeros(tuple(out.shape), dtype=out.dtype, device=out.device) if self.zero_output_for_mask else prev
                )
                out = where(keep, out, fallback)
                new_states = [where(keep, n, s) for n, s in zip(new_states, states)]
                prev = out
            outputs.append(out)
            states = new_states
        if not outputs:
            raise ValueError(f"Layer '{self.name}': cannot run a recurrent layer over 0 timesteps")
        return stack(outputs, axis=1), states

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        if type(self) is RNN:
            from .layer_config import serialize_layer

            config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if cls is RNN:
            from .layer_config import deserialize_layer

            config["cell"] = deserialize_layer(config["cell"])
        return cls(**config)


# ---- helpers shared by SimpleRNN, LSTM and GRU -------------------------------------------------------
def _float_dtype(dtype):
    import numpy

    return numpy.dtype(dtype) if numpy.dtype(dtype).kind == "f" else numpy.dtype("float32")


def resolve_legacy(layer_name: str, kwargs: dict, params: dict) -> dict:
    """Apply Keras 2 keywords (``output_dim``, ``dropout_W``, ``inner_init``, ...) found in ``kwargs`` to ``params``.

    ``params`` holds the constructor's Keras 3 arguments; a legacy keyword
    overrides the one it renames (a DeprecationWarning names the new keyword).
    """
    kwargs = rename_legacy_kwargs(layer_name, kwargs, tuple(params))
    for name in params:
        if name in kwargs:
            params[name] = kwargs.pop(name)
    return params


def check_units(units) -> int:
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got {units}.")
    return int(units)


__all__ = ["RNN"]
