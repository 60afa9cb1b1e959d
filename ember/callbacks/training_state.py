"""The state a resumable checkpoint holds, written and read back as one unit.

A training run is at a point when it has finished ``batches_done`` batches of
epoch ``epoch``. To continue it exactly, a checkpoint needs, besides the
weights and the optimizer's state (its iteration count and slots):

- ``epoch`` and ``batches_done``;
- ``order_state``: with ``shuffle=True``, the state of the generator the
  epoch's sample order was drawn from (the order is redrawn from it, so it is
  never stored: 4 integers instead of one index per sample);
- ``rng``: the process-wide ``ember.random`` generator (dropout with
  ``seed=None``, the next epochs' shuffle orders) and every generator a layer
  owns (``Dropout(seed=1)``, random augmentation layers), each at the point
  the checkpoint was taken;
- ``loss`` and ``metrics``: the epoch's running loss and metric
  accumulators, so the resumed epoch logs what the uninterrupted one would.

:func:`write_checkpoint` puts all of it in one ``.weights.h5`` file (Keras 3's
layout, which Keras reads; the state is a JSON attribute of the root group
that Keras ignores), written to a temporary file and moved into place with
``os.replace``: a kill leaves either the old checkpoint or the new one.
:func:`write_keras_checkpoint` does the same for a ``.keras`` file, with the
state as one more member (``ember_training_state.json``).
"""

from __future__ import annotations

import json
import numbers

import numpy

STATE_ATTRIBUTE = "ember_training_state"  # the root attribute of the HDF5 file that holds the JSON state
KERAS_MEMBER = "ember_training_state.json"  # the member of a .keras zip that holds it
FORMAT = 1


# ---- capturing ---------------------------------------------------------------------------------------------------
def capture(model, epoch: int, batches_done: int) -> dict:
    """The state of ``model``'s ``fit`` after ``batches_done`` batches of epoch ``epoch`` (0-based), as JSON-able data.

    Call it from a callback hook (``on_train_batch_end``, ``on_epoch_end``): the
    shuffle order comes from the data ``fit`` is iterating.
    """
    from ..engine import random as engine_random

    batches = _fit_batches(model)
    order_state = getattr(batches, "order_state", None) if batches_done else None
    return {
        "format": FORMAT,
        "epoch": int(epoch),
        "batches_done": int(batches_done),
        "order_state": order_state,
        "rng": {"default": engine_random.get_state(), "layers": _layer_generator_states(model)},
        "loss": _tracker_state(model) if batches_done else None,
        "metrics": _metric_states(model) if batches_done else None,
    }


def _fit_batches(model):
    ref = getattr(model, "_fit_batches", None)
    return ref() if callable(ref) else None


def _layer_generators(model) -> dict:
    """``{"<layer path>/<attribute>": Generator}`` for every generator a layer of ``model`` holds, by saving path."""
    from ..engine.random import Generator
    from ..saving.weights_h5 import walk

    found = {}
    for path, obj in walk(model):
        for attr, value in sorted(vars(obj).items()):
            if isinstance(value, Generator):
                found[f"{path}/{attr}" if path else attr] = value
    return found


def _layer_generator_states(model) -> dict:
    return {key: generator.get_state() for key, generator in _layer_generators(model).items()}


def _tracker_state(model):
    tracker = getattr(model, "_loss_tracker", None)
    return None if tracker is None else [float(tracker.total), float(tracker.count)]


def _running_means(model) -> dict:
    """The per-output loss trackers (``RunningMean``) by log name."""
    compiled_loss = getattr(model, "_compiled_loss", None)
    return {name: tracker for _, name, tracker in getattr(compiled_loss, "trackers", None) or []}


def _metrics(model) -> dict:
    compiled = getattr(model, "_compiled_metrics", None)
    return {name: metric for _, metric, _, name in getattr(compiled, "metrics", None) or []}


def _metric_states(model) -> dict:
    states = {name: {"running_mean": [float(t.total), float(t.count)]} for name, t in _running_means(model).items()}
    for name, metric in _metrics(model).items():
        states[name] = {"variables": [_array_state(v.numpy()) for v in metric.variables]}
    return states


def _array_state(a) -> dict:
    a = numpy.asarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "values": a.ravel().tolist()}


# ---- restoring ---------------------------------------------------------------------------------------------------
def restore_rng(model, state: dict) -> None:
    """Put the process-wide generator and the layers' generators back where ``state`` saw them."""
    from ..engine import random as engine_random

    rng = state.get("rng") or {}
    if rng.get("default") is not None:
        engine_random.set_state(rng["default"])
    generators = _layer_generators(model)
    for key, generator_state in (rng.get("layers") or {}).items():
        generator = generators.get(key)
        if generator is None:
            raise ValueError(
                f"the checkpoint holds the state of the random generator '{key}', which model '{model.name}' "
                f"does not have (its generators: {sorted(generators) or 'none'}); is it the same model?"
            )
        generator.set_state(generator_state)


def add_running_state(model, state: dict) -> None:
    """Fold the saved running loss and metric accumulators into the model's, after the resumed epoch's first batch.

    At that point each accumulator holds ``0 + (that batch)``; adding the saved
    value gives ``saved + (that batch)``, the very sum the uninterrupted epoch
    computed. This holds for the accumulators of Keras's metrics, which are
    sums started at zero (``total``/``count`` of means, confusion counts);
    a variable that is not a sum is left as is.
    """
    loss = state.get("loss")
    tracker = getattr(model, "_loss_tracker", None)
    if loss is not None and tracker is not None:
        tracker.total, tracker.count = loss[0] + tracker.total, loss[1] + tracker.count
    saved = state.get("metrics") or {}
    for name, tracker in _running_means(model).items():
        if name in saved and "running_mean" in saved[name]:
            total, count = saved[name]["running_mean"]
            tracker.total, tracker.count = total + tracker.total, count + tracker.count
    for name, metric in _metrics(model).items():
        if name not in saved or "variables" not in saved[name]:
            continue
        variables = metric.variables
        if len(variables) != len(saved[name]["variables"]):
            continue
        for variable, entry in zip(variables, saved[name]["variables"]):
            if getattr(variable, "aggregation", "sum") != "sum":
                continue
            value = numpy.asarray(entry["values"], dtype=entry["dtype"]).reshape(entry["shape"])
            if value.shape == tuple(variable.shape):
                variable.data[...] = value + variable.data


# ---- one file ----------------------------------------------------------------------------------------------------
def write_checkpoint(model, filepath, state: dict) -> None:
    """Write the weights, the optimizer's state and ``state`` to ``filepath`` (``.weights.h5``) as one atomic file."""
    import h5py

    from ..saving.atomic import atomic_path
    from ..saving.weights_h5 import save_weights_to_group

    text = json.dumps(state, allow_nan=False)
    with atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as f:
            save_weights_to_group(model, f)
            f.attrs[STATE_ATTRIBUTE] = text


def read_state(filepath):
    """The training state stored in a checkpoint file, or None when it has none (a file Keras wrote).

    Raises:
        ValueError: the state is there but is not what :func:`capture` writes.
    """
    import h5py

    with h5py.File(filepath, "r") as f:
        raw = f.attrs.get(STATE_ATTRIBUTE)
    if raw is None:
        return None
    return parse_state(raw, filepath)


def parse_state(raw, source) -> dict:
    """Check and return the JSON state ``raw`` (str or bytes) read from ``source``."""
    try:
        state = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"'{source}': the training state is not valid JSON: {err}") from err
    if not isinstance(state, dict):
        raise ValueError(f"'{source}': expected the training state to be a JSON object, got {type(state).__name__}")
    if state.get("format") != FORMAT:
        raise ValueError(f"'{source}': unknown training state format {state.get('format')!r} (expected {FORMAT})")
    for key in ("epoch", "batches_done"):
        value = state.get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"'{source}': the training state's '{key}' must be an int >= 0, got {value!r}")
    return state


def restore_training_state(model, filepath) -> dict | None:
    """Load a checkpoint written with its training state into ``model``: weights, optimizer state and generators.

    For a checkpoint of ``ModelCheckpoint`` or ``BackupAndRestore``. Returns the
    state (``state["epoch"]``, ``state["batches_done"]``, ...) or None when the file has
    none (then only the weights and the optimizer's state are loaded). To continue
    an epoch in the middle, use ``BackupAndRestore``; with a state saved at an
    epoch's end, ``fit(..., initial_epoch=state["epoch"])`` continues exactly.
    """
    import os
    import zipfile

    filepath = os.fspath(filepath)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)  # so the saved state has slots to fill
    if zipfile.is_zipfile(filepath):
        with zipfile.ZipFile(filepath) as zf:
            raw = zf.read(KERAS_MEMBER) if KERAS_MEMBER in zf.namelist() else None
        state = None if raw is None else parse_state(raw, filepath)
    else:
        state = read_state(filepath)
    model.load_weights(filepath)
    if state is not None:
        restore_rng(model, state)
    return state


def write_keras_checkpoint(model, filepath, state: dict) -> None:
    """Write a ``.keras`` file with ``state`` as one more member, as one atomic file."""
    import zipfile

    from ..saving.atomic import atomic_path
    from ..saving.keras_zip import save_keras

    text = json.dumps(state, allow_nan=False)
    with atomic_path(filepath) as tmp:
        save_keras(model, tmp)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(KERAS_MEMBER, text)
