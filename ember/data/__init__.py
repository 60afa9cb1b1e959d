"""Ember's data layer: datasets, input pipelines and preprocessing. Never imports a model."""

from . import datasets
