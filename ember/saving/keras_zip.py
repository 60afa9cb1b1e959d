"""Keras 3's ``.keras`` format: a zip holding ``metadata.json``, ``config.json`` and ``model.weights.h5``.

``config.json`` is the model's config in Keras 3's schema (see
``model_config``) with the ``compile_config``; ``model.weights.h5`` is the
``.weights.h5`` layout (see ``weights_h5``) including the optimizer's state,
so training resumes exactly where it stopped. Files written here load in
Keras 3 and files Keras 3 writes load here, for the layers Ember has.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

from ..errors import EmberError, FileFormatError
from .atomic import atomic_path
from .boundary import ember_cause
from .compile_config import compile_config, compile_from_config
from .h5_file import check_readable
from .limits import LoadLimits, allocation_budget, check_zip_members, load_json
from .model_config import model_from_config, serialize_model

# the Keras release whose .keras format this module follows
KERAS_FORMAT_VERSION = "3.15.1"
_CONFIG = "config.json"
_METADATA = "metadata.json"
_WEIGHTS = "model.weights.h5"


def save_keras(model, filepath, include_optimizer=True) -> None:
    """Write ``model`` to ``filepath`` (``.keras``); the old file stays untouched if anything fails.

    Args:
        model: a built Sequential or functional model (or a registered subclass).
        filepath: where to write; should end in ``.keras``.
        include_optimizer: also write the compile config and the optimizer's state.
    """
    import h5py

    from .. import __version__
    from .assets import save_assets
    from .weights_h5 import save_weights_to_group

    if not getattr(model, "built", False):
        raise ValueError(
            f"Cannot save model '{model.name}': it is not built yet. Call it on data, or build it with an input "
            "shape (e.g. pass input_shape to the first layer), before saving."
        )
    config = serialize_model(model)
    if include_optimizer:
        cc = compile_config(model)
        if cc is not None:
            config["compile_config"] = cc
    metadata = {
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "ember_version": __version__,
    }
    config_json = json.dumps(config, default=_json_default)
    with atomic_path(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(_METADATA, json.dumps(metadata))
            zf.writestr(_CONFIG, config_json)
            buffer = io.BytesIO()
            with h5py.File(buffer, "w") as h5:
                save_weights_to_group(model, h5, include_optimizer=include_optimizer)
            zf.writestr(_WEIGHTS, buffer.getvalue())
            save_assets(model, zf)


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True, limits=None):  # noqa: A002
    """Read a ``.keras`` file written by Ember or Keras 3.

    Every declared size is checked before the data is read: the zip members'
    sizes and compression ratios, config.json's size and depth, the weights'
    dataset shapes; the model is built from the config only as far as the
    stored weights can fill it. In ``safe_mode`` the weights member may not
    point outside the archive (external links or storage, virtual datasets)
    and the config may not name code or files (see ``serialization.check_safe``).

    Args:
        filepath: the file.
        custom_objects: dict of name -> your classes/functions.
        compile: compile the model with the saved compile config and restore the optimizer's state.
        safe_mode: refuse Lambda layers, Python bytecode, foreign modules, file paths and external HDF5 data.
        limits: a ``LoadLimits`` (None: the defaults).

    Returns:
        the model.

    Raises:
        UnsafeFileError, ResourceLimitError, FileFormatError: see ``ember.errors``.
    """
    from .boundary import boundary

    filepath = check_readable(filepath, "Keras model file")
    with boundary(f"'{filepath}'", "Keras model file"):
        return _load_keras(filepath, custom_objects, compile, safe_mode, LoadLimits.make(limits))


def _load_keras(filepath, custom_objects, compile, safe_mode, limits):  # noqa: A002
    import h5py

    from .assets import load_assets
    from .h5_safety import scan
    from .weights_h5 import load_weights_from_group

    source = f"'{filepath}'"
    if not zipfile.is_zipfile(filepath):
        with open(filepath, "rb") as f:
            head = f.read(8)
        raise FileFormatError(
            f"{source} is not a .keras file: a .keras file is a zip archive, but this file starts with "
            f"{head!r} and has no zip directory (is it truncated, or another format?)"
        )
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise FileFormatError(f"{source} is a corrupt or truncated .keras file: {err}") from None
    with zf:
        names = set(zf.namelist())
        missing = [n for n in (_CONFIG, _WEIGHTS) if n not in names]
        if missing:
            raise FileFormatError(
                f"{source} is a zip file but not a Keras model: it lacks {missing} (it holds {sorted(names)[:10]})"
            )
        check_zip_members(zf, source, limits, only={_CONFIG, _WEIGHTS, _METADATA})
        config_bytes = _read_member(zf, _CONFIG, source)
        config = load_json(config_bytes, source, _CONFIG, limits)
        if not isinstance(config, dict):
            raise FileFormatError(f"{source}: {_CONFIG} holds a JSON {type(config).__name__}, expected an object")
        weights_bytes = _read_member(zf, _WEIGHTS, source)
        weights_source = f"{source} ({_WEIGHTS})"
        try:
            h5 = h5py.File(io.BytesIO(weights_bytes), "r")
        except OSError as err:
            raise FileFormatError(f"{source}: {_WEIGHTS} inside it is corrupt or truncated ({err})") from None
        with h5:
            inventory = scan(h5, weights_source, safe_mode=safe_mode, limits=limits)
            try:
                with allocation_budget(source, inventory.elements(), limits):
                    model = model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
            except EmberError as err:
                _name_source(err, source)
                raise
            except ValueError as err:
                inner = ember_cause(err)
                if inner is not None:  # ours, re-raised by a layer as its own ValueError
                    raise inner from err
                raise FileFormatError(f"While loading {source}: {err}") from err
            cc = config.get("compile_config")
            if compile and cc:
                compile_from_config(model, cc, custom_objects=custom_objects, safe_mode=safe_mode)
            load_weights_from_group(model, h5, source=weights_source)
        load_assets(model, zf, source)
    return model


def _read_member(zf, name, source) -> bytes:
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, zlib_error(), NotImplementedError, ValueError) as err:
        raise FileFormatError(f"{source}: member {name!r} is corrupt or truncated ({err})") from None


def _name_source(err, source) -> None:
    """Prefix ``err``'s message with the file, unless it names it already."""
    if source not in str(err):
        err.args = (f"While loading {source}: {err}", *err.args[1:])


def zlib_error():
    import zlib

    return zlib.error


def _json_default(obj):
    import numpy

    if isinstance(obj, numpy.generic):
        return obj.item()
    if isinstance(obj, numpy.ndarray):
        return obj.tolist()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} {obj!r} to config.json")
