"""VGG16 (Simonyan & Zisserman 2014) as in ``keras.applications.vgg16``; ``VGG`` also builds VGG19."""

from ..backend.keras_api import image_data_format
from . import imagenet_utils
from ._common import (
    WEIGHTS_ROOT,
    build_model,
    check_weights_arg,
    imagenet_file,
    model_input,
    obtain_input_shape,
    pooled,
    validate_activation,
)

WEIGHTS_HASHES = {  # Keras's md5 of (with top, without top)
    "vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
}


def VGG(  # noqa: N802
    convs_per_block, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name
):
    """Five blocks of 3x3 same-padded ReLU convolutions (64, 128, 256, 512, 512 filters,
    ``convs_per_block`` each), each block ending in a 2x2 max pool; the top is Flatten, two Dense
    4096 ReLU (``fc1``, ``fc2``) and ``predictions``. Output ``(batch, classes)``, or
    ``(batch, h/32, w/32, 512)`` / ``(batch, 512)`` without the top."""
    from .. import layers

    check_weights_arg(weights, include_top, classes)
    input_shape = obtain_input_shape(input_shape, 224, 32, image_data_format(), include_top, weights)
    x, inputs = model_input(input_tensor, input_shape)
    for block, (filters, convs) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pooled(x, pooling)
    stem = "vgg16" if sum(convs_per_block) == 13 else "vgg19"
    file_name, file_hash = imagenet_file(stem, include_top, WEIGHTS_HASHES[stem])
    origin = f"{WEIGHTS_ROOT}vgg{stem[3:]}/{file_name}"
    return build_model(inputs, x, name, weights, file_name, origin, file_hash)


def VGG16(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    """VGG16: 2, 2, 3, 3, 3 convolutions per block (138M parameters with the top)."""
    return VGG(
        (2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
        name,
    )  # fmt: skip


def preprocess_input(x, data_format=None):
    """Caffe-style preprocessing (RGB->BGR, minus ImageNet's mean): ``imagenet_utils.preprocess_input``."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
