"""DenseNet121, DenseNet169, DenseNet201 (Huang et al. 2017) as in ``keras.applications.densenet``."""

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

BASE_WEIGHTS_PATH = WEIGHTS_ROOT + "densenet/"
WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top), by blocks per dense block
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}


def _bn_relu(x, name):
    from .. import layers

    x = layers.BatchNormalization(axis=channel_axis(), epsilon=1.001e-5, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_block(x, growth_rate, name):
    """BN-ReLU-1x1 conv (4*growth) then BN-ReLU-3x3 conv (growth), concatenated to the input."""
    from .. import layers

    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(_bn_relu(x, f"{name}_0"))
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(_bn_relu(y, f"{name}_1"))
    return layers.Concatenate(axis=channel_axis(), name=f"{name}_concat")([x, y])


def dense_block(x, blocks, name):
    """``blocks`` conv blocks of growth rate 32."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU, a 1x1 conv to ``reduction`` of the channels, 2x2 average pool."""
    from .. import layers

    x = _bn_relu(x, name)
    x = layers.Conv2D(int(x.shape[channel_axis()] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def DenseNet(  # noqa: N802
    blocks,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="densenet",
):
    """DenseNet with ``blocks`` conv blocks in each of its four dense blocks: 7x7 stem, max pool, dense
    blocks joined by halving transitions, final BN-ReLU, then the top. Output ``(batch, classes)``, or
    ``(batch, h/32, w/32, channels)`` / ``(batch, channels)`` without the top. channels_last only."""
    from .. import layers

    if image_data_format() == "channels_first":
        raise ValueError(
            "DenseNet does not support the channels_first image data format (as in Keras); "
            "set image_data_format('channels_last')"
        )
    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 224, 32, image_data_format(), include_top, weights)
    img_input, inputs = model_input(input_tensor, input_shape)

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn_relu(x, "conv1")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, n in enumerate(blocks):
        x = dense_block(x, n, name=f"conv{i + 2}")
        if i < 3:
            x = transition_block(x, 0.5, name=f"pool{i + 2}")
    x = layers.BatchNormalization(axis=channel_axis(), epsilon=1.001e-5, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling, "avg_pool", "max_pool")
    known = WEIGHTS_HASHES.get(tuple(blocks))
    if weights == "imagenet" and known is None:
        raise ValueError(f"Keras has ImageNet weights only for DenseNet121, 169 and 201; received blocks={blocks}")
    file_name = file_hash = None
    if known is not None:
        file_name, file_hash = imagenet_file(known[0], include_top, known[1:])
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHTS_PATH + str(file_name), file_hash)


def _builder(blocks, default_name, doc):
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
        return DenseNet(
            list(blocks), include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
            name,
        )  # fmt: skip

    build.__name__ = build.__qualname__ = default_name.replace("densenet", "DenseNet")
    build.__doc__ = doc
    return build


DenseNet121 = _builder((6, 12, 24, 16), "densenet121", "DenseNet121: dense blocks of 6, 12, 24, 16 conv blocks.")
DenseNet169 = _builder((6, 12, 32, 32), "densenet169", "DenseNet169: dense blocks of 6, 12, 32, 32 conv blocks.")
DenseNet201 = _builder((6, 12, 48, 32), "densenet201", "DenseNet201: dense blocks of 6, 12, 48, 32 conv blocks.")


def preprocess_input(x, data_format=None):
    """Scale to [0, 1], then normalise by ImageNet's mean and std ("torch" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
