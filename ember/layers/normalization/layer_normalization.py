"""``LayerNormalization``: normalise each example over its last axis (or chosen axes)."""

from __future__ import annotations

import numbers

from ... import constraints, initializers, regularizers
from ...ops import layer_norm, reshape
from ..activations._mask import passthrough_mask
from ..layer import Layer


class LayerNormalization(Layer):
    """Layer normalization (Ba et al., 2016): each example is normalised over ``axis``.

    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with the mean and
    the biased variance of each example over ``axis``.

    Shapes: outputs like inputs. Weights (Keras's order): gamma if ``scale``,
    beta if ``center``, both shaped by the sizes of the input along ``axis``
    (taken in sorted order of the axis values, as Keras does).

    Args:
        axis: an int or a list/tuple of ints, the axes normalised over (-1).
            After ``build`` it is held as a sorted list, as in Keras.
        epsilon: added to the variance (1e-3).
        center / scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: as Keras.
        **kwargs: base layer arguments; Keras's deprecated ``rms_scaling`` is
            accepted when False.
    """

    def __init__(
        self,
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
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            raise NotImplementedError(
                "LayerNormalization: rms_scaling=True (deprecated in Keras) is not implemented; use RMS "
                "normalization instead"
            )
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError(f"LayerNormalization: expected an int or a list/tuple of ints for `axis`, got {axis!r}")
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = False
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False  # as Keras: inputs come as they are; half precision is normalized in float32
        self.gamma = self.beta = None

    def build(self, input_shape):
        self._check_axes(input_shape)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        if None in shape:
            raise ValueError(
                f"LayerNormalization '{self.name}': the sizes of axes {self.axis} must be known, got input shape "
                f"{tuple(input_shape)}"
            )
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,  # as Keras: normalized in float32 under mixed_float16 (see call)
            )
        if self.center:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.built = True

    def call(self, inputs):
        rank = inputs.ndim
        positions = sorted(a % rank for a in self.axis)
        # ember.layer_norm wants gamma/beta sized along the axes in positional order; Keras's weights are
        # sized in the sorted order of the axis values (they differ when negative and positive axes mix):
        # both are the same numbers laid out for the same broadcast, so a reshape converts them
        param_shape = tuple(inputs.shape[p] for p in positions)
        gamma = (
            self.gamma if self.gamma is None or self.gamma.shape == param_shape else reshape(self.gamma, param_shape)
        )
        beta = self.beta if self.beta is None or self.beta.shape == param_shape else reshape(self.beta, param_shape)
        if inputs.dtype.kind == "f" and inputs.dtype.itemsize < 4:  # float16: statistics in float32, as Keras
            outputs = layer_norm(inputs.astype("float32"), gamma, beta, axis=tuple(positions), epsilon=self.epsilon)
        else:
            outputs = layer_norm(inputs, gamma, beta, axis=tuple(positions), epsilon=self.epsilon)
        compute = self.compute_dtype
        return outputs.astype(compute) if outputs.dtype.name != compute and compute.startswith("float") else outputs

    def _check_axes(self, input_shape):
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if a >= len(input_shape) or a < -len(input_shape):
                raise ValueError(
                    f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}"
                )

    def compute_output_shape(self, input_shape):
        self._check_axes(input_shape)
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
