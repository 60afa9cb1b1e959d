"""EfficientNetV2 B0-B3, S, M, L (Tan & Le 2021: fused and plain MBConv blocks) as in
``keras.applications.efficientnet_v2``. The models preprocess their input themselves (0..255 in)."""

import math

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    channel_axis,
    check_weights_arg,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)
from .efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER

BASE_WEIGHTS_PATH = WEIGHTS_ROOT + "efficientnet_v2/"
WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top)
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stages(rows):
    keys = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio", "se_ratio", "strides")
    return [dict(zip(keys + ("conv_type",), row)) for row in rows]


# (kernel, repeats, filters in, filters out, expansion, se ratio, stride, conv type: 1 fused, 0 plain)
_B = _stages(
    [(3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
     (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0)]
)  # fmt: skip
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages(
        [(3, 2, 24, 24, 1, 0, 1, 1), (3, 4, 24, 48, 4, 0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
         (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0), (3, 15, 160, 256, 6, 0.25, 2, 0)]
    ),
    "efficientnetv2-m": _stages(
        [(3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
         (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0), (3, 18, 176, 304, 6, 0.25, 2, 0),
         (3, 5, 304, 512, 6, 0.25, 1, 0)]
    ),
    "efficientnetv2-l": _stages(
        [(3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
         (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0), (3, 25, 224, 384, 6, 0.25, 2, 0),
         (3, 7, 384, 640, 6, 0.25, 1, 0)]
    ),
    **{f"efficientnetv2-b{i}": _B for i in range(4)},
}  # fmt: skip


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Channels scaled by the width coefficient, rounded to a multiple of ``depth_divisor``."""
    filters *= width_coefficient
    return int(max(min_depth or depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Repeats scaled by the depth coefficient, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters, kernel_size, name, **kw):
    from .. import layers

    return layers.Conv2D(filters, kernel_size, kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kw)


def _bn_act(x, name, bn_momentum, activation=None):
    from .. import layers

    x = layers.BatchNormalization(axis=channel_axis(), momentum=bn_momentum, name=f"{name}_bn")(x)
    return x if activation is None else layers.Activation(activation, name=f"{name}_activation")(x)


def _squeeze_excite(x, filters, input_filters, se_ratio, activation, name):
    from .. import layers

    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((filters, 1, 1) if channel_axis() == 1 else (1, 1, filters), name=f"{name}se_reshape")(se)
    se = _conv(max(1, int(input_filters * se_ratio)), 1, f"{name}se_reduce", padding="same", activation=activation)(se)
    se = _conv(filters, 1, f"{name}se_expand", padding="same", activation="sigmoid")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, strides, input_filters, output_filters, rate, name):
    from .. import layers

    if strides == 1 and input_filters == output_filters:
        if rate:
            x = layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(  # noqa: N802
    input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0, bn_momentum=0.9,
    activation="swish", survival_probability=0.8, name=None,
):  # fmt: skip
    """1x1 expansion, depthwise kxk (stride, same padding), squeeze-excitation, 1x1 projection: a function
    of the block's input tensor."""

    def apply(inputs):
        from .. import layers

        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, f"{name}expand_conv", strides=1, padding="same", use_bias=False)(x)
            x = _bn_act(x, f"{name}expand", bn_momentum, activation)
        x = layers.DepthwiseConv2D(
            kernel_size, strides=strides, depthwise_initializer=CONV_KERNEL_INITIALIZER, padding="same",
            use_bias=False, name=f"{name}dwconv2",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(axis=channel_axis(), momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, f"{name}project_conv", strides=1, padding="same", use_bias=False)(x)
        x = _bn_act(x, f"{name}project", bn_momentum)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


def FusedMBConvBlock(  # noqa: N802
    input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0, bn_momentum=0.9,
    activation="swish", survival_probability=0.8, name=None,
):  # fmt: skip
    """A kxk (stride) expansion convolution in place of 1x1 + depthwise, then the 1x1 projection (or, without
    expansion, a single kxk convolution with activation)."""

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, f"{name}expand_conv", strides=strides, padding="same", use_bias=False)(x)
            x = _bn_act(x, f"{name}expand", bn_momentum, activation)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
        fused = expand_ratio == 1
        x = _conv(
            output_filters, kernel_size if fused else 1, f"{name}project_conv", strides=strides if fused else 1,
            padding="same", use_bias=False,
        )(x)  # fmt: skip
        x = _bn_act(x, f"{name}project", bn_momentum, activation if fused else None)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


def EfficientNetV2(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
    family=None,
):
    """EfficientNetV2: optional preprocessing layers, a 3x3 stride-2 stem, the (fused) MBConv stages of
    ``blocks_args`` (by default the stages of ``family``, e.g. "efficientnetv2-s"), a 1x1 convolution to
    1280 (scaled) channels, then the top. Output ``(batch, classes)``, or the feature map / pooled features."""
    from .. import layers

    family = family or name
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[family]
    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, default_size, 32, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)
    axis = channel_axis()

    def rf(filters):
        return round_filters(filters, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        if family.split("-")[-1].startswith("b") and input_shape[axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = _conv(rf(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2, padding="same", use_bias=False)(x)
    x = _bn_act(x, "stem", bn_momentum, activation)

    total = float(sum(args["num_repeat"] for args in blocks_args))  # unscaled, as Keras counts them
    b = 0
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(f"The number of repeats in EfficientNetV2 must be > 0; received {args['num_repeat']}")
        args = dict(args)
        args["input_filters"], args["output_filters"] = rf(args["input_filters"]), rf(args["output_filters"])
        make = FusedMBConvBlock if args.pop("conv_type") == 1 else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"], args["input_filters"] = 1, args["output_filters"]
            x = make(
                activation=activation, bn_momentum=bn_momentum, survival_probability=drop_connect_rate * b / total,
                name=f"block{i + 1}{chr(j + 97)}_", **args,
            )(x)  # fmt: skip
            b += 1

    x = _conv(rf(1280), 1, "top_conv", strides=1, padding="same", use_bias=False)(x)
    x = _bn_act(x, "top", bn_momentum, activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER,
            bias_initializer="zeros", name="predictions",
        )(x)  # fmt: skip
    else:
        x = pooled(x, pooling, "avg_pool", "max_pool")
    file_name = file_hash = None
    if weights_name in WEIGHTS_HASHES:
        file_name = name + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHTS_PATH + str(file_name), file_hash)


def _builder(suffix, width, depth, size):
    family = f"efficientnetv2-{suffix}"
    weights_name = suffix if suffix.startswith("b") else f"-{suffix}"

    def build(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        include_preprocessing=True,
        name=family,
    ):
        return EfficientNetV2(
            width, depth, size, name=name, include_top=include_top, weights=weights, input_tensor=input_tensor,
            input_shape=input_shape, pooling=pooling, classes=classes, classifier_activation=classifier_activation,
            include_preprocessing=include_preprocessing, weights_name=weights_name, family=family,
        )  # fmt: skip

    build.__name__ = build.__qualname__ = f"EfficientNetV2{suffix.upper()}"
    build.__doc__ = f"EfficientNetV2-{suffix.upper()}: width x{width}, depth x{depth}, default input {size}x{size}."
    return build


EfficientNetV2B0 = _builder("b0", 1.0, 1.0, 224)
EfficientNetV2B1 = _builder("b1", 1.0, 1.1, 240)
EfficientNetV2B2 = _builder("b2", 1.1, 1.2, 260)
EfficientNetV2B3 = _builder("b3", 1.2, 1.4, 300)
EfficientNetV2S = _builder("s", 1.0, 1.0, 384)
EfficientNetV2M = _builder("m", 1.0, 1.0, 480)
EfficientNetV2L = _builder("l", 1.0, 1.0, 480)


def preprocess_input(x, data_format=None):
    """Returns ``x`` unchanged: EfficientNetV2 preprocesses inside the model (as Keras)."""
    return x


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
