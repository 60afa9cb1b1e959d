"""MobileNet (Howard et al. 2017: depthwise separable convolutions) as in ``keras.applications.mobilenet``."""

import warnings

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    check_weights_arg,
    model_input,
    obtain_input_shape,
    pooled,
    square_size,
    validate_activation,
)

BASE_WEIGHT_PATH = WEIGHTS_ROOT + "mobilenet/"
_SIZES = (128, 160, 192, 224)
# (pointwise filters, stride) of blocks 1..13
_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def _axis():
    return 1 if image_data_format() == "channels_first" else -1


def _depthwise_conv_block(inputs, pointwise_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1):
    """3x3 depthwise (stride; bottom/right zero padding when strided) and 1x1 pointwise convolutions,
    each followed by BatchNorm and ReLU6."""
    from .. import layers

    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3), padding="same" if strides == (1, 1) else "valid", depth_multiplier=depth_multiplier,
        strides=strides, use_bias=False, name=f"conv_dw_{block_id}",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=_axis(), name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        int(pointwise_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
        name=f"conv_pw_{block_id}",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=_axis(), name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """MobileNet of width ``alpha``: a 3x3 stride-2 convolution, 13 depthwise separable blocks, then a
    top of global pooling, dropout and a 1x1 convolution to ``classes``. Output ``(batch, classes)``, or
    ``(batch, h/32, w/32, 1024*alpha)`` / ``(batch, 1024*alpha)`` without the top. The default name is
    ``mobilenet_{alpha:.2f}_{rows}``."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    default_size = square_size(input_shape, None, _SIZES)
    input_shape = obtain_input_shape(input_shape, default_size, 32, image_data_format(), include_top, weights)
    first = 1 if image_data_format() == "channels_first" else 0
    rows, cols = input_shape[first], input_shape[first + 1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"With weights='imagenet', depth_multiplier must be 1; received {depth_multiplier}")
        if alpha not in (0.25, 0.50, 0.75, 1.0):
            raise ValueError(f"With weights='imagenet', alpha must be 0.25, 0.50, 0.75 or 1.0; received {alpha}")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
                "Weights for input shape (224, 224) will be loaded as the default.",
                stacklevel=2,
            )
    img_input, inputs = model_input(input_tensor, input_shape)

    x = layers.Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2), name="conv1")(img_input)
    x = layers.BatchNormalization(axis=_axis(), name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, (stride, stride), block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(alpha, "2_5")
    file_name = f"mobilenet_{alpha_text}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHT_PATH + file_name)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
