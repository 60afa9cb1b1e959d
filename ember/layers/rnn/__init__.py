"""Recurrent layers, their cells and the sequence wrappers; this file only re-exports them."""

from .bidirectional import Bidirectional
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .dropout_rnn_cell import DropoutRNNCell
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells
from .time_distributed import TimeDistributed

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "DropoutRNNCell",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
]
