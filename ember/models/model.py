"""``Model``: a layer that can be trained; the base of Sequential, functional and subclassed models.

``Model(inputs, outputs)`` builds a functional model (as in Keras, the call
returns a :class:`~ember.models.functional.Functional`); a subclass that
defines ``call`` is a subclassed model. Training (``compile``/``fit``/
``evaluate``/``predict``) comes from :class:`~ember.training.trainer.Trainer`.
"""

from __future__ import annotations

from ..layers.layer import Layer, _TrainingScope
from ..training.trainer import Trainer


class Model(Trainer, Layer):
    """A trainable stack or graph of layers.

    Build one of three ways, as in Keras:

    - ``Sequential([...])`` for a plain stack;
    - ``Model(inputs, outputs)`` from symbolic tensors (``ember.Input``);
    - subclass ``Model``, create layers in ``__init__`` and write ``call``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if type(self) is Model and (args or "inputs" in kwargs):
            raise TypeError("Model(inputs, outputs) should have built a functional model")  # pragma: no cover
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    def __call__(self, *args, **kwargs):
        training = kwargs.get("training")
        with _TrainingScope(training if training is not None else _inherit()):
            return Layer.__call__(self, *args, **kwargs)

    @property
    def layers(self) -> list:
        """The model's direct sublayers, in the order they were added."""
        return [layer for layer in self._layers]

    def get_layer(self, name=None, index=None):
        """A sublayer by name or by index in ``layers``."""
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: pass either name or index, not both")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model with {len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = [layer.name for layer in self.layers]
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are {names}")

    # ---- saving (ember.saving does the work) ---------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the model (config, weights, optimizer state) to a Keras 3 ``.keras`` file."""
        from ..saving import save_model

        return save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights to a Keras 3 ``.weights.h5`` file."""
        from ..saving import save_weights

        return save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False):
        """Read weights from ``.weights.h5``, a Keras 2 ``.h5`` or a ``.keras`` file."""
        from ..saving import load_weights

        return load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def to_json(self, **kwargs) -> str:
        """The model's architecture as Keras 3 JSON."""
        from ..saving import to_json

        return to_json(self, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False):
        """Print the layers, their output shapes and parameter counts as Keras does."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)


def _inherit():
    from ..layers.layer import current_training

    return current_training()
