"""``ember.preprocessing.text``: Keras 2's path to ``Tokenizer`` and ``text_to_word_sequence``."""

from ..data.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = ["Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]
