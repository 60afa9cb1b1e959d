"""Argument checks shared by the convolution, pooling and reshaping layers.

Each helper turns one Keras constructor argument into its canonical form
(``kernel_size=3`` -> ``(3, 3)``, ``padding="SAME"`` -> ``"same"``,
``data_format=None`` -> ``image_data_format()``) or raises an error naming the
layer, the argument, what was expected and what came.
"""

from __future__ import annotations

import numbers

from ...backend import image_data_format

# Keras 1's dim_ordering values and the data_format each means
_DIM_ORDERINGS = {"tf": "channels_last", "th": "channels_first", "default": None}


def standardize_tuple(layer: str, name: str, value, n: int, allow_zero: bool = False) -> tuple:
    """``value`` (an int or ``n`` ints) as a tuple of ``n`` Python ints.

    Raises:
        ValueError: when ``value`` has the wrong length, holds non-integers, or
            values below 1 (below 0 when ``allow_zero``).
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(
                f"{layer}: `{name}` must be an integer or a tuple of {n} integers, received {name}={value!r}"
            ) from None
        if len(values) != n or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise ValueError(f"{layer}: `{name}` must be a tuple of {n} integers, received {name}={value!r}")
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        raise ValueError(f"{layer}: every value of `{name}` must be >= {low}, received {name}={value!r}")
    return values


def standardize_padding(layer: str, value, allow_causal: bool = False) -> str:
    """``padding`` lower-cased: "valid" or "same" (and "causal" for 1-D convolutions)."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError(f"{layer}: `padding` must be one of {allowed}, received padding={value!r}")
    return padding


def standardize_data_format(layer: str, value, channels_first: bool = False) -> str:
    """``data_format`` as "channels_last" or "channels_first" (None: ``ember.backend.image_data_format()``).

    Args:
        layer: the layer's class name, for messages.
        value: the argument as given; Keras 1's ``dim_ordering`` values "tf"/"th" are understood.
        channels_first: whether the layer supports "channels_first".

    Raises:
        ValueError: for a value that is not a data format.
        NotImplementedError: for "channels_first" on a layer that runs channels-last only.
    """
    if isinstance(value, str) and value.lower() in _DIM_ORDERINGS:
        value = _DIM_ORDERINGS[value.lower()]
    data_format = image_data_format() if value is None else str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer}: `data_format` must be 'channels_last' or 'channels_first', received data_format={value!r}"
        )
    if data_format == "channels_first" and not channels_first:
        raise NotImplementedError(
            f"{layer}: data_format='channels_first' is not supported; Ember's convolution and pooling ops are "
            "channels-last: pass data_format='channels_last' (inputs (batch, ..., channels)), or transpose your "
            "data to that layout"
            + (" (ember.backend.image_data_format() is 'channels_first')" if value is None else "")
        )
    return data_format


def conv_output_length(size, kernel: int, stride: int, padding: str, dilation: int = 1):
    """Length of one spatial axis after a convolution or pooling window (None stays None).

    "valid": ``floor((size - dilated_kernel) / stride) + 1``; "same" and
    "causal": ``ceil(size / stride)``.
    """
    if size is None:
        return None
    if padding == "valid":
        return (size - ((kernel - 1) * dilation + 1)) // stride + 1
    return (size - 1) // stride + 1


def spatial_output_shape(layer: str, input_shape, kernel, strides, padding, dilation, channels) -> tuple:
    """(batch, *spatial, channels) after a channels-last window op; errors when an axis would be empty."""
    input_shape = tuple(input_shape)
    spatial = tuple(
        conv_output_length(size, k, s, padding, d)
        for size, k, s, d in zip(input_shape[1:-1], kernel, strides, dilation)
    )
    if any(n is not None and n <= 0 for n in spatial):
        raise ValueError(
            f"{layer}: the output would have zero or negative size {spatial} along its spatial axes. Received "
            f"input shape={input_shape}, window={tuple(kernel)}, strides={tuple(strides)}, "
            f"dilation_rate={tuple(dilation)}, padding={padding!r}; use a larger input or padding='same'"
        )
    return (input_shape[0], *spatial, channels)
