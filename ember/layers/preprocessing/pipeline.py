"""``Pipeline``: preprocessing layers applied one after the other."""

from __future__ import annotations

from ..layer import Layer
from ..rnn.layer_config import deserialize_layer, serialize_layer


class Pipeline(Layer):
    """Apply ``layers`` in order, as ``keras.layers.Pipeline`` (each one's output mask feeds the next).

    Unlike a Sequential model, it is a layer: it adds no model around the steps
    and passes ``training`` (default True, as Keras) to the steps that take it.

    Args:
        layers: a list of layers.
    """

    def __init__(self, layers, name=None):
        super().__init__(name=name)
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list:
        return self._pipeline_layers

    def call(self, inputs, training=True, mask=None):
        outputs = inputs
        for layer in self._pipeline_layers:
            kwargs = {}
            sig = getattr(layer, "_call_signature", ())
            if "mask" in sig and mask is not None:
                kwargs["mask"] = mask
            if "training" in sig and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    def get_config(self) -> dict:
        return {"layers": [serialize_layer(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                f"Received config with layers={layers}."
            )
        config = dict(config)
        config["layers"] = [deserialize_layer(layer, custom_objects) for layer in layers]
        return cls(**config)
