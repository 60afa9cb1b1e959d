"""The entry points: ``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``, by file type."""

from __future__ import annotations

import os

from ..errors import FileFormatError
from .h5_file import check_readable, is_hdf5
from .limits import LoadLimits


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs) -> None:
    """Save a model to a ``.keras`` file (Keras 3's format), atomically.

    Args:
        model: a built model.
        filepath: a path ending in ``.keras``.
        overwrite: replace an existing file (default True); False raises FileExistsError instead.
        include_optimizer: also save the compile config and the optimizer's state (to resume training).
    """
    if kwargs:
        raise TypeError(f"save_model: unexpected keyword arguments {sorted(kwargs)}")
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")):
        raise ValueError(
            f"save_model('{filepath}'): Ember writes Keras 3's `.keras` format only; the legacy `.h5` full-model "
            "format can be loaded but not written. Use a filename ending in `.keras`."
        )
    if not filepath.endswith(".keras"):
        raise ValueError(f"save_model: the filename must end in `.keras`, got '{filepath}'")
    _check_overwrite(filepath, overwrite)
    from .keras_zip import save_keras

    save_keras(model, filepath, include_optimizer=include_optimizer)


def load_model(
    filepath,
    custom_objects=None,
    compile=True,  # noqa: A002
    safe_mode=True,
    *,
    max_bytes=None,
    max_compression_ratio=None,
    max_json_bytes=None,
    max_json_depth=None,
    max_stand_in_bytes=None,
    limits=None,
):
    """Load a model saved as ``.keras`` (Ember or Keras 3) or as a legacy Keras 2 ``.h5`` file.

    Args:
        filepath: the file; its contents decide the format, not its name.
        custom_objects: dict of name -> your classes/functions used by the model.
        compile: compile the model as it was saved and restore the optimizer's state.
        safe_mode: refuse what would run code or read outside the file: ``Lambda`` layers, marshalled
            functions, classes from modules outside Ember/Keras, file paths in configs (lookup
            vocabularies), HDF5 external links, external storage and virtual datasets. Pass False
            only for files you trust.
        max_bytes, max_compression_ratio, max_json_bytes, max_json_depth, max_stand_in_bytes: raise one of
            the limits of ``LoadLimits`` (the declared sizes checked before reading) for a big file you trust.
        limits: a whole ``LoadLimits`` instead.

    Returns:
        the model.

    Raises:
        FileNotFoundError: no such file.
        ember.errors.UnsafeFileError: refused by safe_mode (a ValueError).
        ember.errors.ResourceLimitError: a declared size over a limit (a ValueError).
        ember.errors.FileFormatError: truncated, corrupt, of another kind, or not fitting its config.
    """
    import zipfile

    limits = LoadLimits.make(
        limits,
        max_bytes=max_bytes,
        max_compression_ratio=max_compression_ratio,
        max_json_bytes=max_json_bytes,
        max_json_depth=max_json_depth,
        max_stand_in_bytes=max_stand_in_bytes,
    )
    filepath = check_readable(filepath, "model file")
    kwargs = dict(custom_objects=custom_objects, compile=compile, safe_mode=safe_mode, limits=limits)
    if zipfile.is_zipfile(filepath):
        from .keras_zip import load_keras

        return load_keras(filepath, **kwargs)
    if is_hdf5(filepath):
        from .legacy_h5 import load_legacy_h5

        return load_legacy_h5(filepath, **kwargs)
    with open(filepath, "rb") as f:
        head = f.read(8)
    if filepath.endswith(".keras"):
        from .keras_zip import load_keras

        return load_keras(filepath, **kwargs)
    raise FileFormatError(
        f"'{filepath}' is neither a .keras zip archive nor an HDF5 file (it starts with {head!r}); "
        "load_model reads Keras 3 `.keras` files and legacy Keras 2 `.h5` files"
    )


def save_weights(model, filepath, overwrite=True) -> None:
    """Save the weights (and optimizer state) to ``filepath`` ending in ``.weights.h5``, atomically."""
    from .weights_h5 import save_weights as _save

    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    _save(model, filepath)


def load_weights(model, filepath, skip_mismatch=False, by_name=False, safe_mode=True, *, max_bytes=None) -> list:
    """Load weights from a ``.weights.h5`` (Keras 3), a legacy ``.h5`` weights file, or a ``.keras`` file.

    Args:
        model: the built model to fill.
        filepath: the file.
        skip_mismatch: skip layers whose weights do not fit, with a warning listing them (layer,
            expected shape, found shape), instead of raising.
        by_name: match layers by name instead of by their position in the model.
        safe_mode: refuse HDF5 external links, external storage and virtual datasets (data that
            would be read from other files); False only for files you trust.
        max_bytes: raise the limit on the bytes the file may declare (``LoadLimits.max_bytes``).

    Returns:
        the list of skipped mismatches ``(path, layer, what, expected, found)``.
    """
    import zipfile

    limits = LoadLimits.make(None, max_bytes=max_bytes)
    filepath = check_readable(filepath, "weights file")
    if zipfile.is_zipfile(filepath):
        from .boundary import boundary

        with boundary(f"'{filepath}'", "Keras model file"):
            return _load_weights_from_keras(model, filepath, skip_mismatch, by_name, safe_mode, limits)
    from .weights_h5 import load_weights as _load

    return _load(model, filepath, skip_mismatch=skip_mismatch, by_name=by_name, safe_mode=safe_mode, limits=limits)


def _load_weights_from_keras(model, filepath, skip_mismatch, by_name, safe_mode, limits) -> list:
    import io
    import zipfile

    import h5py

    from .h5_safety import scan
    from .limits import check_zip_members
    from .weights_h5 import load_weights_from_group

    source = f"'{filepath}'"
    with zipfile.ZipFile(filepath) as zf:
        if "model.weights.h5" not in zf.namelist():
            raise FileFormatError(f"{source} is a zip file without model.weights.h5: not a .keras file")
        check_zip_members(zf, source, limits, only={"model.weights.h5"})
        data = zf.read("model.weights.h5")
    with h5py.File(io.BytesIO(data), "r") as h5:
        scan(h5, f"{source} (model.weights.h5)", safe_mode=safe_mode, limits=limits)
        return load_weights_from_group(model, h5, skip_mismatch, by_name, source=f"{source} (model.weights.h5)")


def _check_overwrite(filepath, overwrite) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"'{filepath}' exists and overwrite=False")
