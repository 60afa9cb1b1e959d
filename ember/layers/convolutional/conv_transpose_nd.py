"""``Conv1DTranspose`` and ``Conv3DTranspose``: transposed convolutions of sequences and volumes.

Both reuse the 2-D transposed convolution: a sequence is a one-row image; a
volume is a stack of planes, each kernel depth tap ``i`` maps input plane ``d``
to output plane ``d * stride + i * dilation`` of the full result (summed over
taps), which is then cropped as Keras crops each axis.
"""

from __future__ import annotations

from ...engine.creation import zeros
from ...ops import concatenate, conv2d_transpose, pad, reshape
from ...ops.convolution import _transpose_geometry
from ..input_spec import InputSpec
from .arguments import standardize_tuple
from .base_conv import _rank_message
from .conv2d_transpose import Conv2DTranspose, transposed_length


class _ConvTransposeND(Conv2DTranspose):
    """Conv2DTranspose's arguments and weights for ``rank`` spatial axes (1 or 3)."""

    rank_of_layer = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        **kwargs,
    ):
        r, name = self.rank_of_layer, type(self).__name__
        kernel_size = standardize_tuple(name, "kernel_size", kernel_size, r)
        strides = standardize_tuple(name, "strides", strides, r)
        dilation_rate = standardize_tuple(name, "dilation_rate", dilation_rate, r)
        if output_padding is not None:
            output_padding = standardize_tuple(name, "output_padding", output_padding, r, allow_zero=True)
        # the 2-D checks run on a pair of axes that covers each given value
        pair = (lambda t: (1, t[0])) if r == 1 else (lambda t: (max(t[0], t[1]), t[2]))
        super().__init__(
            filters,
            pair(kernel_size),
            strides=pair(strides),
            padding=padding,
            output_padding=None,
            data_format=data_format,
            dilation_rate=pair(dilation_rate),
            **kwargs,
        )
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                f"{name}: strides > 1 cannot be combined with dilation_rate > 1, "
                f"received strides={strides}, dilation_rate={dilation_rate}"
            )
        if output_padding is not None:
            for i, (extra, s) in enumerate(zip(output_padding, strides)):
                if extra >= s:
                    raise ValueError(
                        f"{name}: each value of `output_padding` must be strictly less than the stride on its axis; "
                        f"axis {i} has output_padding={extra} and strides={s}"
                    )
        self.rank = r
        self.kernel_size, self.strides, self.dilation_rate = kernel_size, strides, dilation_rate
        self.output_padding = output_padding
        self.input_spec = InputSpec(min_ndim=r + 2)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(_rank_message(self, input_shape))
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel axis of the input must be known")
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
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={-1: channels})
        self.built = True

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise ValueError(_rank_message(self, tuple(inputs.shape)))
        outputs = self.transpose_op(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        extra = self.output_padding or (None,) * self.rank
        spatial = tuple(
            transposed_length(size, k, s, self.padding, p, d)
            for size, k, s, p, d in zip(input_shape[1:-1], self.kernel_size, self.strides, extra, self.dilation_rate)
        )
        return (input_shape[0], *spatial, self.filters)


class Conv1DTranspose(_ConvTransposeND):
    """Transposed 1-D convolution, as ``keras.layers.Conv1DTranspose``.

    Shapes: inputs (batch, steps, channels) -> (batch, new_steps, filters), new_steps
    ``steps * stride`` ("same") or ``(steps - 1) * stride + max(kernel, stride)`` ("valid")
    when ``output_padding`` is None.
    Weights (Keras's order): kernel (kernel_size, filters, channels), bias (filters,).

    Args: as :class:`Conv2DTranspose`, with single ints.
    """

    rank_of_layer = 1

    def transpose_op(self, x, kernel):
        extra = None if self.output_padding is None else (0, self.output_padding[0])
        y = conv2d_transpose(
            reshape(x, (x.shape[0], 1, x.shape[1], x.shape[2])),
            reshape(kernel, (1, *kernel.shape)),
            strides=(1, self.strides[0]),
            padding=self.padding,
            output_padding=extra,
            dilation_rate=(1, self.dilation_rate[0]),
        )
        return reshape(y, (y.shape[0], y.shape[2], y.shape[3]))


class Conv3DTranspose(_ConvTransposeND):
    """Transposed 3-D convolution, as ``keras.layers.Conv3DTranspose``.

    Shapes: inputs (batch, depth, height, width, channels) -> (batch, new_depth,
    new_height, new_width, filters), each new size as Conv2DTranspose's.
    Weights (Keras's order): kernel (kd, kh, kw, filters, channels), bias (filters,).

    Args: as :class:`Conv2DTranspose`, with triples.
    """

    rank_of_layer = 3

    def transpose_op(self, x, kernel):
        batch, depth, height, width, channels = x.shape
        kd, sd, dd = self.kernel_size[0], self.strides[0], self.dilation_rate[0]
        extra = self.output_padding
        out_d, crop = _transpose_geometry(
            type(self).__name__, depth, kd, sd, dd, self.padding, None if extra is None else extra[0]
        )
        full = (depth - 1) * sd + (kd - 1) * dd + 1
        length = max(full, crop + out_d)
        planes = reshape(x, (batch * depth, height, width, channels))
        total = None
        for i in range(kd):
            y = conv2d_transpose(
                planes,
                kernel[i],
                strides=self.strides[1:],
                padding=self.padding,
                output_padding=None if extra is None else extra[1:],
                dilation_rate=self.dilation_rate[1:],
            )
            _, oh, ow, f = y.shape
            y = reshape(y, (batch, depth, 1, oh, ow, f))
            if sd > 1:  # input plane d lands on output plane d * stride: interleave stride - 1 empty planes
                y = concatenate([y, zeros((batch, depth, sd - 1, oh, ow, f), dtype=y.dtype)], axis=2)
            y = reshape(y, (batch, depth * sd, oh, ow, f))[:, : (depth - 1) * sd + 1]
            start = i * dd
            y = pad(y, ((0, 0), (start, length - start - y.shape[1]), (0, 0), (0, 0), (0, 0)))
            total = y if total is None else total + y
        return total[:, crop : crop + out_d]
