"""``BatchNormalization``: normalise with batch statistics while training, moving averages at inference."""

from __future__ import annotations

from ... import constraints, initializers, regularizers
from ...backend.config import epsilon as backend_epsilon
from ...engine.grad_mode import no_grad
from ...engine.tensor import Tensor
from ...engine.variable import state_update
from ...ops import batch_norm, batch_norm_train, broadcast_to, expand_dims, reshape, square, where
from ...ops import sum as reduce_sum
from ..activations._mask import passthrough_mask
from ..input_spec import InputSpec
from ..layer import Layer


class BatchNormalization(Layer):
    """Batch normalization over every axis but ``axis`` (Ioffe and Szegedy, 2015), as Keras 3 does it.

    Training (``training=True`` and the layer trainable): the batch's mean and
    biased variance normalise the inputs, and the moving statistics are updated
    in place, ``moving = moving * momentum + batch * (1 - momentum)``.
    Otherwise the moving statistics are used. In both cases
    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``.

    Shapes: outputs like inputs. Weights (Keras's order): gamma (C,) if
    ``scale``, beta (C,) if ``center``, moving_mean (C,), moving_variance (C,),
    C the size of ``axis``.

    Args:
        axis: the channel axis (an int; -1 for channels last, 1 for channels first).
        momentum: the moving averages' momentum (0.99).
        epsilon: added to the variance (1e-3).
        center / scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as Keras.
        renorm, renorm_clipping, renorm_momentum, synchronized: accepted with
            their defaults for configuration compatibility; batch renormalization
            and synchronized statistics are not implemented.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: a float tensor.
        training: True for batch statistics (and moving-average updates).
        mask: optional boolean (batch, ...) mask with one axis fewer than the
            inputs; masked positions do not count in the batch statistics.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            raise TypeError(f"BatchNormalization: axis must be an int, got {axis!r}")
        self.axis = int(axis)
        if renorm:
            raise NotImplementedError("BatchNormalization: renorm=True (batch renormalization) is not implemented")
        if synchronized:
            raise ValueError("BatchNormalization: synchronized=True is only supported with the TensorFlow backend")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized
        self.supports_masking = True
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"BatchNormalization '{self.name}': axis {self.axis} is out of bounds for input shape "
                f"{tuple(input_shape)}"
            )
        size = input_shape[self.axis]
        if size is None:
            raise ValueError(
                f"BatchNormalization '{self.name}': the size of axis {self.axis} must be known, got input shape "
                f"{tuple(input_shape)}"
            )
        shape = (size,)
        if self.scale:
            self.gamma = self.add_weight(
                shape=shape,
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,  # as Keras: statistics and affine terms in float32 under mixed_float16
            )
        if self.center:
            self.beta = self.add_weight(
                shape=shape,
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False, autocast=False
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: size})
        self._reduction_axes = tuple(i for i in range(rank) if i != self.axis % rank)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                f"BatchNormalization '{self.name}': the mask should have one axis fewer than the inputs. "
                f"Received: mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}"
            )
        if inputs.dtype.kind == "f" and inputs.dtype.itemsize < 4:
            # as Keras: float16 statistics overflow, so a half-precision input is normalized in float32 and the
            # result comes back in the compute dtype (float16 under mixed_float16)
            return _in_dtype(self.call(inputs.astype("float32"), training=training, mask=mask), self.compute_dtype)
        if not (training and self.trainable):
            return batch_norm(
                inputs,
                self.moving_mean,
                self.moving_variance,
                offset=self.beta,
                scale=self.gamma,
                epsilon=self.epsilon,
                axis=self.axis,
            )
        if mask is None:
            outputs, mean, variance = batch_norm_train(
                inputs, gamma=self.gamma, beta=self.beta, axis=self.axis, epsilon=self.epsilon
            )
        else:
            mean, variance = self._masked_moments(inputs, mask)
            outputs = batch_norm(
                inputs, mean, variance, offset=self.beta, scale=self.gamma, epsilon=self.epsilon, axis=self.axis
            )
        self._update_moving_statistics(mean, variance)
        return outputs

    def _masked_moments(self, inputs, mask):
        """Mean and biased variance per channel over the positions where ``mask`` holds (Keras's formula)."""
        if not isinstance(mask, Tensor):
            mask = Tensor(mask, device=inputs.device)
        keep = broadcast_to(expand_dims(mask.astype(bool), -1), inputs.shape)
        weights = reduce_sum(keep.astype(inputs.dtype), axis=self._reduction_axes, keepdims=True)
        denominator = weights + backend_epsilon()
        mean = reduce_sum(where(keep, inputs, 0.0), axis=self._reduction_axes, keepdims=True) / denominator
        deviation = where(keep, inputs - mean, 0.0)
        variance = reduce_sum(square(deviation), axis=self._reduction_axes, keepdims=True) / denominator
        size = inputs.shape[self.axis]
        return reshape(mean, (size,)), reshape(variance, (size,))

    def _update_moving_statistics(self, mean, variance):
        # through the engine's state_update, so a compiled step repeats the write with each batch's moments
        state_update(self._assign_moving_statistics, mean, variance)

    def _assign_moving_statistics(self, mean, variance):
        momentum = self.momentum
        with no_grad():
            self.moving_mean.assign(self.moving_mean.data * momentum + mean.data * (1.0 - momentum))
            self.moving_variance.assign(self.moving_variance.data * momentum + variance.data * (1.0 - momentum))

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={self.axis}"
            )
        return input_shape

    def compute_mask(self, inputs, previous_mask=None):
        return passthrough_mask(inputs, previous_mask)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _in_dtype(outputs, dtype):
    """``outputs`` cast to the float ``dtype`` (a layer's compute dtype) when it has another dtype."""
    if outputs.dtype.name != dtype and dtype.startswith("float"):
        return outputs.astype(dtype)
    return outputs
