"""Turning what users pass to ``fit``/``evaluate``/``predict`` into batches.

In-memory data (NumPy arrays, tensors, lists of them for several inputs, dicts
for named inputs) is converted once per call to contiguous host arrays
(float64 becomes float32), and each batch is one fancy index per array. A
``ember.data.Dataset`` or a Python iterator of batches is read as it comes.
Batches are ``(x, y, sample_weight)`` with NumPy arrays (any of y and
sample_weight may be None).

Bad input is refused here, before any step runs, with
:class:`ember.errors.DataError` (a ``ValueError``, the type Keras raises for
these) naming the argument, what was expected and what came: ``x=None``, no
samples, a ``batch_size`` that is not a positive integer, ragged nested lists,
complex numbers, Python objects, and strings (``x`` may hold strings only for a
model with a layer that reads them, such as ``StringLookup``).
"""

from __future__ import annotations

import math
import numbers

import numpy

from ..backend.config import floatx
from ..engine.random import default_generator
from ..engine.tensor import Tensor
from ..errors import DataError
from ..layers.symbolic import flatten, pack_like


def check_batch_size(batch_size, name="batch_size"):
    """``batch_size`` as an int: a positive integer (a NumPy integer too), or None; else DataError."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise DataError(
            f"{name}: expected a positive integer (or None), got {batch_size!r} ({type(batch_size).__name__})"
        )
    if batch_size <= 0:
        raise DataError(f"{name}: expected a positive integer (or None), got {batch_size}")
    return int(batch_size)


def _describe_item(v) -> str:
    if isinstance(v, (list, tuple)):
        return f"a {type(v).__name__} of {len(v)}"
    if isinstance(v, numpy.ndarray):
        return f"an array of shape {v.shape}"
    return f"a {type(v).__name__}"


def _ragged_place(value, path, depth=0):
    """The first place where sibling items of nested lists differ in shape: ``(path_a, what_a, path_b, what_b)``."""
    if depth > 64 or not isinstance(value, (list, tuple)) or not value:
        return None
    kinds = [len(v) if isinstance(v, (list, tuple)) else (v.shape if isinstance(v, numpy.ndarray) else None)
             for v in value]  # fmt: skip
    for i, kind in enumerate(kinds):
        if kind != kinds[0]:
            return f"{path}[{i}]", _describe_item(value[i]), f"{path}[0]", _describe_item(value[0])
    for i, v in enumerate(value):
        found = _ragged_place(v, f"{path}[{i}]", depth + 1)
        if found is not None:
            return found
    return None


def _first_string(x: numpy.ndarray):
    index = tuple(int(i) for i in numpy.unravel_index(0, x.shape)) if x.size else ()
    return "".join(f"[{i}]" for i in index), (x[index].item() if x.size else None)


def to_host_array(x, name="x", allow_strings=False):
    """``x`` as a NumPy array with Ember's dtype rules (float64 -> floatx), no copy when already fine.

    Raises:
        DataError: ragged nested lists, complex numbers, Python objects, dates, or strings (unless
            ``allow_strings``), naming ``name`` and the first offending place.
    """
    if x is None:
        return None
    if isinstance(x, Tensor):
        x = x.numpy()
    elif hasattr(x, "to_numpy") and not isinstance(x, numpy.ndarray):  # pandas DataFrame / Series
        x = x.to_numpy()
    try:
        array = numpy.asarray(x)
    except ValueError as e:  # "inhomogeneous shape": ragged nested lists
        place = _ragged_place(x, name)
        where = f": {place[0]} is {place[1]} but {place[2]} is {place[3]}" if place else f" ({e})"
        raise DataError(
            f"{name}: expected an array or nested lists of one shape (every row the same length), "
            f"got ragged nested lists{where}; pad them (ember.utils.pad_sequences) or pass a Dataset"
        ) from None
    kind = array.dtype.kind
    if kind == "f" and array.dtype == numpy.float64:
        return array.astype(floatx())
    if kind in "biuf":
        return array
    if kind == "c":
        raise DataError(
            f"{name}: expected real numbers, got complex values (dtype {array.dtype}, shape {array.shape}); "
            "pass the real and imaginary parts as separate features (numpy.real, numpy.imag)"
        )
    if kind in "US":
        if allow_strings:
            return array
        at, value = _first_string(array)
        raise DataError(
            f"{name}: expected numbers, got strings (dtype {array.dtype}, shape {array.shape}; {name}{at} is "
            f"{value!r})"
            + ("; convert them to numbers first (e.g. with ember.layers.StringLookup)" if name[:1] == "x" else "")
        )
    if kind == "O":
        raise DataError(
            f"{name}: expected numeric data, got an array of Python objects (dtype=object, shape {array.shape}); "
            "mixed types or None values cannot be trained on"
        )
    raise DataError(f"{name}: expected numeric data, got dtype {array.dtype} (shape {array.shape})")


def to_host_structure(data, name, allow_strings=False):
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: to_host_array(v, f"{name}[{k!r}]", allow_strings) for k, v in data.items()}
    if isinstance(data, (list, tuple)) and data and _is_array_like(data[0]) and not _is_scalar_list(data):
        return [to_host_array(v, f"{name}[{i}]", allow_strings) for i, v in enumerate(data)]
    return to_host_array(data, name, allow_strings)


def _is_array_like(v) -> bool:
    return isinstance(v, (numpy.ndarray, Tensor)) or hasattr(v, "to_numpy")


def _is_scalar_list(data) -> bool:
    return all(numpy.ndim(v) == 0 for v in data)


def is_dataset(x) -> bool:
    """True for an ``ember.data.Dataset`` (or anything iterable of batches that is not an array)."""
    from ..data import dataset as dataset_module

    return isinstance(x, getattr(dataset_module, "Dataset", ())) or (
        hasattr(x, "__iter__") and not isinstance(x, (numpy.ndarray, Tensor, list, tuple, dict))
    )


class ArrayBatches:
    """Batches of in-memory arrays: one fancy index (or slice) per array per batch."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        if x is None:
            raise DataError(_NO_X)
        self.x = to_host_structure(x, "x", allow_strings=True)  # checked against the model in check_inputs
        self.y = to_host_structure(y, "y")
        self.sample_weight = to_host_array(sample_weight, "sample_weight")
        named = [("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight)]
        for name, part in named:
            for a in flatten(part) if part is not None else []:
                if a is not None and a.ndim == 0:
                    raise DataError(f"{name}: expected an array with the samples on its first axis, got a scalar {a}")
        flat = [a for a in flatten(self.x) + flatten(self.y) + [self.sample_weight] if a is not None]
        sizes = {a.shape[0] for a in flat}
        if len(sizes) > 1:
            described = ", ".join(str(a.shape) for a in flat)
            raise DataError(
                f"Data cardinality is ambiguous: the arrays have different numbers of samples ({described}); "
                "make sure all arrays contain the same number of samples"
            )
        self.num_samples = sizes.pop() if sizes else 0
        if self.num_samples == 0:
            shapes = ", ".join(f"{n} {a.shape}" for n, part in named if part is not None for a in flatten(part))
            raise DataError(f"x: expected at least one sample, got no samples (empty arrays: {shapes or 'none'})")
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = shuffle
        self.order_state = None  # the generator state this epoch's shuffle order was drawn from
        self._resume_at = None  # (first step, order state) for the next epoch, set by resume()

    @property
    def steps(self) -> int:
        return math.ceil(self.num_samples / self.batch_size)

    def resume(self, first_step: int, order_state=None) -> None:
        """Make the next epoch start at batch ``first_step``, in the order drawn from ``order_state``.

        What ``BackupAndRestore`` calls to continue an epoch a backup stopped in:
        the batches before ``first_step`` are skipped, and with ``shuffle`` the
        order is the interrupted epoch's (``order_state``, the ``order_state``
        of that epoch) while the process-wide generator is left alone.
        """
        _check_resume(first_step, order_state, self.shuffle)
        self._resume_at = (int(first_step), order_state)

    def enumerate_epoch(self):
        """One epoch: yield ``(step, (x, y, sample_weight))``, from the step set by :meth:`resume` (else 0).

        With ``shuffle`` the order is a permutation drawn from the process-wide
        generator at the epoch's start; its state before that draw is kept in
        ``order_state``, so a backup can redraw the same order.
        """
        n, size = self.num_samples, self.batch_size
        first, order_state = self._resume_at or (0, None)
        self._resume_at = None
        order = None
        if self.shuffle:
            if order_state is None:
                stream = default_generator().for_device(_cpu())
                order_state = stream.bit_generator.state
                order = stream.permutation(n)
            else:
                order = _generator_at(order_state).permutation(n)
        self.order_state = order_state
        for step, start in enumerate(range(0, n, size)):
            if step < first:
                continue
            index = slice(start, min(start + size, n)) if order is None else order[start : start + size]
            yield step, (self._take(self.x, index), self._take(self.y, index), _take_one(self.sample_weight, index))

    def __iter__(self):
        for _, batch in self.enumerate_epoch():
            yield batch

    @staticmethod
    def _take(structure, index):
        if type(structure) is numpy.ndarray:  # the common case, without a second call
            out = structure[index]
            return out if out.flags.c_contiguous else numpy.ascontiguousarray(out)
        if structure is None:
            return None
        if isinstance(structure, dict):
            return {k: _take_one(v, index) for k, v in structure.items()}
        if isinstance(structure, list):
            return [_take_one(v, index) for v in structure]
        return _take_one(structure, index)

    def split(self, fraction: float):
        """Keras's validation_split: the last ``fraction`` of the samples (before any shuffling)."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
        cut = int(self.num_samples * (1.0 - fraction))
        if cut == 0 or cut == self.num_samples:
            raise ValueError(
                f"validation_split={fraction} leaves no training or no validation samples out of {self.num_samples}"
            )

        def part(s, index):
            return None if s is None else pack_like(s, [_take_one(a, index) for a in flatten(s)])

        first, last = slice(0, cut), slice(cut, None)
        train = (part(self.x, first), part(self.y, first), _take_one(self.sample_weight, first))
        val = (part(self.x, last), part(self.y, last), _take_one(self.sample_weight, last))
        return train, val


def _take_one(a, index):
    if a is None:
        return None
    out = a[index]
    return out if out.flags.c_contiguous else numpy.ascontiguousarray(out)


def _cpu():
    from ..backend.device import CPU

    return CPU


def _generator_at(state):
    """A NumPy Generator whose bit generator is at ``state`` (a ``bit_generator.state`` dict)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    bit_generator_class = getattr(numpy.random, str(name), None)
    if bit_generator_class is None:
        raise ValueError(f"resume: expected a NumPy bit generator state for the shuffle order, got {state!r:.200}")
    bit_generator = bit_generator_class()
    bit_generator.state = state
    return numpy.random.Generator(bit_generator)


def _check_resume(first_step, order_state, shuffle) -> None:
    if isinstance(first_step, bool) or not isinstance(first_step, (int, numpy.integer)) or first_step < 0:
        raise ValueError(
            f"resume: first_step must be an int >= 0 (the batches of the epoch already done), got {first_step!r}"
        )
    if shuffle and first_step > 0 and order_state is None:
        raise ValueError(
            "resume: the data is shuffled, so continuing an epoch at a batch > 0 needs the generator state its "
            "order was drawn from (order_state); got None"
        )


class IterableBatches:
    """Batches from a Dataset or an iterator: each element is x, (x,), (x, y) or (x, y, sample_weight)."""

    def __init__(self, source, steps=None):
        self.source = source
        self.steps_limit = steps
        self._iterator = None
        self.order_state = None  # a Dataset shuffles on its own; nothing to save here
        self._resume_at = None

    @property
    def steps(self):
        if self.steps_limit is not None:
            return self.steps_limit
        length = getattr(self.source, "cardinality", None)
        if callable(length):
            n = length()
            return n if n is not None and n >= 0 else None
        return None

    def resume(self, first_step: int, order_state=None) -> None:
        """Make the next epoch skip its first ``first_step`` batches (read and dropped: no random access)."""
        _check_resume(first_step, None, False)
        self._resume_at = int(first_step)

    def enumerate_epoch(self):
        """One epoch: yield ``(step, (x, y, sample_weight))``, the first ``resume()`` steps read but not yielded."""
        first, self._resume_at = getattr(self, "_resume_at", None) or 0, None
        for step, batch in enumerate(self):
            if step >= first:
                yield step, batch

    def __iter__(self):
        if self.steps_limit is not None:
            # like Keras, a fixed number of steps keeps reading one iterator across epochs
            if self._iterator is None:
                self._iterator = iter(self.source)
            for _ in range(self.steps_limit):
                try:
                    element = next(self._iterator)
                except StopIteration:
                    self._iterator = None
                    return
                yield self._checked(unpack(element))
            return
        for element in self.source:
            yield self._checked(unpack(element))

    def _checked(self, batch):
        model = getattr(self, "string_check_model", None)  # set by check_inputs
        if model is not None:
            _refuse_strings(model, batch[0], "x (a batch of the dataset)")
        return batch


def unpack(element):
    """``(x, y, sample_weight)`` from a batch given as x, (x,), (x, y) or (x, y, sample_weight)."""
    if isinstance(element, tuple):
        if len(element) == 1:
            return to_host_structure(element[0], "x", allow_strings=True), None, None
        if len(element) == 2:
            return to_host_structure(element[0], "x", allow_strings=True), to_host_structure(element[1], "y"), None
        if len(element) == 3:
            x, y, sw = element
            return (
                to_host_structure(x, "x", allow_strings=True),
                to_host_structure(y, "y"),
                to_host_array(sw, "sample_weight"),
            )
        raise ValueError(f"expected batches of (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(element)}")
    return to_host_structure(element, "x"), None, None


_NO_X = (
    "x is None: expected the model inputs (an array, nested lists of one shape, a list or dict of arrays, "
    "an ember.data.Dataset or an iterator of batches)"
)


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
    """The right batch source for what the user passed."""
    if x is None:
        raise DataError(_NO_X)
    batch_size = check_batch_size(batch_size)
    if is_dataset(x):
        if y is not None:
            raise ValueError("`y` must not be given when `x` is a dataset or an iterator: it yields (x, y) already")
        if batch_size is not None:
            raise ValueError(
                "`batch_size` must not be given when `x` is a dataset or an iterator: it is already batched"
            )
        return IterableBatches(x, steps)
    return ArrayBatches(x, y, sample_weight, batch_size if batch_size is not None else 32, shuffle)


def _may_read_strings(model) -> bool:
    """Whether ``model`` may hold a layer that reads strings (a lookup layer, a Lambda, or user code)."""
    from ..layers.preprocessing.index_lookup import IndexLookup
    from ..layers.preprocessing.text_vectorization import TextVectorization

    for layer in model._flatten_layers():
        cls = type(layer)
        if isinstance(layer, (IndexLookup, TextVectorization)) or cls.__name__ == "Lambda":
            return True
        if not cls.__module__.startswith("ember."):  # a user's layer or model: its call may take anything
            return True
    return False


def check_inputs(model, data) -> None:
    """Refuse string inputs for a model none of whose layers reads strings (DataError naming the input).

    Called by the trainer before a model first sees in-memory data (``fit``, ``evaluate``, ``predict``,
    ``*_on_batch``); the other checks happen when the data is converted (``to_host_array``).
    """
    if isinstance(data, IterableBatches):  # checked batch by batch as the batches come
        data.string_check_model = model
        return
    if isinstance(data, ArrayBatches):
        _refuse_strings(model, data.x, "x")


def _refuse_strings(model, x, name):
    parts = x.items() if isinstance(x, dict) else (enumerate(x) if isinstance(x, list) else [(None, x)])
    for key, a in parts:
        if isinstance(a, numpy.ndarray) and a.dtype.kind in "US":
            if _may_read_strings(model):
                return
            where = name if key is None else f"{name}[{key!r}]"
            at, value = _first_string(a)
            raise DataError(
                f"{where}: expected numbers, got strings (dtype {a.dtype}, shape {a.shape}; element {at} is "
                f"{value!r}) and model '{getattr(model, 'name', '?')}' has no layer that reads strings; convert "
                "them to numbers first (e.g. with ember.layers.StringLookup)"
            )
