"""``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D``: LSTMs whose gates are convolutions (Shi et al., 2015).

The cell holds Keras's weights: kernel (*kernel_size, channels, 4 * filters),
recurrent_kernel (*kernel_size, filters, 4 * filters), bias (4 * filters,),
gates in Keras's order (input, forget, cell, output). The input convolution
uses the layer's strides, padding and dilation; the recurrent one is a
stride-1 "same" convolution of the hidden state.
"""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...engine.creation import ones, zeros
from ...engine.grad_mode import no_grad
from ...ops import conv1d, conv2d, dropout, split, stack, where
from ..convolutional.arguments import conv_output_length, standardize_padding, standardize_tuple
from ..convolutional.conv3d import conv3d
from ..layer import Layer
from ..regularization._seed import layer_generator

_CONVS = {1: conv1d, 2: conv2d, 3: conv3d}


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM over (batch, *spatial, channels) inputs."""

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        super().__init__(**kwargs)
        name = f"ConvLSTM{rank}D"
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{name}: data_format={data_format!r} is not supported; use channels_last")
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, rank)
        self.strides = standardize_tuple(name, "strides", strides, rank)
        self.padding = standardize_padding(name, padding)
        self.data_format = "channels_last"
        self.dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, rank)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self._generator = layer_generator(name, seed)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, 4 * self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, 4 * self.filters),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
        )
        self.bias = None
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = self.bias_initializer
                f = self.filters

                def init(shape, dtype=None):
                    import numpy

                    parts = [base((f,), dtype=dtype), numpy.ones((f,), dtype), base((2 * f,), dtype=dtype)]
                    return numpy.concatenate([p.numpy() if hasattr(p, "numpy") else numpy.asarray(p) for p in parts])

            self.bias = self.add_weight(
                shape=(4 * self.filters,),
                initializer=init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        self.built = True

    def output_spatial(self, spatial):
        return tuple(
            conv_output_length(n, k, s, self.padding, d)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )

    def step(self, x, h, c, x_mask=None, h_mask=None):
        conv = _CONVS[self.rank]
        if x_mask is not None:
            x = x * x_mask
        if h_mask is not None:
            h = h * h_mask
        z = conv(x, self.kernel, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate)
        if self.bias is not None:
            z = z + self.bias
        ones_ = (1,) * self.rank
        z = z + conv(h, self.recurrent_kernel, strides=ones_, padding="same", dilation_rate=ones_)
        zi, zf, zc, zo = split(z, 4, axis=-1)
        i, f, o = self.recurrent_activation(zi), self.recurrent_activation(zf), self.recurrent_activation(zo)
        c = f * c + i * self.activation(zc)
        return o * self.activation(c), c

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
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


class _ConvLSTM(Layer):
    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
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
        zero_output_for_mask=False,
        **kwargs,
    ):
        if stateful:
            raise NotImplementedError(f"{type(self).__name__}: stateful=True is not supported by Ember yet")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.cell = ConvLSTMCell(
            self.rank,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True

    def __getattr__(self, name):  # filters, kernel_size, ... read from the cell, as Keras's properties
        cell = self.__dict__.get("cell")
        if cell is not None and name in ConvLSTMCell.get_config(cell):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def build(self, sequences_shape):
        sequences_shape = tuple(sequences_shape)
        if len(sequences_shape) != self.rank + 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of rank {self.rank + 3} "
                f"(batch, time, *spatial, channels), got shape {sequences_shape}"
            )
        self.cell.build((sequences_shape[0], *sequences_shape[2:]))
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=False):
        cell = self.cell
        batch, steps = sequences.shape[0], sequences.shape[1]
        spatial = cell.output_spatial(sequences.shape[2:-1])
        if initial_state is None:
            h = zeros((batch, *spatial, cell.filters), dtype=sequences.dtype)
            c = zeros((batch, *spatial, cell.filters), dtype=sequences.dtype)
        else:
            h, c = initial_state
        x_mask = h_mask = None
        if training and 0 < cell.dropout < 1:
            with no_grad():
                x_mask = dropout(
                    ones(tuple(sequences[:, 0].shape), dtype=sequences.dtype), cell.dropout, seed=cell._generator
                )
        if training and 0 < cell.recurrent_dropout < 1:
            with no_grad():
                h_mask = dropout(ones(tuple(h.shape), dtype=h.dtype), cell.recurrent_dropout, seed=cell._generator)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        for t in order:
            new_h, new_c = cell.step(sequences[:, t], h, c, x_mask, h_mask)
            if mask is not None:
                keep = mask[:, t].reshape((batch,) + (1,) * (new_h.ndim - 1))
                fallback = zeros(tuple(new_h.shape), dtype=new_h.dtype) if self.zero_output_for_mask else h
                out = where(keep, new_h, fallback)
                new_h, new_c = where(keep, new_h, h), where(keep, new_c, c)
            else:
                out = new_h
            outputs.append(out)
            h, c = new_h, new_c
        output = stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if self.return_state:
            return output, h, c
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        state = (sequences_shape[0], *self.cell.output_spatial(sequences_shape[2:-1]), self.cell.filters)
        out = (state[0], sequences_shape[1], *state[1:]) if self.return_sequences else state
        return (out, state, state) if self.return_state else out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        return [out, None, None] if self.return_state else out

    def get_config(self) -> dict:
        cell = ConvLSTMCell.get_config(self.cell)
        for key in ("name", "trainable", "dtype"):
            cell.pop(key, None)
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            **cell,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        }


class ConvLSTM1D(_ConvLSTM):
    """1-D convolutional LSTM, as ``keras.layers.ConvLSTM1D``: inputs (batch, time, steps, channels)."""

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2-D convolutional LSTM, as ``keras.layers.ConvLSTM2D``: inputs (batch, time, rows, cols, channels).

    Shapes: -> (batch, new_rows, new_cols, filters), or (batch, time, new_rows, new_cols, filters) with
    ``return_sequences``; with ``return_state`` also the final h and c. Arguments as Keras's.
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3-D convolutional LSTM, as ``keras.layers.ConvLSTM3D``: inputs (batch, time, d, h, w, channels)."""

    rank = 3
