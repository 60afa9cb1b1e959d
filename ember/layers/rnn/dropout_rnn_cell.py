"""``DropoutRNNCell``: the dropout masks of a recurrent cell, drawn once per sequence and reused at every step.

Keras's recurrent dropout (Gal and Ghahramani) drops the same input features
and the same recurrent units at every time step of one sequence. A cell mixes
this class in; the ``RNN`` layer draws the masks before the loop (through
:meth:`get_dropout_mask` / :meth:`get_recurrent_dropout_mask`, which cache
them) and forgets them after (:meth:`reset_dropout_mask` /
:meth:`reset_recurrent_dropout_mask`), so every call gets fresh masks.

A mask holds 0 or ``1 / (1 - rate)`` (inverted dropout). Keras's LSTM and GRU
cells draw one mask per gate (4 or 3) once ``recurrent_dropout > 0``; Ember's
fused recurrences take one input mask and one recurrent mask shared by all the
gates (Keras with all per-gate masks equal). The expected value of every
projection is the same; the gates' noise is correlated instead of independent.
"""

from __future__ import annotations

import numbers

from ...engine.creation import ones
from ...engine.grad_mode import no_grad
from ...engine.random import Generator
from ...ops.dropout import dropout


def seed_generator(seed):
    """The generator a layer draws from: its own for an int ``seed``, the process-wide one for None."""
    if seed is None or isinstance(seed, Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed: expected None or an int, got {seed!r} (of type {type(seed).__name__})")
    return Generator(int(seed))


def clip_rate(rate, name: str) -> float:
    """Keras clips dropout rates into [0, 1]."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{name}: expected a float in [0, 1), got {rate!r}")
    return min(1.0, max(0.0, float(rate)))


class DropoutRNNCell:
    """Mixin for cells with ``dropout``, ``recurrent_dropout`` and ``seed_generator`` attributes."""

    _dropout_mask = None
    _recurrent_dropout_mask = None

    def _draw_mask(self, like, rate):
        with no_grad():
            mask = ones(tuple(like.shape), dtype=self.compute_dtype, device=like.device)
            return dropout(mask, rate, training=True, seed=self.seed_generator)

    def get_dropout_mask(self, step_input):
        """The input mask, (batch, features) like ``step_input``; drawn on first use, then cached."""
        if self._dropout_mask is None and 0.0 < self.dropout < 1.0:
            self._dropout_mask = self._draw_mask(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        """The recurrent mask, (batch, units) like ``step_state``; drawn on first use, then cached."""
        if self._recurrent_dropout_mask is None and 0.0 < self.recurrent_dropout < 1.0:
            self._recurrent_dropout_mask = self._draw_mask(step_state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        """Forget the cached input mask (the next sequence draws a new one)."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self) -> None:
        """Forget the cached recurrent mask."""
        self._recurrent_dropout_mask = None
