"""``keras.preprocessing.image``: the image file helpers (from ``ember.utils``) and ``smart_resize``."""

from ..utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last", backend_module=None):
    """``x`` (one image or a batch) resized to ``size = (height, width)`` without distortion: the largest
    centred box of the target aspect ratio is cut out first, then resized."""
    from ..ops.image import resize

    if backend_module is not None:
        raise ValueError("smart_resize: backend_module is a Keras-internal argument; leave it None on Ember")
    return resize(x, size, interpolation=interpolation, crop_to_aspect_ratio=True, data_format=data_format)
