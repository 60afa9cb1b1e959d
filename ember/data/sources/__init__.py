"""Where a ``Dataset`` gets its elements: in-memory arrays, generators, CSV files, SQL queries."""

from .generator import GeneratorDataset
from .slices import TensorSlicesDataset

__all__ = ["TensorSlicesDataset", "GeneratorDataset", "CSVDataset", "SQLDataset"]


def __getattr__(name):  # pandas/SQLAlchemy are extras: import those sources only when asked for
    if name == "CSVDataset":
        from .csv import CSVDataset

        return CSVDataset
    if name == "SQLDataset":
        from .sql import SQLDataset

        return SQLDataset
    raise AttributeError(name)
