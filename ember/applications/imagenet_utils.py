"""ImageNet helpers of ``keras.applications.imagenet_utils``: ``preprocess_input`` and ``decode_predictions``."""

import json

import numpy as np

from ..backend.keras_api import image_data_format
from ._common import obtain_input_shape  # noqa: F401  (Keras exports it from this module too)

CLASS_INDEX = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"  # md5, as Keras pins it

# per-mode constants, RGB order
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Scale a batch of RGB images (values 0..255) the way a pretrained model expects.

    Args:
        x: array or tensor of shape ``(..., H, W, 3)`` (channels_last) or ``(..., 3, H, W)``.
        data_format: "channels_last" / "channels_first"; None means ``image_data_format()``.
        mode: "caffe" (RGB->BGR, minus ImageNet's mean per channel, no scaling), "tf" (to [-1, 1])
            or "torch" (to [0, 1], then minus mean and divided by std per channel).

    Returns:
        The same kind of object as ``x``, float. A float NumPy array is changed in place, as Keras does.
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of 'caffe', 'tf' or 'torch'; received mode={mode!r}")
    if data_format is None:
        data_format = image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            f"Expected data_format to be 'channels_first' or 'channels_last'; received data_format={data_format!r}"
        )
    if isinstance(x, np.ndarray):
        if not issubclass(x.dtype.type, np.floating):
            x = x.astype("float32", copy=False)
        return _preprocess_array(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_shape(ndim, data_format):
    """Shape that broadcasts a per-channel vector of 3 against an input of ``ndim`` dims."""
    if data_format == "channels_first":
        return (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    return (1,) * (ndim - 1) + (3,)


def _constants(mode):
    if mode == "torch":
        return np.array(_TORCH_MEAN), np.array(_TORCH_STD)
    return np.array(_CAFFE_MEAN_BGR), None


def _preprocess_array(x, data_format, mode):
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
    else:  # caffe: RGB -> BGR first
        if data_format == "channels_first":
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
    mean, std = _constants(mode)
    shape = _channel_shape(x.ndim, data_format)
    x -= mean.reshape(shape).astype(x.dtype)
    if std is not None:
        x /= std.reshape(shape).astype(x.dtype)
    return x


def _preprocess_tensor(x, data_format, mode):
    from .. import ops

    x = ops.convert_to_tensor(x)
    if not str(x.dtype).startswith("float"):
        x = ops.cast(x, "float32")
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
    else:
        axis = (0 if x.ndim == 3 else 1) if data_format == "channels_first" else -1
        x = ops.flip(x, axis=axis)
    mean, std = _constants(mode)
    shape = _channel_shape(x.ndim, data_format)
    x = x + (-mean).reshape(shape).astype(str(x.dtype))
    if std is not None:
        x = x / std.reshape(shape).astype(str(x.dtype))
    return x


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        from ..utils import get_file

        path = get_file(
            "imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models", file_hash=CLASS_INDEX_HASH
        )
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each row of ``preds`` (shape ``(batch, 1000)``).

    Returns:
        one list per sample of ``(class_id, class_name, score)`` tuples, best first, e.g.
        ``("n02123045", "tabby", 0.68)``. The class index (``imagenet_class_index.json``) comes from the
        cache of ``get_file`` (downloaded from Keras's URL when missing; offline, the error says where to
        put a copy).
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (a 2D array of shape (samples, 1000)); "
            f"received an array of shape {preds.shape}"
        )
    index = _class_index()
    results = []
    for row in preds:
        best = row.argsort()[-top:][::-1]
        results.append([tuple(index[str(i)]) + (row[i],) for i in best])
    return results
