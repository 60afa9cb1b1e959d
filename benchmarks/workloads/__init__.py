"""The benchmark workloads by name: the four of issue 6, and W3 with the seed's dropout and W5 dcgan (issue 18)."""

from benchmarks.workloads import dcgan, imdb_lstm, imdb_lstm_dropout, mnist_cnn, mnist_mlp, tiny_mlp

WORKLOADS = {
    "mnist_mlp": mnist_mlp,
    "mnist_cnn": mnist_cnn,
    "imdb_lstm": imdb_lstm,
    "imdb_lstm_dropout": imdb_lstm_dropout,
    "tiny_mlp": tiny_mlp,
    "dcgan": dcgan,
}

__all__ = ["WORKLOADS"]
