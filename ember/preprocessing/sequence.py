"""``ember.preprocessing.sequence``: Keras's path to ``pad_sequences``."""

from ..data.preprocessing.sequence import pad_sequences

__all__ = ["pad_sequences"]
