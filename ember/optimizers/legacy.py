"""``keras.optimizers.legacy``: Keras 2's optimizer classes, which Keras 3 (and Ember) no longer provide.

Creating one raises ImportError, as in Keras 3, naming the current class to use.
"""

from __future__ import annotations


class _Legacy:
    def __init__(self, *args, **kwargs):
        raise ImportError(
            f"`keras.optimizers.legacy` is not supported in Keras 3 (nor in Ember): use "
            f"`ember.optimizers.{type(self).__name__}` (Keras 3's `keras.optimizers.{type(self).__name__}`) instead"
        )


class Adagrad(_Legacy):
    """Keras 2's legacy Adagrad: use ``ember.optimizers.Adagrad``."""


class Adam(_Legacy):
    """Keras 2's legacy Adam: use ``ember.optimizers.Adam``."""


class Ftrl(_Legacy):
    """Keras 2's legacy Ftrl: use ``ember.optimizers.Ftrl``."""


class Optimizer(_Legacy):
    """Keras 2's legacy Optimizer base: subclass ``ember.optimizers.Optimizer``."""


class RMSprop(_Legacy):
    """Keras 2's legacy RMSprop: use ``ember.optimizers.RMSprop``."""


class SGD(_Legacy):
    """Keras 2's legacy SGD: use ``ember.optimizers.SGD``."""
