"""A Python generator as a dataset: called anew for each epoch, one element per ``next``."""

from __future__ import annotations

from contextlib import closing, nullcontext

from ..dataset import Dataset
from ..structure import flatten, map_structure, to_default_float, unflatten

__all__ = ["GeneratorDataset"]


class GeneratorDataset(Dataset):
    """Elements are what ``generator()`` yields (see ``Dataset.from_generator``)."""

    def __init__(self, generator, output_signature=None):
        if not callable(generator):
            raise TypeError(
                "from_generator: expected a callable that returns an iterator (e.g. a generator function), "
                f"got {type(generator).__name__}; wrap an iterable as `lambda: iter(data)` if it can be re-read"
            )
        self._gen = generator
        self._signature = output_signature
        if output_signature is not None:
            self._sig_leaves, self._sig_spec = flatten(output_signature)

    def _iter(self):
        it = iter(self._gen())
        with closing(it) if hasattr(it, "close") else nullcontext():
            for i, element in enumerate(it):
                if self._signature is None:
                    yield map_structure(to_default_float, element)
                    continue
                leaves, spec = flatten(element)
                if spec != self._sig_spec:
                    raise ValueError(
                        f"from_generator: element {i} does not match output_signature "
                        f"{self._signature!r}: got {element!r}"
                    )
                yield unflatten(
                    spec, [s.convert(v, f"from_generator: element {i}") for s, v in zip(self._sig_leaves, leaves)]
                )
