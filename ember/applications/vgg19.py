"""VGG19 as in ``keras.applications.vgg19`` (the VGG builder of vgg16.py, 2, 2, 4, 4, 4 convolutions)."""

from .vgg16 import VGG, decode_predictions, preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]


def VGG19(  # noqa: N802
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """VGG19: 2, 2, 4, 4, 4 convolutions per block (144M parameters with the top)."""
    return VGG(
        (2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
        name,
    )  # fmt: skip
