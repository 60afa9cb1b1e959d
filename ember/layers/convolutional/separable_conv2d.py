"""``SeparableConv2D``: a depthwise convolution followed by a 1x1 (pointwise) convolution."""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...ops import conv2d, depthwise_conv2d
from ..input_spec import InputSpec
from ..layer import Layer
from .arguments import spatial_output_shape, standardize_data_format, standardize_padding, standardize_tuple
from .base_conv import _rank_message, take_legacy_kwargs

SEPARABLE_LEGACY_TARGETS = ("filters", "strides", "padding", "data_format", "use_bias")


class SeparableConv2D(Layer):
    """Depthwise separable 2-D convolution: per-channel spatial filters, then a 1x1 convolution mixing channels.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width, filters);
    the strides, padding and dilation apply to the depthwise step; new sizes as :class:`Conv2D`.
    Weights (Keras's order): depthwise_kernel (kh, kw, channels, depth_multiplier),
    pointwise_kernel (1, 1, channels * depth_multiplier, filters), bias (filters,).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a pair (the depthwise window).
        strides, padding, data_format, dilation_rate: as :class:`DepthwiseConv2D`.
        depth_multiplier: the number of depthwise filters per input channel.
        activation: a name, a callable or None (linear).
        use_bias: whether to add a bias.
        depthwise_initializer, pointwise_initializer, bias_initializer, depthwise_regularizer,
        pointwise_regularizer, bias_regularizer, activity_regularizer, depthwise_constraint,
        pointwise_constraint, bias_constraint: as Keras.

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, filters).
    """

    def __init__(
        self,
        filters=None,
        kernel_size=None,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        given = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        given = take_legacy_kwargs(SeparableConv2D, kwargs, given, SEPARABLE_LEGACY_TARGETS, type(self).__name__)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        filters = given["filters"]
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{name}: `filters` must be a positive integer, received filters={filters!r}")
        if kernel_size is None:
            raise TypeError(f"{name}: missing the `kernel_size` argument (an int or a pair)")
        if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
            raise ValueError(
                f"{name}: `depth_multiplier` must be a positive integer, received depth_multiplier={depth_multiplier!r}"
            )
        self.rank = 2
        self.filters = filters
        self.depth_multiplier = depth_multiplier
        self.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, 2)
        self.strides = standardize_tuple(name, "strides", given["strides"], 2)
        self.dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, 2)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 cannot be combined with dilation_rate > 1, "
                f"received strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.padding = standardize_padding(name, given["padding"])
        self.data_format = standardize_data_format(name, given["data_format"])
        self.activation = activations.get(activation)
        self.use_bias = bool(given["use_bias"])
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
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
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
        )
        self.pointwise_kernel = self.add_weight(
            shape=(1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            name="pointwise_kernel",
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
        depthwise = depthwise_conv2d(
            inputs, self.depthwise_kernel, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate
        )
        outputs = conv2d(depthwise, self.pointwise_kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

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
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


SeparableConvolution2D = SeparableConv2D
