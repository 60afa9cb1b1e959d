"""InceptionV3 (Szegedy et al. 2015) as in ``keras.applications.inception_v3``."""

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    channel_axis,
    check_weights_arg,
    imagenet_file,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)

WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Conv2D without bias -> BatchNorm without scale -> ReLU (named ``{name}_conv``, ``{name}_bn``, ``name``)."""
    from .. import layers

    x = layers.Conv2D(
        filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
        name=None if name is None else f"{name}_conv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=channel_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, specs):
    """conv2d_bn applied in turn for each ``(filters, rows, cols[, strides, padding])``."""
    for spec in specs:
        filters, rows, cols, *rest = spec
        strides = rest[0] if rest else (1, 1)
        padding = rest[1] if len(rest) > 1 else "same"
        x = conv2d_bn(x, filters, rows, cols, padding=padding, strides=strides)
    return x


def _avg_branch(x, filters):
    from .. import layers

    return conv2d_bn(layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x), filters, 1, 1)


def InceptionV3(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_v3",
):
    """InceptionV3: a five-convolution stem with two max pools, then the inception modules mixed0..mixed10
    (35x35, 17x17 with factorised 7x7, 8x8 with split 3x3 branches). Default input 299x299 (at least 75).
    Output ``(batch, classes)``, or the 2048-channel map / pooled features without the top."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 299, 75, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)
    axis = channel_axis()
    s2v = ((2, 2), "valid")

    x = _chain(img_input, [(32, 3, 3, *s2v), (32, 3, 3, (1, 1), "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = _chain(x, [(80, 1, 1, (1, 1), "valid"), (192, 3, 3, (1, 1), "valid")])
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    # 35x35: mixed0..2
    for i, pool_filters in enumerate((32, 64, 64)):
        branches = [
            _chain(x, [(64, 1, 1)]),
            _chain(x, [(48, 1, 1), (64, 5, 5)]),
            _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]),
            _avg_branch(x, pool_filters),
        ]
        x = layers.concatenate(branches, axis=axis, name=f"mixed{i}")
    # reduction to 17x17: mixed3
    branches = [
        _chain(x, [(384, 3, 3, *s2v)]),
        _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3, *s2v)]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ]
    x = layers.concatenate(branches, axis=axis, name="mixed3")
    # 17x17 with factorised 7x7: mixed4..7
    for i, c in enumerate((128, 160, 160, 192)):
        branches = [
            _chain(x, [(192, 1, 1)]),
            _chain(x, [(c, 1, 1), (c, 1, 7), (192, 7, 1)]),
            _chain(x, [(c, 1, 1), (c, 7, 1), (c, 1, 7), (c, 7, 1), (192, 1, 7)]),
            _avg_branch(x, 192),
        ]
        x = layers.concatenate(branches, axis=axis, name=f"mixed{4 + i}")
    # reduction to 8x8: mixed8
    branches = [
        _chain(x, [(192, 1, 1), (320, 3, 3, *s2v)]),
        _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, *s2v)]),
        layers.MaxPooling2D((3, 3), strides=(2, 2))(x),
    ]
    x = layers.concatenate(branches, axis=axis, name="mixed8")
    # 8x8: mixed9, mixed10
    for i in range(2):
        branch1x1 = _chain(x, [(320, 1, 1)])
        b3 = _chain(x, [(384, 1, 1)])
        b3 = layers.concatenate([_chain(b3, [(384, 1, 3)]), _chain(b3, [(384, 3, 1)])], axis=axis, name=f"mixed9_{i}")
        bd = _chain(x, [(448, 1, 1), (384, 3, 3)])
        bd = layers.concatenate([_chain(bd, [(384, 1, 3)]), _chain(bd, [(384, 3, 1)])], axis=axis)
        x = layers.concatenate([branch1x1, b3, bd, _avg_branch(x, 192)], axis=axis, name=f"mixed{9 + i}")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    file_name, file_hash = imagenet_file("inception_v3", include_top, WEIGHTS_HASHES)
    return build_model(inputs, x, name, weights, file_name, f"{WEIGHTS_ROOT}inception_v3/{file_name}", file_hash)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
