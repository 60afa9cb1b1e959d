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

import json
import warnings

import numpy

from .h5_file import open_h5


def load_legacy_h5(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """A model from a legacy Keras 2 (or Keras 3 legacy-writer) ``.h5`` file.

    Args:
        filepath: the ``.h5`` file.
        custom_objects: dict of name -> your classes/functions.
        compile: compile with the saved ``training_config`` (optimizer state is restored when it fits).
        safe_mode: refuse Lambda layers and Python bytecode.
    """
    from .compile_config import compile_from_config
    from .model_config import model_from_config

    with open_h5(filepath, "legacy Keras .h5 model file") as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            if "layer_names" in f.attrs:
                raise ValueError(
                    f"'{filepath}' holds only weights (no 'model_config'): build the model in code and call "
                    "load_weights on it"
                )
            raise ValueError(
                f"'{filepath}' is an HDF5 file but not a Keras model: it has no 'model_config' attribute "
                f"(attributes: {sorted(f.attrs.keys())}, groups: {sorted(f.keys())[:10]})"
            )
        config = _json_attr(raw, filepath, "model_config")
        try:
            model = model_from_config(_upgrade(config), custom_objects=custom_objects, safe_mode=safe_mode)
        except ValueError as err:
            raise type(err)(f"While loading '{filepath}': {err}") from err
        if "model_weights" not in f:
            raise ValueError(f"'{filepath}' has a model_config but no 'model_weights' group (truncated?)")
        load_legacy_weights(model, f["model_weights"], source=f"'{filepath}'")
        training = f.attrs.get("training_config")
        if compile and training is not None:
            training = _json_attr(training, filepath, "training_config")
            cc = dict(training)
            opt = cc.pop("optimizer_config", None)
            cc["optimizer"] = opt
            compile_from_config(model, cc, custom_objects=custom_objects, safe_mode=safe_mode)
            if "optimizer_weights" in f:
                _load_optimizer_weights(model, f["optimizer_weights"], filepath)
    return model


def load_legacy_weights(model, root, by_name=False, skip_mismatch=False, source="the file") -> list:
    """Load Keras 2-layout weights (``layer_names`` / ``weight_names``) from an open h5py group into ``model``.

    Returns:
        the skipped mismatches ``(path, layer, what, expected, found)`` (only with ``skip_mismatch``).
    """
    from .weights_h5 import WeightsMismatchError, _report

    names = [_str(n) for n in root.attrs.get("layer_names", [])]
    saved = []
    for name in names:
        group = root[name]
        weight_names = [_str(w) for w in group.attrs.get("weight_names", [])]
        saved.append((name, [numpy.asarray(group[w][()]) for w in weight_names], weight_names))
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
    for layer, arrays, weight_names in pairs:
        own = layer.weights
        if len(own) != len(arrays):
            mismatches.append((layer.name, layer.name, "weight count", len(own), len(arrays)))
            continue
        bad = False
        for var, array, wn in zip(own, arrays, weight_names):
            if tuple(var.shape) != tuple(array.shape):
                mismatches.append((layer.name, layer.name, f"weight {wn}", tuple(var.shape), tuple(array.shape)))
                bad = True
        if not bad:
            plans.append((own, arrays))
    if mismatches and not skip_mismatch:
        raise WeightsMismatchError(_report(source, mismatches, "Pass skip_mismatch=True to load the rest."), mismatches)
    if mismatches:
        warnings.warn(_report(source, mismatches, "These were skipped."), stacklevel=3)
    for own, arrays in plans:
        for var, array in zip(own, arrays):
            var.assign(array.astype(var.dtype, copy=False))
    return mismatches


def _load_optimizer_weights(model, group, filepath) -> None:
    names = [_str(n) for n in group.attrs.get("weight_names", [])]
    arrays = [numpy.asarray(group[n][()]) for n in names]
    optimizer = model.optimizer
    if optimizer is None or not optimizer.built or len(arrays) != len(optimizer.variables):
        warnings.warn(
            f"'{filepath}': the optimizer state ({len(arrays)} arrays) does not fit the rebuilt optimizer "
            f"({len(optimizer.variables) if optimizer is not None else 0} variables); it starts fresh",
            stacklevel=3,
        )
        return
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


def _json_attr(raw, filepath, name):
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw)
    except ValueError as err:
        raise ValueError(f"'{filepath}': the '{name}' attribute is not valid JSON ({err})") from None


def _str(x) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)
