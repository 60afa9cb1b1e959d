"""InceptionResNetV2 (Szegedy et al. 2016) as in ``keras.applications.inception_resnet_v2``."""

from ..backend.keras_api import image_data_format
from ..layers.layer import Layer
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

BASE_WEIGHT_URL = WEIGHTS_ROOT + "inception_resnet_v2/"
WEIGHTS_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """Conv2D, then (without bias) BatchNorm without scale, then the activation (``name``, ``_bn``, ``_ac``)."""
    from .. import layers

    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=channel_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum. Shapes: [x, up] of one shape -> that shape."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale


# branches of each residual block type: lists of (filters, kernel)
_BLOCKS = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, [1, 7]), (192, [7, 1])]],
    "block8": [[(192, 1)], [(192, 1), (224, [1, 3]), (256, [3, 1])]],
}


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """Inception branches concatenated, a 1x1 convolution (with bias) back to x's width, added to x
    scaled by ``scale``, then the activation."""
    from .. import layers

    if block_type not in _BLOCKS:
        raise ValueError(f'Unknown block type {block_type!r}; expects "block35", "block17" or "block8"')
    branches = []
    for branch in _BLOCKS[block_type]:
        y = x
        for filters, kernel in branch:
            y = conv2d_bn(y, filters, kernel)
        branches.append(y)
    name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=channel_axis(), name=f"{name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[channel_axis()], 1, activation=None, use_bias=True, name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


def InceptionResNetV2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="inception_resnet_v2",
):
    """InceptionResNetV2: the Inception stem, mixed_5b, 10 block35 (scale 0.17), mixed_6a, 20 block17
    (0.1), mixed_7a, 10 block8 (0.2; the last unscaled and linear), a 1x1 convolution to 1536, then the
    top. Default input 299x299 (at least 75)."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 299, 75, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)
    axis = channel_axis()

    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)
    b0 = conv2d_bn(x, 96, 1)
    b1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=axis, name="mixed_5b")([b0, b1, b2, bp])
    for i in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=i)
    b0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=axis, name="mixed_6a")([b0, b1, bp])
    for i in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=i)
    b0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=axis, name="mixed_7a")([b0, b1, b2, bp])
    for i in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=i)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    file_name, file_hash = imagenet_file("inception_resnet_v2", include_top, WEIGHTS_HASHES)
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHT_URL + file_name, file_hash)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
