"""Host-side helpers shared by the preprocessing layers: string inputs and ``adapt`` data.

Ember tensors hold numbers only, so layers that read strings (``StringLookup``,
``TextVectorization``) take NumPy string arrays, lists of ``str``/``bytes`` or
Python strings, and do their lookups on the host before handing integer or
float Ember tensors to the rest of the model.
"""

from __future__ import annotations

import numpy

from ...engine.tensor import Tensor


def is_string_data(x) -> bool:
    """Whether ``x`` holds text: a ``str``/``bytes``, a NumPy string/object array, or a (nested) list of them."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, Tensor):
        return False
    if isinstance(x, numpy.ndarray):
        return x.dtype.kind in "USO"
    if isinstance(x, (list, tuple)):
        flat = x
        while isinstance(flat, (list, tuple)) and flat:
            flat = flat[0]
        return isinstance(flat, (str, bytes, numpy.str_, numpy.bytes_))
    return False


def to_string_array(x, where: str, encoding: str = "utf-8") -> numpy.ndarray:
    """``x`` as a NumPy unicode array (bytes decoded with ``encoding``)."""
    a = numpy.asarray(x.numpy() if isinstance(x, Tensor) else x)
    if a.dtype.kind == "S":
        a = numpy.char.decode(a, encoding)
    elif a.dtype.kind == "O":
        a = numpy.array([v.decode(encoding) if isinstance(v, bytes) else str(v) for v in a.ravel()], dtype=str).reshape(
            a.shape
        )
    elif a.dtype.kind != "U":
        raise TypeError(f"{where}: expected strings (str, bytes or a NumPy string array), got dtype {a.dtype}")
    return a


def to_host_array(x) -> numpy.ndarray:
    """``x`` (a Tensor, array or nested list) as a NumPy array."""
    return numpy.asarray(x.numpy() if isinstance(x, Tensor) else x)


def _first(element):
    """The features of a dataset element: ``x`` of ``(x, y)`` / ``(x, y, w)``, else the element."""
    if isinstance(element, tuple) and element:
        return element[0]
    return element


def iter_adapt_batches(data, steps=None, batch_unbatched_ndim=None):
    """The batches ``adapt`` reads from ``data``.

    Arrays, tensors, lists and tuples are one batch. An ``ember.data.Dataset``
    or any other iterable yields its elements (the features ``x`` of ``(x, y)``
    pairs) as batches, stopping after ``steps`` when given. When
    ``batch_unbatched_ndim`` is set and a dataset's elements have that rank,
    they are single samples and are grouped by 128 first (as Keras does for an
    unbatched ``tf.data.Dataset``).
    """
    from ...data import Dataset

    if isinstance(data, (numpy.ndarray, Tensor, list, tuple, str, bytes)):
        yield data
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"adapt: expected an array, a list, an ember.data.Dataset or an iterable of batches, "
            f"got {type(data).__name__}"
        )
    if isinstance(data, Dataset) and batch_unbatched_ndim is not None:
        first = next(iter(data), None)
        if first is not None and numpy.ndim(to_host_array(_first(first))) == batch_unbatched_ndim:
            data = data.batch(128)
    for i, element in enumerate(data):
        if steps is not None and i >= steps:
            break
        yield _first(element)
