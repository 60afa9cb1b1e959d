"""MobileNetV2 (Sandler et al. 2018: inverted residuals, linear bottlenecks) as in
``keras.applications.mobilenet_v2``."""

import warnings

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    check_weights_arg,
    correct_pad,
    make_divisible,
    model_input,
    obtain_input_shape,
    pooled,
    square_size,
    validate_activation,
)

BASE_WEIGHT_PATH = WEIGHTS_ROOT + "mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of blocks 0..16
_BLOCKS = (
    [(16, 1, 1), (24, 2, 6), (24, 1, 6)]
    + [(32, 2, 6)] + [(32, 1, 6)] * 2
    + [(64, 2, 6)] + [(64, 1, 6)] * 3
    + [(96, 1, 6)] * 3
    + [(160, 2, 6)] + [(160, 1, 6)] * 2
    + [(320, 1, 6)]
)  # fmt: skip


def _channel_axis():
    return 1 if image_data_format() == "channels_first" else -1


def _bn(x, name):
    from .. import layers

    return layers.BatchNormalization(axis=_channel_axis(), epsilon=1e-3, momentum=0.999, name=name)(x)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """1x1 expansion (skipped for block 0) -> 3x3 depthwise (stride) -> linear 1x1 projection to
    ``filters * alpha`` channels (rounded to 8), with BatchNorm and ReLU6; the input is added back
    when the shapes allow."""
    from .. import layers

    in_channels = inputs.shape[_channel_axis()]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(_bn(x, f"{prefix}expand_BN"))
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise"
    )(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(_bn(x, f"{prefix}depthwise_BN"))
    x = layers.Conv2D(pointwise_filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_BN")
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def MobileNetV2(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """MobileNetV2 of width multiplier ``alpha``: a 3x3 stride-2 stem, 17 inverted residual blocks,
    a 1x1 convolution to 1280 channels (more when alpha > 1), then the top. Output ``(batch, classes)``,
    or ``(batch, h/32, w/32, 1280)`` / ``(batch, 1280)`` without the top. The default name is
    ``mobilenetv2_{alpha:.2f}_{rows}``."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    default_size = square_size(input_shape, input_tensor, _SIZES)
    input_shape = obtain_input_shape(input_shape, default_size, 32, image_data_format(), include_top, weights)
    rows = input_shape[1] if image_data_format() == "channels_first" else input_shape[0]
    cols = input_shape[2] if image_data_format() == "channels_first" else input_shape[1]
    if weights == "imagenet":
        if alpha not in (0.35, 0.50, 0.75, 1.0, 1.3, 1.4):
            raise ValueError(
                "With weights='imagenet', `alpha` must be one of 0.35, 0.50, 0.75, 1.0, 1.3 or 1.4; "
                f"received alpha={alpha}"
            )
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, 224]. "
                "Weights for input shape (224, 224) will be loaded as the default.",
                stacklevel=2,
            )
    img_input, inputs = model_input(input_tensor, input_shape)

    x = layers.Conv2D(make_divisible(32 * alpha, 8), 3, strides=(2, 2), padding="same", use_bias=False, name="Conv1")(
        img_input
    )
    x = layers.ReLU(6.0, name="Conv1_relu")(_bn(x, "bn_Conv1"))
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.ReLU(6.0, name="out_relu")(_bn(x, "Conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
    file_name = f"{stem}.h5" if include_top else f"{stem}_no_top.h5"
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHT_PATH + file_name)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
