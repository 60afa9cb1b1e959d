"""``Wrapper``: the base of layers that hold and call another layer (as ``keras.layers.Wrapper``)."""

from __future__ import annotations

from ..layer import Layer
from ..rnn.layer_config import deserialize_layer, serialize_layer


class Wrapper(Layer):
    """A layer around another: ``self.layer``, built with the wrapper, weights the inner layer's.

    Subclass it and write ``call`` (the default calls the inner layer).

    Args:
        layer: the wrapped layer instance.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure wrapped layer is a "
                "valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return self.layer(inputs, *args, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)
