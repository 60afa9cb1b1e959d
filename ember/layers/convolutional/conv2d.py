"""``Conv2D`` (and its Keras 1 alias ``Convolution2D``): 2-D convolution of channels-last images."""

from __future__ import annotations

from .base_conv import CONV_LEGACY_TARGETS, BaseConv, take_legacy_kwargs, warn_legacy


class Conv2D(BaseConv):
    """2-D convolution layer (cross-correlation over height and width), plus bias and activation.

    Shapes: inputs (batch, height, width, channels) -> (batch, new_height, new_width, filters),
    new sizes ``floor((size - dilated_kernel) / stride) + 1`` for "valid" and
    ``ceil(size / stride)`` for "same".
    Weights (Keras's order): kernel (kh, kw, channels // groups, filters), bias (filters,).

    Args:
        filters: the number of output channels (Keras 2: ``nb_filter``).
        kernel_size: an int or a pair (kh, kw).
        strides: an int or a pair (Keras 2: ``subsample``).
        padding: "valid" or "same" (Keras 2: ``border_mode``).
        data_format: "channels_last" (None: ``ember.backend.image_data_format()``).
        dilation_rate: an int or a pair.
        groups: the number of channel groups (1: an ordinary convolution).
        activation: a name, a callable or None (linear).
        use_bias: whether to add a bias (Keras 2: ``bias``).
        kernel_initializer (Keras 2: ``init``), bias_initializer, kernel_regularizer
        (``W_regularizer``), bias_regularizer (``b_regularizer``), activity_regularizer,
        kernel_constraint (``W_constraint``), bias_constraint (``b_constraint``): as Keras.

    Returns (when called):
        A tensor of shape (batch, new_height, new_width, filters).

    Example:
        >>> layer = ember.layers.Conv2D(32, kernel_size=(3, 3), activation="relu")
        >>> layer(ember.ones((8, 28, 28, 1))).shape
        (8, 26, 26, 32)
    """

    def __init__(
        self,
        filters=None,
        kernel_size=None,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
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
        given = take_legacy_kwargs(Conv2D, kwargs, given, CONV_LEGACY_TARGETS, type(self).__name__)
        if given["kernel_size"] is None:
            raise TypeError(f"{type(self).__name__}: missing the `kernel_size` argument (an int or a pair)")
        super().__init__(rank=2, **given, **kwargs)


class Convolution2D(Conv2D):
    """``Conv2D`` under its Keras 1 name, which also takes Keras 1's window arguments.

    ``Convolution2D(nb_filter, nb_row, nb_col, ...)`` (two positional ints after
    the filter count, or the ``nb_row``/``nb_col`` keywords) means
    ``kernel_size=(nb_row, nb_col)`` and warns (DeprecationWarning). Note that
    Keras 3 would read ``Convolution2D(32, 3, 3)`` as ``strides=3``; Ember reads
    it as Keras 1 programs meant it. Every other form is ``Conv2D``'s.
    """

    def __init__(self, filters=None, kernel_size=None, *args, **kwargs):
        name = type(self).__name__
        nb_row, nb_col = kwargs.pop("nb_row", None), kwargs.pop("nb_col", None)
        if args and _is_int(kernel_size) and _is_int(args[0]) and nb_row is None and nb_col is None:
            nb_row, nb_col, args = kernel_size, args[0], args[1:]
            kernel_size = None
            if args:
                raise TypeError(
                    f"{name}: after Keras 1's positional (nb_filter, nb_row, nb_col), pass the other arguments by "
                    f"keyword; got the extra positional arguments {args}"
                )
        elif nb_col is not None and nb_row is None and _is_int(kernel_size):
            nb_row, kernel_size = kernel_size, None
        if nb_row is not None or nb_col is not None:
            if nb_row is None or nb_col is None or kernel_size is not None:
                raise TypeError(
                    f"{name}: give the window either as kernel_size=(rows, cols) or as Keras 1's nb_row and nb_col "
                    f"(both), got kernel_size={kernel_size!r}, nb_row={nb_row!r}, nb_col={nb_col!r}"
                )
            warn_legacy(name, "nb_row, nb_col", "kernel_size=(nb_row, nb_col)")
            kernel_size = (nb_row, nb_col)
        super().__init__(filters, kernel_size, *args, **kwargs)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
