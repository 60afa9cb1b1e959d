"""The Gluon way: ``save_parameters`` / ``load_parameters`` on any model or layer.

Parameters are stored as plain named tensors (``.npz`` or ``.safetensors``)
under their structural names ``<layer path>/<variable name>``
(``dense_1/kernel``), so a file written from one instance loads into another
instance built the same way.
"""

from __future__ import annotations

import numpy

from ..errors import FileFormatError
from .tensors import load_tensors, save_tensors


def named_parameters(layer) -> dict:
    """``{"<path>/<variable name>": Variable}`` for every variable of ``layer`` (optimizers excluded)."""
    from ..optimizers.base import Optimizer
    from .weights_h5 import own_variables, walk

    out = {}
    for path, obj in walk(layer):
        if isinstance(obj, Optimizer):
            continue
        for i, var in enumerate(own_variables(obj)):
            name = f"{path}/{i}:{getattr(var, 'name', 'variable')}" if path else f"{i}:{var.name}"
            out[name] = var
    return out


def save_parameters(layer, path) -> None:
    """Write the layer's (or model's) parameters to ``path`` (``.npz`` or ``.safetensors``)."""
    if not getattr(layer, "built", True):
        raise ValueError(f"save_parameters: '{layer.name}' is not built yet, so it has no parameters to save")
    save_tensors({k: v.numpy() for k, v in named_parameters(layer).items()}, path)


def load_parameters(layer, path, allow_missing=False, ignore_extra=False, *, max_bytes=None) -> None:
    """Load parameters written by ``save_parameters`` into ``layer``.

    Args:
        layer: a built layer or model with the same structure as the one saved.
        path: the ``.npz`` / ``.safetensors`` file.
        allow_missing: leave parameters absent from the file as they are (default: error).
        ignore_extra: ignore names in the file that the layer lacks (default: error).
        max_bytes: raise the limit on the bytes the file may declare (see ``LoadLimits``).

    Raises:
        ember.errors.FileFormatError: the file's names or shapes do not fit the layer (or the file is bad).
    """
    params = named_parameters(layer)
    stored = load_tensors(path, max_bytes=max_bytes)
    missing = [k for k in params if k not in stored]
    extra = [k for k in stored if k not in params]
    if missing and not allow_missing:
        raise FileFormatError(f"load_parameters('{path}'): the file lacks {missing} (pass allow_missing=True to skip)")
    if extra and not ignore_extra:
        raise FileFormatError(
            f"load_parameters('{path}'): the file has {extra}, which '{layer.name}' lacks "
            "(pass ignore_extra=True to skip)"
        )
    bad = [
        f"{k}: expected {tuple(params[k].shape)}, found {tuple(stored[k].shape)}"
        for k in params
        if k in stored and tuple(stored[k].shape) != tuple(params[k].shape)
    ]
    bad += [
        f"{k}: expected numbers, found dtype {stored[k].dtype}"
        for k in params
        if k in stored and numpy.asarray(stored[k]).dtype.kind not in "biuf"
    ]
    if bad:
        raise FileFormatError(f"load_parameters('{path}'): shapes or dtypes differ: " + "; ".join(bad))
    for k, var in params.items():
        if k in stored:
            var.assign(numpy.asarray(stored[k]).astype(var.dtype, copy=False))
