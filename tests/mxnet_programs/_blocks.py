"""Single-block cases shared by the fixture generator (real MXNet) and tests/test_mxnet_blocks.py (Ember):
name -> (builder taking ``gluon.nn``, input shape, training mode, integer input range or None)."""

import sys


def _contrib_nn(nn):
    """``gluon.contrib.nn`` of the framework whose ``gluon.nn`` is ``nn``."""
    return sys.modules[nn.__name__.rsplit(".", 1)[0]].contrib.nn


def _concurrent(nn):
    cnn = _contrib_nn(nn)
    block = cnn.HybridConcurrent(axis=1)
    with block.name_scope():
        block.add(nn.Dense(3), cnn.Identity(), nn.Dense(2, activation="relu"))
    return block


CASES = {
    "dense": (lambda nn: nn.Dense(4, activation="tanh"), (3, 5), False, None),
    "dense_flatten": (lambda nn: nn.Dense(3), (2, 2, 3), False, None),
    "dense_noflatten": (lambda nn: nn.Dense(3, flatten=False, use_bias=False), (2, 4, 5), False, None),
    "conv1d": (lambda nn: nn.Conv1D(3, 3, strides=2, padding=1, dilation=1), (2, 2, 9), False, None),
    "conv2d": (
        lambda nn: nn.Conv2D(4, (3, 2), strides=(2, 1), padding=(1, 0), activation="relu"),
        (2, 3, 7, 6),
        False,
        None,
    ),
    "conv2d_dilated": (lambda nn: nn.Conv2D(2, 3, dilation=2, use_bias=False), (1, 2, 8, 8), False, None),
    "maxpool2d": (lambda nn: nn.MaxPool2D(pool_size=3, strides=2, padding=1), (2, 2, 7, 7), False, None),
    "avgpool2d": (lambda nn: nn.AvgPool2D(pool_size=2, strides=2, padding=1), (1, 3, 5, 5), False, None),
    "globalavg": (lambda nn: nn.GlobalAvgPool2D(), (2, 3, 4, 4), False, None),
    "batchnorm_train": (lambda nn: nn.BatchNorm(), (4, 3, 2, 2), True, None),
    "batchnorm_infer": (lambda nn: nn.BatchNorm(epsilon=1e-3), (4, 3, 2, 2), False, None),
    "batchnorm_dense": (lambda nn: nn.BatchNorm(axis=-1), (5, 3), True, None),
    "embedding": (lambda nn: nn.Embedding(7, 3), (2, 4), False, 7),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 2), False, None),
    "act_sigmoid": (lambda nn: nn.Activation("sigmoid"), (2, 3), False, None),
    "act_softrelu": (lambda nn: nn.Activation("softrelu"), (2, 3), False, None),
    "act_softsign": (lambda nn: nn.Activation("softsign"), (2, 3), False, None),
    "leakyrelu": (lambda nn: nn.LeakyReLU(0.1), (2, 3), False, None),
    "dropout_infer": (lambda nn: nn.Dropout(0.5), (2, 3), False, None),
    # grouped convolutions (MXNet's num_group) and ceil_mode pooling (pooling_convention 'full')
    "conv2d_groups": (lambda nn: nn.Conv2D(4, 3, padding=1, groups=2), (2, 4, 5, 5), False, None),
    "conv2d_depthwise": (lambda nn: nn.Conv2D(6, (2, 3), strides=2, groups=3), (1, 3, 7, 8), False, None),
    "conv1d_groups": (lambda nn: nn.Conv1D(6, 3, groups=3, activation="relu"), (2, 3, 7), False, None),
    "maxpool2d_ceil": (lambda nn: nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True), (2, 2, 8, 8), False, None),
    "maxpool1d_ceil": (lambda nn: nn.MaxPool1D(pool_size=2, ceil_mode=True), (2, 3, 7), False, None),
    "avgpool2d_ceil": (lambda nn: nn.AvgPool2D(pool_size=2, strides=2, ceil_mode=True), (1, 2, 5, 5), False, None),
    "avgpool2d_ceil_pad": (
        lambda nn: nn.AvgPool2D(pool_size=3, strides=2, padding=1, ceil_mode=True),
        (1, 2, 6, 6),
        False,
        None,
    ),
    "avgpool2d_nopadcount": (
        lambda nn: nn.AvgPool2D(pool_size=3, strides=2, padding=1, count_include_pad=False),
        (1, 2, 5, 5),
        False,
        None,
    ),
    # transposed convolutions, normalizations, activations
    "conv2d_transpose": (
        lambda nn: nn.Conv2DTranspose(3, 3, strides=2, padding=1, output_padding=1, activation="relu"),
        (2, 2, 4, 5),
        False,
        None,
    ),
    "conv2d_transpose_dilated": (
        lambda nn: nn.Conv2DTranspose(2, (2, 3), strides=(1, 2), dilation=2, padding=(0, 2), use_bias=False),
        (1, 3, 4, 4),
        False,
        None,
    ),
    "conv1d_transpose": (lambda nn: nn.Conv1DTranspose(2, 4, strides=3, padding=1), (2, 3, 5), False, None),
    "layernorm": (lambda nn: nn.LayerNorm(), (3, 4, 5), False, None),
    "layernorm_axis1": (lambda nn: nn.LayerNorm(axis=1, epsilon=1e-3), (3, 4, 2), False, None),
    "instancenorm": (lambda nn: nn.InstanceNorm(scale=True), (2, 3, 4, 4), False, None),
    "globalavg1d": (lambda nn: nn.GlobalAvgPool1D(), (2, 3, 5), False, None),
    "globalmax1d": (lambda nn: nn.GlobalMaxPool1D(), (2, 3, 5), False, None),
    "prelu": (lambda nn: nn.PReLU(), (2, 3, 4), False, None),
    "prelu_channels": (lambda nn: nn.PReLU(in_channels=3), (2, 3, 4), False, None),
    "elu": (lambda nn: nn.ELU(alpha=0.7), (2, 5), False, None),
    "selu": (lambda nn: nn.SELU(), (2, 5), False, None),
    "gelu": (lambda nn: nn.GELU(), (2, 5), False, None),
    "swish": (lambda nn: nn.Swish(beta=1.5), (2, 5), False, None),
    "groupnorm": (lambda nn: nn.GroupNorm(num_groups=2), (2, 4, 3, 3), False, None),
    "reflectionpad2d": (lambda nn: nn.ReflectionPad2D(1), (1, 2, 3, 4), False, None),
    "batchnormrelu_train": (lambda nn: nn.BatchNormReLU(), (4, 3, 2, 2), True, None),
    "concurrent": (_concurrent, (2, 4), False, None),
    "pixelshuffle2d": (lambda nn: _contrib_nn(nn).PixelShuffle2D((2, 3)), (1, 12, 2, 3), False, None),
    "pixelshuffle1d": (lambda nn: _contrib_nn(nn).PixelShuffle1D(2), (2, 4, 3), False, None),
    "avgpool1d_ceil_nopadcount": (
        lambda nn: nn.AvgPool1D(pool_size=3, strides=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 2, 8),
        False,
        None,
    ),
}

# gluon.rnn layers: builders take ``gluon.rnn``; input (T, N, C) unless the layout says otherwise
RNN_CASES = {
    "rnn_tanh": (lambda rnn: rnn.RNN(3, activation="tanh"), (4, 2, 3), False, None),
    "rnn_relu_2layers": (lambda rnn: rnn.RNN(3, num_layers=2), (4, 2, 3), False, None),
    "lstm": (lambda rnn: rnn.LSTM(3), (5, 2, 4), False, None),
    "lstm_bidirectional": (lambda rnn: rnn.LSTM(2, bidirectional=True), (4, 3, 2), False, None),
    "gru": (lambda rnn: rnn.GRU(3), (5, 2, 4), False, None),
    "gru_ntc_2layers": (lambda rnn: rnn.GRU(2, num_layers=2, layout="NTC"), (2, 4, 3), False, None),
    # dropout between layers: inactive in inference, so MXNet's numbers are deterministic
    "lstm_2layers_dropout": (lambda rnn: rnn.LSTM(3, num_layers=2, dropout=0.4), (4, 2, 3), False, None),
}


def _stacked_cells(rnn):
    """An LSTM cell, a dropout cell (inactive: rate 0) and a residual LSTM cell, stacked."""
    cell = rnn.SequentialRNNCell()
    with cell.name_scope():
        cell.add(rnn.LSTMCell(4))
        cell.add(rnn.DropoutCell(0.0))
        cell.add(rnn.ResidualCell(rnn.LSTMCell(4)))
    return cell


# gluon.rnn cells unrolled: builders take ``gluon.rnn``; input (N, T, C)
CELL_CASES = {
    "rnncell": (lambda rnn: rnn.RNNCell(3), (2, 4, 3)),
    "lstmcell": (lambda rnn: rnn.LSTMCell(3), (2, 4, 3)),
    "grucell": (lambda rnn: rnn.GRUCell(2), (3, 5, 2)),
    "sequential_cells": (_stacked_cells, (2, 3, 3)),
    "residual_grucell": (lambda rnn: rnn.ResidualCell(rnn.GRUCell(3)), (2, 4, 3)),
    "bidirectional_cell": (lambda rnn: rnn.BidirectionalCell(rnn.LSTMCell(3), rnn.GRUCell(2)), (2, 4, 3)),
    # unrolled with valid_length (VALID_LENGTHS): outputs past each length are zeros, states from its last step
    "lstmcell_valid": (lambda rnn: rnn.LSTMCell(3), (3, 4, 2)),
    "stacked_valid": (_stacked_cells, (3, 4, 3)),
}
VALID_LENGTHS = {"lstmcell_valid": [2.0, 4.0, 1.0], "stacked_valid": [3.0, 1.0, 4.0]}
