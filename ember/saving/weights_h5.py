"""Keras 3's ``.weights.h5`` layout: one HDF5 group per object, found by walking the model.

The walk names each object by where it sits, never by its (auto-generated)
name: a Sequential or functional model writes its ``layers`` list, each layer
under the snake-case of its class, numbered on repeats (``layers/dense``,
``layers/dense_1``), then its ``optimizer``; a layer's sublayers come under
the attribute that holds them (``layers/bidirectional/forward_layer``). Each
object's own variables are datasets ``<path>/vars/0``, ``<path>/vars/1``, ...
and the ``vars`` group carries the object's ``name`` as an attribute. The
model itself owns the root ``vars``.

Loading walks the same way ("by topology"), or matches layers by the
``name`` attribute (``by_name=True``). Mismatches are collected and reported
together: the layer, the variable, the expected shape and the shape found.
"""

from __future__ import annotations

import re
import warnings

import numpy

from ..errors import FileFormatError

_SKIP = None  # attribute names every plain Layer has (never walked)


class WeightsMismatchError(FileFormatError):
    """The file's weights do not fit the model; ``mismatches`` lists (path, layer, what, expected, found)."""

    def __init__(self, message, mismatches=()):
        super().__init__(message)
        self.mismatches = list(mismatches)


# ---- the walk --------------------------------------------------------------------------
def walk(obj, path="", visited=None):
    """Yield ``(path, saveable)`` for ``obj`` and every layer/optimizer under it, each once, in Keras's order."""
    if visited is None:
        visited = set()
    if id(obj) in visited:
        return
    visited.add(id(obj))
    yield path, obj
    for attr, child in _children(obj):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            yield from walk(child, child_path, visited)
        elif isinstance(child, (list, tuple, dict)):
            yield from _walk_container(child, child_path, visited)


def _walk_container(container, path, visited):
    used = {}
    items = list(container.values()) if isinstance(container, dict) else list(container)
    for item in items:
        if _is_saveable(item):
            name = _unique(_snake_case(type(item).__name__), used)
            yield from walk(item, f"{path}/{name}", visited)


def _children(obj):
    from ..layers.layer import Layer
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    if isinstance(obj, (Sequential, Functional)):
        yield "layers", obj.layers
        if getattr(obj, "optimizer", None) is not None:
            yield "optimizer", obj.optimizer
        return
    if not isinstance(obj, Layer):
        return
    skip = _skipset()
    for attr in sorted(vars(obj), key=lambda a: f"~{a}" if a.startswith("_") else a):
        if attr.startswith("__") or attr in skip:
            continue
        value = getattr(obj, attr, None)
        if _is_saveable(value) or (isinstance(value, (list, tuple)) and any(_is_saveable(v) for v in value)):
            yield attr, value


def _skipset():
    global _SKIP
    if _SKIP is None:
        from ..layers.layer import Layer

        _SKIP = set(dir(Layer(name="ember_saving_probe"))) | {"_stack", "_input_layer", "_nodes"}
    return _SKIP


def _is_saveable(obj) -> bool:
    from ..layers.layer import Layer
    from ..optimizers.base import Optimizer

    return isinstance(obj, (Layer, Optimizer))


def own_variables(obj) -> list:
    """The variables an object writes under its own ``vars`` (not its sublayers')."""
    from ..optimizers.base import Optimizer

    if isinstance(obj, Optimizer):
        return list(obj.variables)
    return list(obj._trainable_variables) + list(obj._non_trainable_variables)


# ---- writing ---------------------------------------------------------------------------
def save_weights_to_group(model, root, include_optimizer=True) -> None:
    """Write every object's variables under the open h5py group ``root`` (optimizers too, unless told not to)."""
    from ..optimizers.base import Optimizer

    for path, obj in walk(model):
        if isinstance(obj, Optimizer) and not include_optimizer:
            continue
        group = root.require_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = getattr(obj, "name", "") or ""
        for i, var in enumerate(own_variables(obj)):
            group.create_dataset(str(i), data=numpy.asarray(var.numpy()))
        inner = getattr(obj, "inner_optimizer", None)
        if isinstance(obj, Optimizer) and isinstance(inner, Optimizer):
            # a LossScaleOptimizer: Keras also writes its inner optimizer's own group and warns when it is missing;
            # Ember reads the outer group, which holds every variable (the inner ones too)
            inner_group = root.require_group(f"{path}/inner_optimizer/vars")
            inner_group.attrs["name"] = getattr(inner, "name", "") or ""
            for i, var in enumerate(inner.variables):
                inner_group.create_dataset(str(i), data=numpy.asarray(var.numpy()))


def save_weights(model, filepath) -> None:
    """Write ``model``'s weights (and its optimizer's state) to ``filepath`` (``.weights.h5``), atomically."""
    import h5py

    from .atomic import atomic_path

    filepath = str(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            f"save_weights: the filename must end in `.weights.h5` (Keras 3's weights format), got '{filepath}'"
        )
    with atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            save_weights_to_group(model, f)


# ---- reading ---------------------------------------------------------------------------
def load_weights_from_group(model, root, skip_mismatch=False, by_name=False, source="the file") -> list:
    """Load variables from the open h5py group ``root`` into ``model``.

    Args:
        model: the model (or layer).
        root: an h5py File or Group in Keras 3's layout.
        skip_mismatch: leave mismatching objects untouched and warn, instead of raising.
        by_name: match layers by their ``name`` (the ``vars`` groups' attribute) instead of by position.
        source: how to name the file in messages.

    Returns:
        the list of mismatches (``(path, layer name, what, expected, found)``) that were skipped.

    Raises:
        WeightsMismatchError: a mismatch and ``skip_mismatch=False``; the message lists all of them.
    """
    from ..optimizers.base import Optimizer

    by_name_groups = _groups_by_name(root) if by_name else None
    plans, mismatches = [], []
    for path, obj in walk(model):
        if isinstance(obj, Optimizer) and not obj.built:
            continue  # nothing to fill yet; the caller builds optimizers it wants loaded
        variables = own_variables(obj)
        name = getattr(obj, "name", "?")
        if by_name:
            group = by_name_groups.get(name) if not isinstance(obj, Optimizer) and path else None
            if group is None and (not path or isinstance(obj, Optimizer)):
                group = root.get(f"{path}/vars" if path else "vars")
        else:
            group = root.get(f"{path}/vars" if path else "vars")
        if group is None:
            if variables and not by_name:
                mismatches.append((path, name, "group", f"{len(variables)} variables", "nothing in the file"))
            continue
        if not isinstance(group, _h5py().Group):
            raise FileFormatError(f"{source}: '{group.name}' should be a group of variables, found a dataset")
        keys = sorted(group.keys(), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        if isinstance(obj, Optimizer) and len(keys) < len(variables) and len(keys) <= 2:
            # saved before its first step: only iterations/learning_rate exist, the slots start at zero
            # exactly as the freshly built ones do
            head = variables[: len(keys)]
            if all(dataset_shape(group, str(i), source) == tuple(v.shape) for i, v in enumerate(head)):
                plans.append((head, group))
                continue
        if isinstance(obj, Optimizer) and len(keys) != len(variables):
            # as Keras: an optimizer saved before (or without) training has no slots to restore
            warnings.warn(
                f"Skipping the state of optimizer '{name}' in {source}: the optimizer has {len(variables)} "
                f"variables, the file has {len(keys)} (it was saved before the optimizer was built?)",
                stacklevel=3,
            )
            continue
        if len(keys) != len(variables):
            mismatches.append((path, name, "variable count", len(variables), len(keys)))
            continue
        bad = False
        for i, var in enumerate(variables):
            found = dataset_shape(group, str(i), source)
            if found != tuple(var.shape):
                label = getattr(var, "name", str(i))
                mismatches.append((path, name, f"variable {i} ({label})", tuple(var.shape), found))
                bad = True
        if not bad:
            plans.append((variables, group))
    if mismatches and not skip_mismatch:
        raise WeightsMismatchError(_report(source, mismatches, "Pass skip_mismatch=True to load the rest."), mismatches)
    if mismatches:
        warnings.warn(_report(source, mismatches, "These were skipped."), stacklevel=3)
    for variables, group in plans:
        for i, var in enumerate(variables):
            var.assign(numpy.asarray(group[str(i)][()]).astype(var.dtype, copy=False).reshape(var.shape))
    return mismatches


def load_weights(model, filepath, skip_mismatch=False, by_name=False, safe_mode=True, limits=None) -> list:
    """Load a ``.weights.h5`` file (Keras 3's layout, or Keras 2's legacy layout) into ``model``.

    Args:
        model: the model to fill; it must be built.
        filepath: the file.
        skip_mismatch: skip (and report) layers whose weights do not fit instead of raising.
        by_name: match layers by name instead of by position.
        safe_mode: refuse external links and storage and virtual datasets (data outside the file).
        limits: a ``LoadLimits`` (None: the defaults).

    Returns:
        the list of skipped mismatches.
    """
    from .boundary import boundary
    from .h5_file import check_readable, open_h5
    from .h5_safety import scan
    from .limits import LoadLimits

    filepath = check_readable(filepath, "weights file")
    limits = LoadLimits.make(limits)
    with boundary(f"'{filepath}'", "weights file"), open_h5(filepath) as f:
        scan(f, f"'{filepath}'", safe_mode=safe_mode, limits=limits)
        if "layer_names" in f.attrs or "model_weights" in f:
            from .legacy_h5 import load_legacy_weights

            root = f["model_weights"] if "model_weights" in f else f
            return load_legacy_weights(
                model, root, by_name=by_name, skip_mismatch=skip_mismatch, source=f"'{filepath}'", limits=limits
            )
        if not any(k in f for k in ("vars", "layers", "optimizer")) and not len(f.keys()) == 0:
            raise FileFormatError(
                f"'{filepath}' is an HDF5 file but not a Keras weights file: expected groups 'vars'/'layers' "
                f"(Keras 3) or the attribute 'layer_names' (Keras 2); found {sorted(f.keys())[:10]}"
            )
        return load_weights_from_group(model, f, skip_mismatch=skip_mismatch, by_name=by_name, source=f"'{filepath}'")


def _h5py():
    import h5py

    return h5py


def dataset_shape(group, key, source) -> tuple:
    """The declared shape of dataset ``group[key]`` (nothing is read); a missing or non-dataset member is an error."""
    h5py = _h5py()
    obj = group.get(key)
    if not isinstance(obj, h5py.Dataset):
        found = "nothing" if obj is None else type(obj).__name__
        raise FileFormatError(f"{source}: expected a dataset at '{group.name}/{key}', found {found}")
    return tuple(int(d) for d in (obj.shape or ()))


def _groups_by_name(root) -> dict:
    found = {}

    def visit(name, obj):
        if name.endswith("vars") and "name" in getattr(obj, "attrs", {}):
            found.setdefault(str(obj.attrs["name"]), obj)

    root.visititems(visit)
    return found


def _report(source, mismatches, tail) -> str:
    lines = [f"The weights in {source} do not fit the model in {len(mismatches)} place(s):"]
    for path, name, what, expected, found in mismatches:
        lines.append(f"  layer '{name}' (at '{path or '/'}'): {what}: expected {expected}, found {found}")
    lines.append(tail)
    return "\n".join(lines)


def _snake_case(name: str) -> str:
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def _unique(name, used) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name
