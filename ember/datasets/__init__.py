"""``ember.datasets``: Keras's path to the dataset loaders (they live in ``ember.data.datasets``)."""

from ..data.datasets import *  # noqa: F403
from ..data.datasets import __all__
