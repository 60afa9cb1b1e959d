"""``Conv3D`` (and ``Convolution3D``): 3-D convolution of channels-last volumes.

The volume convolution is computed as a sum over the kernel's depth taps of
2-D convolutions: tap ``i`` convolves the input planes ``i * dilation + d * stride``
(every output depth ``d`` at once, folded into the batch) with the kernel's
plane ``i``. Each piece is an existing differentiable op, so gradients come for free.
"""

from __future__ import annotations

from ...ops import concatenate, conv2d, pad, reshape, split
from .base_conv import BaseConv


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", dilation_rate=(1, 1, 1)):
    """3-D cross-correlation of ``x`` (batch, depth, height, width, channels) with ``kernel`` (kd, kh, kw, in, out).

    ``padding`` "same" pads the depth axis as TensorFlow does (the extra cell at the end) and
    leaves height/width to ``conv2d``'s own "same". Returns (batch, new_depth, new_height, new_width, out).
    """
    batch, depth, height, width, channels = x.shape
    kd, sd, dd = kernel.shape[0], strides[0], dilation_rate[0]
    k_eff = (kd - 1) * dd + 1
    if padding == "same":
        out_d = -(-depth // sd)
        total = max((out_d - 1) * sd + k_eff - depth, 0)
        if total:
            x = pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0), (0, 0), (0, 0)))
    else:
        out_d = (depth - k_eff) // sd + 1
    if out_d <= 0:
        raise ValueError(
            f"conv3d: the output would have depth {out_d}: input depth {depth}, kernel depth {kd}, "
            f"dilation {dd}, padding {padding!r}"
        )
    out = None
    for i in range(kd):
        start = i * dd
        planes = x[:, start : start + (out_d - 1) * sd + 1 : sd]  # (batch, out_d, h, w, c)
        planes = reshape(planes, (batch * out_d, height, width, channels))
        y = conv2d(planes, kernel[i], strides=strides[1:], padding=padding, dilation_rate=dilation_rate[1:])
        out = y if out is None else out + y
    return reshape(out, (batch, out_d, out.shape[1], out.shape[2], out.shape[3]))


class Conv3D(BaseConv):
    """3-D convolution layer, plus bias and activation, as ``keras.layers.Conv3D``.

    Shapes: inputs (batch, depth, height, width, channels) -> (batch, new_depth, new_height,
    new_width, filters) (each new size as Conv2D's).
    Weights (Keras's order): kernel (kd, kh, kw, channels // groups, filters), bias (filters,).

    Args: as :class:`Conv2D`, with triples for kernel_size, strides and dilation_rate.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
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
        super().__init__(
            rank=3,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

    def convolution_op(self, inputs, kernel):
        def run(x, k):
            return conv3d(x, k, strides=self.strides, padding=self.padding, dilation_rate=self.dilation_rate)

        if self.groups == 1:
            return run(inputs, kernel)
        pieces = zip(split(inputs, self.groups, axis=-1), split(kernel, self.groups, axis=-1))
        return concatenate([run(x, k) for x, k in pieces], axis=-1)


Convolution3D = Conv3D
