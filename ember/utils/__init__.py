"""``ember.utils``: Keras's ``keras.utils`` names (array helpers, seeding, plotting, the custom-object registry).

Everything here is re-exported from the module that defines it. ``__all__`` lists the names
Keras's ``keras.utils`` has; Ember's own pictures (``plot_history``, ``plot_kfold``,
``plot_confusion_matrix``, ``plot_roc``, ``plot_graph``, ``graph_to_dot``) are importable from here
too but kept out of it.
"""

from ..backend.keras_api import clear_session
from ..callbacks.progbar import Progbar
from ..config import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from ..data.datasets._files import get_file
from ..data.preprocessing.categorical import normalize, to_categorical
from ..data.preprocessing.sequence import pad_sequences
from ..data.unpack import unpack_x_y_sample_weight
from . import np_utils
from .dataset_utils import (
    PyDataset,
    Sequence,
    audio_dataset_from_directory,
    image_dataset_from_directory,
    split_dataset,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
from .graph_plot import graph_to_dot, plot_graph
from .image_utils import array_to_img, img_to_array, load_img, save_img
from .keras_helpers import (
    Config,
    get_source_inputs,
    is_keras_tensor,
    legacy,
    pack_x_y_sample_weight,
    standardize_dtype,
)
from .model_visualization import model_to_dot, plot_model
from .object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .plots import plot_confusion_matrix, plot_history, plot_kfold, plot_roc
from .random_seed import get_random_seed, set_random_seed
from .serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "Config",
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "audio_dataset_from_directory",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_file",
    "get_random_seed",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "image_dataset_from_directory",
    "img_to_array",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "legacy",
    "load_img",
    "model_to_dot",
    "normalize",
    "np_utils",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "standardize_dtype",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
