# ruff: noqa: N803  (MXNet's names)
"""``gluon.rnn``: ``RNN``, ``LSTM``, ``GRU`` layers in MXNet's TNC (or NTC) layout with MXNet's weights (``dropout``
between layers in training mode), the ``RNNCell``/``LSTMCell``/``GRUCell`` single-step cells and the
``SequentialRNNCell``/``DropoutCell``/``ResidualCell`` wrappers.

Weights per layer and direction (``l0``, ``r0`` for the reverse direction, ...): ``i2h_weight`` (G*H, in),
``h2h_weight`` (G*H, H), ``i2h_bias`` and ``h2h_bias`` (G*H), gates stacked in MXNet's order: LSTM i, f, g, o;
GRU r, z, n with ``n = act(x W_n + b_in + r * (h U_n + b_hn))`` and ``h' = (1 - z) * n + z * h``.
The recurrence is written with Ember's ops (the input projection for all steps in one matmul, then one step
per time index), so autograd gives the gradients through time.
"""

from __future__ import annotations

import numpy as np

import ember

from .. import autograd
from ..ndarray import _nd
from .block import HybridBlock

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


def _step(mode, x_proj, h, c, h2h_w, h2h_b):
    """One time step: x_proj = x W_i^T + b_i (N, G*H); returns (h, c)."""
    hh = ember.matmul(h, ember.transpose(h2h_w)) + h2h_b
    if mode == "lstm":
        i, f, g, o = ember.split(x_proj + hh, 4, axis=-1)
        c = ember.sigmoid(f) * c + ember.sigmoid(i) * ember.tanh(g)
        return ember.sigmoid(o) * ember.tanh(c), c
    if mode == "gru":
        xr, xz, xn = ember.split(x_proj, 3, axis=-1)
        hr, hz, hn = ember.split(hh, 3, axis=-1)
        r, z = ember.sigmoid(xr + hr), ember.sigmoid(xz + hz)
        n = ember.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h, None
    pre = x_proj + hh
    return (ember.relu(pre) if mode == "rnn_relu" else ember.tanh(pre)), None


class _RNNLayer(HybridBlock):
    def __init__(
        self,
        hidden_size,
        num_layers,
        layout,
        dropout,
        bidirectional,
        input_size,
        mode,
        i2h_weight_initializer=None,
        h2h_weight_initializer=None,
        i2h_bias_initializer="zeros",
        h2h_bias_initializer="zeros",
        dtype="float32",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise ValueError(f"{type(self).__name__}: layout must be 'TNC' or 'NTC', got {layout!r}")
        if not 0 <= float(dropout) < 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self._dropout = float(dropout)  # on each layer's output but the last, in training mode (as MXNet)
        self._hidden, self._layers, self._layout = int(hidden_size), int(num_layers), layout
        self._dirs = 2 if bidirectional else 1
        self._mode, self._gates = mode, _GATES[mode]
        g, h = self._gates * self._hidden, self._hidden
        with self.name_scope():
            for layer in range(self._layers):
                for d in ["l", "r"][: self._dirs]:
                    n_in = input_size if layer == 0 else h * self._dirs
                    for name, shape, init in (
                        ("i2h_weight", (g, n_in), i2h_weight_initializer),
                        ("h2h_weight", (g, h), h2h_weight_initializer),
                        ("i2h_bias", (g,), i2h_bias_initializer),
                        ("h2h_bias", (g,), h2h_bias_initializer),
                    ):
                        key = f"{d}{layer}_{name}"
                        p = self.params.get(key, shape=shape, init=init, dtype=dtype, allow_deferred_init=True)
                        self._reg_params[key] = p

    def _alias(self):
        return type(self).__name__.lower()

    def _collect_params_with_prefix(self, prefix=""):
        """MXNet 1.9's keys in ``.params`` files: ``_unfused.<layer>.<name>`` (bidirectional:
        ``_unfused.<layer>.l_cell.<name>`` / ``r_cell``)."""
        if prefix:
            prefix += "."
        out = {}
        for layer in range(self._layers):
            for d in ["l", "r"][: self._dirs]:
                cell = f"{d}_cell." if self._dirs == 2 else ""
                for n in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias"):
                    out[f"{prefix}_unfused.{layer}.{cell}{n}"] = self.params[f"{self.prefix}{d}{layer}_{n}"]
        return out

    def begin_state(self, batch_size=0, func=None, **kwargs):
        """Zero states: [h] (or [h, c] for LSTM), each (num_layers * dirs, N, H)."""
        from .. import nd

        shape = (self._layers * self._dirs, batch_size, self._hidden)
        return [nd.zeros(shape) for _ in range(2 if self._mode == "lstm" else 1)]

    def forward(self, inputs, states=None):
        x = inputs if self._layout == "TNC" else ember.swapaxes(inputs, 0, 1)
        t_len, batch = x.shape[0], x.shape[1]
        given = states is not None
        if states is None:
            states = self.begin_state(batch)
        if not isinstance(states, (list, tuple)):
            states = [states]
        first = self.params[f"{self.prefix}l0_i2h_weight"]
        if first.shape[1] == 0:
            first.shape = (first.shape[0], x.shape[2])
            if self._dirs == 2:
                self.params[f"{self.prefix}r0_i2h_weight"].shape = first.shape
        for p in self.params.values():
            p._finish_deferred_init()
        h_out, c_out = [], []
        for layer in range(self._layers):
            outs = []
            for di, d in enumerate(["l", "r"][: self._dirs]):
                idx = layer * self._dirs + di
                w = {
                    n: self.params[f"{self.prefix}{d}{layer}_{n}"].data()
                    for n in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")
                }
                proj = ember.matmul(x, ember.transpose(w["i2h_weight"])) + w["i2h_bias"]  # (T, N, G*H)
                h = states[0][idx]
                c = states[1][idx] if self._mode == "lstm" else None
                steps = range(t_len - 1, -1, -1) if d == "r" else range(t_len)
                seq = [None] * t_len
                for t in steps:
                    h, c = _step(self._mode, proj[t], h, c, w["h2h_weight"], w["h2h_bias"])
                    seq[t] = h
                outs.append(ember.stack(seq, axis=0))
                h_out.append(h)
                c_out.append(c)
            x = outs[0] if self._dirs == 1 else ember.concatenate(outs, axis=-1)
            if self._dropout and layer < self._layers - 1 and autograd.is_training():
                x = ember.dropout(x, self._dropout, training=True)
        out = _nd(x if self._layout == "TNC" else ember.swapaxes(x, 0, 1))
        if not given:
            return out
        new_states = [_nd(ember.stack(h_out, axis=0))]
        if self._mode == "lstm":
            new_states.append(_nd(ember.stack(c_out, axis=0)))
        return out, new_states


class RNN(_RNNLayer):
    """Elman RNN, ``activation`` 'relu' or 'tanh'."""

    def __init__(
        self,
        hidden_size,
        num_layers=1,
        activation="relu",
        layout="TNC",
        dropout=0,
        bidirectional=False,
        input_size=0,
        **kwargs,
    ):
        super().__init__(
            hidden_size, num_layers, layout, dropout, bidirectional, input_size, "rnn_" + activation, **kwargs
        )


class LSTM(_RNNLayer):
    """Long short-term memory; states [h, c]."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0, **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size, "lstm", **kwargs)


class GRU(_RNNLayer):
    """Gated recurrent unit (MXNet's / cuDNN's form: the reset gate applies after the recurrent matmul)."""

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False, input_size=0, **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size, "gru", **kwargs)


def _mask_to_valid_length(outputs, history, valid_length):
    """Per-step ``outputs`` zeroed past each sequence's length, and each state at its last valid step."""
    lengths = np.asarray(valid_length.numpy() if isinstance(valid_length, ember.Tensor) else valid_length)
    lengths = lengths.astype(np.int64).reshape(-1)
    steps = len(outputs)
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"unroll: valid_length must lie in [1, {steps}], got {lengths.tolist()}")
    masked = [_nd(ember.where((t < lengths)[:, None], out, 0.0)) for t, out in enumerate(outputs)]
    last = []
    for j in range(len(history[0])):
        stacked = ember.stack([states[j] for states in history], axis=0)  # (T, N, H)
        index = np.broadcast_to((lengths - 1)[None, :, None], (1,) + tuple(stacked.shape[1:]))
        last.append(_nd(ember.squeeze(ember.take_along_axis(stacked, index, axis=0), 0)))
    return masked, last


class _CellBase(HybridBlock):
    """What every recurrent cell shares: ``cell(x (N, C), states) -> (output, new_states)``, ``begin_state`` and
    ``unroll`` over a sequence. ``_num_states()`` says how many arrays its state list holds."""

    def _num_states(self) -> int:
        raise NotImplementedError

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        """Run ``length`` steps over ``inputs`` (NTC or TNC); outputs stacked when ``merge_outputs``.

        ``valid_length`` (N,): as MXNet, each sequence's outputs past its length are zeros and its final states
        are those after its last valid step.
        """
        self.reset()
        axis = layout.find("T")
        steps = [ember.squeeze(s, axis) for s in ember.split(inputs, length, axis=axis)]
        states = begin_state if begin_state is not None else self.begin_state(steps[0].shape[0])
        outputs, history = [], []
        for x in steps:
            out, states = self(x, states)
            outputs.append(out)
            history.append(states)
        if valid_length is not None:
            outputs, states = _mask_to_valid_length(outputs, history, valid_length)
        if merge_outputs:
            outputs = _nd(ember.stack(outputs, axis=axis))
        return outputs, states

    def reset(self):
        """Forget what the cells keep between steps (ZoneoutCell's previous output); ``unroll`` calls it."""
        for child in self._children.values():
            if isinstance(child, _CellBase):
                child.reset()


class _Cell(_CellBase):
    """One time step: ``cell(x (N, C), states) -> (output, new_states)``; ``unroll`` runs a sequence."""

    _mode = "rnn_tanh"

    def __init__(
        self,
        hidden_size,
        input_size=0,
        i2h_weight_initializer=None,
        h2h_weight_initializer=None,
        i2h_bias_initializer="zeros",
        h2h_bias_initializer="zeros",
        prefix=None,
        params=None,
    ):
        super().__init__(prefix=prefix, params=params)
        self._hidden = int(hidden_size)
        g = _GATES[self._mode] * self._hidden
        with self.name_scope():
            self.i2h_weight = self.params.get(
                "i2h_weight", shape=(g, input_size), init=i2h_weight_initializer, allow_deferred_init=True
            )
            self.h2h_weight = self.params.get("h2h_weight", shape=(g, self._hidden), init=h2h_weight_initializer)
            self.i2h_bias = self.params.get("i2h_bias", shape=(g,), init=i2h_bias_initializer)
            self.h2h_bias = self.params.get("h2h_bias", shape=(g,), init=h2h_bias_initializer)

    def _alias(self):
        return {"lstm": "lstm", "gru": "gru"}.get(self._mode, "rnn")

    def begin_state(self, batch_size=0, func=None, **kwargs):
        from .. import nd

        return [nd.zeros((batch_size, self._hidden)) for _ in range(2 if self._mode == "lstm" else 1)]

    def forward(self, x, states):
        if self.i2h_weight.shape[1] == 0:
            self.i2h_weight.shape = (self.i2h_weight.shape[0], x.shape[-1])
        self.i2h_weight._finish_deferred_init()
        proj = ember.matmul(x, ember.transpose(self.i2h_weight.data())) + self.i2h_bias.data()
        c = states[1] if self._mode == "lstm" else None
        h, c = _step(self._mode, proj, states[0], c, self.h2h_weight.data(), self.h2h_bias.data())
        return _nd(h), [_nd(h)] + ([_nd(c)] if c is not None else [])

    def _num_states(self):
        return 2 if self._mode == "lstm" else 1


class RNNCell(_Cell):
    """Elman cell, ``activation`` 'tanh' (default) or 'relu'."""

    def __init__(self, hidden_size, activation="tanh", **kwargs):
        self._mode = "rnn_" + activation
        super().__init__(hidden_size, **kwargs)


class LSTMCell(_Cell):
    """LSTM cell; states [h, c]."""

    _mode = "lstm"


class GRUCell(_Cell):
    """GRU cell (MXNet's form)."""

    _mode = "gru"


class SequentialRNNCell(_CellBase):
    """Cells stacked: each step runs them in order, the output of one the input of the next; the state list is
    the cells' state lists one after another."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, cell):
        self.register_child(cell)

    def __len__(self):
        return len(self._children)

    def __getitem__(self, i):
        return list(self._children.values())[i]

    def _num_states(self):
        return sum(cell._num_states() for cell in self._children.values())

    def begin_state(self, batch_size=0, func=None, **kwargs):
        return [s for cell in self._children.values() for s in cell.begin_state(batch_size, func, **kwargs)]

    def forward(self, x, states):
        new_states, at = [], 0
        for cell in self._children.values():
            n = cell._num_states()
            x, cell_states = cell(x, list(states[at : at + n]))
            new_states += list(cell_states)
            at += n
        return x, new_states


class DropoutCell(_CellBase):
    """Dropout on the input at each step in training mode (inside ``autograd.record()``); no states."""

    def __init__(self, rate, axes=(), prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._rate, self._axes = float(rate), tuple(axes)

    def _num_states(self):
        return 0

    def begin_state(self, batch_size=0, func=None, **kwargs):
        return []

    def forward(self, x, states):
        if self._rate and autograd.is_training():
            noise = tuple(1 if i in self._axes else s for i, s in enumerate(x.shape)) if self._axes else None
            x = _nd(ember.dropout(x, self._rate, training=True, noise_shape=noise))
        return x, list(states)


class ResidualCell(_CellBase):
    """``base_cell``'s output plus its input (the sizes must agree); the states are the base cell's."""

    def __init__(self, base_cell):
        super().__init__(prefix=base_cell.prefix + "residual_")
        self.base_cell = base_cell

    def _num_states(self):
        return self.base_cell._num_states()

    def begin_state(self, batch_size=0, func=None, **kwargs):
        return self.base_cell.begin_state(batch_size, func, **kwargs)

    def forward(self, x, states):
        out, states = self.base_cell(x, states)
        if out.shape != x.shape:
            raise ValueError(
                f"ResidualCell: the base cell's output {tuple(out.shape)} and input {tuple(x.shape)} differ"
            )
        return _nd(out + x), states


class BidirectionalCell(_CellBase):
    """``l_cell`` over the sequence and ``r_cell`` over it reversed; outputs concatenated on the last axis, states
    ``l_cell``'s then ``r_cell``'s. Only ``unroll`` runs it (a step needs the whole sequence)."""

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.l_cell, self.r_cell = l_cell, r_cell
        self._output_prefix = output_prefix

    def _num_states(self):
        return self.l_cell._num_states() + self.r_cell._num_states()

    def begin_state(self, batch_size=0, func=None, **kwargs):
        return self.l_cell.begin_state(batch_size, func, **kwargs) + self.r_cell.begin_state(batch_size, func, **kwargs)

    def forward(self, x, states):
        raise NotImplementedError("BidirectionalCell cannot be stepped: call unroll(length, inputs, ...)")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None, valid_length=None):
        if valid_length is not None:
            raise NotImplementedError("BidirectionalCell.unroll: valid_length is not supported")
        axis = layout.find("T")
        steps = [ember.squeeze(s, axis) for s in ember.split(inputs, length, axis=axis)]
        states = begin_state if begin_state is not None else self.begin_state(steps[0].shape[0])
        n_left = self.l_cell._num_states()
        left, l_states = self.l_cell.unroll(
            length, _nd(ember.stack(steps, axis=axis)), states[:n_left], layout, merge_outputs=False
        )
        right, r_states = self.r_cell.unroll(
            length, _nd(ember.stack(steps[::-1], axis=axis)), states[n_left:], layout, merge_outputs=False
        )
        outputs = [_nd(ember.concatenate([a, b], axis=-1)) for a, b in zip(left, right[::-1])]
        if merge_outputs:
            outputs = _nd(ember.stack(outputs, axis=axis))
        return outputs, list(l_states) + list(r_states)


class ZoneoutCell(_CellBase):
    """``base_cell`` whose outputs and states keep their previous values at random (rates ``zoneout_outputs`` and
    ``zoneout_states``) in training mode; the previous output starts as zeros at each ``unroll``."""

    def __init__(self, base_cell, zoneout_outputs=0.0, zoneout_states=0.0):
        if isinstance(base_cell, BidirectionalCell):
            raise TypeError("ZoneoutCell: a BidirectionalCell cannot be zoned out (it is not stepped)")
        super().__init__(prefix=base_cell.prefix + "zoneout_")
        self.base_cell = base_cell
        self.zoneout_outputs, self.zoneout_states = float(zoneout_outputs), float(zoneout_states)
        object.__setattr__(self, "_prev_output", None)

    def _num_states(self):
        return self.base_cell._num_states()

    def begin_state(self, batch_size=0, func=None, **kwargs):
        return self.base_cell.begin_state(batch_size, func, **kwargs)

    def reset(self):
        super().reset()
        object.__setattr__(self, "_prev_output", None)

    def forward(self, x, states):
        output, new_states = self.base_cell(x, states)
        training = autograd.is_training()

        def keep_new(rate, like):  # a dropout mask of ones: 0 where the old value is kept
            return ember.not_equal(ember.dropout(ember.ones_like(like), rate, training=True), 0)

        prev = self._prev_output if self._prev_output is not None else _nd(ember.zeros_like(output))
        if training and self.zoneout_outputs:
            output = _nd(ember.where(keep_new(self.zoneout_outputs, output), output, prev))
        if training and self.zoneout_states:
            new_states = [
                _nd(ember.where(keep_new(self.zoneout_states, new), new, old)) for new, old in zip(new_states, states)
            ]
        object.__setattr__(self, "_prev_output", output)
        return output, list(new_states)


# MXNet's other names for the same classes
RecurrentCell = HybridRecurrentCell = ModifierCell = _CellBase
HybridSequentialRNNCell = SequentialRNNCell
