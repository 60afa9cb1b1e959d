"""Layers that only act while training (dropout, noise, activity regularization): an ``Identity`` in inference."""

from __future__ import annotations

from ..registry import register


@register(
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
)
def convert_identity(ctx, layer, inputs, in_shapes, out_shapes):
    return [ctx.op("Identity", inputs[:1], name=layer.name)]
