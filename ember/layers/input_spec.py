"""``InputSpec``: what a layer accepts, checked before every call with a Keras-quality message."""

from __future__ import annotations


class InputSpec:
    """Constraints on one input of a layer (any field may be None).

    Args:
        ndim: the exact rank expected.
        min_ndim / max_ndim: bounds on the rank.
        axes: ``{axis: size}`` for axes whose size is fixed once the layer is built.
        dtype: the dtype kind expected ("float" or "int"); None accepts any.
    """

    def __init__(self, ndim=None, min_ndim=None, max_ndim=None, axes=None, dtype=None, name=None):
        self.ndim = ndim
        self.min_ndim = min_ndim
        self.max_ndim = max_ndim
        self.axes = dict(axes or {})
        self.dtype = dtype
        self.name = name

    def check(self, layer_name: str, index: int, shape: tuple) -> None:
        """Raise ValueError naming the layer, the expectation and the shape received."""
        where = f'Input {index} of layer "{layer_name}" is incompatible with the layer'
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(f"{where}: expected ndim={self.ndim}, found ndim={rank}. Full shape received: {shape}")
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(
                f"{where}: expected min_ndim={self.min_ndim}, found ndim={rank}. Full shape received: {shape}"
            )
        if self.max_ndim is not None and rank > self.max_ndim:
            raise ValueError(
                f"{where}: expected max_ndim={self.max_ndim}, found ndim={rank}. Full shape received: {shape}"
            )
        for axis, size in self.axes.items():
            if size is None:
                continue
            if not -rank <= axis < rank:
                raise ValueError(f"{where}: expected an axis {axis} of size {size}, but the input has shape {shape}")
            got = shape[axis]
            if got is not None and got != size:
                raise ValueError(
                    f"{where}: expected axis {axis} of input shape to have value {size}, "
                    f"but received input with shape {shape}"
                )

    def __repr__(self) -> str:
        return f"InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, max_ndim={self.max_ndim}, axes={self.axes})"
