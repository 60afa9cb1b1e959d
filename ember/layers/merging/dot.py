"""``Dot``: per-example dot products of two tensors along chosen axes."""

from __future__ import annotations

import numbers

from ...backend.config import epsilon
from ...ops import matmul, minimum, reshape, rsqrt, square, transpose
from ...ops import sum as reduce_sum
from .base_merge import Merge


def l2_normalize(x, axis):
    """``x * min(1 / sqrt(sum(x**2, axis)), 1 / epsilon)``: unit L2 norm along ``axis`` (Keras's normalize)."""
    inv_norm = rsqrt(reduce_sum(square(x), axis=axis, keepdims=True))
    return x * minimum(inv_norm, 1.0 / epsilon())


def batch_dot(x, y, axes, where="batch_dot"):
    """Dot products of ``x[b]`` and ``y[b]`` for every b, contracting ``x``'s axis ``axes[0]`` with ``y``'s ``axes[1]``.

    Shapes: x (batch, *xs), y (batch, *ys), with xs[a0 - 1] == ys[a1 - 1] -> (batch,
    *xs without a0, *ys without a1), or (batch, 1) when nothing else remains
    (Keras's ``batch_dot``).

    Args:
        x, y: tensors of rank >= 2 with the same batch size.
        axes: a pair of non-negative axes, neither 0 (the batch axis).
        where: the caller's name, for errors.
    """
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"{where}: cannot do batch_dot on inputs of rank < 2. Received shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{where}: cannot do batch_dot on inputs with different batch sizes. "
            f"Received shapes {x.shape} and {y.shape}"
        )
    a0, a1 = axes
    if 0 in (a0, a1):
        raise ValueError(f"{where}: cannot do batch_dot over axis 0 (the batch axis). Received axes={list(axes)}")
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(
            f"{where}: cannot do batch_dot on inputs with shapes {x.shape} and {y.shape} with axes={list(axes)}: "
            f"x.shape[{a0}] != y.shape[{a1}] ({x.shape[a0]} != {y.shape[a1]})"
        )
    batch, depth = x.shape[0], x.shape[a0]
    x_rest = [i for i in range(1, x.ndim) if i != a0]
    y_rest = [i for i in range(1, y.ndim) if i != a1]
    # x -> (batch, m, depth), y -> (batch, depth, n), one matmul, then unfold m and n
    xt = transpose(x, (0, *x_rest, a0))
    yt = transpose(y, (0, a1, *y_rest))
    x_sizes = [x.shape[i] for i in x_rest]
    y_sizes = [y.shape[i] for i in y_rest]
    m = 1
    for s in x_sizes:
        m *= s
    n = 1
    for s in y_sizes:
        n *= s
    out = matmul(reshape(xt, (batch, m, depth)), reshape(yt, (batch, depth, n)))
    out_shape = (batch, *x_sizes, *y_sizes) if x_sizes or y_sizes else (batch, 1)
    return reshape(out, out_shape)


class Dot(Merge):
    """Per-example dot product of two tensors: ``sum(x1[b, ..., i, ...] * x2[b, ..., i, ...])`` over one axis each.

    Shapes: x1 (batch, ...) and x2 (batch, ...) with equal sizes along the
    contracted axes -> (batch, x1's other axes..., x2's other axes...), or
    (batch, 1) when both are (batch, d). The output carries no mask.

    Args:
        axes: an int (the same axis of both) or a pair ``(axis_of_x1, axis_of_x2)``;
            negative values count from the end; the batch axis 0 cannot be used.
        normalize: L2-normalise both inputs along their contracted axes first, so
            the result is the cosine similarity.
        **kwargs: base layer arguments.
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    f"Dot: invalid type for argument `axes`, it should be a list or an int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    f"Dot: invalid format for argument `axes`, it should contain two elements. Received: axes={axes}"
                )
            if not all(isinstance(a, numbers.Integral) for a in axes):
                raise ValueError(
                    f"Dot: invalid format for argument `axes`, list elements should be integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def _axes_for(self, ndim1, ndim2):
        if isinstance(self.axes, int):
            return [self.axes % ndim1, self.axes % ndim2] if self.axes < 0 else [self.axes] * 2
        return [a % n if a < 0 else a for a, n in zip(self.axes, (ndim1, ndim2))]

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(
                f"A `Dot` layer ('{self.name}') should be called on a list of 2 inputs. "
                f"Received: input_shape={input_shape}"
            )
        shape1, shape2 = input_shape
        a0, a1 = self._axes_for(len(shape1), len(shape2))
        if shape1[a0] != shape2[a1]:
            raise ValueError(
                f"Dot '{self.name}': incompatible input shapes: axis values {shape1[a0]} (at axis {a0}) != "
                f"{shape2[a1]} (at axis {a1}). Full input shapes: {tuple(shape1)}, {tuple(shape2)}"
            )
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"A `Dot` layer ('{self.name}') should be called on exactly 2 inputs. Received: {inputs!r}"
            )
        x1, x2 = inputs
        axes = self._axes_for(x1.ndim, x2.ndim)
        if self.normalize:
            x1 = l2_normalize(x1, axes[0])
            x2 = l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes, where=f"Dot '{self.name}'")

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}"
            )
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a0, a1 = self._axes_for(len(shape1), len(shape2))
        shape1.pop(a0)
        shape2.pop(a1)
        shape2.pop(0)
        output_shape = shape1 + shape2
        if len(output_shape) == 1:
            output_shape += [1]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, **kwargs):
    """Functional form of :class:`Dot`: ``Dot(axes=axes, **kwargs)(inputs)``.

    Args:
        inputs: a list of two tensors.
        axes: the contracted axes (default -1, the last axis of both).
        **kwargs: ``normalize`` and the layer's other arguments.

    Returns:
        The tensor of dot products.
    """
    return Dot(axes=axes, **kwargs)(inputs)
