"""Writing the legacy Keras ``.h5`` full-model format (``model.save("m.h5")``), as Keras 3 still does.

Keras 3 writes this format with a warning that it is legacy; so does Ember. The
layout is the one :mod:`ember.saving.legacy_h5` reads (and Keras 3's legacy
loader)::

    /                       attrs: keras_version, backend, model_config (JSON), training_config (JSON)
    /model_weights          attrs: layer_names, keras_version, backend
    /model_weights/<layer>  attrs: weight_names = ["<layer>/kernel", ...]  (the layer's ``weights`` order)
    /model_weights/<layer>/<weight name>   datasets
    /optimizer_weights      attrs: weight_names  (with include_optimizer, once the optimizer is built)

The file is written through an atomic rename, so a failed save leaves an
existing file untouched.
"""

from __future__ import annotations

import json
import warnings

import numpy

from .atomic import atomic_path

LEGACY_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or `keras.saving.save_model(model)`. "
    "This file format is considered legacy. We recommend using instead the native Keras format, "
    "e.g. `model.save('my_model.keras')` or `keras.saving.save_model(model, 'my_model.keras')`."
)
KERAS_VERSION = "3.15.1"


def save_legacy_h5(model, filepath, include_optimizer=True) -> None:
    """Write ``model`` (config, weights, compile config and optimizer state) to a legacy ``.h5`` file.

    Args:
        model: a built Sequential, functional or (with ``get_config``) subclassed model.
        filepath: the destination, ending in ``.h5`` or ``.hdf5``.
        include_optimizer: also write the training config and the optimizer's variables.
    """
    import h5py

    from .compile_config import compile_config
    from .model_config import serialize_model

    warnings.warn(LEGACY_WARNING, UserWarning, stacklevel=3)
    serialized = serialize_model(model)
    model_config = {"class_name": serialized["class_name"], "config": serialized["config"]}
    training_config = None
    if include_optimizer:
        config = compile_config(model)
        if config is not None:
            compiled_metrics = getattr(model, "_compiled_metrics", None)
            training_config = {
                # names stay names, as Keras's legacy writer keeps them (its loader reads them back by name)
                "loss": _names_or(getattr(model, "loss", None), config["loss"]),
                "metrics": _names_or(getattr(compiled_metrics, "spec", None), config["metrics"]),
                "weighted_metrics": _names_or(
                    getattr(compiled_metrics, "weighted_spec", None), config["weighted_metrics"]
                ),
                "loss_weights": config["loss_weights"],
                "optimizer_config": config["optimizer"],
            }
    with atomic_path(filepath) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "ember"
        f.attrs["model_config"] = json.dumps(model_config, default=_json_default).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config, default=_json_default).encode("utf8")
        write_legacy_weights(f.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None and getattr(optimizer, "built", False):
            _write_variables(f.create_group("optimizer_weights"), list(optimizer.variables))


def write_legacy_weights(group, model) -> None:
    """The ``model_weights`` layout into an open h5py group: one subgroup per layer, in ``model.layers`` order."""
    layers = list(model.layers)
    group.attrs["layer_names"] = [layer.name.encode("utf8") for layer in layers]
    group.attrs["backend"] = "ember"
    group.attrs["keras_version"] = KERAS_VERSION
    for layer in layers:
        _write_variables(group.create_group(layer.name), list(layer.weights), prefix=layer.name)


def _write_variables(group, variables, prefix=None) -> None:
    """Datasets named by each variable's path (unique within the group), listed in ``weight_names``."""
    names, taken = [], set()
    for i, var in enumerate(variables):
        name = str(getattr(var, "path", None) or getattr(var, "name", None) or f"variable_{i}")
        if prefix is not None and not name.startswith(f"{prefix}/"):
            name = f"{prefix}/{name}"
        base, n = name, 1
        while name in taken:
            name = f"{base}_{n}"
            n += 1
        taken.add(name)
        names.append(name)
        group.create_dataset(name, data=numpy.asarray(var.numpy()))
    group.attrs["weight_names"] = [n.encode("utf8") for n in names]


def _names_or(spec, serialized):
    """``spec`` when it is made of names only (a string, or lists/dicts of strings), else ``serialized``."""

    def names_only(value):
        if value is None or isinstance(value, str):
            return True
        if isinstance(value, (list, tuple)):
            return all(names_only(v) for v in value)
        if isinstance(value, dict):
            return all(names_only(v) for v in value.values())
        return False

    return spec if spec is not None and names_only(spec) else serialized


def _json_default(obj):
    if isinstance(obj, numpy.generic):
        return obj.item()
    if isinstance(obj, numpy.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"legacy .h5 save: cannot write {type(obj).__name__} into the model config as JSON")
