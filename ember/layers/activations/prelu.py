"""``PReLU``: a leaky rectifier whose negative slopes are learned weights."""

from __future__ import annotations

from ... import constraints, initializers, regularizers
from ...ops import relu
from ..input_spec import InputSpec
from ..layer import Layer
from ._mask import passthrough_mask


class PReLU(Layer):
    """Parametric rectifier: ``x`` for x >= 0, ``alpha * x`` below, ``alpha`` learned.

    Shapes: inputs (batch, d1, ..., dn) -> outputs of the same shape.
    Weights: alpha of shape (d1, ..., dn), with 1 along the ``shared_axes``.

    Args:
        alpha_initializer: initializer of alpha (default zeros).
        alpha_regularizer: regularizer of alpha.
        alpha_constraint: constraint of alpha.
        shared_axes: an axis or a list of axes (counting the batch axis as 0)
            along which one alpha is shared, e.g. ``[1, 2]`` for one slope per
            channel of (batch, height, width, channels) feature maps.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"PReLU '{self.name}': shared_axes must name axes 1..{len(input_shape) - 1} of the input "
                    f"(axis 0 is the batch), got shared_axes={self.shared_axes} for input shape {tuple(input_shape)}"
                )
            param_shape[axis - 1] = 1
        missing = [i + 1 for i, d in enumerate(param_shape) if d is None]
        if missing:
            raise ValueError(
                f"PReLU '{self.name}': the sizes of axes {missing} of the input must be known (or shared through "
                f"shared_axes), got input shape {tuple(input_shape)}"
            )
        self.alpha = self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        axes = {}
        if self.shared_axes:
            axes = {i: input_shape[i] for i in range(1, len(input_shape)) if i not in self.shared_axes}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        return relu(inputs) - self.alpha * relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }
