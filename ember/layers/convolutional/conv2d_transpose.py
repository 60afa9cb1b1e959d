"""``Conv2DTranspose``: the transposed 2-D convolution (upsampling by learned filters)."""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...ops import conv2d_transpose
from ...ops.convolution import conv_transpose_bias
from ..input_spec import InputSpec
from ..layer import Layer
from .arguments import standardize_data_format, standardize_padding, standardize_tuple
from .base_conv import CONV_LEGACY_TARGETS, _rank_message, take_legacy_kwargs


def transposed_length(size, kernel: int, stride: int, padding: str, output_padding, dilation: int):
    """Output length of one axis of a transposed convolution, as Keras computes it (None stays None).

    "valid": ``(size - 1) * stride + k_eff + extra`` with ``extra = max(k_eff, stride) - k_eff``
    when ``output_padding`` is None, else ``output_padding``; "same": ``size * stride``
    when ``output_padding`` is None, else ``(size - 1) * stride + k_eff % 2 + output_padding``
    (``k_eff`` is the dilated kernel size).
    """
    if size is None:
        return None
    k_eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(k_eff, stride) - k_eff if output_padding is None else output_padding
        return (size - 1) * stride + k_eff + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + k_eff % 2 + output_padding


class Conv2DTranspose(Layer):
    """Transposed 2-D convolution (the gradient of ``Conv2D`` with respect to its input), plus bias and activation.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width, filters);
    with ``output_padding=None`` new sizes are ``size * stride`` for "same" and
    ``(size - 1) * stride + max(kernel, stride)`` for "valid" (see :func:`transposed_length`).
    Weights (Keras's order): kernel (kh, kw, filters, channels), bias (filters,).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a pair.
        strides: the upsampling factor (an int or a pair).
        padding: "valid" or "same".
        output_padding: None, or an int or a pair of extra cells on the output's
            bottom/right (each strictly less than the stride).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).
        dilation_rate: an int or a pair.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Keras.

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, filters).
    """

    def __init__(
        self,
        filters=None,
        kernel_size=None,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
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
        given = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        given = take_legacy_kwargs(Conv2DTranspose, kwargs, given, CONV_LEGACY_TARGETS, type(self).__name__)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        filters, kernel_size = given["filters"], given["kernel_size"]
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{name}: `filters` must be a positive integer, received filters={filters!r}")
        if kernel_size is None:
            raise TypeError(f"{name}: missing the `kernel_size` argument (an int or a pair)")
        self.rank = 2
        self.filters = filters
        self.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, 2)
        self.strides = standardize_tuple(name, "strides", given["strides"], 2)
        self.dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, 2)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 cannot be combined with dilation_rate > 1, "
                f"received strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.padding = standardize_padding(name, given["padding"])
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = standardize_tuple(name, "output_padding", output_padding, 2, allow_zero=True)
            for i, (extra, s) in enumerate(zip(self.output_padding, self.strides)):
                if extra >= s:
                    raise ValueError(
                        f"{name}: each value of `output_padding` must be strictly less than the stride on its "
                        f"axis; axis {i} has output_padding={extra} and strides={s} "
                        f"(received output_padding={output_padding!r}, strides={self.strides})"
                    )
        self.data_format = standardize_data_format(name, given["data_format"])
        self.activation = activations.get(activation)
        self.use_bias = bool(given["use_bias"])
        self.kernel_initializer = initializers.get(given["kernel_initializer"])
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(given["kernel_regularizer"])
        self.bias_regularizer = regularizers.get(given["bias_regularizer"])
        self.kernel_constraint = constraints.get(given["kernel_constraint"])
        self.bias_constraint = constraints.get(given["bias_constraint"])
        self.input_spec = InputSpec(min_ndim=4)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            raise ValueError(_rank_message(self, input_shape))
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the channel axis (last) of the input must be known, "
                f"got shape {input_shape}"
            )
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, self.filters, channels),
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
        self.input_spec = InputSpec(min_ndim=4, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(_rank_message(self, tuple(inputs.shape)))
        args = dict(
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
        )
        if self.bias is not None and inputs.dtype == self.kernel.dtype == self.bias.dtype:
            # the bias added inside the convolution's split (no serial pass over its output): the same numbers
            outputs = conv_transpose_bias(inputs, self.kernel, self.bias, **args)
        else:
            outputs = conv2d_transpose(inputs, self.kernel, **args)
            if self.bias is not None:
                outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        extra = self.output_padding or (None, None)
        spatial = tuple(
            transposed_length(size, k, s, self.padding, p, d)
            for size, k, s, p, d in zip(input_shape[1:3], self.kernel_size, self.strides, extra, self.dilation_rate)
        )
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
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


Convolution2DTranspose = Conv2DTranspose
