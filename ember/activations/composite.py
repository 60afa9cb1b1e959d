"""The composite Keras 3 activations; they live in ``ember.ops.keras_activations`` (also ``keras.ops.nn``)."""

from ..ops.keras_activations import *  # noqa: F403
from ..ops.keras_activations import __all__  # noqa: F401
