"""ONNX export (the ``onnx`` extra): ``ember.onnx.export(model, "m.onnx")``.

Importing ``ember`` does not import this package; importing this package
does not import ``onnx`` until ``export`` runs.
"""

from .export import export
from .registry import UnsupportedLayerError

__all__ = ["UnsupportedLayerError", "export"]
