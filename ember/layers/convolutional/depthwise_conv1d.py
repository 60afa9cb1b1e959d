"""``DepthwiseConv1D`` and ``SeparableConv1D``: the 1-D depthwise and separable convolutions.

Both run the 2-D layers' ops on the sequence as a one-row image; weights keep
Keras's 1-D shapes.
"""

from __future__ import annotations

from ...ops import conv2d, depthwise_conv2d, reshape
from .arguments import spatial_output_shape, standardize_padding, standardize_tuple
from .base_conv import _rank_message
from .depthwise_conv2d import DepthwiseConv2D
from .separable_conv2d import SeparableConv2D


def _one_d(layer, kernel_size, strides, dilation_rate, padding):
    """Set the layer's 1-D window arguments (after the 2-D constructor ran on a one-row version)."""
    name = type(layer).__name__
    layer.rank = 1
    layer.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, 1)
    layer.strides = standardize_tuple(name, "strides", strides, 1)
    layer.dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, 1)
    layer.padding = standardize_padding(name, padding)
    from ..input_spec import InputSpec

    layer.input_spec = InputSpec(min_ndim=3)


def _as_image(x):
    return reshape(x, (x.shape[0], 1, x.shape[1], x.shape[2]))


def _depthwise(layer, inputs, kernel):
    """The 1-D depthwise convolution of (batch, steps, channels) by kernel (k, channels, multiplier)."""
    out = depthwise_conv2d(
        _as_image(inputs),
        reshape(kernel, (1, *kernel.shape)),
        strides=(1, layer.strides[0]),
        padding=layer.padding,
        dilation_rate=(1, layer.dilation_rate[0]),
    )
    return out


def _output_shape(layer, input_shape, channels):
    return spatial_output_shape(
        f"{type(layer).__name__} '{layer.name}'",
        tuple(input_shape),
        layer.kernel_size,
        layer.strides,
        layer.padding,
        layer.dilation_rate,
        channels,
    )


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution, as ``keras.layers.DepthwiseConv1D``.

    Shapes: (batch, steps, channels) -> (batch, new_steps, channels * depth_multiplier).
    Weights (Keras's order): kernel (kernel_size, channels, depth_multiplier), bias.

    Args: as :class:`DepthwiseConv2D` with single ints.
    """

    def __init__(self, kernel_size=None, strides=1, padding="valid", depth_multiplier=1, dilation_rate=1, **kwargs):
        if kernel_size is None:
            raise TypeError("DepthwiseConv1D: missing the `kernel_size` argument (an int)")
        k, s, d = (standardize_tuple("DepthwiseConv1D", n, v, 1) for n, v in
                   (("kernel_size", kernel_size), ("strides", strides), ("dilation_rate", dilation_rate)))  # fmt: skip
        super().__init__(
            (1, k[0]),
            strides=(1, s[0]),
            padding=padding,
            depth_multiplier=depth_multiplier,
            dilation_rate=(1, d[0]),
            **kwargs,
        )
        _one_d(self, k, s, d, padding)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(_rank_message(self, input_shape))
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(self.kernel_size[0], channels, self.depth_multiplier),
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
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(_rank_message(self, tuple(inputs.shape)))
        out = _depthwise(self, inputs, self.kernel)
        out = reshape(out, (out.shape[0], out.shape[2], out.shape[3]))
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out) if self.activation is not None else out

    def compute_output_shape(self, input_shape):
        c = input_shape[-1]
        return _output_shape(self, input_shape, None if c is None else c * self.depth_multiplier)


class SeparableConv1D(SeparableConv2D):
    """Separable 1-D convolution (depthwise, then a pointwise mix), as ``keras.layers.SeparableConv1D``.

    Shapes: (batch, steps, channels) -> (batch, new_steps, filters).
    Weights (Keras's order): depthwise_kernel (kernel_size, channels, depth_multiplier),
    pointwise_kernel (1, channels * depth_multiplier, filters), bias (filters,).

    Args: as :class:`SeparableConv2D` with single ints.
    """

    def __init__(self, filters=None, kernel_size=None, strides=1, padding="valid", dilation_rate=1, **kwargs):
        if kernel_size is None:
            raise TypeError("SeparableConv1D: missing the `kernel_size` argument (an int)")
        k, s, d = (standardize_tuple("SeparableConv1D", n, v, 1) for n, v in
                   (("kernel_size", kernel_size), ("strides", strides), ("dilation_rate", dilation_rate)))  # fmt: skip
        super().__init__(
            filters,
            (1, k[0]),
            strides=(1, s[0]),
            padding=padding,
            dilation_rate=(1, d[0]),
            **kwargs,
        )
        _one_d(self, k, s, d, padding)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(_rank_message(self, input_shape))
        channels = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            shape=(self.kernel_size[0], channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
        )
        self.pointwise_kernel = self.add_weight(
            shape=(1, channels * self.depth_multiplier, self.filters),
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
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(_rank_message(self, tuple(inputs.shape)))
        depthwise = _depthwise(self, inputs, self.depthwise_kernel)
        out = conv2d(depthwise, reshape(self.pointwise_kernel, (1, *self.pointwise_kernel.shape)))
        out = reshape(out, (out.shape[0], out.shape[2], out.shape[3]))
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out) if self.activation is not None else out

    def compute_output_shape(self, input_shape):
        return _output_shape(self, input_shape, self.filters)


SeparableConvolution1D = SeparableConv1D
