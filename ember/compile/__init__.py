"""Trace a training step once and replay it as a plan (buffers, fusion)."""

from .plan import StepPlan, UntraceableError
from .tracer import Tracer
from .train_function import CompiledTrainFunction

__all__ = ["CompiledTrainFunction", "StepPlan", "Tracer", "UntraceableError"]
