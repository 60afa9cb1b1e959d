"""ResNet50V2, ResNet101V2, ResNet152V2 (He et al. 2016, pre-activation blocks), as in
``keras.applications.resnet_v2``: the ResNet skeleton of resnet.py with ``preact=True``."""

from . import imagenet_utils
from ._common import channel_axis
from .resnet import ResNet


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """Pre-activation bottleneck: BN+ReLU first, then 1x1 -> kxk (stride) -> 1x1 (4*filters), added
    to the shortcut (a 1x1 projection of the activated input, a 1x1 max pool when strided, or x)."""
    from .. import layers

    def bn(t, suffix):
        return layers.BatchNormalization(axis=channel_axis(), epsilon=1.001e-5, name=f"{name}_{suffix}")(t)

    preact = layers.Activation("relu", name=f"{name}_preact_relu")(bn(x, "preact_bn"))
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.Activation("relu", name=f"{name}_1_relu")(bn(x, "1_bn"))
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(bn(x, "2_bn"))
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V2 blocks: the first projects the shortcut, the last strides by ``stride1``."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _v2(depths, weights_name, include_top, weights, input_tensor, input_shape, pooling, classes, act, name):
    def stack_fn(x):
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
            x = stack_residual_blocks_v2(x, filters, blocks, stride1=1 if i == 3 else 2, name=f"conv{i + 2}")
        return x

    return ResNet(
        stack_fn, True, True, include_top, weights, input_tensor, input_shape, pooling, classes, act, name,
        weights_name,
    )  # fmt: skip


def ResNet50V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50v2",
):
    """ResNet50V2: stages of 3, 4, 6, 3 pre-activation blocks."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v2((3, 4, 6, 3), "resnet50v2", *args)


def ResNet101V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101v2",
):
    """ResNet101V2: stages of 3, 4, 23, 3 pre-activation blocks."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v2((3, 4, 23, 3), "resnet101v2", *args)


def ResNet152V2(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152v2",
):
    """ResNet152V2: stages of 3, 8, 36, 3 pre-activation blocks."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v2((3, 8, 36, 3), "resnet152v2", *args)


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
