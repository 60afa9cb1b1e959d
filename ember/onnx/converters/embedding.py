"""Embedding: a ``Gather`` of the table's rows."""

from __future__ import annotations

from onnx import TensorProto

from ..context import weight
from ..registry import register


@register("Embedding")
def convert_embedding(ctx, layer, inputs, in_shapes, out_shapes):
    ids = ctx.op("Cast", inputs[:1], name=f"{layer.name}_ids", to=TensorProto.INT64)
    table = ctx.const(weight(layer.embeddings), f"{layer.name}_embeddings")
    return [ctx.op("Gather", [table, ids], name=layer.name, axis=0)]
