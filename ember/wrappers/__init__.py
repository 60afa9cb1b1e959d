"""scikit-learn wrappers (``keras.wrappers``) and running their searches on a Dask cluster.

``SKLearnClassifier``, ``SKLearnRegressor`` and ``SKLearnTransformer`` need scikit-learn
(``pip install scikit-learn``); ``dask_cluster`` needs Dask (``pip install "dask[distributed]"``).
Neither is imported by ``import ember``; this package is loaded on first use of ``ember.wrappers``.
"""

from .dask_utils import dask_cluster
from .model_state import ModelState, clone_model
from .sklearn_wrapper import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer", "ModelState", "clone_model", "dask_cluster"]
