"""``Conv1D`` (and its Keras 1 alias ``Convolution1D``): 1-D convolution of channels-last sequences."""

from __future__ import annotations

from .base_conv import CONV_LEGACY_TARGETS, BaseConv, take_legacy_kwargs, warn_legacy


class Conv1D(BaseConv):
    """1-D convolution layer (cross-correlation over steps), plus bias and activation.

    Shapes: inputs (batch, steps, channels) -> (batch, new_steps, filters), new_steps
    ``floor((steps - dilated_kernel) / stride) + 1`` for "valid", ``ceil(steps / stride)``
    for "same" and "causal".
    Weights (Keras's order): kernel (kernel_size, channels // groups, filters), bias (filters,).

    Args:
        filters: the number of output channels (Keras 2: ``nb_filter``).
        kernel_size: an int or a 1-tuple (Keras 1: ``filter_length``).
        strides: an int or a 1-tuple (Keras 1: ``subsample_length``).
        padding: "valid", "same" or "causal" (left padding only, so output step t sees
            input steps <= t) (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).
        dilation_rate: an int or a 1-tuple.
        groups: the number of channel groups.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as
        :class:`Conv2D` (with the same Keras 2 spellings).

    Returns (when called):
        A tensor of shape (batch, new_steps, filters).
    """

    def __init__(
        self,
        filters=None,
        kernel_size=None,
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
        given = {k: v for k, v in locals().items() if k not in ("self", "kwargs", "__class__")}
        name = type(self).__name__
        for old, new in (("filter_length", "kernel_size"), ("subsample_length", "strides")):
            if old in kwargs:
                warn_legacy(name, old, new)
                kwargs[new] = kwargs.pop(old)
        if "input_dim" in kwargs and "input_length" in kwargs and "input_shape" not in kwargs:
            # Keras 1: Conv1D(..., input_dim=channels, input_length=steps)
            warn_legacy(name, "input_dim, input_length", "input_shape=(steps, channels)")
            kwargs["input_shape"] = (kwargs.pop("input_length"), kwargs.pop("input_dim"))
        given = take_legacy_kwargs(Conv1D, kwargs, given, (*CONV_LEGACY_TARGETS, "kernel_size"), type(self).__name__)
        if given["kernel_size"] is None:
            raise TypeError(f"{name}: missing the `kernel_size` argument (an int)")
        super().__init__(rank=1, **given, **kwargs)


class Convolution1D(Conv1D):
    """``Conv1D`` under its Keras 1 name; Keras 1's ``filter_length``/``subsample_length`` work on both."""
