"""``Trainer``: compile, fit, evaluate and predict, mixed into :class:`~ember.models.Model`.

The eager training step is the definition: forward under ``training=True``,
the compiled loss plus every layer's extra losses (regularizers, ``add_loss``),
``backward()``, and ``optimizer.apply`` on the trainable weights. Logs follow
Keras 3: ``loss`` is the running mean of the batch losses weighted by batch
size, then each metric by name, and ``val_`` versions at the end of an epoch.
"""

from __future__ import annotations

import functools
import warnings
import weakref

import numpy

from ..backend.allocator import tune_malloc
from ..backend.cuda import batch_stager, device_argument
from ..backend.device import is_host_array, to_host
from ..backend.threads import scoped as blas_thread_policy
from ..backend.threads import tick as blas_threads_tick
from ..data.unpack import unpack_x_y_sample_weight
from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor
from ..layers.symbolic import flatten, map_structure
from .compile_utils import CompiledLoss, CompiledMetrics, RunningMean
from .data_adapter import ArrayBatches, check_inputs, make_batches


class Trainer:
    """Training and inference loops for a Model (Keras 3's ``Trainer``)."""

    def __init__(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compiled_loss = None
        self._compiled_metrics = None
        self._loss_tracker = RunningMean()
        self.jit_compile = "auto"
        self.run_eagerly = False
        self._train_function = None

    # ---- compile -------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
        **kwargs,
    ):
        """Choose the optimizer, the loss (one per output, or a list/dict) and the metrics to report."""
        if kwargs:
            raise ValueError(f"compile: unrecognized keyword arguments {sorted(kwargs)}")
        from .. import optimizers

        self.optimizer = optimizers.get(optimizer)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and self.optimizer is not None:
            # as Keras: float16 gradients underflow without loss scaling (docs/mixed_precision.md)
            if not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
                self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        self.loss = loss
        self._compiled_loss = CompiledLoss(loss, loss_weights) if loss is not None else None
        self._compiled_metrics = CompiledMetrics(metrics, weighted_metrics)
        self.run_eagerly = run_eagerly
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"compile: steps_per_execution must be an integer >= 1, got {steps_per_execution!r}")
        # Keras runs that many steps per call and calls the batch hooks once per call: fit does the same for
        # the hooks (the steps themselves are the same numbers either way)
        self.steps_per_execution = steps_per_execution
        if not isinstance(auto_scale_loss, bool):
            raise ValueError(f"compile: auto_scale_loss must be True or False, got {auto_scale_loss!r}")
        # acts under a mixed_float16 policy: the optimizer above is wrapped in a LossScaleOptimizer
        self.auto_scale_loss = auto_scale_loss
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        self.jit_compile = jit_compile
        self._train_function = None
        self.compiled = True
        self.stop_training = False

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model: `{what}` needs a loss and an optimizer"
            )

    @property
    def metrics_names(self) -> list:
        """The log names in the order ``evaluate`` and ``train_on_batch`` list their values.

        Keras 3 orders those lists as: ``loss``, the compiled metrics whose
        names are log names (one output), the per-output losses, then every
        other log name sorted (the prefixed metrics of a multi-output model).
        Keras 3's own ``metrics_names`` lists metric objects instead
        (``['loss', 'compile_metrics']``); this one matches the values.
        """
        return self._ordered_log_names(self._log_names())

    def _log_names(self) -> list:
        names = ["loss"]
        if self._compiled_metrics is not None and self._compiled_metrics.metrics:
            names += [name for _, _, _, name in self._compiled_metrics.metrics]
        if self._compiled_loss is not None:
            names += [name for _, name, _ in self._compiled_loss.trackers]
        return names

    def _ordered_log_names(self, log_names) -> list:
        order = ["loss"]
        if self._compiled_metrics is not None:
            order += self._compiled_metrics.metric_names
        if self._compiled_loss is not None:
            order += [name for _, name, _ in self._compiled_loss.trackers]
        present = set(log_names)
        first = []
        for name in order:
            if name in present and name not in first:
                first.append(name)
        return first + sorted(n for n in present if n not in first)

    def reset_metrics(self):
        self._loss_tracker.reset()
        if self._compiled_loss is not None:
            self._compiled_loss.reset()
        if self._compiled_metrics is not None:
            self._compiled_metrics.reset()

    # ---- one step -------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus regularization and ``add_loss`` terms, as a scalar Tensor."""
        total = None
        if self._compiled_loss is not None and y is not None:
            total, _ = self._compiled_loss(self, y, y_pred, sample_weight)
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def train_step(self, data) -> dict:
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        weights = self.trainable_weights
        y_pred, loss = self._train_forward(x, y, sample_weight, weights)
        return self._train_update(x, y, y_pred, sample_weight, loss, weights)

    # The two halves of train_step. The compiled step (ember.compile.train_function) traces the first and
    # replays it with its backward; the second is the same code in both.
    def _train_forward(self, x, y, sample_weight, weights):
        """A training step's forward and loss: ``(y_pred, loss)``, the gradients of ``weights`` cleared."""
        for w in weights:
            w.grad = None
        y_pred = self(x, training=True)
        return y_pred, self.compute_loss(x, y, y_pred, sample_weight, training=True)

    def _train_update(self, x, y, y_pred, sample_weight, loss, weights, grads=None, apply=None, logs=True):
        """The rest of a training step: the running loss, the gradients, the update of ``weights``, the metrics.

        ``grads``: one per weight when already computed (the compiled step's replay), else ``loss``'s backward
        gives them. ``apply(grads, weights)``: the optimizer's update (``optimizer.apply`` unless given).
        Returns the logs, or None when ``logs`` is False (fit reads them once per epoch).
        """
        self._loss_tracker.update(loss.item(), _batch_size(x))
        if weights:
            if grads is None:
                # the loss the optimizer asks for (LossScaleOptimizer's dynamic scale); its apply unscales
                if _scales_loss(self.optimizer):
                    # a scaled float16 backward may overflow: that is how the scale is found, the step is skipped
                    with numpy.errstate(over="ignore", invalid="ignore"):
                        self.optimizer.scale_loss(loss).backward()
                else:
                    loss.backward()
                grads = [w.grad for w in weights]
            dist = _data_parallel()
            if dist is not None:  # averaged over the processes between backward and the update
                grads = dist.average_gradients(grads)
            (apply or self.optimizer.apply)(grads, weights)
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=3)
        return self._metric_logs(y, y_pred, sample_weight, logs)

    def make_train_function(self, force=False):
        """The function ``fit`` calls per batch: the compiled step, or ``train_step`` when eager.

        The compiled step (:class:`ember.compile.CompiledTrainFunction`) is used
        when ``jit_compile`` is ``"auto"`` or True, ``run_eagerly`` is False,
        ``train_step`` is not overridden and the optimizer does not scale the loss
        (a LossScaleOptimizer: mixed_float16; the reason is logged); it is kept until the next ``compile``,
        and re-reads the model (trainable weights, layer settings) each time it
        is handed out, tracing again when anything changed.
        """
        if self._train_function is not None and not force:
            _check_model(self._train_function)
            return self._train_function
        jit = getattr(self, "jit_compile", False)
        overridden = type(self).train_step is not Trainer.train_step
        compiled = jit and not self.run_eagerly and not overridden
        if compiled and _scales_loss(self.optimizer):
            # the compiled plan differentiates the loss itself, not the loss times a scale that changes per step
            from ..compile.function import say_eager

            what = "jit_compile=True" if jit is True else "the compiled training step"
            say_eager(
                f"{what}: this step runs eagerly",
                "the optimizer scales the loss (LossScaleOptimizer or loss_scale_factor)",
                jit is True,
                3,
            )
            compiled = False
        if compiled:
            from ..compile import CompiledTrainFunction

            self._train_function = CompiledTrainFunction(self, force=jit is True)
        else:
            self._train_function = self._step_function("train_step")  # an override gets Keras's batches
        return self._train_function

    def test_step(self, data) -> dict:
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(x, training=False)
        return self._test_update(x, y, y_pred, sample_weight)

    def _test_update(self, x, y, y_pred, sample_weight) -> dict:
        """The rest of a test step once the outputs are known: the loss, its running mean, the metrics."""
        with no_grad():
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update(loss.item(), _batch_size(x))
        return self._metric_logs(y, y_pred, sample_weight)

    def _compiled_test_step(self, forward, data) -> dict:
        """``test_step`` with the model's forward run by the compiled predict function ``forward``.

        The outputs are the eager call's bits, and the rest is ``test_step``'s. Only for models whose loss reads
        nothing else of a call (``_loss_reads_only_outputs``): a replay leaves the layers' call losses as they
        were, and outputs come without masks. (Should a call of the compiled forward still give masked outputs,
        every batch from then on runs ``test_step`` itself.)
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = forward(x)
        if forward.masked_outputs:
            return self.test_step(data)
        return self._test_update(x, y, map_structure(Tensor._wrap, y_pred), sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        with no_grad():
            return self(x, training=False)

    def make_predict_function(self, force=False):
        """The function ``predict`` calls per batch: ``x`` -> the outputs as NumPy arrays.

        A Sequential or functional model gets the compiled forward
        (:class:`ember.compile.predict_function.CompiledPredictFunction`: traced once per input
        signature, replayed on arrays) when ``jit_compile`` is ``"auto"`` or
        True, ``run_eagerly`` is False and ``predict_step`` is not overridden;
        it is kept across ``predict`` calls (``model._predict_function``).
        Other models (subclassed ones: their ``call`` is any Python) run
        ``predict_step`` eagerly.
        """
        overridden = type(self).predict_step is not Trainer.predict_step
        if not getattr(self, "jit_compile", False) or self.run_eagerly or overridden or not _is_graph_model(self):
            predict_step = self._step_function("predict_step")
            return lambda x: map_structure(_to_numpy, predict_step((x, None, None)))
        from ..compile.predict_function import CompiledPredictFunction

        function = getattr(self, "_predict_function", None)
        if force or function is None:
            function = self._predict_function = CompiledPredictFunction(self)
        else:
            function.check_model()
        return function

    def _metric_logs(self, y, y_pred, sample_weight, logs=True) -> dict | None:
        """Update the compiled metrics from a batch; the logs (None when ``logs`` is False)."""
        if self._compiled_metrics is not None and y is not None:
            self._compiled_metrics.update(self, self._compiled_loss, y, y_pred, sample_weight)
        return self._current_logs(y is not None) if logs else None

    def _current_logs(self, with_metrics=True) -> dict:
        """The running loss and metrics as logs (``with_metrics``: the compiled metrics too)."""
        logs = {"loss": self._loss_tracker.result()}
        if with_metrics and self._compiled_metrics is not None:
            logs.update(self._compiled_metrics.results())
        if self._compiled_loss is not None:
            logs.update(self._compiled_loss.results())
        return logs

    # ---- loops -------------------------------------------------------------------
    @device_argument  # Ember's device= argument (backend/cuda.py, docs/gpu.md)
    @blas_thread_policy  # BLAS threads fit the cores other processes leave (backend/threads.py)
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
        **kwargs,
    ):
        """Train for ``epochs`` passes over the data; returns the ``History`` callback."""
        epochs = _legacy_epochs(kwargs, epochs)
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}")
        self._assert_compiled("fit")
        tune_malloc()  # the training loop's allocations reuse freed buffers (a no-op after the first call)
        from ..callbacks import CallbackList

        val = None
        if validation_data is not None:
            val = _unpack_validation(validation_data)
        elif validation_split:
            if not isinstance(make_batches(x, y, sample_weight, batch_size), ArrayBatches):
                raise ValueError("validation_split is only supported for arrays; pass validation_data for datasets")
            (x, y, sample_weight), val = ArrayBatches(x, y, sample_weight, 1).split(validation_split)
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weight(y, class_weight, sample_weight)
        train = make_batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
        self._ensure_built(train)
        verbose = 1 if verbose == "auto" else verbose
        dist = _data_parallel()  # DataParallel over MPI: this rank's shard; writing callbacks on rank 0
        if dist is not None:
            train = dist.shard_batches(train)
            callbacks, verbose = dist.rank_callbacks(callbacks, verbose)
        callbacks = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=train.steps,
        )
        self.stop_training = False
        # the compiled step re-reads the model at each epoch's start (below), after the user's callbacks ran,
        # so a kept one is not checked here too (a subclass's own make_train_function is still called)
        own = type(self).make_train_function is Trainer.make_train_function
        train_function = self._train_function if own and self._train_function else self.make_train_function()
        self._fit_batches = weakref.ref(train)  # BackupAndRestore saves its shuffle order and resumes it
        callbacks.on_train_begin()
        # BackupAndRestore sets the epoch to resume from while on_train_begin runs
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        self._initial_epoch = None
        if dist is not None:  # every rank starts from rank 0's epoch, weights and optimizer state
            initial_epoch = dist.sync_start(self, train, initial_epoch)
        # per-batch hooks and logs only when a callback listens (the progress bar does); the compiled step
        # then skips reading the metrics' results each batch, and the logs are read once per epoch
        hook_begin = callbacks.overrides("on_train_batch_begin")
        hook_end = callbacks.overrides("on_train_batch_end")
        quiet = not hook_end and getattr(train_function, "accepts_return_logs", False)
        # a compiled step re-reads the model after anything that may have changed it: a user callback's hook
        recheck = _user_batch_hooks(callbacks)
        logs = {}
        stage = batch_stager()  # cuda: host batches cross through reused pinned buffers (backend/cuda.py)
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            _check_model(train_function)
            per_call = getattr(self, "steps_per_execution", 1)
            epoch_steps = train.enumerate_epoch()  # from where BackupAndRestore resumes
            # the last step closes a short group of steps_per_execution; with one step per call each step does
            epoch_steps = _with_last(epoch_steps) if per_call != 1 else _never_last(epoch_steps)
            for step, batch, last in epoch_steps:
                blas_threads_tick()  # the BLAS thread policy's decision, applied between batches (backend/threads.py)
                if hook_begin and step % per_call == 0:
                    callbacks.on_train_batch_begin(step)
                    if recheck:
                        _check_model(train_function)
                end_of_call = last or (step + 1) % per_call == 0
                if stage is not None:
                    batch = stage(batch)
                if quiet:
                    logs = train_function(batch, return_logs=False)
                else:
                    logs = train_function(batch)
                if hook_end and end_of_call:
                    callbacks.on_train_batch_end(step, logs)
                    if recheck:
                        _check_model(train_function)
                if dist is not None:
                    self.stop_training = dist.any_rank(self.stop_training)
                if self.stop_training:
                    break
            if quiet and logs is None:  # a batch ran: read the epoch's running values
                logs = train_function.logs()
            if dist is not None:
                logs = dist.reduce_epoch_logs(self)
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self.evaluate(
                    val[0],
                    val[1],
                    sample_weight=val[2],
                    batch_size=validation_batch_size or batch_size,
                    steps=validation_steps,
                    verbose=0,
                    callbacks=callbacks,
                    return_dict=True,
                    _from_fit=True,
                )
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        callbacks.on_train_end(logs)
        return self.history

    @device_argument
    @blas_thread_policy  # BLAS threads fit the cores other processes leave (backend/threads.py)
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        _from_fit=False,
        **kwargs,
    ):
        """The loss and metrics over the data: a scalar, a list (loss first) or a dict."""
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}")
        self._assert_compiled("evaluate")
        from ..callbacks import CallbackList

        data = make_batches(x, y, sample_weight, batch_size, False, steps)
        self._ensure_built(data)
        verbose = 1 if verbose == "auto" else verbose
        if not (_from_fit and isinstance(callbacks, CallbackList)):  # inside fit: fit's callbacks see the test hooks
            callbacks = CallbackList(
                callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.steps
            )
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = {}
        test_step = self._step_function("test_step")
        stage = batch_stager()  # cuda: see fit
        if (
            stage is None
            and type(self).test_step is Trainer.test_step
            and all(is_host_array(w.data) for w in self.weights)  # the compiled forward's outputs are host arrays
            and _loss_reads_only_outputs(self)
        ):
            forward = self.make_predict_function()
            if hasattr(forward, "check_model"):  # the compiled forward (ember.compile.predict_function)
                test_step = functools.partial(self._compiled_test_step, forward)
        for step, batch in enumerate(data):
            callbacks.on_test_batch_begin(step)
            logs = test_step(batch if stage is None else stage(batch))
            callbacks.on_test_batch_end(step, logs)
        callbacks.on_test_end(logs)
        if return_dict:
            return logs
        return _as_list(logs, self._ordered_log_names(list(logs)))

    @device_argument
    @blas_thread_policy  # BLAS threads fit the cores other processes leave (backend/threads.py)
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as NumPy arrays (a list or dict for several outputs)."""
        tune_malloc()
        from ..callbacks import CallbackList

        data = make_batches(x, None, None, batch_size, False, steps)
        self._ensure_built(data)
        verbose = 1 if verbose == "auto" else verbose
        callbacks = CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.steps
        )
        predict_function = self.make_predict_function()
        # the per-batch hooks are dispatched only when a callback listens (the progress bar does)
        hook_begin = callbacks.overrides("on_predict_batch_begin")
        hook_end = callbacks.overrides("on_predict_batch_end")
        outputs = _PredictOutputs(data.num_samples if isinstance(data, ArrayBatches) else None)
        callbacks.on_predict_begin()
        stage = batch_stager()  # cuda: see fit; outputs come back with an explicit copy
        if stage is None and not (hook_begin or hook_end) and type(getattr(data, "x", None)) is numpy.ndarray:
            # the common case, one in-memory array and no per-batch hook: its slices straight to the function
            _predict_array(predict_function, data.x, data.batch_size, outputs)
            callbacks.on_predict_end()
            return outputs.result()
        for step, (x_batch, _, _) in enumerate(data):
            blas_threads_tick()  # the BLAS thread policy's decision, applied between batches (backend/threads.py)
            if hook_begin:
                callbacks.on_predict_batch_begin(step)
            out = predict_function(x_batch if stage is None else stage(x_batch))
            if stage is not None:
                out = map_structure(to_host, out)
            outputs.add(out, x_batch.shape[0] if type(x_batch) is numpy.ndarray else _num_samples(x_batch))
            if hook_end:
                callbacks.on_predict_batch_end(step, {"outputs": map_structure(Tensor._wrap, out)})
        callbacks.on_predict_end()
        return outputs.result()

    # ---- single batches -------------------------------------------------------------
    @blas_thread_policy  # as fit/predict: about 2.5 us a call (docs/performance.md)
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._assert_compiled("train_on_batch")
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weight(y, class_weight, sample_weight)
        data = ArrayBatches(x, y, sample_weight, batch_size=max(_num_samples(x), 1))
        self._ensure_built(data)
        self.reset_metrics()
        logs = self._step_function("train_step")(next(iter(data)))
        return logs if return_dict else _as_list(logs, self._ordered_log_names(list(logs)))

    @blas_thread_policy  # as fit/predict: about 2.5 us a call (docs/performance.md)
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled("test_on_batch")
        data = ArrayBatches(x, y, sample_weight, batch_size=max(_num_samples(x), 1))
        self._ensure_built(data)
        self.reset_metrics()
        logs = self._step_function("test_step")(next(iter(data)))
        return logs if return_dict else _as_list(logs, self._ordered_log_names(list(logs)))

    @blas_thread_policy  # as fit/predict: about 2.5 us a call (docs/performance.md)
    def predict_on_batch(self, x):
        data = ArrayBatches(x, None, None, batch_size=max(_num_samples(x), 1))
        self._ensure_built(data)
        return map_structure(lambda t: t.numpy(), self.predict_step(next(iter(data))))

    def _ensure_built(self, data) -> None:
        """Build a deferred Sequential model from the data's shape before the first step."""
        check_inputs(self, data)  # strings for a model that cannot read them (data_adapter)
        if self.built or not isinstance(data, ArrayBatches):
            return
        x = data.x
        if isinstance(x, numpy.ndarray) and hasattr(self, "build"):
            self.build((None, *x.shape[1:]))


class _PredictOutputs:
    """The batches' outputs gathered into one array per output.

    With the number of samples known (in-memory data), each output array is
    allocated once, at the first batch, and every batch is written into its
    rows; otherwise (datasets, or outputs that are not one row per sample)
    the batches are kept and concatenated at the end.
    """

    def __init__(self, num_samples):
        self.num_samples = num_samples
        self.structure = None
        self.arrays = None  # preallocated, one per flat output
        self.filled = 0
        self.chunks = None  # lists of flat outputs, when not preallocated

    def add(self, out, rows: int) -> None:
        arrays = self.arrays
        if arrays is not None and type(out) is numpy.ndarray and len(arrays) == 1:  # one output: the common case
            b, end = arrays[0], self.filled + rows
            if (
                out.shape[0] == rows
                and end <= self.num_samples
                and out.shape[1:] == b.shape[1:]
                and out.dtype == b.dtype
            ):
                b[self.filled : end] = out
                self.filled = end
                return
        if type(out) is not numpy.ndarray:  # predict's outputs leave the device here (host arrays stay as they are)
            out = map_structure(to_host, out)
        flat = [out] if type(out) is numpy.ndarray else flatten(out)
        if self.structure is None:
            self.structure = out
            if self.num_samples is not None and all(a.ndim and a.shape[0] == rows for a in flat):
                self.arrays = [numpy.empty((self.num_samples, *a.shape[1:]), a.dtype) for a in flat]
            else:
                self.chunks = []
        arrays = self.arrays
        if arrays is not None:
            end = self.filled + rows
            if (
                len(flat) == len(arrays)
                and end <= self.num_samples
                and all(
                    a.shape[0] == rows and a.shape[1:] == b.shape[1:] and a.dtype == b.dtype
                    for a, b in zip(flat, arrays)
                )
            ):
                for a, b in zip(flat, arrays):
                    b[self.filled : end] = a
                self.filled = end
                return
            self.chunks = [[b[: self.filled] for b in arrays]]  # an unexpected batch: concatenate from here on
            self.arrays = None
        self.chunks.append([a.copy() for a in flat])  # a compiled forward may reuse its output buffers

    def result(self):
        if self.structure is None:
            raise ValueError("predict: the input has no samples")
        if self.arrays is not None:
            flat = [b if self.filled == len(b) else b[: self.filled] for b in self.arrays]
        else:
            flat = [numpy.concatenate(parts) for parts in zip(*self.chunks)]
        if type(self.structure) is numpy.ndarray:
            return flat[0]
        from ..layers.symbolic import pack_like

        return pack_like(self.structure, flat)


def _predict_array(function, x, size, outputs) -> None:
    """``predict``'s loop over one in-memory array ``x`` in batches of ``size`` rows, into ``outputs``.

    The batches are ``data_adapter.ArrayBatches``'s (row slices, made contiguous when ``x`` is not). Once the
    compiled forward has a plan for full batches (``function.replay``), those go to its generated function
    directly: the same plan ``function(x_batch)`` would run, without looking it up per batch.
    """
    n = x.shape[0]
    replay = getattr(function, "replay", None)
    run = None
    copy = not x.flags.c_contiguous
    tick = blas_threads_tick
    add = outputs.add
    for start in range(0, n, size):
        tick()  # the BLAS thread policy's decision, applied between batches (backend/threads.py)
        x_batch = x[start : start + size]
        if copy:
            x_batch = numpy.ascontiguousarray(x_batch)
        rows = x_batch.shape[0]
        if run is not None and rows == size:
            out = run(x_batch)[0]
        else:
            out = function(x_batch)
            if replay is not None and run is None and rows == size:
                run = replay(x_batch)
        add(out, rows)


def _data_parallel():
    """``ember.distribution.fit_hooks`` when a DataParallel distribution over several processes is set, else None."""
    global _fit_hooks
    if _fit_hooks is None:  # imported at the first call (not with ember.training), then called directly
        from ..distribution.active import fit_hooks as _fit_hooks
    return _fit_hooks()


_fit_hooks = None


def _scales_loss(optimizer) -> bool:
    """Whether ``optimizer.scale_loss`` changes the loss (a LossScaleOptimizer, or ``loss_scale_factor`` set)."""
    from ..optimizers import LossScaleOptimizer

    return isinstance(optimizer, LossScaleOptimizer) or getattr(optimizer, "loss_scale_factor", None) is not None


def _check_model(function) -> None:
    """Let a compiled step or predict function re-read the model (a plain ``train_step`` has nothing to check)."""
    check = getattr(function, "check_model", None)
    if check is not None:
        check()


def _with_last(steps):
    """``(step, batch, is_last)`` for each ``(step, batch)``, looking one batch ahead."""
    it = iter(steps)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield (*current, False)
        current = following
    yield (*current, True)


def _never_last(steps):
    """``(step, batch, False)`` for each ``(step, batch)`` (``is_last`` unread: one step per call)."""
    for step, batch in steps:
        yield step, batch, False


def _user_batch_hooks(callbacks) -> bool:
    """Whether a callback that may change the model (user code) has a per-batch training hook.

    Ember's own callbacks change weight values or the learning rate at most, which a compiled step reads
    anyway; a ``LambdaCallback`` runs user code.
    """
    from ..callbacks import LambdaCallback
    from ..callbacks.callback import is_default

    names = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
    return any(
        (isinstance(cb, LambdaCallback) or not type(cb).__module__.startswith("ember.callbacks"))
        and not is_default(getattr(cb, name))
        for cb in callbacks.callbacks
        for name in names
    )


def _loss_reads_only_outputs(model) -> bool:
    """Whether ``test_step``'s loss depends on a call of ``model`` only through its output values.

    So for Ember's own layers (no Lambda, no user class) when none adds a call loss (an activity regularizer:
    the one source of ``add_loss`` among them) and none makes a mask (``mask_zero``, Masking): a mask on the
    outputs weights the loss, and the compiled forward returns plain arrays.
    """
    from ..layers.core.lambda_layer import Lambda
    from ..layers.embedding.masking import Masking

    for layer in model._flatten_layers():
        kind = type(layer)
        if not kind.__module__.startswith("ember.") or issubclass(kind, (Lambda, Masking)):
            return False
        if getattr(layer, "activity_regularizer", None) is not None or getattr(layer, "mask_zero", False):
            return False
    return True


def _is_graph_model(model) -> bool:
    """Whether ``model.call`` is Sequential's or the functional graph walk (not a subclass's own call)."""
    if not _GRAPH_CALLS:  # imported at the first call (models imports training)
        from ..models.functional import Functional
        from ..models.sequential import Sequential

        _GRAPH_CALLS.extend((Sequential.call, Functional.call))
    return type(model).call in _GRAPH_CALLS


_GRAPH_CALLS = []


def _to_numpy(t):
    return t.numpy() if isinstance(t, Tensor) else numpy.asarray(t)


def _legacy_epochs(kwargs, epochs):
    if "nb_epoch" in kwargs:
        warnings.warn("fit(): `nb_epoch` is the Keras 1 name; use `epochs`", DeprecationWarning, stacklevel=3)
        return kwargs.pop("nb_epoch")
    return epochs


def _unpack_validation(validation_data):
    if isinstance(validation_data, tuple):
        if len(validation_data) == 2:
            return validation_data[0], validation_data[1], None
        if len(validation_data) == 3:
            return validation_data
        raise ValueError(
            f"validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight), got a tuple of "
            f"{len(validation_data)}"
        )
    return validation_data, None, None


def _batch_size(x) -> int:
    first = x if type(x) is numpy.ndarray else flatten(x)[0]
    return int(first.shape[0])


def _num_samples(x) -> int:
    first = flatten(x)[0]
    return int(numpy.shape(first)[0]) if numpy.ndim(first) else 1


def _as_list(logs, names):
    values = [logs[n] for n in names if n in logs]
    return values[0] if len(values) == 1 else values


def _class_weights_to_sample_weight(y, class_weight, sample_weight):
    if isinstance(y, (list, tuple, dict)) and len(y) > 1 and not numpy.isscalar(next(iter(y))):
        # as Keras 3: class weights are per class of one target (several targets made a ragged array here)
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    y = numpy.asarray(y.numpy() if isinstance(y, Tensor) else y)
    labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0].astype(int)
    missing = set(numpy.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(f"class_weight has no weight for classes {sorted(missing)} found in y")
    weights = numpy.array([class_weight[int(c)] for c in labels], dtype="float32")
    return weights if sample_weight is None else weights * numpy.asarray(sample_weight, dtype="float32")
