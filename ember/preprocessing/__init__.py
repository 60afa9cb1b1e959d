"""Keras's import paths for the array-level preprocessing: ``ember.preprocessing.sequence.pad_sequences``,
``ember.preprocessing.text.Tokenizer``. The code lives in ``ember.data.preprocessing``."""

from ..data.preprocessing import normalize, to_categorical
from ..utils.dataset_utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from . import image, sequence, text

__all__ = [
    "image",
    "image_dataset_from_directory",
    "normalize",
    "sequence",
    "text",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
]
