"""``ModelSignature``: the names, shapes and dtypes a served model takes and returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np  # host-side bookkeeping of dtypes


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a served model.

    Attributes:
        name: the input's name (the ``Input`` layer's) or the output's (its layer's).
        shape: the shape with the batch axis first, ``None`` for any size;
            ``None`` as a whole when the model does not declare it.
        dtype: a NumPy dtype name such as ``"float32"``.
    """

    name: str
    shape: tuple | None
    dtype: str

    @property
    def instance_shape(self):
        """The shape of one instance (the shape without its batch axis), or ``None`` if unknown."""
        return None if self.shape is None else tuple(self.shape[1:])

    def to_json(self) -> dict:
        """The spec as JSON-ready data: ``{"name", "shape" (null for unknown sizes), "dtype"}``."""
        return {"name": self.name, "shape": None if self.shape is None else list(self.shape), "dtype": self.dtype}


def _spec(tensor, name: str) -> TensorSpec:
    shape = getattr(tensor, "shape", None)
    dtype = getattr(tensor, "dtype", None)
    return TensorSpec(
        name=name,
        shape=None if shape is None else tuple(None if d is None else int(d) for d in shape),
        dtype=np.dtype(dtype).name if dtype is not None else "float32",
    )


def _unique(names: list) -> list:
    seen, out = {}, []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out


@dataclass(frozen=True)
class ModelSignature:
    """What a model takes and returns, read from the model once when it is served.

    Attributes:
        name: the model's name.
        class_name: the model's class (``"Sequential"``, ``"Functional"``, ...).
        inputs: list of :class:`TensorSpec`, in the order ``predict`` takes them.
        outputs: list of :class:`TensorSpec`, in the order ``predict`` returns them.
    """

    name: str
    class_name: str
    inputs: tuple
    outputs: tuple

    @classmethod
    def from_model(cls, model) -> ModelSignature:
        """Read the signature of a built Ember model (``model.inputs``/``model.outputs``).

        Raises:
            ValueError: when the model declares no inputs (a Sequential model
                built without an ``Input`` and never called): a server must
                know what to validate requests against.
        """
        inputs = getattr(model, "inputs", None)
        if not inputs:
            shape = getattr(model, "input_shape", None)
            if shape is None:
                raise ValueError(
                    f"serving: model '{getattr(model, 'name', '?')}' declares no input shape; expected a model "
                    "built with an Input (e.g. Sequential([ember.Input((4,)), ...])) or called once on data"
                )
            inputs = [type("_Shape", (), {"shape": shape, "dtype": "float32", "name": None})()]
        input_names = _unique([getattr(t, "name", None) or f"input_{i}" for i, t in enumerate(inputs)])
        outputs = getattr(model, "outputs", None) or []
        names = getattr(model, "output_names", None)
        if not names or len(names) != len(outputs):
            names = []
            for i, t in enumerate(outputs):
                node = getattr(t, "node", None)
                names.append(node.layer.name if node is not None else f"output_{i}")
        output_names = _unique(list(names))
        return cls(
            name=getattr(model, "name", "model"),
            class_name=type(model).__name__,
            inputs=tuple(_spec(t, n) for t, n in zip(inputs, input_names)),
            outputs=tuple(_spec(t, n) for t, n in zip(outputs, output_names)),
        )

    def to_json(self) -> dict:
        """``{"model": {"name", "class_name"}, "inputs": [...], "outputs": [...]}``, JSON-ready."""
        return {
            "model": {"name": self.name, "class_name": self.class_name},
            "inputs": [spec.to_json() for spec in self.inputs],
            "outputs": [spec.to_json() for spec in self.outputs],
        }
