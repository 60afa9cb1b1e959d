"""The four benchmark workloads of issue 6, by name."""

from benchmarks.workloads import imdb_lstm, mnist_cnn, mnist_mlp, tiny_mlp

WORKLOADS = {
    "mnist_mlp": mnist_mlp,
    "mnist_cnn": mnist_cnn,
    "imdb_lstm": imdb_lstm,
    "tiny_mlp": tiny_mlp,
}

__all__ = ["WORKLOADS"]
