"""``Model``: a layer that can be trained; the base of Sequential, functional and subclassed models.

``Model(inputs, outputs)`` builds a functional model (as in Keras, the call
returns a :class:`~ember.models.functional.Functional`); a subclass that
defines ``call`` is a subclassed model. Training (``compile``/``fit``/
``evaluate``/``predict``) comes from :class:`~ember.training.trainer.Trainer`.
"""

from __future__ import annotations

import numpy

from ..backend.device import to_device
from ..engine.tensor import Tensor
from ..layers.layer import Layer, _TrainingScope
from ..training.trainer import Trainer


class Model(Trainer, Layer):
    """A trainable stack or graph of layers.

    Build one of three ways, as in Keras:

    - ``Sequential([...])`` for a plain stack;
    - ``Model(inputs, outputs)`` from symbolic tensors (``ember.Input``);
    - subclass ``Model``, create layers in ``__init__`` and write ``call``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if type(self) is Model and (args or "inputs" in kwargs):
            raise TypeError("Model(inputs, outputs) should have built a functional model")  # pragma: no cover
        if _functional_arguments(args, kwargs):
            # a subclass called as Model(inputs, outputs) (keras.io's CustomModel overriding train_step):
            # as Keras does, it becomes a functional model by putting Functional in place of Model in its bases
            from .functional import Functional

            if not isinstance(self, Functional):
                _inject_functional(type(self), Functional)
            Functional.__init__(self, *args, **kwargs)
            return
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    def __setattr__(self, name, value):
        # Metric objects assigned as attributes (``self.loss_tracker = keras.metrics.Mean(name="loss")``) are
        # tracked, as Keras tracks them: they are listed by ``metrics`` and reset at each epoch
        if getattr(self, "_tracking", False) and not name.startswith("_"):
            from ..metrics import Metric

            tracked = self.__dict__.setdefault("_tracked_metrics", [])
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Metric) and all(item is not m for m in tracked):
                    tracked.append(item)
        super().__setattr__(name, value)

    def __call__(self, *args, **kwargs):
        training = kwargs.get("training")
        with _TrainingScope(training if training is not None else _inherit()):
            return Layer.__call__(self, *args, **kwargs)

    @property
    def layers(self) -> list:
        """The model's direct sublayers, in the order they were added."""
        return [layer for layer in self._layers]

    def get_layer(self, name=None, index=None):
        """A sublayer by name or by index in ``layers``."""
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: pass either name or index, not both")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model with {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = [layer.name for layer in self.layers]
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are {names}")

    # ---- custom training (Keras 3's hooks for overriding train_step / test_step) ----------------------
    @property
    def metrics(self) -> list:
        """The metric objects: the loss tracker and the compiled metrics (once compiled), then own trackers.

        As Keras 3 lists them: ``loss`` (a Mean-like tracker of the batch losses),
        ``compile_metrics`` (``update_state(y, y_pred, sample_weight)``; its
        ``result()`` is a dict), then the Metric objects assigned as attributes
        of this model and of its layers. A subclass may override it to return
        its own trackers; ``fit`` then resets those at each epoch.
        """
        out = []
        if self.compiled:
            out.append(_LossTrackerView(self))
            if self._compiled_metrics is not None and (
                self._compiled_metrics.spec or self._compiled_metrics.weighted_spec
            ):
                out.append(_CompileMetricsView(self))
        seen = set()
        for owner in [self, *_all_sublayers(self)]:
            for metric in owner.__dict__.get("_tracked_metrics", ()):
                if id(metric) not in seen:
                    seen.add(id(metric))
                    out.append(metric)
        return out

    def reset_metrics(self):
        """Reset the compiled trackers and every metric ``metrics`` lists (what fit does at each epoch)."""
        super().reset_metrics()
        for metric in self.metrics:
            if not isinstance(metric, (_LossTrackerView, _CompileMetricsView)):
                metric.reset_state()

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with a batch; returns ``get_metrics_result()``."""
        if self._compiled_metrics is not None and y is not None:
            self._metric_logs(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """The current result of every metric in ``metrics`` as floats (dict results are merged in)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = _to_float(result)
        return logs

    def zero_grad(self) -> None:
        """Clear the gradients of every weight (before ``loss.backward()`` in a custom ``train_step``)."""
        for w in self.weights:
            w.grad = None

    def to(self, device):
        """Move the model to ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``) in place; returns ``self``.

        As PyTorch's ``Module.to`` (Keras has no such method; docs/gpu.md): every weight, the optimizer's
        slots (once built) and the metrics' state variables get their data copied to ``device``; the
        Variable objects stay the same, so layers, optimizer and callbacks keep their references. The
        optimizer's scalar state (step count, learning rate) stays on the host, as it always does. Compiled
        steps notice the moved weights and trace again at their next call.
        """
        from ..backend.device import Device, to_device

        target = Device(device)
        variables = list(self.weights)
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "variables"):
            variables += [v for v in optimizer.variables if v.ndim > 0]  # 0-d: host scalars (iterations, lr)
        for metric in self.metrics:
            variables += list(getattr(metric, "variables", ()))
        seen = set()
        for variable in variables:
            if id(variable) not in seen and variable.device != target:
                seen.add(id(variable))
                variable.data = to_device(variable.data, target)
                variable.grad = None
        self._train_function = None  # rebuilt (and traced for this device) at the next fit
        self.__dict__.pop("_predict_function", None)
        return self

    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs):
        """Call the model with the given variable values instead of its own; the model is left unchanged.

        Args:
            trainable_variables / non_trainable_variables: values (tensors or arrays) in the order of
                ``trainable_variables`` / ``non_trainable_variables``.
            *args, **kwargs: what ``model(...)`` takes.

        Returns ``(outputs, non_trainable_variables)`` — the non-trainable values after the call (a
        BatchNormalization's moving statistics under ``training=True``) — plus the losses added during
        the call when ``return_losses``. Gradients of the outputs reach the model's own trainable variables.
        """
        trainable, non_trainable = list(self.trainable_variables), list(self.non_trainable_variables)
        for given, own, what in (
            (trainable_variables, trainable, "trainable_variables"),
            (non_trainable_variables, non_trainable, "non_trainable_variables"),
        ):
            if len(given) != len(own):
                raise ValueError(
                    f"stateless_call: {what} has {len(given)} values, the model '{self.name}' has {len(own)}"
                )
        saved = [v.data for v in trainable + non_trainable]
        try:
            for var, value in zip(trainable + non_trainable, list(trainable_variables) + list(non_trainable_variables)):
                if isinstance(value, Tensor):
                    array = value.data
                else:  # host values (NumPy arrays) are copied to the variable's device
                    array = to_device(numpy.asarray(value, dtype=var.dtype), var.device)
                if tuple(array.shape) != var.shape:
                    raise ValueError(
                        f"stateless_call: a value of shape {tuple(array.shape)} was given for {var.path}, "
                        f"which has shape {var.shape}"
                    )
                var.data = array.copy()
            outputs = self(*args, **kwargs)
            new_non_trainable = [Tensor._wrap(v.data) for v in non_trainable]
            losses = list(self.losses)
        finally:
            for var, array in zip(trainable + non_trainable, saved):
                var.data = array
        if return_losses:
            return outputs, new_non_trainable, losses
        return outputs, new_non_trainable

    def _step_function(self, name):
        """The callable fit/evaluate/predict run per batch for ``name`` (``"train_step"``, ...).

        The default steps take Ember's ``(x, y, sample_weight)`` batches. An overridden step gets
        the batch as Keras 3 passes it (``x``, ``(x, y)`` or ``(x, y, sample_weight)``) and its
        logs (tensors, or nested dicts of results) come back as floats.
        """
        step = getattr(self, name)
        if getattr(type(self), name) is getattr(Trainer, name):
            return step

        def run(batch):
            out = step(_pack_x_y_sample_weight(*batch))
            return out if name == "predict_step" else _logs_as_floats(out)

        return run

    def _ensure_built(self, data) -> None:
        """Build the model before the first step: a subclassed model runs its call once on a sample.

        So ``trainable_weights`` is complete when the first step reads it (Keras builds
        a subclassed model from the first batch's spec the same way).
        """
        if _is_graph_model(self):
            super()._ensure_built(data)
            return
        if self.weights:  # built (Layer.build alone marks a subclassed model built without creating weights)
            return
        from ..engine.grad_mode import no_grad
        from ..layers.symbolic import map_structure
        from ..training.data_adapter import ArrayBatches

        if isinstance(data, ArrayBatches) and data.x is not None:
            sample = map_structure(lambda a: a[:2], data.x)
            shown = {id(layer) for layer in [self, *_all_sublayers(self)] if "_first_output_shapes" in layer.__dict__}
            try:
                with no_grad():
                    self(sample, training=False)
            except Exception:  # noqa: BLE001 - a call that needs more than x fails again, in context, in the step
                return
            finally:
                self._clear_losses()
                for layer in [self, *_all_sublayers(self)]:  # summary() shows the shapes of the user's first call
                    if id(layer) not in shown:
                        layer.__dict__.pop("_first_output_shapes", None)

    # ---- saving (ember.saving does the work) ---------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the model (config, weights, optimizer state) to a Keras 3 ``.keras`` file.

        A name ending in ``.h5`` / ``.hdf5`` writes the legacy HDF5 format instead, with Keras 3's
        warning that it is legacy.
        """
        import os

        if os.fspath(filepath).endswith((".h5", ".hdf5")) and not os.fspath(filepath).endswith(".weights.h5"):
            from ..saving.legacy_h5_writer import save_legacy_h5

            if not overwrite and os.path.exists(filepath):
                raise FileExistsError(f"'{os.fspath(filepath)}' exists and overwrite=False")
            return save_legacy_h5(self, filepath, include_optimizer=include_optimizer)
        from ..saving import save_model

        return save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights to a Keras 3 ``.weights.h5`` file."""
        from ..saving import save_weights

        return save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        """Read weights from ``.weights.h5``, a Keras 2 ``.h5`` or a ``.keras`` file."""
        from ..saving import load_weights

        return load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras 3 JSON."""
        from ..saving import to_json

        return to_json(self, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
        """Print the layers, their output shapes and parameter counts as Keras does."""
        from .summary import print_summary

        print_summary(
            self,
            line_length=line_length,
            print_fn=print_fn,
            show_trainable=show_trainable,
            positions=positions,
            expand_nested=expand_nested,
        )


def _inherit():
    from ..layers.layer import current_training

    return current_training()


def _functional_arguments(args, kwargs) -> bool:
    """Whether a Model subclass was called with functional arguments (symbolic inputs and outputs)."""
    from ..layers.symbolic import is_symbolic

    inputs = kwargs["inputs"] if "inputs" in kwargs else (args[0] if args else None)
    has_outputs = "outputs" in kwargs or len(args) >= 2
    return has_outputs and inputs is not None and is_symbolic(inputs)


def _inject_functional(cls, functional) -> None:
    """Rebase ``cls`` (and the subclasses between it and Model) on ``functional`` instead of ``Model``."""
    for klass in cls.__mro__:
        if Model in klass.__bases__ and klass is not functional:
            klass.__bases__ = tuple(functional if base is Model else base for base in klass.__bases__)


def _is_graph_model(model) -> bool:
    from .functional import Functional
    from .sequential import Sequential

    return isinstance(model, (Functional, Sequential))


def _all_sublayers(layer) -> list:
    out, stack, seen = [], list(layer._layers), set()
    while stack:
        sub = stack.pop(0)
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        out.append(sub)
        stack.extend(sub._layers)
    return out


def _pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Keras's packing of a batch: ``x`` alone (``(x,)`` when x is a tuple or list), ``(x, y)`` or all three."""
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _logs_as_floats(logs) -> dict:
    """A custom step's returned logs: tensors become floats, a nested dict (compile_metrics) is merged in."""
    if not isinstance(logs, dict):
        raise TypeError(f"train_step/test_step should return a dict of logs (name -> value), got {type(logs).__name__}")
    out = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(_logs_as_floats(value))
        elif isinstance(value, Tensor) or numpy.ndim(value) == 0:
            out[key] = _to_float(value)
        else:
            out[key] = value
    return out


def _to_float(value) -> float:
    if isinstance(value, Tensor):
        return float(value.item())
    return float(numpy.asarray(value))


class _LossTrackerView:
    """``model.metrics``'s ``loss`` entry: Keras's Mean loss tracker over the model's running batch-loss mean."""

    name = "loss"

    def __init__(self, model):
        self._model = model

    def update_state(self, values, sample_weight=None):
        array = numpy.asarray(values.numpy() if isinstance(values, Tensor) else values, dtype="float64")
        weight = 1.0 if sample_weight is None else float(numpy.sum(sample_weight))
        self._model._loss_tracker.update(float(array.mean()), weight if array.ndim == 0 else weight * array.size)

    def result(self):
        return Tensor._wrap(numpy.asarray(self._model._loss_tracker.result(), dtype="float32"))

    def reset_state(self):
        self._model._loss_tracker.reset()

    def __repr__(self):
        return "<Mean name=loss>"


class _CompileMetricsView:
    """``model.metrics``'s ``compile_metrics`` entry: the compiled metrics, updated together; a dict result."""

    name = "compile_metrics"

    def __init__(self, model):
        self._model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._model._metric_logs(y_true, y_pred, sample_weight)

    def result(self) -> dict:
        return self._model._compiled_metrics.results()

    def reset_state(self):
        self._model._compiled_metrics.reset()

    def __repr__(self):
        return "<CompileMetrics name=compile_metrics>"
