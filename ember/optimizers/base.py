"""``Optimizer``: what every Keras 3 optimizer shares (state, clipping, weight decay, the apply loop).

An optimizer owns:

- ``iterations``: how many times ``apply`` ran (an int64 Variable);
- the learning rate: a float held in a ``learning_rate`` Variable, a
  :class:`~ember.optimizers.schedules.LearningRateSchedule` of the step, or a
  callable with no arguments;
- slot Variables per model variable (momentum, velocity, ...), created by
  ``build`` in Keras's order and named ``"<variable path>_<slot>"``.

``apply(grads, variables)`` clips the gradients, applies decoupled weight
decay, runs the subclass's ``update_step`` on each variable, applies the
variables' constraints and counts the step. The updates are in-place array
arithmetic on ``variable.data`` with the variable's array module (NumPy or
CuPy); no graph is recorded. Scalars such as ``iterations`` and the learning
rate live on the host so reading them never waits for a GPU.

``variables`` lists, as Keras 3 does: ``iterations``, the ``learning_rate``
Variable (when the rate is a float), EMA averages and gradient accumulators
(when enabled), then the subclass's slots interleaved per model variable.
"""

from __future__ import annotations

import re
import warnings

import numpy  # host-side scalars only (iterations, learning rate, bias corrections)

from ..backend.device import to_device
from ..engine.grad_mode import no_grad
from ..engine.sparse_grad import RowSparseGrad
from ..engine.tensor import Tensor
from ..engine.variable import Variable
from .schedules.learning_rate_schedule import LearningRateSchedule
from .schedules.serialization import deserialize as deserialize_schedule
from .schedules.serialization import serialize as serialize_schedule

_NAME_UIDS: dict[str, int] = {}


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_name(class_name: str) -> str:
    """``"adam"``, then ``"adam_1"``, ``"adam_2"``... as Keras names unnamed objects."""
    base = _snake_case(class_name)
    uid = _NAME_UIDS.get(base, 0)
    _NAME_UIDS[base] = uid + 1
    return base if uid == 0 else f"{base}_{uid}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, numpy.integer, numpy.floating)) and not isinstance(value, bool)


def _host_variable(value, dtype, name: str, path: str) -> Variable:
    """A scalar Variable whose data stays a NumPy array whatever the default device is."""
    variable = Variable(numpy.asarray(value, dtype=dtype), dtype=dtype, trainable=False, name=name)
    if not isinstance(variable.data, numpy.ndarray):
        variable.data = numpy.asarray(value, dtype=dtype)
    variable.path = path
    return variable


# per Optimizer class: whether it has a flat rule and the apply loop it is exact for (see supports_flat_update)
_FLAT_RULE = {}


class Optimizer:
    """The base class of Ember's optimizers (Keras 3's ``keras.optimizers.Optimizer``).

    To write an optimizer, subclass it, create slots in ``build`` and update
    one variable in ``update_step``::

        class SignSGD(Optimizer):
            def __init__(self, learning_rate=0.01, **kwargs):
                super().__init__(learning_rate=learning_rate, **kwargs)

            def update_step(self, gradient, variable, learning_rate):
                xp = variable.device.xp
                variable.data -= variable.dtype.type(learning_rate) * xp.sign(gradient)

    Args:
        learning_rate: a float, a ``LearningRateSchedule``, or a callable with
            no arguments returning the rate.
        weight_decay: if set, every step first multiplies each variable by
            ``1 - weight_decay * learning_rate`` (decoupled weight decay).
        clipnorm: if set, each gradient is rescaled so its L2 norm is at most this.
        clipvalue: if set, each gradient is clipped elementwise to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together so their
            joint L2 norm is at most this. At most one of the three clip options.
        use_ema: keep an exponential moving average of the variables.
        ema_momentum: the average's momentum (``avg = m * avg + (1 - m) * var``).
        ema_overwrite_frequency: every this many steps, copy the averages into
            the variables (None: only in ``finalize_variable_values``).
        loss_scale_factor: if set, gradients are divided by it (the loss was
            multiplied by it in ``scale_loss``).
        gradient_accumulation_steps: if set (>= 2), gradients are summed over
            this many ``apply`` calls and their mean is applied on the last one.
        name: the optimizer's name (default: the class name in snake case, made unique).

    Keras 2 spellings: ``lr=`` is accepted for ``learning_rate`` and
    ``decay=`` applies Keras 2's ``lr / (1 + decay * iterations)``; both warn.
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        cls_name = self.__class__.__name__
        if "lr" in kwargs:
            warnings.warn(
                f"{cls_name}: the `lr` argument is deprecated, use `learning_rate` instead.",
                DeprecationWarning,
                stacklevel=3,
            )
            learning_rate = kwargs.pop("lr")
        decay = kwargs.pop("decay", None)
        self._legacy_decay = 0.0
        if decay:
            warnings.warn(
                f"{cls_name}: the `decay` argument is deprecated (Keras 2); it applies "
                "learning_rate / (1 + decay * iterations). Use `learning_rate=` with "
                "keras.optimizers.schedules.InverseTimeDecay instead.",
                DeprecationWarning,
                stacklevel=3,
            )
            self._legacy_decay = float(decay)
        if kwargs:
            raise ValueError(f"{cls_name}: argument(s) not recognized: {kwargs}")

        given = sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm))
        if given > 1:
            raise ValueError(
                f"{cls_name}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{cls_name}: `ema_momentum` must be in [0, 1]. Received: {ema_momentum}")
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    f"{cls_name}: `ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: {ema_overwrite_frequency}"
                )
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                f"{cls_name}: `gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: {gradient_accumulation_steps}"
            )

        self.name = name if name is not None else _auto_name(cls_name)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False

        self._variables: list[Variable] = []
        self._trainable_variables: list[Variable] = []
        self._index: dict[int, int] = {}
        self._buffers: dict = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern = None
        self._iterations = _host_variable(0, "int64", "iteration", f"{self.name}/iteration")
        self._track(self._iterations)

        if isinstance(learning_rate, LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, Tensor)
        ):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = self._new_learning_rate_variable(learning_rate)
            self._track(self._learning_rate)

    # ---- state -----------------------------------------------------------------
    def _new_learning_rate_variable(self, value) -> Variable:
        if isinstance(value, Tensor) and value.size == 1:
            value = value.item()
        if not _is_number(value):
            raise ValueError(
                f"{self.__class__.__name__}: `learning_rate` should be a float, a LearningRateSchedule, "
                f"or a callable returning the rate. Received: learning_rate={value!r}"
            )
        return _host_variable(float(value), "float32", "learning_rate", f"{self.name}/learning_rate")

    def _track(self, variable: Variable) -> None:
        self._variables.append(variable)

    @property
    def variables(self) -> list:
        """Every state Variable, in Keras 3's order (``iterations`` first)."""
        return self._variables[:]

    @property
    def iterations(self):
        """The step counter (with gradient accumulation: the number of applied updates)."""
        if self.gradient_accumulation_steps:
            return Tensor._wrap(self._iterations.data // self.gradient_accumulation_steps)
        return self._iterations

    def _raw_step(self) -> int:
        return int(self._iterations.data.item())

    def _local_step(self) -> int:
        """1 + the number of updates applied so far (the ``t`` of bias corrections)."""
        step = self._raw_step()
        if self.gradient_accumulation_steps:
            step //= self.gradient_accumulation_steps
        return step + 1

    @property
    def learning_rate(self):
        """The current rate: the ``learning_rate`` Variable, or the schedule's value at ``iterations``.

        Setting a number writes it into the Variable; setting a schedule or a
        callable replaces the rate. Setting a number when the optimizer was
        built with a schedule raises ``TypeError``, as in Keras.
        """
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        return lr()

    @learning_rate.setter
    def learning_rate(self, value):
        previous = self._learning_rate
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, Tensor)):
            self._learning_rate = value
            if isinstance(previous, Variable):
                self._variables = [v for v in self._variables if v is not previous]
            return
        if isinstance(previous, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning "
                "rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        if isinstance(previous, Variable):
            new = self._new_learning_rate_variable(value)
            previous.assign(new.data)
        else:
            self._learning_rate = self._new_learning_rate_variable(value)
            self._variables.insert(1, self._learning_rate)

    @property
    def lr(self):
        """Keras 2's name for ``learning_rate`` (deprecated)."""
        warnings.warn("`optimizer.lr` is deprecated, use `optimizer.learning_rate`.", DeprecationWarning, stacklevel=2)
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        warnings.warn("`optimizer.lr` is deprecated, use `optimizer.learning_rate`.", DeprecationWarning, stacklevel=2)
        self.learning_rate = value

    def _current_learning_rate(self) -> float:
        """The rate for this step as a Python float (schedules and Keras 2 ``decay`` included)."""
        lr = self._learning_rate
        if isinstance(lr, Variable):
            value = float(lr.data)
        elif isinstance(lr, LearningRateSchedule):
            value = float(lr(self._iterations))
        else:
            value = float(lr())
        if self._legacy_decay:
            # Keras 2's time decay, computed in float32 as Keras 2 did
            f32 = numpy.float32
            value = float(f32(value) / (f32(1) + f32(self._legacy_decay) * f32(self._raw_step())))
        return value

    # ---- building ----------------------------------------------------------------
    def build(self, variables) -> None:
        """Create the optimizer's state for ``variables`` (the model's trainable variables).

        Subclasses create their slots after calling ``super().build(variables)``.
        """
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._index[id(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, name="gradient_accumulator")
                )
        self._trainable_variables = variables[:]
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", layout=None, name=None):
        """Create and track a non-trainable state Variable of ``shape``.

        ``initializer`` is ``"zeros"``, ``"ones"``, a number, or a callable
        ``(shape, dtype) -> array``. ``aggregation`` and ``layout`` are accepted
        for Keras compatibility and ignored.
        """
        from ..backend.device import default_device

        return self._new_slot(tuple(shape), dtype or "float32", initializer, name or "variable", default_device().xp)

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A state Variable shaped and typed like ``reference_variable``, on its device.

        Named ``"<reference path with / as _>_<name>"`` as in Keras.
        """
        name = name or "var"
        prefix = getattr(reference_variable, "path", None) or str(getattr(reference_variable, "name", "variable"))
        full = f"{prefix.replace('/', '_').replace(':', '_')}_{name}"
        return self._new_slot(
            reference_variable.shape, reference_variable.dtype, initializer, full, reference_variable.device.xp
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for each name in ``name`` (a string or a list), interleaved per variable.

        Returns a list of slots for a single name, a tuple of lists for a list of names.
        """
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        if len(inits) != len(names):
            raise ValueError(
                f"{self.__class__.__name__}.add_optimizer_variables: {len(names)} names but "
                f"{len(inits)} initializers (name={name!r}, initializer={initializer!r})"
            )
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                slots[i].append(self.add_variable_from_reference(variable, name=slot_name, initializer=init))
        return slots[0] if isinstance(name, str) else slots

    def _new_slot(self, shape, dtype, initializer, name, xp) -> Variable:
        if isinstance(initializer, str):
            if initializer not in ("zeros", "ones"):
                raise ValueError(
                    f"{self.__class__.__name__}: slot {name!r}: unknown initializer {initializer!r}; "
                    "expected 'zeros', 'ones', a number or a callable (shape, dtype) -> array"
                )
            value = xp.zeros(shape, dtype=dtype) if initializer == "zeros" else xp.ones(shape, dtype=dtype)
        elif _is_number(initializer):
            value = xp.full(shape, initializer, dtype=dtype)
        else:
            value = initializer(shape, dtype)
            if isinstance(value, Tensor):
                value = value.data
            value = xp.asarray(value, dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=False, name=name)
        variable.path = f"{self.name}/{name}"
        self._track(variable)
        return variable

    def _get_variable_index(self, variable) -> int:
        return self._index[id(variable)]

    def _buffer(self, variable, slot: int = 0):
        """A scratch array shaped like ``variable`` (shared by same-shaped variables; reused every step)."""
        data = variable.data
        key = (data.shape, data.dtype, type(data), getattr(getattr(data, "device", None), "id", None), slot)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = variable.device.xp.empty(data.shape, dtype=data.dtype)
        return buf

    # ---- applying gradients -----------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """``apply`` for a list of ``(gradient, variable)`` pairs; returns ``iterations``."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self._iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None) -> None:
        """Update ``trainable_variables`` in place from ``grads`` (one per variable).

        Args:
            grads: a list of gradients: Ember tensors, NumPy/CuPy arrays,
                ``RowSparseGrad`` (an embedding's gradient), or None to skip
                that variable.
            trainable_variables: the Variables, in the same order. The first
                call builds the optimizer on them; later calls must pass
                variables it was built with. Omitted: the variables of the build.

        Variables with ``trainable=False`` are left alone. After the update a
        variable's ``constraint`` (if set) is applied to it. ``iterations``
        grows by one.
        """
        layout = self.__dict__.get("_flat")
        if layout is not None and trainable_variables is layout.checked is not None and layout.holds(grads):
            if layout.prepare():  # the compiled step wrote each flat gradient into its view (see flat_layout)
                rest = [(grads[k], trainable_variables[k]) for k in layout.rest] if layout.rest else ()
                return self.apply_flat(layout.groups, trainable_variables, rest)
        grads = list(grads)
        if not grads:
            return
        cls_name = self.__class__.__name__
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{cls_name}.apply: when passing `grads` without `variables`, the optimizer must "
                    "already be built on a list of variables. Call `optimizer.build(trainable_variables)` first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"{cls_name}.apply: got {len(grads)} gradients, but the optimizer was built on "
                    f"{len(self._trainable_variables)} trainable variables."
                )
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if len(variables) != len(grads):
                raise ValueError(f"{cls_name}.apply: got {len(grads)} gradients for {len(variables)} variables")
            if not self.built:
                self.build(variables)
            for v in variables:
                if id(v) not in self._index:
                    raise ValueError(
                        f"{cls_name}.apply: unknown variable {v!r}. This optimizer can only be called for the "
                        "variables it was originally built with. When working with a new set of variables, "
                        "you should recreate a new optimizer instance."
                    )

        missing = [getattr(v, "path", "?") for g, v in zip(grads, variables) if g is None]
        if len(missing) == len(grads):
            raise ValueError(f"{cls_name}.apply: no gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss.", stacklevel=2)
        # a plain tensor (``ember.tensor(..., requires_grad=True)``) is trainable, as a torch Parameter is
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None and getattr(v, "trainable", True)]
        with no_grad():
            if pairs:
                grads = [self._prepare_gradient(g, v) for g, v in pairs]
                variables = [v for _, v in pairs]
                if self.loss_scale_factor is not None:
                    grads = [self._scaled(g, 1.0 / self.loss_scale_factor) for g in grads]
                if self.gradient_accumulation_steps:
                    self._accumulate_or_update(grads, variables)
                else:
                    self._update(grads, variables)
                if self.use_ema:
                    self._update_moving_averages()
                for v in variables:
                    if getattr(v, "constraint", None) is not None:
                        v.assign(v.constraint(v))
            self._iterations.data += 1

    # ---- flat buffers (see _update) --------------------------------------------------------------
    flat_buffers = True  # False: update variable by variable (``update_step``), as a reference

    def _flat_slot_lists(self):
        """The slot lists the flat update reads (each aligned with the built variables), or None: no flat update."""
        return None

    def _flat_update_step(self, group, learning_rate) -> None:
        """Update a :class:`~ember.optimizers.flat.FlatGroup` (``w``, ``g``, ``slots``) in place, as ``update_step``
        would update each of its variables."""
        raise NotImplementedError

    def supports_flat_update(self) -> bool:
        """Whether :meth:`apply_flat` gives this optimizer's exact update.

        It does when the class defines ``_flat_update_step`` next to the ``update_step`` in use (a subclass
        that overrides ``update_step`` or the apply machinery keeps the per-variable path) and no option
        works per variable or across steps (clipping, gradient accumulation, loss scaling).
        """
        cls = type(self)
        by_class = _FLAT_RULE.get(cls)
        if by_class is None:
            owner = next((c for c in cls.__mro__ if "_flat_update_step" in vars(c)), Optimizer)
            same_rule = all(getattr(cls, n) is getattr(owner, n) for n in ("update_step", "_update_step_begin"))
            same_loop = all(getattr(cls, n) is getattr(Optimizer, n) for n in ("apply", "_update"))
            by_class = _FLAT_RULE[cls] = owner is not Optimizer and same_rule and same_loop
        return (
            by_class
            and not (self.clipnorm or self.clipvalue or self.global_clipnorm)
            and not self.gradient_accumulation_steps
            and self.loss_scale_factor is None
        )

    def flat_groups(self, variables):
        """Group ``variables`` (built, trainable, NumPy float arrays) by dtype into FlatGroups with their slots.

        The variables' and slots' ``data`` become views into the groups' buffers (values unchanged).
        """
        from .flat import FlatGroup

        slot_lists = self._flat_slot_lists()
        by_dtype = {}
        for v in variables:
            by_dtype.setdefault(v.dtype, []).append(v)
        groups = []
        for members in by_dtype.values():
            index = [self._get_variable_index(v) for v in members]
            groups.append(FlatGroup(members, [[slots[i] for i in index] for slots in slot_lists]))
        return groups

    def apply_flat(self, groups, variables, rest=()) -> None:
        """One update of ``variables`` (all of them, in order): the flat ``groups`` (gradients in ``group.g``)
        with one ``_flat_update_step`` each, then ``rest``, (gradient, variable) pairs, one by one.

        The caller checked what :meth:`apply` would: every variable is trainable and has a gradient,
        the groups are intact, and :meth:`supports_flat_update` holds.
        """
        with no_grad():
            learning_rate = self._current_learning_rate()
            self._apply_weight_decay(variables, learning_rate)
            self._update_step_begin(variables, learning_rate)
            for group in groups:
                self._flat_update_step(group, learning_rate)
            for grad, variable in rest:
                self.update_step(self._prepare_gradient(grad, variable), variable, learning_rate)
            if self.use_ema:
                self._update_moving_averages()
            for v in variables:
                if v.constraint is not None:
                    v.assign(v.constraint(v))
            self._iterations.data += 1

    def _wants_sparse(self, variable) -> bool:
        """Whether ``update_step`` takes a ``RowSparseGrad`` for ``variable`` as it is (else densified)."""
        return False

    def _prepare_gradient(self, grad, variable):
        """The gradient as an array of the variable's dtype and shape (or a RowSparseGrad when useful)."""
        data = variable.data
        if type(grad) is numpy.ndarray and type(data) is numpy.ndarray:  # the common case, checked at once
            if grad.dtype == data.dtype and grad.shape == data.shape:
                return grad
        shape = variable.shape
        if isinstance(grad, RowSparseGrad):
            if grad.shape != shape:
                raise ValueError(
                    f"{self.__class__.__name__}.apply: sparse gradient of shape {grad.shape} for variable "
                    f"{getattr(variable, 'path', 'a tensor')} of shape {shape}"
                )
            if grad.dtype != variable.dtype:
                grad = grad.astype(variable.dtype)
            if grad.device != variable.device:  # host rows given by the caller: copied in once, explicitly
                grad = RowSparseGrad(
                    to_device(grad.indices, variable.device), to_device(grad.values, variable.device), grad.shape
                )
            keep_sparse = (
                self._wants_sparse(variable)
                and not (self.clipnorm or self.clipvalue or self.global_clipnorm)
                and not self.gradient_accumulation_steps
            )
            return grad if keep_sparse else grad.dense_array()
        array = grad.data if isinstance(grad, Tensor) else variable.device.xp.asarray(grad)
        if array.dtype != variable.dtype:
            array = array.astype(variable.dtype)
        if array.shape != shape:
            raise ValueError(
                f"{self.__class__.__name__}.apply: gradient of shape {tuple(array.shape)} for variable "
                f"{getattr(variable, 'path', 'a tensor')} of shape {tuple(shape)}"
            )
        return array

    @staticmethod
    def _scaled(grad, factor):
        if isinstance(grad, RowSparseGrad):
            return RowSparseGrad(grad.indices, grad.values * grad.dtype.type(factor), grad.shape)
        return grad * grad.dtype.type(factor)

    def _update(self, grads, variables) -> None:
        """Clip, decay, and run the update rule on each variable (one optimizer update).

        Where :meth:`supports_flat_update` holds, the variables with dense NumPy gradients are updated through
        flat buffers (:mod:`.flat`): one ``_flat_update_step`` per dtype instead of one ``update_step`` per
        variable, the same elementwise rule on the same values (the same bits). Their ``data`` become views into
        those buffers on the first such update.
        """
        learning_rate = self._current_learning_rate()
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(variables, learning_rate)
        self._update_step_begin(variables, learning_rate)
        if self.flat_buffers and self.supports_flat_update():
            layout = self._flat_layout(grads, variables)
        else:
            layout = None
        if layout is None:
            for grad, variable in zip(grads, variables):
                self.update_step(grad, variable, learning_rate)
            return
        for group, positions in zip(layout.groups, layout.positions):
            for k, view in zip(positions, group.grad_views):
                if grads[k] is not view:  # the compiled step writes gradients straight into the views
                    view[...] = grads[k]
            self._flat_update_step(group, learning_rate)
        for k in layout.rest:
            self.update_step(grads[k], variables[k], learning_rate)

    def _flat_layout(self, grads, variables):
        """The :class:`~.flat.FlatLayout` of ``variables`` given their gradients (kept for the next call), or None.

        One layout is kept: a call with other variables, or gradients of another kind, builds a new one.
        """
        layout = self.__dict__.get("_flat")
        key = (tuple(map(id, variables)), tuple(map(type, grads)))
        if layout is None or layout.key != key:
            layout = self._flat = self._new_flat_layout(key, variables)
        if layout is not None and not layout.prepare():
            return None  # a variable frozen since (apply skips frozen ones: not met here), variable by variable
        return layout

    def _new_flat_layout(self, key, variables):
        from .flat import FLAT_MAX_SIZE, FlatLayout

        if len(set(key[0])) != len(variables):
            return None
        members = {}
        rest = []
        for k, (v, kind) in enumerate(zip(variables, key[1])):
            data = v.data
            if (
                kind is numpy.ndarray
                and isinstance(v, Variable)
                and type(data) is numpy.ndarray
                and data.flags.c_contiguous
                and numpy.issubdtype(data.dtype, numpy.floating)
                and id(v) in self._index
                and data.size <= FLAT_MAX_SIZE  # a big one is updated where its gradient lies (no copy)
            ):
                members.setdefault(data.dtype, []).append(k)
            else:
                rest.append(k)
        if not members:
            return None
        positions = list(members.values())
        groups = self.flat_groups([variables[k] for k in sum(positions, [])])
        return FlatLayout(key, groups, positions, rest)

    def flat_layout(self, variables):
        """The flat layout the last ``apply`` on ``variables`` used, if the flat update still applies, or None.

        ``layout.gradient_views(len(variables))``: per variable, the array ``apply`` reads its next dense
        gradient from (else None). The compiled step writes gradients straight into these, then calls
        ``apply`` with them, which then runs :meth:`apply_flat` with ``layout.groups`` (the same update, without the
        checks and copies: ``layout.holds`` and ``prepare`` stand for them).
        """
        layout = self.__dict__.get("_flat")
        if layout is None or not (self.flat_buffers and self.supports_flat_update()):
            return None
        if variables is not layout.checked and layout.key[0] != tuple(map(id, variables)):
            return None
        layout.checked = variables  # the compiled step passes the same list each step (never changed in place)
        return layout

    def _update_step_begin(self, variables, learning_rate) -> None:
        """Per-update work shared by all variables (Nadam's momentum-cache product)."""

    def update_step(self, gradient, variable, learning_rate) -> None:
        """Update ``variable`` in place given its gradient array and the rate (a float). Subclasses implement it."""
        raise NotImplementedError(f"{self.__class__.__name__} must implement update_step(gradient, variable, lr)")

    def _accumulate_or_update(self, grads, variables) -> None:
        steps = self.gradient_accumulation_steps
        accumulators = [self._accumulated_gradients[self._get_variable_index(v)] for v in variables]
        if (self._raw_step() + 1) % steps == 0:
            grads = [(g + acc.data) / g.dtype.type(steps) for g, acc in zip(grads, accumulators)]
            self._update(grads, variables)
            for acc in self._accumulated_gradients:
                acc.data[...] = 0
        else:
            for g, acc in zip(grads, accumulators):
                acc.data += g

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return self._clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [self._clip_by_value(g, self.clipvalue) for g in grads]
        return grads

    @staticmethod
    def _xp(array):
        from ..backend.device import device_of_array

        return device_of_array(array).xp

    def _clip_by_norm(self, grad, clipnorm):
        """``grad * clipnorm / max(||grad||, clipnorm)`` (no host round trip)."""
        xp = self._xp(grad)
        c = grad.dtype.type(clipnorm)
        norm = xp.sqrt(xp.sum(grad * grad))
        return grad * c / xp.maximum(norm, c)

    def _clip_by_global_norm(self, grads, clipnorm):
        """All gradients times ``clipnorm / max(global_norm, clipnorm)``; NaN if the norm is not finite."""
        xp = self._xp(grads[0])
        c = grads[0].dtype.type(clipnorm)
        total = xp.sqrt(sum(xp.sum(g * g) for g in grads))
        scale = c / xp.maximum(total, c) + (total - total)
        return [g * scale.astype(g.dtype) for g in grads]

    def _clip_by_value(self, grad, clipvalue):
        xp = self._xp(grad)
        v = grad.dtype.type(clipvalue)
        return xp.clip(grad, -v, v)

    # ---- weight decay ---------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Leave some variables out of weight decay: those in ``var_list``, or whose
        name contains any string in ``var_names``. Call it before the optimizer is built.
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and self._exclude_pattern.search(variable.name or ""):
            return False
        return True

    def _apply_weight_decay(self, variables, learning_rate) -> None:
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                dt = variable.dtype.type
                variable.data *= dt(1) - dt(self.weight_decay) * dt(learning_rate)

    # ---- moving average of the weights ----------------------------------------------
    def _update_moving_averages(self) -> None:
        step = self._local_step() - 1
        for variable, average in zip(self._trainable_variables, self._model_variables_moving_average):
            dt = variable.dtype.type
            momentum = dt(0) if step == 0 else dt(self.ema_momentum)
            average.data *= momentum
            average.data += (dt(1) - momentum) * variable.data
        if self.ema_overwrite_frequency and (step + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_averages(self._trainable_variables)

    def _overwrite_with_averages(self, variables) -> None:
        if len(variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"{self.__class__.__name__}: {len(variables)} model variables to override, but the optimizer "
                f"keeps averages for {len(self._model_variables_moving_average)}."
            )
        for variable, average in zip(variables, self._model_variables_moving_average):
            variable.data[...] = average.data

    def finalize_variable_values(self, var_list) -> None:
        """At the end of training: with ``use_ema``, copy the moving averages into ``var_list``."""
        if self.use_ema:
            self._overwrite_with_averages(list(var_list))

    def scale_loss(self, loss):
        """The loss times ``loss_scale_factor`` (unchanged when it is None)."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # ---- weights and config ------------------------------------------------------------
    def set_weights(self, weights) -> None:
        """Load arrays into ``variables`` (same order and shapes)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights first."
            )
        weights = list(weights)
        if len(weights) != len(self._variables):
            raise ValueError(
                f"{self.__class__.__name__}.set_weights: expected {len(self._variables)} arrays, got {len(weights)}"
            )
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(numpy.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {tuple(variable.shape)} not compatible with "
                    f"provided weight shape {tuple(numpy.shape(weight))}."
                )
            variable.assign(weight)

    def get_weights(self) -> list:
        """The ``variables`` as NumPy arrays."""
        return [v.numpy().copy() for v in self._variables]

    def save_own_variables(self, store) -> None:
        """Write the state into ``store`` under the keys "0", "1", ... (Keras's layout)."""
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store) -> None:
        """Read the state written by ``save_own_variables`` (warns and skips on a count mismatch)."""
        if len(store.keys()) != len(self._variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(self._variables)} variables whereas the saved optimizer has {len(store.keys())} variables."
            )
            if len(self._variables) <= 2:
                msg += " This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self._variables):
            variable.assign(store[str(i)])

    def get_config(self) -> dict:
        """The constructor arguments as a dict (Keras 3's keys); no state."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            learning_rate = serialize_schedule(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.data)
        else:
            learning_rate = lr
        config = {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        if self._legacy_decay:
            config["decay"] = self._legacy_decay
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Build an optimizer (fresh state) from ``get_config()``'s dict."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name}, built={self.built}>"
