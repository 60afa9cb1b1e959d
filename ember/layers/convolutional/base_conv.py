"""``BaseConv``: what Conv1D and Conv2D share (arguments, weights, grouped convolution, bias, activation)."""

from __future__ import annotations

import inspect
import os
import sys
import warnings

from ... import activations, constraints, initializers, regularizers
from ...ops import concatenate, conv1d, conv2d, pad, split
from ...ops.convolution import conv_bias_act
from ..input_spec import InputSpec
from ..layer import Layer
from ..legacy import rename_legacy_kwargs
from .arguments import spatial_output_shape, standardize_data_format, standardize_padding, standardize_tuple

_OPS = {1: conv1d, 2: conv2d}
_EMBER_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}

# Keras 3 arguments a Keras 2 keyword may stand for (see ember/layers/legacy.py)
CONV_LEGACY_TARGETS = (
    "filters",
    "strides",
    "padding",
    "data_format",
    "use_bias",
    "kernel_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


def take_legacy_kwargs(cls, kwargs: dict, given: dict, targets: tuple, name: str | None = None) -> dict:
    """Move Keras 2 keywords in ``kwargs`` into ``given`` (the explicit arguments), warning for each.

    ``given`` maps argument names to the values the caller passed (or the
    defaults); a Keras 2 keyword replaces its Keras 3 argument, and passing
    both (the Keras 3 one away from its default) is a TypeError. ``cls`` is the
    class whose ``__init__`` declares the defaults; ``name`` the class named in
    messages (default ``cls``'s).
    """
    name = name or cls.__name__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kwargs = rename_legacy_kwargs(name, kwargs, targets)
    for w in caught:  # re-issued from the caller's line, so Python's default filters show them in scripts
        warnings.warn(w.message, w.category, stacklevel=_caller_stacklevel())
    params = inspect.signature(cls.__init__).parameters
    for key in targets:
        if key in kwargs:
            value = kwargs.pop(key)
            default = params[key].default if key in params else None
            default = None if default is inspect.Parameter.empty else default
            if given.get(key, default) is not None and given.get(key, default) != default:
                raise TypeError(f"{name}: got both `{key}` and its Keras 2 spelling; pass only `{key}`")
            given[key] = value
    return given


def warn_legacy(layer: str, old: str, new: str) -> None:
    """The DeprecationWarning for a Keras 1/2 spelling without an entry in ``legacy.LEGACY_KWARGS``."""
    message = f"{layer}: `{old}` is the Keras 2 name; use `{new}` instead"
    warnings.warn(message, DeprecationWarning, stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside the ``ember`` package, seen from the caller of this helper.

    Warnings attributed to the user's line are shown by Python's default filters
    when that line is in ``__main__`` (a script), and point at the code to change.
    """
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_ROOT):
        frame, level = frame.f_back, level + 1
    return level


class BaseConv(Layer):
    """N-D convolution (cross-correlation) of channels-last inputs, plus bias and activation.

    Shapes: inputs (batch, *spatial, in_channels) -> (batch, *new_spatial, filters).
    Weights (Keras's order): kernel (*kernel_size, in_channels // groups, filters), bias (filters,).

    Args:
        rank: the number of spatial axes (1 or 2).
        filters: the number of output channels.
        kernel_size: the window size (an int or ``rank`` ints).
        strides: the step between windows (an int or ``rank`` ints).
        padding: "valid", "same" (output ``ceil(size / stride)``), or for rank 1 "causal"
            (left padding by ``dilation_rate * (kernel_size - 1)``, so step t only sees steps <= t).
        data_format: "channels_last" (or None: ``ember.backend.image_data_format()``);
            "channels_first" raises NotImplementedError.
        dilation_rate: the spacing between kernel taps (an int or ``rank`` ints).
        groups: split the input channels into this many groups, each convolved with
            ``filters // groups`` of the filters; must divide both channel counts.
        activation: a name, a callable or None (linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as Keras.
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        self.rank = rank
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{name}: `filters` must be a positive integer, received filters={filters!r}")
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: `groups` must be a positive integer, received groups={groups!r}")
        if filters % groups:
            raise ValueError(
                f"{name}: the number of filters must be divisible by the number of groups, "
                f"received filters={filters}, groups={groups}"
            )
        self.filters = filters
        self.groups = groups
        self.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, rank)
        self.strides = standardize_tuple(name, "strides", strides, rank)
        self.dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 cannot be combined with dilation_rate > 1, "
                f"received strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.padding = standardize_padding(name, padding, allow_causal=rank == 1)
        self.data_format = standardize_data_format(name, data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        name = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(_rank_message(self, input_shape))
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"{name} '{self.name}': the channel axis (last) of the input must be known, got shape {input_shape}"
            )
        if channels % self.groups:
            raise ValueError(
                f"{name} '{self.name}': the number of input channels must be divisible by groups={self.groups}, "
                f"but the input has {channels} channels (input shape {input_shape})"
            )
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def convolution_op(self, inputs, kernel):
        """The convolution without bias (grouped when ``groups > 1``); "causal" pads the start first."""
        op = _OPS[self.rank]
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs = pad(inputs, ((0, 0), (left, 0), (0, 0)))
            padding = "valid"
        if self.groups == 1:
            return op(inputs, kernel, strides=self.strides, padding=padding, dilation_rate=self.dilation_rate)
        pieces = zip(split(inputs, self.groups, axis=-1), split(kernel, self.groups, axis=-1))
        outputs = [op(x, k, strides=self.strides, padding=padding, dilation_rate=self.dilation_rate) for x, k in pieces]
        return concatenate(outputs, axis=-1)

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise ValueError(_rank_message(self, tuple(inputs.shape)))
        if self._fuses_bias_act():  # conv + bias (+ relu) as one op: one pass over the output each way
            relu = self.activation is activations.relu
            outputs = conv_bias_act(
                inputs,
                self.kernel,
                self.bias,
                strides=self.strides,
                padding=self.padding,
                dilation_rate=self.dilation_rate,
                relu=relu,
            )
            return outputs if relu or self.activation is activations.linear else self.activation(outputs)
        outputs = self.convolution_op(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def _fuses_bias_act(self) -> bool:
        """Whether ``call`` runs :func:`~ember.ops.convolution.conv_bias_act` (with the ReLU inside when the
        activation is a plain ReLU, any other activation after it): Conv1D/Conv2D's own convolution (not a
        subclass's ``convolution_op``), with a bias, one group, no causal padding."""
        return (
            self.bias is not None
            and self.rank in (1, 2)
            and self.groups == 1
            and self.padding != "causal"
            and type(self).convolution_op is BaseConv.convolution_op
        )

    def compute_output_shape(self, input_shape):
        return spatial_output_shape(
            f"{type(self).__name__} '{self.name}'",
            input_shape,
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
            self.filters,
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


def _rank_message(layer, shape) -> str:
    """The error for an input of the wrong rank, explaining the classic extra-batch-axis mistake."""
    rank = layer.rank
    msg = (
        f'Input 0 of layer "{layer.name}" ({type(layer).__name__}) is incompatible with the layer: expected '
        f"ndim={rank + 2}, {_LAYOUTS.get(rank, '(batch, *spatial, channels)')}, found ndim={len(shape)}. "
        f"Full shape received: {shape}"
    )
    if len(shape) == rank + 3:
        msg += (
            ". If you passed input_shape with the batch axis included, leave it out: input_shape is the shape "
            f"of one sample, e.g. input_shape={tuple(shape[2:])}"
        )
    return msg
