"""Keras layers, one family per subpackage; this file only re-exports them."""

from .activations import *  # noqa: F403
from .attention import *  # noqa: F403
from .convolutional import *  # noqa: F403
from .core import (
    Dense,
    EinsumDense,
    FlaxLayer,
    Identity,
    Input,
    InputLayer,
    JaxLayer,
    Lambda,
    TFSMLayer,
    TorchModuleWrapper,
    Wrapper,
)
from .embedding import *  # noqa: F403
from .input_spec import InputSpec
from .layer import Layer
from .merging import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .preprocessing import *  # noqa: F403
from .regularization import *  # noqa: F403
from .reshaping import *  # noqa: F403
from .rnn import *  # noqa: F403
from .serialization import deserialize, serialize
