"""``TimeDistributed``: apply one layer (one set of weights) to every time step of a sequence."""

from __future__ import annotations

from ...ops.shaping import reshape, stack
from ..layer import Layer
from .layer_config import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Apply ``layer`` to each slice ``inputs[:, t]`` along axis 1.

    Shapes: inputs (batch, timesteps, ...) -> (batch, timesteps, ...layer output...).
    The weights are the wrapped layer's.

    A layer whose ``call`` takes no ``training`` argument (Dense, Conv, Activation, ...)
    sees one batch of ``batch * timesteps`` samples (the same numbers, one op);
    others (Dropout, BatchNormalization, ...) are called once per step, as Keras
    does, so batch statistics are per step.

    Args:
        layer: a ``Layer`` instance.

    Call arguments:
        inputs: at least rank 3.
        training: passed to the layer when its ``call`` takes it.
        mask: (batch, timesteps, ...) passed sliced to the layer when its ``call`` takes it.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                f"received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        child = self._child_input_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer._build_from_shape(child)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        child = self.layer.compute_output_shape(self._child_input_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def call(self, inputs, training=None, mask=None):
        if inputs.ndim < 3:
            raise ValueError(
                f"`TimeDistributed` layer '{self.name}' expects inputs of at least 3 dimensions (batch, timesteps, "
                f"...), got shape {tuple(inputs.shape)}"
            )
        if mask is not None:
            if mask.ndim < 2 or tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} that is "
                    f"incompatible with the input shape {tuple(inputs.shape)}. The first two dimensions of the mask "
                    "(batch size and timesteps) must match the input's first two dimensions."
                )
        sig = self.layer._call_signature
        batch, steps = inputs.shape[0], inputs.shape[1]
        if "training" not in sig and "mask" not in sig:
            flat = reshape(inputs, (batch * steps, *inputs.shape[2:]))
            out = self.layer.call(flat)
            return reshape(out, (batch, steps, *out.shape[1:]))
        outputs = []
        for t in range(steps):
            kwargs = {}
            if "training" in sig:
                kwargs["training"] = training
            if "mask" in sig and mask is not None:
                kwargs["mask"] = mask[:, t]
            outputs.append(self.layer.call(inputs[:, t], **kwargs))
        return stack(outputs, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
