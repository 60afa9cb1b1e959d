"""``GroupNormalization``: normalise each example over groups of channels (Wu & He, 2018)."""

from __future__ import annotations

from ... import constraints, initializers, regularizers
from ...ops import mean, reshape, rsqrt, var
from ..activations._mask import passthrough_mask
from ..input_spec import InputSpec
from ..layer import Layer


class GroupNormalization(Layer):
    """Group normalization, as ``keras.layers.GroupNormalization``.

    The channels (``axis``) are split into ``groups``; each example is
    normalised with the mean and biased variance of each group (over the group's
    channels and every other non-batch axis), then scaled by gamma and shifted
    by beta per channel. ``groups=-1`` is instance normalization, 1 is layer
    normalization over all axes.

    Shapes: outputs like inputs. Weights (Keras's order): gamma (channels,) if
    ``scale``, beta (channels,) if ``center``.

    Args:
        groups: the number of groups (must divide the channels), or -1 for one per channel.
        axis: the channel axis (-1).
        epsilon: added to the variance (1e-3).
        center / scale, beta/gamma initializer, regularizer, constraint: as LayerNormalization.
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or `-1` for "
                f"instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer received an input "
                f"with shape {input_shape}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                shape=(dim,),
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                shape=(dim,),
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        self.built = True

    def call(self, inputs):
        shape = tuple(inputs.shape)
        ndim = len(shape)
        axis = self.axis % ndim
        # (..., channels, ...) -> (..., groups, channels // groups, ...): statistics over all but batch and group
        grouped_shape = (*shape[:axis], self.groups, shape[axis] // self.groups, *shape[axis + 1 :])
        x = reshape(inputs, grouped_shape)
        axes = tuple(i for i in range(1, ndim + 1) if i != axis)
        mu = mean(x, axis=axes, keepdims=True)
        inv = rsqrt(var(x, axis=axes, keepdims=True) + self.epsilon)
        param_shape = [1] * (ndim + 1)
        param_shape[axis], param_shape[axis + 1] = self.groups, shape[axis] // self.groups
        if self.gamma is not None:
            inv = inv * reshape(self.gamma, tuple(param_shape))
        out = x * inv - mu * inv
        if self.beta is not None:
            out = out + reshape(self.beta, tuple(param_shape))
        return reshape(out, shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
