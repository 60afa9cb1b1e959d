"""ResNet50, ResNet101, ResNet152 (He et al. 2015, bottleneck blocks, post-activation) as in
``keras.applications.resnet``; ``resnet_v2.py`` reuses the stem and top for the V2 models."""

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

BASE_WEIGHTS_PATH = WEIGHTS_ROOT + "resnet/"
WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top)
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}


def _bn(x, name):
    from .. import layers

    return layers.BatchNormalization(axis=channel_axis(), epsilon=1.001e-5, name=name)(x)


def ResNet(  # noqa: N802
    stack_fn,
    preact,
    use_bias,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet",
    weights_name=None,
):
    """The ResNet skeleton: 7x7 stem, max pool, ``stack_fn``'s residual stages, then the top.

    ``preact`` (V2) moves the stem's BatchNorm/ReLU after the last stage; ``use_bias`` is the stem
    convolution's bias. Returns a functional ``Model`` of output ``(batch, classes)`` with the top, else
    ``(batch, h/32, w/32, 2048)`` or, pooled, ``(batch, 2048)``.
    """
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 224, 32, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = _bn(x, "conv1_bn")
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = _bn(x, "post_bn")
        x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling, "avg_pool", "max_pool")
    file_name = file_hash = None
    if weights_name in WEIGHTS_HASHES:
        file_name, file_hash = imagenet_file(weights_name, include_top, WEIGHTS_HASHES[weights_name])
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHTS_PATH + str(file_name), file_hash)


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """Bottleneck block 1x1 (stride) -> kxk -> 1x1 (4*filters), each with BatchNorm, added to the
    shortcut (a strided 1x1 projection, or x itself) and passed through ReLU."""
    from .. import layers

    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(x, f"{name}_1_bn"))
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(x, f"{name}_2_bn"))
    x = _bn(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x), f"{name}_3_bn")
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """``blocks`` V1 blocks; the first projects the shortcut and strides by ``stride1``."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _v1_stages(depths):
    def stack_fn(x):
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
            x = stack_residual_blocks_v1(x, filters, blocks, stride1=1 if i == 0 else 2, name=f"conv{i + 2}")
        return x

    return stack_fn


def _v1(depths, weights_name, include_top, weights, input_tensor, input_shape, pooling, classes, act, name):
    return ResNet(
        _v1_stages(depths), False, True, include_top, weights, input_tensor, input_shape, pooling, classes, act,
        name, weights_name,
    )  # fmt: skip


def ResNet50(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet50",
):
    """ResNet50: stages of 3, 4, 6, 3 bottleneck blocks (25.6M parameters with the top)."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v1((3, 4, 6, 3), "resnet50", *args)


def ResNet101(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet101",
):
    """ResNet101: stages of 3, 4, 23, 3 bottleneck blocks."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v1((3, 4, 23, 3), "resnet101", *args)


def ResNet152(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="resnet152",
):
    """ResNet152: stages of 3, 8, 36, 3 bottleneck blocks."""
    args = (include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name)
    return _v1((3, 8, 36, 3), "resnet152", *args)


def preprocess_input(x, data_format=None):
    """Caffe-style preprocessing (RGB->BGR, minus ImageNet's mean): ``imagenet_utils.preprocess_input``."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
