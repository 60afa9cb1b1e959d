"""``Layer``: the base of every Keras layer and model in Ember.

A layer owns weights (``add_weight``), creates them lazily in
``build(input_shape)`` the first time it sees an input, and computes in
``call(inputs, training=None, mask=None)``. ``__call__`` wraps ``call``:

- on concrete inputs (tensors, arrays) it converts arrays to tensors, checks
  ``input_spec``, builds, fills ``training`` and ``mask`` when ``call`` takes
  them and the caller did not pass them, runs ``call`` and attaches the output
  mask (``compute_mask``) to the outputs;
- on symbolic inputs (``ember.Input``) it builds, works out the output shapes
  and records a :class:`~ember.layers.symbolic.Node` for the functional API.

Names, arguments and behaviour follow ``keras.layers.Layer`` (Keras 3).
"""

from __future__ import annotations

import collections
import contextvars
import inspect
import re
import threading
import warnings

import numpy

from ..backend.config import floatx
from ..backend.device import default_device
from ..engine import function as _function
from ..engine.autocast import AutocastScope, get_autocast_scope
from ..engine.dtypes import default_dtype_for
from ..engine.grad_mode import no_grad
from ..engine.tensor import Tensor
from ..engine.variable import Variable
from .symbolic import Node, SymbolicTensor, flatten, is_symbolic, map_structure, pack_like

_name_counts = collections.defaultdict(int)
_PLAIN = (bool, int, float, str)  # keyword values __call__'s autocast leaves alone without looking inside
_call_context = threading.local()
# set by the loaders (ember.saving) while a model is built from a file's config: called with
# (layer, name, shape, dtype) before each weight is allocated, it refuses shapes the file cannot fill
ALLOCATION_CHECK = contextvars.ContextVar("ember_allocation_check", default=None)
_CHECKING_OUTPUTS = contextvars.ContextVar("ember_checking_outputs", default=False)
# set while a layer's compute_output_shape runs for a symbolic call: one that falls back to running the
# layer (the base class's) must not ask for the declaration again
_DECLARING = contextvars.ContextVar("ember_declaring_output_shape", default=False)
# the sizes stand-ins give unknown dimensions, pair by pair: the first pair that the layer accepts is used;
# later pairs are for layers whose window (a 7x7 valid convolution, a pool) does not fit the smaller ones
_STAND_IN_FILLS = ((2, 3), (16, 17), (64, 65))


class _StandInCallError(Exception):
    """A layer's ``call`` failed on stand-in inputs (the cause is chained)."""


def reset_names() -> None:
    """Forget the layer names handed out (``ember.backend.clear_session`` calls this)."""
    _name_counts.clear()


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``, ... as Keras names layers."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def snake_case(name: str) -> str:
    """``"MaxPooling2D"`` -> ``"max_pooling2d"``, Keras's default layer names."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def current_training():
    """The ``training`` flag of the innermost model call in progress (None outside one)."""
    return getattr(_call_context, "training", None)


class _TrainingScope:
    """Sets the training flag that nested layer calls inherit, restoring it on exit."""

    def __init__(self, training):
        self.training = training

    def __enter__(self):
        self.prev = current_training()
        _call_context.training = self.training
        return self

    def __exit__(self, *exc):
        _call_context.training = self.prev
        return False


class Layer:
    """Base class of layers: weights, lazy build, call, masks, config.

    Args:
        trainable: whether the layer's weights are updated by training.
        dtype: the layer's dtype policy: a name ("float32", "mixed_float16") or a ``DTypePolicy``
            (default the global policy, ``ember.config.dtype_policy()``). Under a mixed policy the
            weights are float32 and ``call`` computes in float16 (see ``autocast``).
        autocast: under a policy whose compute dtype is a float, cast float inputs to it and read float
            weights in it during ``call`` (Keras's rule; docs/mixed_precision.md). False opts out.
        name: a unique name; default the class name in snake case, numbered.
        input_shape / input_dim / batch_size / batch_input_shape: on the first
            layer of a ``Sequential`` model, the shape of one sample (without
            the batch axis), as in Keras.
    """

    # keyword arguments every layer accepts and Keras 2 programs pass
    _LEGACY_INPUT_KWARGS = ("input_shape", "input_dim", "batch_size", "batch_input_shape", "input_length")
    # Keras's switch: whether __call__ casts float inputs to the compute dtype (graph models pass them as they come)
    _convert_input_args = True

    def __init__(self, trainable=True, dtype=None, autocast=True, name=None, **kwargs):
        object.__setattr__(self, "_tracking", False)
        self._layers = []
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._inbound_nodes = []
        self._losses = []
        self._input_batch_shape = _input_batch_shape(type(self).__name__, kwargs)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._set_policy(dtype)
        self.autocast = autocast
        self.built = False
        self.input_spec = None
        self.supports_masking = getattr(self, "supports_masking", False)
        self.activity_regularizer = _regularizer(activity_regularizer)
        self._call_signature = _signature(type(self).call)
        self._tracking = True

    # ---- attribute tracking ------------------------------------------------
    def __setattr__(self, name, value):
        if getattr(self, "_tracking", False) and not name.startswith("__"):
            for item in flatten(value) if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Layer) and item is not self and all(item is not x for x in self._layers):
                    self._layers.append(item)
        object.__setattr__(self, name, value)

    # ---- weights -----------------------------------------------------------
    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
    ) -> Variable:
        """Create a weight Variable owned by this layer.

        Args:
            shape: the weight's shape (default scalar ``()``).
            initializer: a name (``"glorot_uniform"``), an initializer object or a callable
                ``(shape, dtype) -> array``; default glorot_uniform for floats, zeros otherwise.
            trainable: whether the optimizer updates it.
            regularizer / constraint: penalties added to the loss / projections after updates.
        """
        from .. import constraints, initializers, regularizers

        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = _dtype_name(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if numpy.dtype(dtype).kind == "f" else "zeros"
        check = ALLOCATION_CHECK.get()
        if check is not None:
            check(self, name, shape, dtype)
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        var = Variable(value, shape=shape, dtype=dtype, trainable=trainable, name=name or "variable")
        var.path = f"{self.name}/{var.name}"
        var.regularizer = regularizers.get(regularizer)
        var.constraint = constraints.get(constraint)
        var.autocast = bool(autocast)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(var)
        return var

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    def _flatten_layers(self, include_self: bool = True):
        """This layer (if ``include_self``) and every sublayer below it, depth first, each once (as Keras's)."""
        stack, seen = ([self] if include_self else list(reversed(self._layers))), set()
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            stack.extend(reversed(getattr(layer, "_layers", ())))

    @property
    def weights(self) -> list:
        """All weights: this layer's (trainable first, then the others), then its sublayers', without repeats."""
        out, seen = [], set()
        for w in self._trainable_variables + self._non_trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    variables = weights

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        out = [w for w in self._trainable_variables if w.trainable]
        seen = {id(w) for w in out}
        for layer in self._layers:
            for w in layer.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list:
        """The weights as NumPy arrays (copies), in ``weights`` order."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Load NumPy arrays into the weights, in ``weights`` order, checking count and shapes."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                f"{len(weights)}, but the layer was expecting {len(own)} weights."
            )
        for var, value in zip(own, weights):
            value = numpy.asarray(value.numpy() if isinstance(value, Tensor) else value)
            if tuple(value.shape) != var.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {var.shape} is not compatible with provided weight "
                    f"shape {tuple(value.shape)}."
                )
        for var, value in zip(own, weights):
            var.assign(value.numpy() if isinstance(value, Tensor) else value)

    def count_params(self) -> int:
        """The number of scalars in all weights; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.size for w in self.weights))

    # ---- losses --------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar tensor to the loss of the current call (e.g. an activity penalty)."""
        self._losses.append(loss)

    @property
    def losses(self) -> list:
        """Weight-regularization penalties and the losses added during the last call, with sublayers'."""
        out = list(self._losses)
        for w in self._trainable_variables + self._non_trainable_variables:
            if w.regularizer is not None:
                out.append(w.regularizer(w))
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    def _clear_losses(self) -> None:
        self._losses = []
        for layer in self._layers:
            layer._clear_losses()

    # ---- build and call ------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (default: none)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation; subclasses override it."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``; by default found by running the layer."""
        return self._infer_output_shapes(input_shape)

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs: the input mask passes through layers that support masking."""
        if not self.supports_masking:
            return None
        return previous_mask

    def __call__(self, *args, **kwargs):
        if args:
            inputs, rest = args[0], args[1:]
        elif "inputs" in kwargs:
            inputs, rest = kwargs.pop("inputs"), ()
        else:
            raise TypeError(f"Layer '{self.name}' was called without inputs")
        if is_symbolic(inputs):
            return self._symbolic_call(inputs, rest, kwargs)
        inputs = map_structure(_as_tensor, inputs)
        if self.autocast and self._convert_input_args:
            if rest or kwargs or type(inputs) is not Tensor or inputs.data.dtype != self._compute_np:
                inputs, rest, kwargs = self._autocast_inputs(inputs, rest, kwargs)
        self._check_inputs(inputs)
        if not self.built:
            self._build_for(inputs)
        sig = self._call_signature
        accepts_any = "**" in sig
        # training: explicit, else inherited from the enclosing model call; dropped (as Keras does)
        # when this call() does not take it, but still set for the layers it calls
        training = kwargs.pop("training", None)
        if training is None:
            training = current_training()
        if "training" in sig or (accepts_any and training is not None):
            kwargs["training"] = training
        # the input mask reaches call() when it takes one, and compute_mask() in any case
        previous_mask = kwargs.pop("mask", None)
        if previous_mask is None:
            masks = [getattr(t, "_keras_mask", None) for t in flatten(inputs)]
            if any(m is not None for m in masks):
                previous_mask = masks[0] if not isinstance(inputs, (list, tuple, dict)) else masks
        if previous_mask is not None and ("mask" in sig or accepts_any):
            kwargs["mask"] = previous_mask
        self._losses = []
        scope = self._autocast_scope() if _function._autocasting or self._mixed_policy else None
        with _TrainingScope(training):
            if scope is None:
                outputs = self.call(inputs, *rest, **kwargs)
            else:
                with scope:
                    outputs = self.call(inputs, *rest, **kwargs)
        if self.activity_regularizer is not None:
            for out in flatten(outputs):
                self.add_loss(self.activity_regularizer(out) / max(out.shape[0], 1))
        self._attach_mask(inputs, outputs, previous_mask)
        if "_first_output_shapes" not in self.__dict__:  # what summary() shows for layers outside a graph
            object.__setattr__(
                self, "_first_output_shapes", [tuple(t.shape) for t in flatten(outputs) if hasattr(t, "shape")]
            )
        return outputs

    def _autocast_inputs(self, inputs, rest, kwargs):
        """Float tensors among the arguments cast to the compute dtype (Keras's ``DTypePolicy.convert_input``)."""
        target = self._compute_np
        if target.kind != "f":
            return inputs, rest, kwargs

        def convert(x):
            if not isinstance(x, Tensor):
                return x
            dtype = x.data.dtype
            if dtype == target or dtype.kind != "f":
                return x
            from ..ops.casting import cast

            y = cast(x, target)
            mask = getattr(x, "_keras_mask", None)
            if mask is not None:
                y._keras_mask = mask
            return y

        inputs = convert(inputs) if isinstance(inputs, Tensor) else map_structure(convert, inputs)
        if rest:
            rest = tuple(map_structure(convert, r) for r in rest)
        if kwargs:
            kwargs = {
                k: v if v is None or isinstance(v, _PLAIN) else map_structure(convert, v) for k, v in kwargs.items()
            }
        return inputs, rest, kwargs

    def _autocast_scope(self):
        """The AutocastScope ``call`` runs in (Keras's rules), or None to keep the current one.

        Outside any scope, a layer whose compute and variable dtypes differ opens one with its compute
        dtype; inside one, a layer with ``autocast=False`` or a non-float compute dtype clears it and a
        layer with another compute dtype opens its own.
        """
        policy = self._dtype_policy
        current = get_autocast_scope() if _function._autocasting else None
        if current is None:
            if policy.compute_dtype != policy.variable_dtype:
                return AutocastScope(policy.compute_dtype)
            return None
        if not self.autocast or numpy.dtype(policy.compute_dtype).kind != "f":
            return AutocastScope(None) if current.dtype is not None else None
        if current.dtype != numpy.dtype(policy.compute_dtype):
            return AutocastScope(policy.compute_dtype)
        return None

    def _attach_mask(self, inputs, outputs, previous_mask):
        if previous_mask is None and type(self).compute_mask is Layer.compute_mask:
            return
        mask = self.compute_mask(inputs, previous_mask)
        if mask is None:
            return
        flat_out = flatten(outputs)
        flat_mask = flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(flat_out)
        for out, m in zip(flat_out, flat_mask):
            if isinstance(out, Tensor):
                out._keras_mask = m

    def _check_inputs(self, inputs) -> None:
        if self.input_spec is None:
            return
        specs = self.input_spec if isinstance(self.input_spec, (list, tuple)) else [self.input_spec]
        for i, (spec, x) in enumerate(zip(specs, flatten(inputs))):
            if spec is not None:
                spec.check(self.name, i, tuple(x.shape))

    def _build_for(self, inputs) -> None:
        shapes = map_structure(lambda t: tuple(t.shape), inputs)
        self._build_from_shape(shapes)

    def _build_from_shape(self, shapes) -> None:
        if type(self).build is not Layer.build:
            self.build(shapes)
        self.built = True

    # ---- the functional API ---------------------------------------------------
    def _symbolic_call(self, inputs, rest, kwargs):
        self._check_inputs(inputs)
        shapes = map_structure(lambda t: t.shape, inputs)
        if not self.built:
            self._build_from_shape(shapes)
        out_shapes, out_dtypes = self._infer_output_specs(inputs, rest, kwargs)
        flat = [
            SymbolicTensor(s, d, name=f"{self.name}_output_{i}")
            for i, (s, d) in enumerate(zip(flatten_shapes(out_shapes), out_dtypes))
        ]
        outputs = pack_like_shapes(out_shapes, flat)
        Node(self, inputs, {"args": rest, **kwargs}, outputs)
        return outputs

    def _infer_output_specs(self, inputs, rest, kwargs):
        """Output shapes and dtypes for symbolic inputs.

        Where the layer declares its output shape (overrides ``compute_output_shape``)
        the shapes are the declared ones, None dimensions kept, as Keras does. The
        dtypes (and, for layers without a declaration, the shapes) come from running
        ``call`` on stand-in data: unknown sizes (None) are tried as 2 and as 3, and
        output sizes that change with them are unknown (None) too. A stand-in too
        small for the layer (a 7x7 valid convolution on size 2) is retried with
        larger sizes (see ``_STAND_IN_FILLS``). Runs without recording, in
        inference mode, and forgets any loss the stand-in call added.
        """
        check = ALLOCATION_CHECK.get()
        if check is not None and type(self).compute_output_shape is not Layer.compute_output_shape:
            _check_declared_outputs(self, inputs, check)
        declared = self._declared_output_shapes(inputs, rest, kwargs)
        has_unknown = any(d is None for t in flatten(inputs) if isinstance(t, SymbolicTensor) for d in t.shape[1:])
        error, runs = None, None
        for fills in _STAND_IN_FILLS:
            if error is not None and not has_unknown:
                break  # every size is known: larger stand-ins would change nothing
            try:
                runs = [self._stand_in_call(inputs, rest, kwargs, fill) for fill in fills]
            except _StandInCallError as e:
                error = error or e.__cause__
                continue
            break
        self._losses = []
        if runs is None:
            if declared is None:
                raise error
            # no stand-in size fits the layer: the declared shapes, in the layer's compute dtype
            flat = flatten_shapes(declared)
            return declared, [numpy.dtype(self.compute_dtype)] * len(flat)
        first, second = (flatten(r) for r in runs)
        shapes = [tuple(a if a == b else None for a, b in zip(x.shape, y.shape)) for x, y in zip(first, second)]
        dtypes = [x.dtype for x in first]
        if declared is not None:
            shapes = _merge_declared(flatten_shapes(declared), shapes)
        return pack_like(runs[0], shapes) if isinstance(runs[0], (list, tuple, dict)) else shapes[0], dtypes

    def _declared_output_shapes(self, inputs, rest, kwargs):
        """The shapes ``compute_output_shape`` declares for symbolic ``inputs``, or None where it has none.

        Only for calls whose other arguments hold no symbolic tensors (a declaration takes the
        first argument's shapes); a declaration that fails or falls back to running the layer
        counts as none.
        """
        if type(self).compute_output_shape is Layer.compute_output_shape or _DECLARING.get():
            return None
        if is_symbolic(tuple(rest)) or any(is_symbolic(v) for v in kwargs.values()):
            return None
        token = _DECLARING.set(True)
        try:
            declared = self.compute_output_shape(map_structure(lambda t: tuple(t.shape), inputs))
            declared = map_shapes(lambda s: tuple(s), declared)
            if not flatten_shapes(declared):
                return None
        except Exception:  # noqa: BLE001 -- no usable declaration: the stand-in run decides
            return None
        finally:
            _DECLARING.reset(token)
        return declared

    def _stand_in_call(self, inputs, rest, kwargs, fill):
        """``call`` on stand-ins for the symbolic tensors among its arguments, unknown sizes set to ``fill``."""
        concrete = map_structure(lambda t: _stand_in(t, fill), inputs)
        # symbolic tensors passed beside the first argument (attention's value, key, masks) get stand-ins too
        rest_c = map_structure(lambda t: _stand_in(t, fill) if is_symbolic(t) else t, tuple(rest))
        call_kwargs = {
            k: map_structure(lambda t: _stand_in(t, fill) if is_symbolic(t) else t, v) for k, v in kwargs.items()
        }
        if "training" in self._call_signature:
            call_kwargs["training"] = False
        try:
            with no_grad(), _TrainingScope(False):
                if self.autocast and self._convert_input_args:
                    concrete, rest_c, call_kwargs = self._autocast_inputs(concrete, rest_c, call_kwargs)
                scope = self._autocast_scope()
                if scope is None:
                    return self.call(concrete, *rest_c, **call_kwargs)
                with scope:
                    return self.call(concrete, *rest_c, **call_kwargs)
        except Exception as e:  # noqa: BLE001 -- the caller retries larger stand-ins, then re-raises the first
            raise _StandInCallError() from e

    def _infer_output_shapes(self, input_shape):
        inputs = map_shapes(lambda s: SymbolicTensor(s, self.input_dtype), input_shape)
        shapes, _ = self._infer_output_specs(inputs, (), {})
        return shapes

    @property
    def input(self):
        """The symbolic input of this layer's first call in a functional graph."""
        return self._node(0).inputs

    @property
    def output(self):
        """The symbolic output of this layer's first call in a functional graph."""
        return self._node(0).outputs

    def _node(self, index):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic input, so it has no input")
        return self._inbound_nodes[index]

    # ---- config -----------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments that rebuild this layer (Keras's keys)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": _policy_config(self._dtype_policy)}
        if self._input_batch_shape is not None:
            config["batch_input_shape"] = self._input_batch_shape
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """The layer ``get_config()`` describes; ``custom_objects`` (name -> class or function) resolve
        the user's own objects named in it while it is rebuilt."""
        if custom_objects:
            from ..saving.registry import CustomObjectScope

            with CustomObjectScope(custom_objects):
                return cls(**config)
        return cls(**config)

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy``; settable with a name or a policy."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._set_policy(value)

    def _set_policy(self, value):
        policy = _policy(value)
        object.__setattr__(self, "_dtype_policy", policy)
        # the compute dtype as a NumPy dtype: __call__ compares each input's dtype with it (a C comparison)
        object.__setattr__(self, "_compute_np", numpy.dtype(policy.compute_dtype))
        object.__setattr__(self, "_mixed_policy", policy.compute_dtype != policy.variable_dtype)

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights (Keras: an alias of ``variable_dtype``); setting it sets the policy."""
        return self._dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value):
        self._set_policy(value)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: its inputs are cast to it and its outputs come in it."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype float inputs are cast to (the compute dtype)."""
        return self._dtype_policy.compute_dtype

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# ---- helpers ---------------------------------------------------------------------
def _signature(fn):
    """The keyword names ``fn`` takes; ``"**"`` stands for a ``**kwargs`` catch-all."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {"**" if p.kind is p.VAR_KEYWORD else p.name for p in params}


def _dtype_name(dtype) -> str:
    if dtype is None:
        return floatx()
    if isinstance(dtype, dict):  # Keras's serialized DTypePolicy
        dtype = dtype.get("config", {}).get("name", floatx())
    name = getattr(dtype, "name", dtype)
    return "bfloat16" if name == "bfloat16" else str(numpy.dtype(name))


def _policy(dtype):
    """A layer's DTypePolicy from None (the global policy), a name, a numpy dtype, a policy or Keras's dict."""
    from .. import dtype_policies

    if dtype is None or isinstance(dtype, (dtype_policies.DTypePolicy, dict)):
        return dtype_policies.get(dtype)
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if not isinstance(name, str):
        name = numpy.dtype(dtype).name  # a NumPy scalar type such as numpy.float32
    if name not in dtype_policies._MIXED and name not in ("bfloat16", "mixed_bfloat16"):
        name = numpy.dtype(name).name
    return dtype_policies.DTypePolicy(name)


def _policy_config(policy):
    """The ``dtype`` entry of a layer config: the policy's name (Keras's dict form is written by the savers)."""
    return policy.name


def _regularizer(identifier):
    if identifier is None:
        return None
    from .. import regularizers

    return regularizers.get(identifier)


def _input_batch_shape(layer_name, kwargs):
    """The (batch, ...) input shape a first layer declares through Keras's keyword arguments."""
    input_dim = kwargs.pop("input_dim", None)
    input_shape = kwargs.pop("input_shape", None)
    batch_size = kwargs.pop("batch_size", None)
    batch_input_shape = kwargs.pop("batch_input_shape", None) or kwargs.pop("batch_shape", None)
    input_length = kwargs.pop("input_length", None)
    if input_length is not None:
        warnings.warn(
            f"{layer_name}: `input_length` is deprecated; pass input_shape=(length,) instead",
            DeprecationWarning,
            stacklevel=4,
        )
        if input_shape is None and input_dim is None:
            input_shape = (input_length,)
    if input_dim is not None:
        input_shape = (input_dim,)
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        return (batch_size, *tuple(input_shape))
    return None


def _as_tensor(x):
    """A layer input as a tensor; a NumPy batch headed for the cpu is wrapped, not copied."""
    if isinstance(x, Tensor) or x is None:
        return x
    if type(x) is numpy.ndarray and default_device().type == "cpu":
        wanted = default_dtype_for(x)
        return Tensor._wrap(x if x.dtype == wanted else x.astype(wanted))
    return Tensor(x)


def _check_declared_outputs(layer, inputs, check) -> None:
    """Check the output shapes a layer declares (``compute_output_shape``) before it runs on stand-ins.

    Only while a model is built from a file: sizes in its config (RepeatVector's ``n``, a padding)
    could make the stand-in run allocate gigabytes from a few bytes of JSON.
    """
    if _CHECKING_OUTPUTS.get():  # an override that falls back to running the layer: no second check inside it
        return
    token = _CHECKING_OUTPUTS.set(True)
    try:
        declared = layer.compute_output_shape(map_structure(lambda t: tuple(t.shape), inputs))
        shapes = flatten_shapes(declared)
    except Exception:  # noqa: BLE001 -- no declaration to check; the stand-in inputs were checked
        return
    finally:
        _CHECKING_OUTPUTS.reset(token)
    for shape in shapes:
        check(None, f"the output of layer '{layer.name}'", tuple(3 if d is None else d for d in shape), "float32")


def _merge_declared(declared, inferred) -> list:
    """The declared output shapes, unless they disagree with what the stand-in run showed.

    A declared size is kept, None included, as Keras keeps it: two stand-in sizes can agree by
    chance (a 2x2 pool maps both 2 and 3 to 1) where the true size varies. A declaration with
    another count or rank of outputs, or a known size that the run contradicts, is not used.
    """
    if len(declared) != len(inferred) or any(len(d) != len(i) for d, i in zip(declared, inferred)):
        return inferred
    for d, i in zip(declared, inferred):
        if any(a is not None and b is not None and a != b for a, b in zip(d, i)):
            return inferred
    return list(declared)


def _stand_in(t, fill):
    """A concrete tensor shaped like symbolic ``t`` with unknown sizes set to ``fill``."""
    shape = tuple(fill if d is None else d for d in t.shape)
    check = ALLOCATION_CHECK.get()
    if check is not None:  # a model being built from a file: the file's shapes may be hostile
        check(None, "stand-in", shape, t.dtype)
    xp = default_device().xp  # beside the weights, which are made on the default device
    if t.dtype.kind == "f":
        return Tensor._wrap(xp.full(shape, 0.5, dtype=t.dtype))
    return Tensor._wrap(xp.zeros(shape, dtype=t.dtype))


def _is_shape(s) -> bool:
    return isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)


def flatten_shapes(shapes) -> list:
    """The shape tuples in a nested structure of shapes."""
    if _is_shape(shapes):
        return [shapes]
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    out = []
    for s in shapes:
        out.extend(flatten_shapes(s))
    return out


def pack_like_shapes(shapes, flat):
    if _is_shape(shapes):
        return flat[0]
    it = iter(flat)

    def build(s):
        if _is_shape(s):
            return next(it)
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        return type(s)(build(x) for x in s)

    return build(shapes)


def map_shapes(fn, shapes):
    if _is_shape(shapes) or (isinstance(shapes, (list, tuple)) and not shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, list) and all(isinstance(d, int) or d is None for d in shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: map_shapes(fn, v) for k, v in shapes.items()}
    return type(shapes)(map_shapes(fn, s) for s in shapes)
