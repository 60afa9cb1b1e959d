"""``Bidirectional``: run a recurrent layer forwards and a copy backwards, and merge the two outputs."""

from __future__ import annotations

from ...ops.shaping import concatenate, flip
from ..layer import Layer
from ..symbolic import flatten
from .layer_config import deserialize_layer, serialize_layer
from .rnn import RNN, _float_dtype

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _clone(layer, **overrides):
    """A new layer with ``layer``'s config (and fresh weights), some entries replaced."""
    config = layer.get_config()
    config.update(overrides)
    if type(layer) is RNN:  # the generic wrapper: clone its cell directly (it may be a custom class)
        config["cell"] = type(layer.cell).from_config(layer.cell.get_config())
    return type(layer).from_config(config)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """A bidirectional wrapper for recurrent layers.

    The forward layer is a copy of ``layer``; the backward layer is
    ``backward_layer`` or a copy of ``layer`` with ``go_backwards=True``. With
    ``return_sequences`` the backward outputs are flipped back to input order
    before merging, and masked steps output zeros in both directions.

    Shapes: inputs (batch, timesteps, features) -> merged outputs: (..., 2*units)
    for ``"concat"``, (..., units) for ``"sum"``, ``"mul"``, ``"ave"``, and a tuple
    ``(forward, backward)`` for None; with ``return_state`` the forward layer's final
    states then the backward layer's follow the output(s) in one tuple.
    Weights: the forward layer's, then the backward layer's (Keras's order).

    Args:
        layer: a recurrent layer (``SimpleRNN``, ``LSTM``, ``GRU`` or ``RNN``).
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None.
        weights: optional initial weights (forward half, then backward half), loaded at build.
        backward_layer: an optional recurrent layer for the backward direction; it must
            have ``go_backwards`` opposite to ``layer`` and the same ``return_sequences``,
            ``return_state`` and ``stateful``.

    Call arguments:
        sequences, mask, training: as :class:`RNN`.
        initial_state: a list of the forward states followed by the backward states.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        for attr in ("go_backwards", "return_sequences", "return_state", "stateful"):
            if not hasattr(layer, attr):
                raise ValueError(
                    f"Bidirectional: the wrapped layer must be a recurrent layer (with `{attr}`), got "
                    f"{type(layer).__name__}"
                )
        super().__init__(**kwargs)
        if self._input_batch_shape is None and layer._input_batch_shape is not None:
            self._input_batch_shape = layer._input_batch_shape  # Keras 2: LSTM(..., input_shape=...) inside
        self.forward_layer = _clone(layer, name=f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = _clone(layer, go_backwards=True, name=f"backward_{_strip(layer.name, 'backward_')}")
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {fwd.go_backwards}, backward_layer.go_backwards={bwd.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            a, b = getattr(fwd, attr), getattr(bwd, attr)
            if a != b:
                raise ValueError(
                    f'Forward layer and backward layer are expected to have the same value for attribute "{attr}", '
                    f'got "{a}" for forward layer and "{b}" for backward layer'
                )

    # ---- inputs given as [sequences, *states] -----------------------------------------------
    def __call__(self, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        if initial_state is not None:
            if not args:
                args = (kwargs.pop("inputs"),)
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            args = ([args[0], *states], *args[1:])
        return super().__call__(*args, **kwargs)

    # ---- building and shapes -------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        shape = RNN._sequence_shape(sequences_shape)
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(shape)
                sub.built = True
                for w in sub.weights:
                    w.path = f"{self.name}/{w.path}"
        self.built = True
        if self._initial_weights is not None:
            n = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:n])
            self.backward_layer.set_weights(self._initial_weights[n:])
            self._initial_weights = None

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(RNN._sequence_shape(sequences_shape))
        state_shape = ()
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = (*output_shape[:-1], output_shape[-1] * 2)
        if self.merge_mode is None:
            return (output_shape, output_shape, *state_shape, *state_shape)
        if self.return_state:
            return (output_shape, *state_shape, *state_shape)
        return output_shape

    def _infer_output_specs(self, inputs, rest, kwargs):
        # shapes without running the two recurrences on stand-in data
        shapes = self.compute_output_shape(tuple(flatten(inputs)[0].shape))
        n = len(shapes) if isinstance(shapes[0], tuple) else 1
        return shapes, [_float_dtype(self.compute_dtype)] * n

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n_states = len(self.forward_layer.state_size) + len(self.backward_layer.state_size)
            masks += [None] * n_states
        return masks if len(masks) > 1 else masks[0]

    # ---- the call ---------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        sequences, initial_state, mask = RNN._split(sequences, initial_state, mask)
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask, training=training)
        states = ()
        if self.return_state:
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            output = concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
        return output

    # ---- state -----------------------------------------------------------------------------------
    @property
    def states(self):
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states + self.backward_layer.states)
        return None

    def reset_state(self) -> None:
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self) -> None:
        self.reset_state()

    # ---- config -------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], custom_objects)
        return cls(**config)
