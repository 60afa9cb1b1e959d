"""Keras's import paths for the array-level preprocessing: ``ember.preprocessing.sequence.pad_sequences``,
``ember.preprocessing.text.Tokenizer``. The code lives in ``ember.data.preprocessing``."""

from ..data.preprocessing import normalize, to_categorical
from . import sequence, text

__all__ = ["sequence", "text", "to_categorical", "normalize"]
