"""Embedding and Masking layers; this file only re-exports them."""

from .embedding import Embedding
from .masking import Masking

__all__ = ["Embedding", "Masking"]
