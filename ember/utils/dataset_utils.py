"""Keras's dataset helpers on Ember: ``PyDataset``/``Sequence``, ``split_dataset``,
``timeseries_dataset_from_array`` and the ``*_dataset_from_directory`` loaders.

The loaders return :class:`ember.data.Dataset` pipelines (batched unless
``batch_size=None``) that ``Model.fit`` reads directly. They read local files
only and load them eagerly into NumPy arrays: images need Pillow, audio is read
with Python's ``wave`` module (PCM WAV files).
"""

from __future__ import annotations

import numbers
import os
import wave

import numpy

from ..backend.config import floatx

__all__ = [
    "PyDataset",
    "Sequence",
    "audio_dataset_from_directory",
    "image_dataset_from_directory",
    "split_dataset",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]

_IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


class PyDataset:
    """Batches served by index: subclass it and define ``__len__`` (batches per epoch) and ``__getitem__(i)``.

    ``__getitem__`` returns ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` for batch ``i``. ``on_epoch_begin``
    and ``on_epoch_end`` run around every pass (``Model.fit`` makes one pass per epoch). Batches are read in
    the calling thread: ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted for Keras
    compatibility and recorded.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning one batch")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__() (the number of batches)")

    @property
    def num_batches(self):
        """The number of batches per epoch (``len(self)``), or None if ``__len__`` is not defined."""
        try:
            return len(self)
        except NotImplementedError:
            return None

    def on_epoch_begin(self):
        """Called before each pass over the batches."""

    def on_epoch_end(self):
        """Called after each pass over the batches."""

    def cardinality(self):
        """Batches per epoch (what Ember's trainer reads to count steps)."""
        n = self.num_batches
        return -2 if n is None else n

    def __iter__(self):
        self.on_epoch_begin()
        n = self.num_batches
        i = 0
        while n is None or i < n:
            try:
                batch = self[i]
            except IndexError:
                if n is None:
                    break
                raise
            yield tuple(batch) if isinstance(batch, list) else batch
            i += 1
        self.on_epoch_end()


Sequence = PyDataset


def _dataset(tensors, batch_size, shuffle, seed):
    from ..data.dataset import Dataset

    ds = Dataset.from_tensor_slices(tensors)
    if shuffle:
        ds = ds.shuffle(max(1, _length(tensors)), seed=seed)
    return ds.batch(int(batch_size)) if batch_size is not None else ds


def _length(tensors):
    if isinstance(tensors, dict):
        return _length(next(iter(tensors.values())))
    if isinstance(tensors, (tuple, list)):
        return _length(tensors[0])
    return len(tensors)


def _take(structure, index):
    if isinstance(structure, dict):
        return {k: _take(v, index) for k, v in structure.items()}
    if isinstance(structure, (tuple, list)):
        return tuple(_take(v, index) for v in structure)
    return numpy.asarray(structure)[index]


def _split_sizes(total, left_size, right_size):
    for name, v in (("left_size", left_size), ("right_size", right_size)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (numbers.Integral, float))):
            raise TypeError(f"split_dataset: {name} must be an int, a float or None, got {type(v).__name__}")
        if isinstance(v, float) and not 0 < v < 1:
            raise ValueError(f"split_dataset: a float {name} must be in (0, 1), got {v}")
        if isinstance(v, numbers.Integral) and not 0 < v < total:
            raise ValueError(f"split_dataset: an int {name} must be in (0, {total}), got {v}")
    if left_size is None and right_size is None:
        left_size = 0.5
    if isinstance(left_size, float) and isinstance(right_size, float) and left_size + right_size > 1:
        raise ValueError(f"split_dataset: left_size + right_size = {left_size + right_size} is greater than 1")
    left = round(left_size * total) if isinstance(left_size, float) else left_size
    right = round(right_size * total) if isinstance(right_size, float) else right_size
    if left is None:
        left = total - right
    if right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"split_dataset: left_size + right_size = {left + right} exceeds the {total} samples")
    if left == 0 or right == 0:
        raise ValueError(f"split_dataset: with {total} samples, a side of the split would be empty")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split arrays (an array, a tuple/list/dict of arrays) or an unbatched Dataset into two Datasets.

    Sizes are counts (int) or fractions (float in (0, 1)); a missing one is the rest, and both missing
    means half and half. With ``shuffle`` the samples are permuted first (``seed`` for a fixed order).
    Returns ``(left, right)``, two unbatched :class:`ember.data.Dataset`.
    """
    from ..data.dataset import Dataset

    if isinstance(dataset, Dataset):
        elements = list(dataset.as_numpy_iterator() if hasattr(dataset, "as_numpy_iterator") else dataset)
        if not elements:
            raise ValueError("split_dataset: the dataset is empty")
        first = elements[0]
        if isinstance(first, tuple):
            arrays = tuple(numpy.stack([e[i] for e in elements]) for i in range(len(first)))
        elif isinstance(first, dict):
            arrays = {k: numpy.stack([e[k] for e in elements]) for k in first}
        else:
            arrays = numpy.stack(elements)
    elif isinstance(dataset, list) and dataset and not hasattr(dataset[0], "__len__"):
        arrays = numpy.asarray(dataset)
    else:
        arrays = tuple(dataset) if isinstance(dataset, list) else dataset
    total = _length(arrays)
    left, right = _split_sizes(total, left_size, right_size)
    order = numpy.arange(total)
    if shuffle:
        order = numpy.random.default_rng(seed).permutation(total)
    left_part = _take(arrays, order[:left])
    right_part = _take(arrays, order[left : left + right])
    return Dataset.from_tensor_slices(left_part), Dataset.from_tensor_slices(right_part)


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Sliding windows over ``data`` as a Dataset of ``(windows, targets)`` batches (or windows alone).

    Window k starts at ``start_index + p_k`` with ``p_k = k * sequence_stride`` and takes
    ``sequence_length`` rows every ``sampling_rate``; its target is ``targets[start_index + p_k]``.
    """
    data = numpy.asarray(data)
    n = len(data)
    for name, v in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if v <= 0 or v >= n:
            raise ValueError(f"timeseries_dataset_from_array: {name} must be in [1, {n}), got {v}")
    start = 0 if start_index is None else int(start_index)
    end = n if end_index is None else int(end_index)
    if not 0 <= start < n or not start < end <= n:
        raise ValueError(
            f"timeseries_dataset_from_array: need 0 <= start_index < end_index <= {n}, got {start_index}, {end_index}"
        )
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = numpy.asarray(targets)
        num = min(num, len(targets) - start)
    if num <= 0:
        raise ValueError(
            f"timeseries_dataset_from_array: no full window of {sequence_length} samples every {sampling_rate} fits "
            f"rows {start}..{end} of the data"
        )
    positions = numpy.arange(0, num, sequence_stride)
    if shuffle:
        positions = numpy.random.default_rng(seed).permutation(positions)
    window = start + positions[:, None] + numpy.arange(sequence_length)[None, :] * sampling_rate
    windows = data[window]
    if targets is None:
        return _dataset(windows, batch_size, False, seed)
    return _dataset((windows, targets[start + positions]), batch_size, False, seed)


def _index_directory(op, directory, labels, class_names, extensions, follow_links):
    """Files under ``directory`` (sorted) and their integer labels, and the class names."""
    if not os.path.isdir(directory):
        raise ValueError(f"{op}: directory {directory!r} does not exist or is not a directory")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"{op}: labels must be 'inferred', None or a list/tuple of ints, got {labels!r}")
    if labels == "inferred":
        found = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            if sorted(class_names) != sorted(found) and set(class_names) - set(found):
                raise ValueError(f"{op}: class_names {class_names} do not match the subdirectories {found}")
            found = list(class_names)
        names = found
        roots = [(os.path.join(directory, d), i) for i, d in enumerate(names)]
    else:
        names = None
        roots = [(directory, None)]
    files, label_list = [], []
    for root, label in roots:
        for dirpath, _, filenames in sorted(os.walk(root, followlinks=follow_links)):
            for f in sorted(filenames):
                if f.lower().endswith(extensions):
                    files.append(os.path.join(dirpath, f))
                    label_list.append(label)
    if isinstance(labels, (list, tuple)):
        if len(labels) != len(files):
            raise ValueError(f"{op}: {len(labels)} labels given for {len(files)} files found in {directory!r}")
        label_list = list(labels)
    return files, (numpy.asarray(label_list) if labels is not None else None), names


def _labels(op, labels, label_mode, num_classes):
    if labels is None or label_mode is None:
        return None
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "categorical":
        return numpy.eye(num_classes, dtype=floatx())[labels]
    if label_mode == "binary":
        if num_classes != 2:
            raise ValueError(f"{op}: label_mode='binary' needs exactly 2 classes, found {num_classes}")
        return labels.astype(floatx())[:, None]
    raise ValueError(f"{op}: label_mode must be 'int', 'categorical', 'binary' or None, got {label_mode!r}")


def _subset(op, n, validation_split, subset, shuffle, seed):
    """Indices (one array, or two for subset='both') of the samples a subset keeps, after an optional shuffle."""
    order = numpy.arange(n)
    if shuffle:
        if seed is None and validation_split:
            raise ValueError(f"{op}: pass a seed with validation_split and shuffle, so both subsets agree")
        order = numpy.random.default_rng(seed).permutation(n)
    if not validation_split:
        if subset is not None:
            raise ValueError(f"{op}: subset={subset!r} needs validation_split")
        return [order]
    if not 0 < validation_split < 1:
        raise ValueError(f"{op}: validation_split must be in (0, 1), got {validation_split}")
    cut = n - int(validation_split * n)
    parts = {"training": [order[:cut]], "validation": [order[cut:]], "both": [order[:cut], order[cut:]]}
    if subset not in parts:
        raise ValueError(
            f"{op}: subset must be 'training', 'validation' or 'both' with validation_split, got {subset!r}"
        )
    return parts[subset]


def _report(verbose, n_files, names, parts, subset):
    if not verbose:
        return
    classes = f" belonging to {len(names)} classes" if names is not None else ""
    print(f"Found {n_files} files{classes}.")
    if subset == "both":
        print(f"Using {len(parts[0])} files for training.")
        print(f"Using {len(parts[1])} files for validation.")
    elif subset is not None:
        print(f"Using {len(parts[0])} files for {subset}.")


def _finish(arrays, labels, names, parts, batch_size, shuffle, seed):
    out = []
    for idx in parts:
        x = arrays[idx]
        ds = _dataset(x if labels is None else (x, labels[idx]), batch_size, shuffle, seed)
        ds.class_names = names
        out.append(ds)
    return out[0] if len(out) == 1 else tuple(out)


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    verbose=True,
):
    """Images under ``directory`` (one subdirectory per class) as a Dataset of ``(images, labels)`` batches.

    Images are resized to ``image_size`` (float32, 0..255), ``color_mode`` 'rgb', 'rgba' or 'grayscale';
    the Dataset's ``class_names`` lists the classes. Needs Pillow.
    """
    from ..ops import image as image_ops
    from .image_utils import _pil

    op = "image_dataset_from_directory"
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
    if color_mode not in channels:
        raise ValueError(f"{op}: color_mode must be 'rgb', 'rgba' or 'grayscale', got {color_mode!r}")
    files, labels_arr, names = _index_directory(op, directory, labels, class_names, _IMAGE_EXTENSIONS, follow_links)
    parts = _subset(op, len(files), validation_split, subset, shuffle, seed)
    pil = _pil(op)
    mode = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}[color_mode]
    images = []
    for path in files:
        with pil.open(path) as img:
            arr = numpy.asarray(img.convert(mode), dtype="float32")
        if arr.ndim == 2:
            arr = arr[..., None]
        resized = image_ops.resize(
            arr,
            tuple(image_size),
            interpolation=interpolation,
            crop_to_aspect_ratio=crop_to_aspect_ratio,
            pad_to_aspect_ratio=pad_to_aspect_ratio,
            data_format="channels_last",
        )
        images.append(resized.numpy())
    h, w = (int(v) for v in image_size)
    arrays = numpy.stack(images) if images else numpy.zeros((0, h, w, channels[color_mode]), "float32")
    if (data_format or "channels_last") == "channels_first":
        arrays = numpy.ascontiguousarray(numpy.moveaxis(arrays, -1, 1))
    num_classes = len(names) if names is not None else (int(labels_arr.max()) + 1 if labels_arr is not None else 0)
    _report(verbose, len(files), names, parts, subset)
    return _finish(arrays, _labels(op, labels_arr, label_mode, num_classes), names, parts, batch_size, shuffle, seed)


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """Text files (``.txt``) under ``directory`` as a Dataset of ``(strings, labels)`` batches.

    ``max_length`` cuts each text to that many characters.
    """
    op = "text_dataset_from_directory"
    files, labels_arr, names = _index_directory(op, directory, labels, class_names, (".txt",), follow_links)
    parts = _subset(op, len(files), validation_split, subset, shuffle, seed)
    texts = []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        texts.append(text[:max_length] if max_length is not None else text)
    arrays = numpy.asarray(texts, dtype=object) if texts else numpy.zeros((0,), dtype=object)
    num_classes = len(names) if names is not None else (int(labels_arr.max()) + 1 if labels_arr is not None else 0)
    _report(verbose, len(files), names, parts, subset)
    return _finish(arrays, _labels(op, labels_arr, label_mode, num_classes), names, parts, batch_size, shuffle, seed)


def _read_wav(op, path):
    with wave.open(path, "rb") as w:
        width, channels, rate, frames = w.getsampwidth(), w.getnchannels(), w.getframerate(), w.getnframes()
        raw = w.readframes(frames)
    if width == 1:
        audio = (numpy.frombuffer(raw, numpy.uint8).astype("float32") - 128.0) / 128.0
    elif width == 2:
        audio = numpy.frombuffer(raw, "<i2").astype("float32") / 32768.0
    elif width == 4:
        audio = numpy.frombuffer(raw, "<i4").astype("float32") / 2147483648.0
    else:
        raise ValueError(f"{op}: {path} has {8 * width}-bit samples; 8, 16 and 32-bit PCM WAV files are read")
    return audio.reshape(-1, channels), rate


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """PCM WAV files under ``directory`` as a Dataset of ``(audio, labels)`` batches, audio (samples, channels).

    Every clip is cut or zero-padded to ``output_sequence_length`` (default: the longest clip). Ember does not
    resample: a ``sampling_rate`` that differs from a file's rate is refused.
    """
    op = "audio_dataset_from_directory"
    if ragged:
        raise ValueError(f"{op}: Ember has no ragged tensors; use ragged=False (clips are padded)")
    files, labels_arr, names = _index_directory(op, directory, labels, class_names, (".wav",), follow_links)
    parts = _subset(op, len(files), validation_split, subset, shuffle, seed)
    clips = []
    for path in files:
        audio, rate = _read_wav(op, path)
        if sampling_rate is not None and rate != int(sampling_rate):
            raise ValueError(f"{op}: {path} is sampled at {rate} Hz, not {sampling_rate}; Ember does not resample")
        clips.append(audio)
    length = output_sequence_length or max((len(c) for c in clips), default=0)
    channels = max((c.shape[1] for c in clips), default=1)
    arrays = numpy.zeros((len(clips), int(length), channels), dtype="float32")
    for i, c in enumerate(clips):
        n = min(len(c), int(length))
        arrays[i, :n, : c.shape[1]] = c[:n]
    num_classes = len(names) if names is not None else (int(labels_arr.max()) + 1 if labels_arr is not None else 0)
    _report(verbose, len(files), names, parts, subset)
    return _finish(arrays, _labels(op, labels_arr, label_mode, num_classes), names, parts, batch_size, shuffle, seed)
