"""Keras's layers that wrap another framework's model: ``JaxLayer``, ``FlaxLayer``, ``TFSMLayer``,
``TorchModuleWrapper``. Each needs that framework's engine to run and train, which Ember does not embed, so
creating one raises NotImplementedError naming what to do instead."""

from __future__ import annotations

from ..layer import Layer


class _ForeignModelLayer(Layer):
    _framework = ""
    _instead = ""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} runs a {self._framework} model inside Keras; Ember cannot run or train "
            f"{self._framework} code. {self._instead}"
        )


class JaxLayer(_ForeignModelLayer):
    """A JAX function as a layer (Keras's JAX backend only)."""

    _framework = "JAX"
    _instead = "Rewrite the function with ember.ops inside a Layer subclass's call()."


class FlaxLayer(JaxLayer):
    """A Flax module as a layer (Keras's JAX backend only)."""

    _framework = "Flax"
    _instead = "Rebuild the module from ember.layers (Dense, Conv2D, ...) and copy its weights with set_weights()."


class TFSMLayer(_ForeignModelLayer):
    """A TensorFlow SavedModel as a layer (inference only, Keras's TensorFlow backend)."""

    _framework = "TensorFlow SavedModel"
    _instead = (
        "Load the original Keras model (.keras or .weights.h5) with ember.saving.load_model, or export the SavedModel "
        "to ONNX and serve that."
    )


class TorchModuleWrapper(_ForeignModelLayer):
    """A ``torch.nn.Module`` as a layer (Keras's torch backend only)."""

    _framework = "PyTorch"
    _instead = "Rebuild the module from ember.layers and copy its weights (state_dict arrays) with set_weights()."
