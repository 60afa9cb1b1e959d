"""A model as data: its Keras config, compile config and weights, so it can be pickled without pickling code.

``ModelState(model)`` holds three plain values: the model's Keras 3 config (JSON text), its compile
config (JSON text, or None when the model is not compiled) and, for a built model, its weights and the
optimizer's state as the bytes of an HDF5 file (the layout of a ``.weights.h5`` file). ``state.restore()``
builds a new model from them. Pickle sees only strings and bytes, so a model travels to another process
(a Dask worker, a joblib worker) as long as its layers are Ember's own or registered custom objects, the
same condition as for ``model.save``.

``clone_model(model)`` is Keras's ``keras.models.clone_model`` for the wrappers' use: the same
architecture with fresh weights, compiled with the same compile config.
"""

from __future__ import annotations

import io
import json

__all__ = ["ModelState", "clone_model", "is_model"]


def is_model(obj) -> bool:
    """Whether ``obj`` is an Ember ``Model`` (imports the models package only when something could be one)."""
    from ..models import Model

    return isinstance(obj, Model)


def _config_json(model) -> str:
    from ..saving.keras_zip import _json_default
    from ..saving.model_config import serialize_model

    return json.dumps(serialize_model(model), default=_json_default)


def _compile_json(model):
    from ..saving.compile_config import compile_config
    from ..saving.keras_zip import _json_default

    cc = compile_config(model)
    return None if cc is None else json.dumps(cc, default=_json_default)


def _model_from_json(config_json: str, compile_json, custom_objects=None):
    from ..saving.compile_config import compile_from_config
    from ..saving.model_config import model_from_config

    model = model_from_config(json.loads(config_json), custom_objects=custom_objects)
    if compile_json is not None:
        compile_from_config(model, json.loads(compile_json), custom_objects=custom_objects)
    return model


def clone_model(model, custom_objects=None):
    """A new model with ``model``'s architecture and compile config and freshly initialised weights.

    Args:
        model: an Ember Sequential or functional model (or a registered subclass), built or not.
        custom_objects: dict of name -> your classes/functions, as for ``load_model``.

    Returns:
        the clone; compiled if ``model`` was.
    """
    return _model_from_json(_config_json(model), _compile_json(model), custom_objects)


class ModelState:
    """A picklable snapshot of a model: config, compile config and (if built) weights with optimizer state.

    Args:
        model: the model to snapshot. Later changes to it do not change the snapshot.

    Attributes:
        config_json: the model's Keras 3 config as JSON text.
        compile_json: its compile config as JSON text, or None if it was not compiled.
        weights_h5: the weights (and optimizer variables) as the bytes of an HDF5 file, or None if unbuilt.
    """

    def __init__(self, model):
        if not is_model(model):
            raise TypeError(f"ModelState: expected an Ember Model, got {type(model).__name__}")
        self.config_json = _config_json(model)
        self.compile_json = _compile_json(model)
        self.weights_h5 = None
        if getattr(model, "built", False):
            import h5py

            from ..saving.weights_h5 import save_weights_to_group

            buffer = io.BytesIO()
            with h5py.File(buffer, "w") as h5:
                save_weights_to_group(model, h5, include_optimizer=self.compile_json is not None)
            self.weights_h5 = buffer.getvalue()

    def restore(self, custom_objects=None):
        """A new model equal to the snapshot: same architecture, compile config, weights and optimizer state."""
        model = _model_from_json(self.config_json, self.compile_json, custom_objects)
        if self.weights_h5 is not None:
            import h5py

            from ..saving.weights_h5 import load_weights_from_group

            with h5py.File(io.BytesIO(self.weights_h5), "r") as h5:
                load_weights_from_group(model, h5, source="a pickled model state")
        return model

    def __repr__(self):
        size = 0 if self.weights_h5 is None else len(self.weights_h5)
        return f"<ModelState: {len(self.config_json)} bytes of config, {size} bytes of weights>"
