"""Xception (Chollet 2017: depthwise separable convolutions with residual links) as in
``keras.applications.xception``."""

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    check_weights_arg,
    imagenet_file,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)

WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")


def _axis():
    return 1 if image_data_format() == "channels_first" else -1


def _sep(x, filters, name, act_before=True):
    """[ReLU] -> 3x3 SeparableConv2D -> BatchNorm, with Keras's names (``{name}_act``, ``{name}``, ``{name}_bn``)."""
    from .. import layers

    if act_before:
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=_axis(), name=f"{name}_bn")(x)


def _downsampling_block(x, filters, block, first_act=True):
    """Two separable convolutions (``filters`` = their widths), a strided 3x3 max pool, plus a strided 1x1
    projection of the input."""
    from .. import layers

    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=_axis())(residual)
    x = _sep(x, filters[0], f"block{block}_sepconv1", act_before=first_act)
    x = _sep(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="xception",
):
    """Xception: entry flow (two convolutions, three downsampling blocks), middle flow (8 residual
    blocks of three separable convolutions at 728 channels), exit flow (a downsampling block and two
    separable convolutions to 2048). Default input 299x299 (at least 71). Output ``(batch, classes)``,
    or the 2048-channel map / pooled features without the top."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 299, 71, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=_axis(), name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=_axis(), name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)
    x = _downsampling_block(x, (128, 128), 2, first_act=False)
    x = _downsampling_block(x, (256, 256), 3)
    x = _downsampling_block(x, (728, 728), 4)
    for i in range(5, 13):
        residual = x
        for j in (1, 2, 3):
            x = _sep(x, 728, f"block{i}_sepconv{j}")
        x = layers.add([x, residual])
    x = _downsampling_block(x, (728, 1024), 13)
    for j, filters in ((1, 1536), (2, 2048)):
        x = _sep(x, filters, f"block14_sepconv{j}", act_before=False)
        x = layers.Activation("relu", name=f"block14_sepconv{j}_act")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    file_name, file_hash = imagenet_file("xception", include_top, WEIGHTS_HASHES)
    return build_model(inputs, x, name, weights, file_name, f"{WEIGHTS_ROOT}xception/{file_name}", file_hash)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
