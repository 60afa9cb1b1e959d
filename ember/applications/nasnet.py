"""NASNetMobile and NASNetLarge (Zoph et al. 2018: cells found by architecture search) as in
``keras.applications.nasnet``."""

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    check_weights_arg,
    correct_pad,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)

BASE_WEIGHTS_PATH = WEIGHTS_ROOT + "nasnet/"
# default size -> (file with top, md5, file without top, md5)
WEIGHTS_FILES = {
    224: ("NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61", "NASNet-mobile-no-top.h5",
          "1ed92395b5b598bdda52abe5c0dbfd63"),
    331: ("NASNet-large.h5", "11577c9a518f0070763c2b964a382f17", "NASNet-large-no-top.h5",
          "d81d89dc07e6e56530c4e77faddd61b5"),
}  # fmt: skip


def _bn(x, name=None):
    from .. import layers

    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv1x1(x, filters, name):
    from .. import layers

    return layers.Conv2D(
        filters, (1, 1), strides=(1, 1), padding="same", use_bias=False, name=name, kernel_initializer="he_normal"
    )(x)


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """Two ReLU -> SeparableConv2D -> BatchNorm steps; the first strides (with TF-style padding)."""
    from .. import layers

    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}")(x)
    x = layers.SeparableConv2D(
        filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}",
        padding="valid" if strides == (2, 2) else "same", use_bias=False,
    )(x)  # fmt: skip
    x = _bn(x, f"separable_conv_1_bn_{block_id}")
    x = layers.Activation("relu")(x)
    name = f"separable_conv_2_{block_id}"
    x = layers.SeparableConv2D(filters, kernel_size, name=name, padding="same", use_bias=False)(x)
    return _bn(x, f"separable_conv_2_bn_{block_id}")


def _adjust_block(p, ip, filters, block_id=None):
    """Bring the previous cell's output ``p`` to ``ip``'s size (two offset strided 1x1 paths) or width."""
    from .. import layers

    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(p, f"adjust_bn_{block_id}")
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(p, f"adjust_bn_{block_id}")
    return p


def _normal_a_cell(ip, p, filters, block_id=None):
    """Normal cell: five pairwise combinations of the current and previous inputs, concatenated."""
    from .. import layers

    p = _adjust_block(p, ip, filters, block_id)
    h = _bn(_conv1x1(layers.Activation("relu")(ip), filters, f"normal_conv_1_{block_id}"), f"normal_bn_1_{block_id}")
    avg3 = dict(strides=(1, 1), padding="same")
    x1 = layers.add(
        [
            _separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
            _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}"),
        ],
        name=f"normal_add_1_{block_id}",
    )
    x2 = layers.add(
        [
            _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
            _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}"),
        ],
        name=f"normal_add_2_{block_id}",
    )
    x3 = layers.AveragePooling2D((3, 3), name=f"normal_left3_{block_id}", **avg3)(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4 = layers.add(
        [
            layers.AveragePooling2D((3, 3), name=f"normal_left4_{block_id}", **avg3)(p),
            layers.AveragePooling2D((3, 3), name=f"normal_right4_{block_id}", **avg3)(p),
        ],
        name=f"normal_add_4_{block_id}",
    )
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    """Reduction cell: like the normal cell with stride-2 operations, halving the spatial size."""
    from .. import layers

    p = _adjust_block(p, ip, filters, block_id)
    h = _conv1x1(layers.Activation("relu")(ip), filters, f"reduction_conv_1_{block_id}")
    h = _bn(h, f"reduction_bn_1_{block_id}")
    h3 = layers.ZeroPadding2D(padding=correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    s2 = (2, 2)
    x1 = layers.add(
        [
            _separable_conv_block(h, filters, (5, 5), strides=s2, block_id=f"reduction_left1_{block_id}"),
            _separable_conv_block(p, filters, (7, 7), strides=s2, block_id=f"reduction_right1_{block_id}"),
        ],
        name=f"reduction_add_1_{block_id}",
    )
    x2 = layers.add(
        [
            layers.MaxPooling2D((3, 3), strides=s2, padding="valid", name=f"reduction_left2_{block_id}")(h3),
            _separable_conv_block(p, filters, (7, 7), strides=s2, block_id=f"reduction_right2_{block_id}"),
        ],
        name=f"reduction_add_2_{block_id}",
    )
    x3 = layers.add(
        [
            layers.AveragePooling2D((3, 3), strides=s2, padding="valid", name=f"reduction_left3_{block_id}")(h3),
            _separable_conv_block(p, filters, (5, 5), strides=s2, block_id=f"reduction_right3_{block_id}"),
        ],
        name=f"reduction_add3_{block_id}",
    )
    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])
    x5 = layers.add(
        [
            _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}"),
            layers.MaxPooling2D((3, 3), strides=s2, padding="valid", name=f"reduction_right5_{block_id}")(h3),
        ],
        name=f"reduction_add4_{block_id}",
    )
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(  # noqa: N802
    input_shape=None,
    penultimate_filters=4032,
    num_blocks=6,
    stem_block_filters=96,
    skip_reduction=True,
    filter_multiplier=2,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    default_size=None,
    classifier_activation="softmax",
    name="NASNet",
):
    """NASNet-A: a 3x3 stride-2 stem, two reduction cells, then three groups of ``num_blocks`` normal
    cells separated by reduction cells (widths ``penultimate_filters/24`` times 1, ``filter_multiplier``,
    its square), ReLU, then the top. channels_last only."""
    from .. import layers

    if image_data_format() == "channels_first":
        raise ValueError("NASNet does not support the channels_first image data format (as in Keras)")
    check_weights_arg(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError(f"With weights='imagenet', `input_shape` must be static; received {input_shape}")
    default_size = 331 if default_size is None else default_size
    input_shape = obtain_input_shape(input_shape, default_size, 32, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)
    if penultimate_filters % (24 * (filter_multiplier**2)) != 0:
        raise ValueError(
            "For NASNet-A models, `penultimate_filters` must be a multiple of 24 * (filter_multiplier ** 2); "
            f"received penultimate_filters={penultimate_filters}"
        )
    filters = penultimate_filters // 24

    x = layers.Conv2D(
        stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False, name="stem_conv1",
        kernel_initializer="he_normal",
    )(img_input)  # fmt: skip
    x = _bn(x, "stem_bn1")
    x, p = _reduction_a_cell(x, None, filters // (filter_multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    for level in (1, 2):
        width = filters * filter_multiplier**level
        x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{level * num_blocks}")
        p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, width, block_id=f"{level * num_blocks + i + 1}")
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    if weights == "imagenet" and default_size not in WEIGHTS_FILES:
        raise ValueError("ImageNet weights exist only for NASNetLarge (331) and NASNetMobile (224)")
    file_name = file_hash = None
    if default_size in WEIGHTS_FILES:
        top_file, top_hash, notop_file, notop_hash = WEIGHTS_FILES[default_size]
        file_name, file_hash = (top_file, top_hash) if include_top else (notop_file, notop_hash)
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHTS_PATH + str(file_name), file_hash)


def NASNetMobile(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_mobile",
):
    """NASNetMobile: 4 cells per group, penultimate width 1056, default input 224x224.

    Keras refuses it on its torch backend (an open bug there); Ember builds it.
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(
        input_shape, 1056, 4, 32, False, 2, include_top, weights, input_tensor, pooling, classes, 224,
        classifier_activation, name,
    )  # fmt: skip


def NASNetLarge(  # noqa: N802
    input_shape=None,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="nasnet_large",
):
    """NASNetLarge: 6 cells per group, penultimate width 4032, default input 331x331."""
    return NASNet(
        input_shape, 4032, 6, 96, True, 2, include_top, weights, input_tensor, pooling, classes, 331,
        classifier_activation, name,
    )  # fmt: skip


def preprocess_input(x, data_format=None):
    """Scale to [-1, 1] ("tf" mode of ``imagenet_utils.preprocess_input``)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
