"""Array-level preprocessing: sequences, text, categorical labels (the preprocessing layers live elsewhere)."""

from .categorical import normalize, to_categorical
from .sequence import pad_sequences
from .text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["pad_sequences", "Tokenizer", "text_to_word_sequence", "tokenizer_from_json", "to_categorical", "normalize"]
