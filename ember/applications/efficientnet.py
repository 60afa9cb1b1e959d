"""EfficientNetB0..B7 (Tan & Le 2019: MBConv blocks with squeeze-excitation, compound scaling) as in
``keras.applications.efficientnet``. The models rescale their input themselves (0..255 in), so
``preprocess_input`` returns its input."""

import math

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    build_model,
    channel_axis,
    check_weights_arg,
    correct_pad,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top)
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size, repeats, filters_in, filters_out, expand_ratio, strides, se_ratio=0.25, id_skip=True):
    return dict(
        kernel_size=kernel_size, repeats=repeats, filters_in=filters_in, filters_out=filters_out,
        expand_ratio=expand_ratio, strides=strides, se_ratio=se_ratio, id_skip=id_skip,
    )  # fmt: skip


# the seven stages of B0 (before width and depth scaling)
DEFAULT_BLOCKS_ARGS = [
    _stage(3, 1, 32, 16, 1, 1),
    _stage(3, 2, 16, 24, 6, 2),
    _stage(5, 2, 24, 40, 6, 2),
    _stage(3, 3, 40, 80, 6, 2),
    _stage(5, 3, 80, 112, 6, 1),
    _stage(5, 4, 112, 192, 6, 2),
    _stage(3, 1, 192, 320, 6, 1),
]
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def _conv(filters, kernel_size, name, **kw):
    from .. import layers

    return layers.Conv2D(filters, kernel_size, kernel_initializer=CONV_KERNEL_INITIALIZER, name=name, **kw)


def block(
    inputs,
    activation="swish",
    drop_rate=0.0,
    name="",
    filters_in=32,
    filters_out=16,
    kernel_size=3,
    strides=1,
    expand_ratio=1,
    se_ratio=0.0,
    id_skip=True,
):
    """MBConv: 1x1 expansion, depthwise kxk (stride), squeeze-excitation, linear 1x1 projection; the input
    is added back (after drop-connect of rate ``drop_rate``) when the shapes allow."""
    from .. import layers

    axis = channel_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv(filters, 1, f"{name}expand_conv", padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(axis=axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="valid" if strides == 2 else "same", use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}dwconv",
    )(x)  # fmt: skip
    x = layers.BatchNormalization(axis=axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se = layers.Reshape((filters, 1, 1) if axis == 1 else (1, 1, filters), name=f"{name}se_reshape")(se)
        se = _conv(max(1, int(filters_in * se_ratio)), 1, f"{name}se_reduce", padding="same", activation=activation)(se)
        se = _conv(filters, 1, f"{name}se_expand", padding="same", activation="sigmoid")(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")
    x = _conv(filters_out, 1, f"{name}project_conv", padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(  # noqa: N802
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """EfficientNet scaled by ``width_coefficient`` (channels) and ``depth_coefficient`` (repeats):
    Rescaling(1/255) and Normalization in the model, a 3x3 stride-2 stem, the MBConv stages of
    ``blocks_args``, a 1x1 convolution to 1280 (scaled) channels, then the top (dropout, Dense).
    Output ``(batch, classes)``, or the feature map / pooled features without the top."""
    from .. import layers

    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, default_size, 32, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)
    axis = channel_axis()

    def round_filters(filters):
        filters *= width_coefficient
        new = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(new + depth_divisor if new < 0.9 * filters else new)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=axis)(x)
    if weights == "imagenet":
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=correct_pad(x, 3), name="stem_conv_pad")(x)
    x = _conv(round_filters(32), 3, "stem_conv", strides=2, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization(axis=axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    total = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(f"The number of repeats in EfficientNet must be > 0; received repeats={args['repeats']}")
        args = dict(args)
        repeats = round_repeats(args.pop("repeats"))
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(repeats):
            if j > 0:
                args["strides"], args["filters_in"] = 1, args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = _conv(round_filters(1280), 1, "top_conv", padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(axis=axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions"
        )(x)
    else:
        x = pooled(x, pooling, "avg_pool", "max_pool")
    file_name = file_hash = None
    if weights_name in WEIGHTS_HASHES:
        file_name = name + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHTS_PATH + str(file_name), file_hash)


def _builder(index, width, depth, size, dropout):
    default_name = f"efficientnetb{index}"

    def build(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        return EfficientNet(
            width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
            classifier_activation=classifier_activation, weights_name=f"b{index}",
        )  # fmt: skip

    build.__name__ = build.__qualname__ = f"EfficientNetB{index}"
    build.__doc__ = (
        f"EfficientNetB{index}: width x{width}, depth x{depth}, default input {size}x{size}, top dropout {dropout}."
    )
    return build


EfficientNetB0 = _builder(0, 1.0, 1.0, 224, 0.2)
EfficientNetB1 = _builder(1, 1.0, 1.1, 240, 0.2)
EfficientNetB2 = _builder(2, 1.1, 1.2, 260, 0.3)
EfficientNetB3 = _builder(3, 1.2, 1.4, 300, 0.3)
EfficientNetB4 = _builder(4, 1.4, 1.8, 380, 0.4)
EfficientNetB5 = _builder(5, 1.6, 2.2, 456, 0.4)
EfficientNetB6 = _builder(6, 1.8, 2.6, 528, 0.5)
EfficientNetB7 = _builder(7, 2.0, 3.1, 600, 0.5)


def preprocess_input(x, data_format=None):
    """Returns ``x`` unchanged: EfficientNet rescales and normalises inside the model (as Keras)."""
    return x


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
