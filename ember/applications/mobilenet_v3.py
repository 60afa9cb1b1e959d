"""MobileNetV3Small and MobileNetV3Large (Howard et al. 2019) as in ``keras.applications.mobilenet_v3``.
The models rescale their input themselves (0..255 in) unless ``include_preprocessing=False``."""

import warnings

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import WEIGHTS_ROOT, build_model, check_weights_arg, correct_pad, model_input, pooled, validate_activation
from ._common import make_divisible as _depth

BASE_WEIGHT_PATH = WEIGHTS_ROOT + "mobilenet_v3/"
WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top)
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}
# per block: (expansion, filters, kernel ("k": 5, or 3 when minimalistic), stride, squeeze-excite, activation
# ("relu", or "act": hard_swish / relu when minimalistic))
_SMALL = [
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"), (88 / 24, 24, 3, 1, False, "relu"),
    (4, 40, "k", 2, True, "act"), (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
    (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"), (6, 96, "k", 2, True, "act"),
    (6, 96, "k", 1, True, "act"), (6, 96, "k", 1, True, "act"),
]  # fmt: skip
_LARGE = [
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
    (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
    (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"), (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
    (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"), (6, 160, "k", 1, True, "act"),
]  # fmt: skip


def _axis():
    return 1 if image_data_format() == "channels_first" else -1


def relu(x):
    from .. import layers

    return layers.ReLU()(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, written with tensor operators as Keras does (two graph ops around a ReLU layer)."""
    from .. import layers

    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x):
    from .. import layers

    return layers.Activation("hard_swish")(x)


def _bn(x, name):
    from .. import layers

    return layers.BatchNormalization(axis=_axis(), epsilon=1e-3, momentum=0.999, name=name)(x)


def _se_block(inputs, filters, se_ratio, prefix):
    from .. import layers

    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), 1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, hard_sigmoid(x)])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    """1x1 expansion (not in block 0), depthwise kxk (stride), optional squeeze-excite, linear projection,
    input added back when the shapes allow."""
    from .. import layers

    shortcut = x
    infilters = x.shape[_axis()]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
        name=f"{prefix}depthwise",
    )(x)  # fmt: skip
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def MobileNetV3(  # noqa: N802
    blocks,
    last_point_ch,
    input_shape=None,
    alpha=1.0,
    model_type="large",
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name=None,
):
    """MobileNetV3 from a table of ``blocks`` (see ``_SMALL`` / ``_LARGE``): optional rescaling to [-1, 1],
    a 3x3 stride-2 stem, the inverted residual blocks, a 1x1 convolution to 6x the last width, then a top
    of pooling, a 1x1 convolution to ``last_point_ch``, dropout and 1x1 logits. Any input side >= 32."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    channels_first = image_data_format() == "channels_first"
    if input_shape is None and input_tensor is not None and hasattr(input_tensor, "shape"):
        shape = tuple(input_tensor.shape)
        rows, cols = (shape[2], shape[3]) if channels_first else (shape[1], shape[2])
        input_shape = (3, cols, rows) if channels_first else (cols, rows, 3)
    if input_shape is None:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    rows, cols = (input_shape[1], input_shape[2]) if channels_first else (input_shape[0], input_shape[1])
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; received input_shape={input_shape}")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(
                "With weights='imagenet', alpha can be one of 0.75 or 1.0 (only 1.0 when minimalistic); "
                f"received alpha={alpha}"
            )
        if rows != cols or rows != 224:
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input shape "
                "(224, 224) will be loaded as the default.",
                stacklevel=2,
            )
    img_input, inputs = model_input(input_tensor, input_shape)
    kernel, activation, se_ratio = (3, relu, None) if minimalistic else (5, hard_swish, 0.25)

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x, expansion, _depth(filters * alpha), kernel if k == "k" else k, stride, se_ratio if se else None,
            activation if act == "act" else relu, block_id,
        )  # fmt: skip
    last_conv_ch = _depth(x.shape[_axis()] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = activation(layers.Conv2D(last_point_ch, 1, padding="same", use_bias=True, name="conv_2")(x))
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Flatten()(layers.Conv2D(classes, 1, padding="same", name="logits")(x))
        validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling, "avg_pool", "max_pool")
    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    file_name = f"weights_mobilenet_v3_{model_name}{'' if include_top else '_no_top_v2'}.h5"
    hashes = WEIGHTS_HASHES.get(model_name, (None, None))
    file_hash = hashes[0 if include_top else 1]
    return build_model(inputs, x, name, weights, file_name, BASE_WEIGHT_PATH + file_name, file_hash)


def MobileNetV3Small(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Small",
):
    """MobileNetV3Small: 11 inverted residual blocks, 1024 channels before the logits."""
    return MobileNetV3(
        _SMALL, 1024, input_shape, alpha, "small", minimalistic, include_top, weights, input_tensor, classes,
        pooling, dropout_rate, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def MobileNetV3Large(  # noqa: N802
    input_shape=None,
    alpha=1.0,
    minimalistic=False,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    classes=1000,
    pooling=None,
    dropout_rate=0.2,
    classifier_activation="softmax",
    include_preprocessing=True,
    name="MobileNetV3Large",
):
    """MobileNetV3Large: 15 inverted residual blocks, 1280 channels before the logits."""
    return MobileNetV3(
        _LARGE, 1280, input_shape, alpha, "large", minimalistic, include_top, weights, input_tensor, classes,
        pooling, dropout_rate, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def preprocess_input(x, data_format=None):
    """Returns ``x`` unchanged: MobileNetV3 rescales inside the model (as Keras)."""
    return x


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
