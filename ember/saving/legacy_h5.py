"""Legacy Keras 2 HDF5 files: full models (``model.save("m.h5")``) and weights (``save_weights("w.h5")``).

The layout::

    /                       attrs: model_config (JSON), training_config (JSON), keras_version, backend
    /model_weights          attrs: layer_names = [layer names in model order]
    /model_weights/<layer>  attrs: weight_names = ["<layer>/kernel:0", "<layer>/bias:0"]
    /model_weights/<layer>/<weight name>   datasets
    /optimizer_weights      attrs: weight_names = [...]  (optional)

A weights-only file has the ``model_weights`` content at its root. Each
layer's ``weight_names`` list its weights in the layer's ``weights`` order,
which is how they are matched (by layer position, or by layer name).
"""

from __future__ import annotations

import warnings

import numpy

from ..errors import EmberError, FileFormatError
from .boundary import ember_cause
from .h5_file import open_h5
from .h5_safety import read_attr, scan
from .limits import LoadLimits, allocation_budget, load_json


def load_legacy_h5(filepath, custom_objects=None, compile=True, safe_mode=True, limits=None):  # noqa: A002
    """A model from a legacy Keras 2 (or Keras 3 legacy-writer) ``.h5`` file.

    Args:
        filepath: the ``.h5`` file.
        custom_objects: dict of name -> your classes/functions.
        compile: compile with the saved ``training_config`` (optimizer state is restored when it fits).
        safe_mode: refuse Lambda layers, Python bytecode, foreign modules, file paths and data outside the file.
        limits: a ``LoadLimits`` (None: the defaults).
    """
    from .boundary import boundary
    from .h5_file import check_readable

    filepath = check_readable(filepath, "legacy Keras .h5 model file")
    with boundary(f"'{filepath}'", "legacy Keras .h5 model file"):
        return _load_legacy_h5(filepath, custom_objects, compile, safe_mode, LoadLimits.make(limits))


def _load_legacy_h5(filepath, custom_objects, compile, safe_mode, limits):  # noqa: A002
    from .compile_config import compile_from_config
    from .model_config import model_from_config

    source = f"'{filepath}'"
    with open_h5(filepath, "legacy Keras .h5 model file") as f:
        inventory = scan(f, source, safe_mode=safe_mode, limits=limits)
        raw = read_attr(f, "model_config", source, limits)
        if raw is None:
            if "layer_names" in f.attrs:
                raise FileFormatError(
                    f"{source} holds only weights (no 'model_config'): build the model in code and call "
                    "load_weights on it"
                )
            raise FileFormatError(
                f"{source} is an HDF5 file but not a Keras model: it has no 'model_config' attribute "
                f"(attributes: {sorted(f.attrs.keys())}, groups: {sorted(f.keys())[:10]})"
            )
        config = _json_attr(raw, source, "model_config", limits)
        if not isinstance(config, dict):
            raise FileFormatError(f"{source}: 'model_config' holds a JSON {type(config).__name__}, expected an object")
        if "model_weights" not in f:
            raise FileFormatError(f"{source} has a model_config but no 'model_weights' group (truncated?)")
        try:
            with allocation_budget(source, inventory.elements("model_weights/"), limits):
                model = model_from_config(_upgrade(config), custom_objects=custom_objects, safe_mode=safe_mode)
        except EmberError as err:
            if source not in str(err):
                err.args = (f"While loading {source}: {err}", *err.args[1:])
            raise
        except ValueError as err:
            inner = ember_cause(err)
            if inner is not None:  # ours, re-raised by a layer as its own ValueError
                raise inner from err
            raise FileFormatError(f"While loading {source}: {err}") from err
        load_legacy_weights(model, f["model_weights"], source=source, limits=limits)
        training = read_attr(f, "training_config", source, limits)
        if compile and training is not None:
            training = _json_attr(training, source, "training_config", limits)
            if not isinstance(training, dict):
                raise FileFormatError(f"{source}: 'training_config' is not a JSON object")
            cc = dict(training)
            opt = cc.pop("optimizer_config", None)
            cc["optimizer"] = opt
            compile_from_config(model, cc, custom_objects=custom_objects, safe_mode=safe_mode)
            if "optimizer_weights" in f:
                _load_optimizer_weights(model, f["optimizer_weights"], filepath, limits)
    return model


def load_legacy_weights(model, root, by_name=False, skip_mismatch=False, source="the file", limits=None) -> list:
    """Load Keras 2-layout weights (``layer_names`` / ``weight_names``) from an open h5py group into ``model``.

    Shapes are compared from the datasets' declarations; no data is read until every one fits.

    Returns:
        the skipped mismatches ``(path, layer, what, expected, found)`` (only with ``skip_mismatch``).
    """
    from .weights_h5 import WeightsMismatchError, _report

    limits = limits or LoadLimits()
    names = [_str(n) for n in _list_attr(root, "layer_names", source, limits)]
    saved = []
    for name in names:
        group = root.get(name)
        if not isinstance(group, _h5py().Group):
            raise FileFormatError(f"{source}: 'layer_names' lists {name!r}, but the file has no group of that name")
        weight_names = [_str(w) for w in _list_attr(group, "weight_names", source, limits)]
        datasets = []
        for w in weight_names:
            dset = group.get(w)
            if not isinstance(dset, _h5py().Dataset):
                raise FileFormatError(f"{source}: layer {name!r} lists weight {w!r}, which is not a dataset in it")
            datasets.append(dset)
        saved.append((name, datasets, weight_names))
    layers = _flat_layers(model)
    pairs, mismatches = [], []
    if by_name:
        by = {name: (arrays, wn) for name, arrays, wn in saved}
        for layer in layers:
            if layer.name in by:
                pairs.append((layer, *by[layer.name]))
    else:
        with_weights = [layer for layer in layers if layer.weights]
        saved_with = [s for s in saved if s[1]]
        if len(with_weights) != len(saved_with):
            message = (
                f"The weights in {source} are for a model with {len(saved_with)} layers that have weights "
                f"({[s[0] for s in saved_with]}), but the model has {len(with_weights)} "
                f"({[layer.name for layer in with_weights]}). Use by_name=True to match layers by name."
            )
            raise WeightsMismatchError(message, [("", "", "layer count", len(with_weights), len(saved_with))])
        pairs = [(layer, arrays, wn) for layer, (_, arrays, wn) in zip(with_weights, saved_with)]
    plans = []
    for layer, datasets, weight_names in pairs:
        own = layer.weights
        if len(own) != len(datasets):
            mismatches.append((layer.name, layer.name, "weight count", len(own), len(datasets)))
            continue
        bad = False
        for var, dset, wn in zip(own, datasets, weight_names):
            if tuple(var.shape) != tuple(dset.shape or ()):
                mismatches.append((layer.name, layer.name, f"weight {wn}", tuple(var.shape), tuple(dset.shape or ())))
                bad = True
        if not bad:
            plans.append((own, datasets))
    if mismatches and not skip_mismatch:
        raise WeightsMismatchError(_report(source, mismatches, "Pass skip_mismatch=True to load the rest."), mismatches)
    if mismatches:
        warnings.warn(_report(source, mismatches, "These were skipped."), stacklevel=3)
    for own, datasets in plans:
        for var, dset in zip(own, datasets):
            var.assign(numpy.asarray(dset[()]).astype(var.dtype, copy=False).reshape(var.shape))
    return mismatches


def _load_optimizer_weights(model, group, filepath, limits) -> None:
    names = [_str(n) for n in _list_attr(group, "weight_names", f"'{filepath}'", limits)]
    datasets = [group.get(n) for n in names]
    optimizer = model.optimizer
    fits = (
        optimizer is not None
        and optimizer.built
        and len(datasets) == len(optimizer.variables)
        and all(
            isinstance(d, _h5py().Dataset) and tuple(d.shape or ()) == tuple(v.shape)
            for d, v in zip(datasets, optimizer.variables)
        )
    )
    if not fits:
        warnings.warn(
            f"'{filepath}': the optimizer state ({len(datasets)} arrays) does not fit the rebuilt optimizer "
            f"({len(optimizer.variables) if optimizer is not None else 0} variables); it starts fresh",
            stacklevel=3,
        )
        return
    arrays = [numpy.asarray(d[()]) for d in datasets]
    try:
        optimizer.set_weights(arrays)
    except ValueError as err:
        warnings.warn(f"'{filepath}': optimizer state not restored ({err})", stacklevel=3)


def _flat_layers(model) -> list:
    """The model's layers in order, as the legacy format lists them (InputLayers included for functional)."""
    from ..models.sequential import Sequential

    layers = list(model.layers)
    if isinstance(model, Sequential) and model._input_layer is not None:
        layers = [model._input_layer, *layers]
    return layers


def _upgrade(config):
    """Keras 2 spellings in a model config that Keras 3 (and Ember) name differently."""
    if isinstance(config, dict) and config.get("class_name") == "Model":
        config = {**config, "class_name": "Functional"}
    return config


def _json_attr(raw, source, name, limits):
    if isinstance(raw, numpy.ndarray) and raw.shape == ():
        raw = raw[()]
    if not isinstance(raw, (bytes, str)):
        raise FileFormatError(f"{source}: the '{name}' attribute should be JSON text, found {type(raw).__name__}")
    return load_json(raw, source, f"the '{name}' attribute", limits)


def _list_attr(obj, name, source, limits) -> list:
    value = read_attr(obj, name, source, limits, default=[])
    value = numpy.atleast_1d(numpy.asarray(value))
    if value.size == 0:
        return []
    if value.ndim != 1 or value.dtype.kind not in "SUO":
        raise FileFormatError(f"{source}: attribute '{name}' of '{obj.name}' should be a list of names")
    return list(value)


def _h5py():
    import h5py

    return h5py


def _str(x) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)
