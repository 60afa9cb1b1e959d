"""Embedding and Masking layers; this file only re-exports them."""

from .embedding import Embedding
from .masking import Masking
from .reversible_embedding import ReversibleEmbedding

__all__ = ["Embedding", "Masking", "ReversibleEmbedding"]
