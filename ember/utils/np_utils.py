"""Keras 2's ``keras.utils.np_utils`` path (``from keras.utils import np_utils``; ``np_utils.to_categorical``)."""

from ..data.preprocessing.categorical import normalize, to_categorical

__all__ = ["to_categorical", "normalize"]
