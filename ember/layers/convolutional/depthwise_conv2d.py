"""``DepthwiseConv2D``: each input channel convolved with its own ``depth_multiplier`` filters."""

from __future__ import annotations

from ... import activations, constraints, initializers, regularizers
from ...ops import depthwise_conv2d
from ..input_spec import InputSpec
from ..layer import Layer
from .arguments import spatial_output_shape, standardize_data_format, standardize_padding, standardize_tuple
from .base_conv import _rank_message, take_legacy_kwargs

DEPTHWISE_LEGACY_TARGETS = ("strides", "padding", "data_format", "use_bias")


class DepthwiseConv2D(Layer):
    """Depthwise 2-D convolution: no mixing across channels.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width,
    channels * depth_multiplier); output channel ``c * depth_multiplier + m`` is input
    channel ``c`` through its filter ``m``. New sizes as :class:`Conv2D`.
    Weights (Keras's order): kernel (kh, kw, channels, depth_multiplier),
    bias (channels * depth_multiplier,).

    Args:
        kernel_size: an int or a pair.
        strides: an int or a pair.
        padding: "valid" or "same".
        depth_multiplier: the number of filters per input channel.
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).
        dilation_rate: an int or a pair.
        activation: a name, a callable or None (linear).
        use_bias: whether to add a bias.
        depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
        activity_regularizer, depthwise_constraint, bias_constraint: as Keras.

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, channels * depth_multiplier).
    """

    def __init__(
        self,
        kernel_size=None,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        given = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        given = take_legacy_kwargs(DepthwiseConv2D, kwargs, given, DEPTHWISE_LEGACY_TARGETS, type(self).__name__)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        name = type(self).__name__
        if kernel_size is None:
            raise TypeError(f"{name}: missing the `kernel_size` argument (an int or a pair)")
        if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
            raise ValueError(
                f"{name}: `depth_multiplier` must be a positive integer, received depth_multiplier={depth_multiplier!r}"
            )
        self.rank = 2
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
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
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
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(channels * self.depth_multiplier,),
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
        outputs = depthwise_conv2d(
            inputs, self.kernel, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate
        )
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = None if input_shape[-1] is None else input_shape[-1] * self.depth_multiplier
        return spatial_output_shape(
            f"{type(self).__name__} '{self.name}'",
            input_shape,
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
            channels,
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }
