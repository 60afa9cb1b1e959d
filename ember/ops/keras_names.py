"""Keras 3 names (keras.ops) for the operations Ember has under NumPy names: being written."""

__all__ = []
