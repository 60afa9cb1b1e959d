"""Differentiable primitives, one family per module; this file only re-exports them."""

# Keras's sub-namespaces keras.ops.image, keras.ops.nn, keras.ops.numpy (keras.ops.linalg is linalg below)
from . import image, nn, numpy  # noqa: F401
from .activation import *  # noqa: F403
from .arithmetic import *  # noqa: F403
from .casting import *  # noqa: F403
from .comparison import *  # noqa: F403
from .convolution import *  # noqa: F403
from .dropout import *  # noqa: F403
from .einsum import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .embedding import *  # noqa: F403
from .indexing import *  # noqa: F403
from .keras_activations import *  # noqa: F403
from .keras_core import *  # noqa: F403
from .keras_names import *  # noqa: F403
from .keras_nn import *  # noqa: F403
from .keras_numpy import *  # noqa: F403
from .keras_signal import *  # noqa: F403
from .linalg import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .recurrent import *  # noqa: F403
from .reduction import *  # noqa: F403
from .shaping import *  # noqa: F403
from .special import *  # noqa: F403

# isort: split
# last, so Keras's argument names (clip(x, x_min, x_max), tile(x, repeats), ...) win over the engine's spellings
from .keras_signatures import *  # noqa: F403

# isort: split
# then every keras.ops name is wrapped to build a layer when given a symbolic tensor (functional models)
from .keras_symbolic import *  # noqa: F403
