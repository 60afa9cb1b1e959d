"""``StackedRNNCells``: several recurrent cells run as one, each step's output feeding the next cell."""

from __future__ import annotations

import numbers

from ..layer import Layer
from .dropout_rnn_cell import DropoutRNNCell
from .layer_config import deserialize_layer, serialize_layer


def _sizes(state_size) -> list:
    return [int(state_size)] if isinstance(state_size, numbers.Integral) else [int(s) for s in state_size]


class StackedRNNCells(Layer, DropoutRNNCell):
    """A stack of cells used as one cell (``RNN([cell_a, cell_b])`` builds one), as ``keras.layers.StackedRNNCells``.

    At each step cell ``i`` reads cell ``i - 1``'s output; the states are every
    cell's states, in order, as one flat list.

    Shapes: a step (batch, features) -> (batch, the last cell's output size).
    Weights: the cells', in order.

    Args:
        cells: a list of cells (each with ``call(inputs, states)`` and ``state_size``).
    """

    dropout = 0.0  # the cells draw their own masks; the stack itself has none
    recurrent_dropout = 0.0

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or getattr(cell, "state_size", None) is None:
                raise ValueError(
                    "All cells must have a `call` method and a `state_size` attribute. "
                    f"Received cells={cells} (offending: {cell!r})"
                )
        self.cells = cells
        self.seed_generator = None

    @property
    def state_size(self) -> list:
        return [s for cell in self.cells for s in _sizes(cell.state_size)]

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return int(getattr(last, "output_size", None) or _sizes(last.state_size)[0])

    def get_initial_state(self, batch_size=None):
        from ...engine.creation import zeros

        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.extend(fn(batch_size=batch_size))
            else:
                states.extend(zeros((batch_size, d), dtype=self.compute_dtype) for d in _sizes(cell.state_size))
        return states

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(shape)
                cell.built = True
            size = getattr(cell, "output_size", None) or _sizes(cell.state_size)[0]
            shape = (shape[0], int(size))
        self.built = True

    def call(self, inputs, states, training=False):
        states = list(states)
        new_states = []
        for cell in self.cells:
            n = len(_sizes(cell.state_size))
            own, states = states[:n], states[n:]
            kwargs = {"training": training} if "training" in getattr(cell, "_call_signature", ()) else {}
            inputs, own = cell(inputs, own, **kwargs)
            new_states.extend(own if isinstance(own, (list, tuple)) else [own])
        return inputs, new_states

    def group_states(self, states) -> list:
        """The flat states as Keras returns them: per cell, a list for a cell of several states, else the tensor."""
        out, states = [], list(states)
        for cell in self.cells:
            n = len(_sizes(cell.state_size))
            own, states = states[:n], states[n:]
            out.append(own if isinstance(cell.state_size, (list, tuple)) else own[0])
        return out

    def reset_dropout_mask(self) -> None:
        for cell in self.cells:
            if isinstance(cell, DropoutRNNCell):
                cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self) -> None:
        for cell in self.cells:
            if isinstance(cell, DropoutRNNCell):
                cell.reset_recurrent_dropout_mask()

    def get_config(self) -> dict:
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
