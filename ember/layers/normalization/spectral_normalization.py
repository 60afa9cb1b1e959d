"""``SpectralNormalization``: keep a layer's kernel at spectral norm 1 (Miyato et al., 2018)."""

from __future__ import annotations

import numpy

from ... import initializers
from ...engine.grad_mode import no_grad
from ..core.wrapper import Wrapper
from ..input_spec import InputSpec


def _normalize(x):
    return x / numpy.sqrt(max(float((x * x).sum()), 1e-12))


class SpectralNormalization(Wrapper):
    """Divide the wrapped layer's kernel (or embeddings) by its largest singular value while training,
    as ``keras.layers.SpectralNormalization``.

    The singular value is estimated by ``power_iterations`` steps of the power
    method from a kept vector ``vector_u`` (1, units), updated each training
    call; the kernel is rescaled in place (gradients then flow through the
    rescaled kernel, as in Keras). At inference the layer runs as it is.

    Weights (Keras's order): the kernel, vector_u (non-trainable), then the wrapped layer's others.

    Args:
        layer: a layer with a ``kernel`` or ``embeddings`` weight.
        power_iterations: power-method steps per training call (>= 1).
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                f"`power_iterations` should be greater than zero. Received: `power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if hasattr(self.layer, "kernel"):
            self.kernel = self.layer.kernel
        elif hasattr(self.layer, "embeddings"):
            self.kernel = self.layer.embeddings
        else:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        self.kernel_shape = tuple(self.kernel.shape)
        # the wrapper also owns the kernel (Keras tracks it here too: its weight files hold it under both)
        self._trainable_variables.append(self.kernel)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=self.kernel.dtype,
        )
        self.built = True

    @property
    def weights(self) -> list:
        """The kernel, ``vector_u``, then the wrapped layer's other weights (Keras's order)."""
        if not self.built:
            return self.layer.weights
        own = [self.kernel, self.vector_u]
        return own + [w for w in self.layer.weights if all(w is not o for o in own)]

    @property
    def losses(self) -> list:
        """The wrapped layer's losses and this call's (the shared kernel's penalty counted once)."""
        return list(self._losses) + list(self.layer.losses)

    @property
    def non_trainable_weights(self) -> list:
        return [w for w in self.weights if not (self.trainable and w.trainable)]

    def call(self, inputs, training=False):
        if training and numpy.any(self.kernel.data != 0):
            with no_grad():
                u, kernel = self.normalized_weights()
                self.vector_u.assign(u)
                self.kernel.assign(kernel)
        return self.layer(inputs)

    def normalized_weights(self):
        """``(vector_u, kernel / sigma)`` as arrays: one power-method estimate of the largest singular value."""
        w = self.kernel.numpy().reshape(-1, self.kernel_shape[-1])
        u = self.vector_u.numpy()
        for _ in range(self.power_iterations):
            v = _normalize(u @ w.T)
            u = _normalize(v @ w)
        sigma = (v @ w) @ u.T
        return u.astype(self.vector_u.dtype), (self.kernel.numpy() / sigma).reshape(self.kernel_shape)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "power_iterations": self.power_iterations}
