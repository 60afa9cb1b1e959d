"""What every application builder shares: argument checks, the input, the top, the weights.

Each family (resnet.py, vgg16.py, ...) builds its body with ``ember.layers`` and hands the
rest to these helpers, so the checks and messages are the same for all of them, as in Keras.
"""

import os
import warnings

from ..backend.keras_api import image_data_format

WEIGHTS_ROOT = "https://storage.googleapis.com/tensorflow/keras-applications/"


def check_weights_arg(weights, include_top, classes):
    """Refuse a ``weights`` that is neither None, "imagenet" nor an existing file, and a
    ``classes`` other than 1000 with ImageNet's top."""
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be None (random initialization), 'imagenet' (pre-training on "
            f"ImageNet) or the path to an existing weights file; received weights={weights!r}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            f"With weights='imagenet' and include_top=True, `classes` must be 1000; received classes={classes}"
        )


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """The model's input shape (without batch) from the user's ``input_shape``, as Keras decides it.

    With the top (``require_flatten``) and ImageNet weights the shape is fixed to the default size;
    otherwise a given shape is checked (3 dims, at least ``min_size`` on each side) and a missing one
    becomes ``(None, None, 3)`` (or the default size with the top).
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(
                f"This model usually expects 1 or 3 input channels. However, it was passed an input_shape "
                f"with {channels} input channels.",
                stacklevel=3,
            )
        side = (default_size, default_size)
        default_shape = (channels, *side) if channels_first else (*side, channels)
    else:
        default_shape = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(
                f"With include_top=True and weights='imagenet', `input_shape` must be {default_shape}; "
                f"received input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers; received input_shape={input_shape}")
        channels, spatial = (input_shape[0], input_shape[1:]) if channels_first else (input_shape[-1], input_shape[:2])
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"ImageNet weights need 3 input channels; received input_shape={input_shape}")
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; received input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(
            f"With include_top=True the `input_shape` must be static (no None); received input_shape={input_shape}"
        )
    return input_shape


def channel_axis():
    """Axis of the channels for BatchNormalization and Concatenate: 3 (channels_last) or 1."""
    return 1 if image_data_format() == "channels_first" else 3


def model_input(input_tensor, input_shape):
    """``(layer_input, model_inputs)``: a new Input of ``input_shape``, or the user's symbolic
    ``input_tensor`` (the model's inputs are then the Inputs it descends from)."""
    from .. import layers
    from ..layers.symbolic import SymbolicTensor
    from ..utils import get_source_inputs

    if isinstance(input_tensor, SymbolicTensor):
        return input_tensor, get_source_inputs(input_tensor)
    x = layers.Input(shape=input_shape)
    return x, x


def validate_activation(classifier_activation, weights):
    """Only softmax or no activation may sit on a pretrained top (as Keras)."""
    if weights is None:
        return
    from .. import activations

    act = activations.get(classifier_activation)
    if act not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(
            "Only None and 'softmax' are allowed for `classifier_activation` with pretrained weights and "
            f"include_top=True; received classifier_activation={classifier_activation!r}"
        )


def pooled(x, pooling, avg_name=None, max_name=None):
    """Global average or max pooling of a headless model (``pooling`` "avg" / "max"), or x as is."""
    from .. import layers

    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def build_model(inputs, outputs, name, weights, file_name=None, origin=None, file_hash=None):
    """The functional model, with its weights: none, a local file, or ImageNet's.

    ImageNet weights are not downloaded by Ember: when ``file_name`` is already in the cache
    (``$EMBER_HOME/models``) it is loaded, otherwise a FileNotFoundError names the file and where Keras
    gets it, and says to load a local copy with ``model.load_weights(path)`` (or to pass the path as
    ``weights=``).
    """
    from ..models import Model

    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        if file_name is None:
            raise ValueError(f"Keras publishes no ImageNet weights for {name!r}; use weights=None or a file path")
        from ..data.datasets._files import cache_dir

        path = os.path.join(cache_dir("models"), file_name)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"Ember does not download pretrained weights: {name} with weights='imagenet' needs {file_name} "
                f"(Keras downloads it from {origin}" + (f", md5 {file_hash}" if file_hash else "") + "). If you "
                f"have that file, build the model with weights=None and call model.load_weights(path), pass "
                f"weights=path, or put it at {path}."
            )
        _load(model, path)
    elif weights is not None:
        _load(model, os.fspath(weights))
    return model


def _load(model, path):
    """Load a weights file; a Keras 2 ``.h5`` (the ImageNet files) is matched by layer name, since
    Keras lists a branched graph's layers in another order than Ember and the names are Keras's."""
    legacy = path.endswith(".h5") and not path.endswith(".weights.h5")
    model.load_weights(path, by_name=True) if legacy else model.load_weights(path)


def imagenet_file(stem, include_top, hashes, suffix="_weights_tf_dim_ordering_tf_kernels"):
    """``(file_name, file_hash)`` of Keras's ImageNet weights file named ``stem`` with or without top."""
    top, notop = hashes
    if include_top:
        return f"{stem}{suffix}.h5", top
    return f"{stem}{suffix}_notop.h5", notop


def correct_pad(inputs, kernel_size):
    """ZeroPadding2D padding ``((top, bottom), (left, right))`` that makes a stride-2 ``valid``
    convolution of ``kernel_size`` centre its windows like TF's ``same`` (one less on the top/left of
    an even side)."""
    first = 2 if image_data_format() == "channels_first" else 1
    size = tuple(inputs.shape[first : first + 2])
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def make_divisible(v, divisor=8, min_value=None):
    """``v`` rounded to a multiple of ``divisor`` (at least ``min_value``), never more than 10% below ``v``:
    the channel rounding of the MobileNets and EfficientNets."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def square_size(input_shape, input_tensor, allowed, fallback=224):
    """The side of a square input in ``allowed`` (read off ``input_shape`` or a symbolic
    ``input_tensor``), else ``fallback``: the MobileNets' default size."""
    if input_shape is None and input_tensor is not None and hasattr(input_tensor, "shape"):
        shape = tuple(input_tensor.shape)[1:]
    elif input_shape is not None:
        shape = tuple(input_shape)
    else:
        return fallback
    rows, cols = (shape[1], shape[2]) if image_data_format() == "channels_first" else (shape[0], shape[1])
    return rows if rows == cols and rows in allowed else fallback
