# ruff: noqa: N803, N806  (X is scikit-learn's name for the inputs, and the keyword a builder is called with)
"""scikit-learn estimators around Ember models: ``SKLearnClassifier``, ``SKLearnRegressor``, ``SKLearnTransformer``.

Keras 3's ``keras.wrappers`` names and arguments. An estimator holds a *compiled* model, or a callable
that builds one; ``fit`` makes a fresh model each time (a clone of the given model with new weights, or
the callable's result) unless ``warm_start`` is set, so ``GridSearchCV``, ``cross_val_score`` and the
rest of scikit-learn can fit one estimator many times. The estimators pickle as data (the models'
configs and weights, see ``model_state.py``), so they travel to joblib or Dask workers; a callable
builder travels by reference, so it must be a module-level function the workers can import.

scikit-learn is optional: this module imports it if it is installed, and the estimators raise an
ImportError that says how to install it if it is not.
"""

from __future__ import annotations

import numpy as np

from .model_state import ModelState, clone_model, is_model

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
except ImportError:  # the estimators refuse to be created; the module still imports
    sklearn = None

    class BaseEstimator:  # noqa: D101
        pass

    class ClassifierMixin:  # noqa: D101
        pass

    class RegressorMixin:  # noqa: D101
        pass

    class TransformerMixin:  # noqa: D101
        pass


__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]

# estimator attributes that may hold a Model and are pickled as a ModelState instead
_MODEL_ATTRIBUTES = ("model", "model_")


def _require_sklearn(owner: str) -> None:
    if sklearn is None:
        raise ImportError(
            f"{owner} needs scikit-learn, which is not installed. Install it with `pip install scikit-learn`."
        )


def _validate(estimator, X, y=None, reset=True):
    """scikit-learn's input checks (array conversion, finite values, ``n_features_in_``)."""
    from sklearn.utils.validation import validate_data

    if y is None:
        return validate_data(estimator, X, reset=reset)
    return validate_data(estimator, X, y, reset=reset)


def _target_type(y, owner: str) -> str:
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind == "unknown":  # scikit-learn's checks look for its wording, "Unknown label type"
        raise ValueError(f"Unknown label type in {owner}.fit: y should hold numbers or labels, got {y!r}")
    return kind


class _SKLearnBase(BaseEstimator):
    """What the three estimators share: building the model, fitting it, pickling, cloning.

    Args:
        model: a compiled Ember ``Model`` (cloned with fresh weights for each fit unless ``warm_start``),
            or a callable ``model(X=..., y=..., **model_kwargs)`` that returns a compiled model; ``X`` and
            ``y`` are the validated inputs and the processed targets (one-hot for a classifier).
        warm_start: reuse the weights of the previous fit (and, before the first fit, the given model
            itself rather than a clone).
        model_kwargs: dict of keyword arguments for the callable ``model``.
        fit_kwargs: dict of keyword arguments for ``model.fit`` (``epochs``, ``batch_size``, ...); those
            given to ``fit`` directly take precedence.

    Attributes:
        model_: the fitted model.
        history_: the ``History`` that ``model.fit`` returned.
        n_features_in_: the number of input features seen by ``fit``.
    """

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        _require_sklearn(type(self).__name__)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    # --- scikit-learn's protocol -------------------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True  # weights start random unless the builder seeds them
        return tags

    def __sklearn_clone__(self):
        """An unfitted copy with the same parameters (``sklearn.base.clone`` calls this).

        A callable builder is shared. A ``Model`` is shared too, since ``fit`` never trains it in place,
        except with ``warm_start``, where the copy gets its own model (same config and weights).
        """
        model = self.model
        if self.warm_start and is_model(model):
            model = ModelState(model).restore()
        return type(self)(
            model=model,
            warm_start=self.warm_start,
            model_kwargs=None if self.model_kwargs is None else dict(self.model_kwargs),
            fit_kwargs=None if self.fit_kwargs is None else dict(self.fit_kwargs),
        )

    # --- pickling as data -------------------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        for name in _MODEL_ATTRIBUTES:
            if is_model(state.get(name)):
                state[name] = ModelState(state[name])
        history = state.get("history_")
        if history is not None:  # a History points at its model; keep only the record
            state["history_"] = _detached_history(history)
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in _MODEL_ATTRIBUTES:
            if isinstance(state.get(name), ModelState):
                state[name] = state[name].restore()
        super().__setstate__(state)
        history = getattr(self, "history_", None)
        if history is not None and hasattr(self, "model_"):
            history.set_model(self.model_)

    # --- fitting ------------------------------------------------------------------------------------

    @property
    def epoch_(self) -> int:
        """How many epochs the last ``fit`` ran (0 before any fit)."""
        history = getattr(self, "history_", None)
        return 0 if history is None else len(history.epoch)

    def _build_model(self, X, y):
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if is_model(self.model):
            return self.model if self.warm_start else clone_model(self.model)
        if not callable(self.model):
            raise TypeError(
                f"{type(self).__name__}: `model` must be a compiled ember Model or a callable that returns one, "
                f"got {type(self.model).__name__}"
            )
        model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not is_model(model):
            raise TypeError(
                f"{type(self).__name__}: the callable `model` ({getattr(self.model, '__name__', self.model)!r}) "
                f"must return an ember Model, it returned {type(model).__name__}"
            )
        return model

    def fit(self, X, y, **kwargs):
        """Build (or reuse, with ``warm_start``) the model and train it.

        Args:
            X: array-like, (n_samples, n_features).
            y: array-like, (n_samples,) or (n_samples, n_outputs).
            **kwargs: passed to ``model.fit``; they override ``fit_kwargs``.

        Returns:
            self.
        """
        if y is None:  # scikit-learn's checks look for its wording, "requires y to be passed"
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X, y = _validate(self, X, y, reset=True)
        y = self._encode_target(y, reset=True)
        model = self._build_model(X, y)
        if not (getattr(model, "compiled", False) and model.loss and model.optimizer):
            raise RuntimeError(
                f"{type(self).__name__}: the model must be compiled with a loss and an optimizer before fit; "
                f"got {'an uncompiled model' if not getattr(model, 'compiled', False) else 'one without them'}"
            )
        options = {**(self.fit_kwargs or {}), **kwargs}
        self.history_ = model.fit(X, y, **options)
        self.model_ = model
        return self

    def _raw_predict(self, X):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        X = _validate(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def predict(self, X):
        """The model's predictions for ``X``, turned back into the targets' form (labels for a classifier)."""
        return self._decode_target(self._raw_predict(X))

    # --- targets: 1-D targets become a column and come back as 1-D ---------------------------------

    def _encode_target(self, y, reset=False):
        _target_type(y, type(self).__name__)
        if reset:
            self._target_ndim = np.ndim(y)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _decode_target(self, out):
        if self._target_ndim == 1 and out.ndim == 2:
            if out.shape[1] != 1:
                raise ValueError(
                    f"{type(self).__name__}.predict: y was 1-D in fit, so the model should give one output "
                    f"column, but it gave {out.shape[1]} (output shape {out.shape})"
                )
            return out[:, 0]
        return out


def _detached_history(history):
    """A copy of a ``History`` without its model (for pickling)."""
    from ..callbacks import History

    copy = History()
    copy.history = {k: list(v) for k, v in history.history.items()}
    copy.epoch = list(history.epoch)
    copy.params = dict(getattr(history, "params", None) or {})
    return copy


class SKLearnClassifier(ClassifierMixin, _SKLearnBase):
    """A scikit-learn classifier around an Ember model (``keras.wrappers.SKLearnClassifier``).

    The labels are one-hot encoded for the model (classes in sorted order, ``classes_``), so the
    model should end in one unit per class (softmax) and train with a categorical loss; ``predict``
    returns the label of the largest output. ``score`` is accuracy.

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see the module and ``_SKLearnBase``.

    Attributes:
        model_, history_, n_features_in_: as for every wrapper.
        classes_: the sorted class labels seen by ``fit``, shape (n_classes,).

    Example:
        >>> def build(X, y, hidden=16):
        ...     model = ember.Sequential([layers.Dense(hidden, activation="relu"),
        ...                               layers.Dense(y.shape[1], activation="softmax")])
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> clf = SKLearnClassifier(build, model_kwargs={"hidden": 32}, fit_kwargs={"epochs": 5, "verbose": 0})
        >>> clf.fit(X, labels).predict(X[:3])        # labels, as given to fit
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _encode_target(self, y, reset=False):
        kind = _target_type(y, type(self).__name__)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__}.fit: y must hold binary or multiclass labels, got a {kind!r} target "
                "(for continuous targets use SKLearnRegressor)"
            )
        if reset:
            self._target_ndim = np.ndim(y)
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__}.fit: y holds only one class ({self.classes_[0]!r}); a classifier "
                    "needs at least two"
                )
        labels = np.asarray(y).reshape(-1)
        index = np.searchsorted(self.classes_, labels)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != labels
        if unknown.any():
            raise ValueError(
                f"{type(self).__name__}: y holds labels not seen in fit: {np.unique(labels[unknown])[:10]!r}"
            )
        onehot = np.zeros((len(labels), len(self.classes_)), dtype=np.float64)
        onehot[np.arange(len(labels)), index] = 1.0
        return onehot

    def _decode_target(self, out):
        out = out.reshape(len(out), -1)
        if out.shape[1] != len(self.classes_):
            raise ValueError(
                f"{type(self).__name__}.predict: the model gives {out.shape[1]} output column(s) but fit saw "
                f"{len(self.classes_)} classes; the model should end in one unit per class"
            )
        labels = self.classes_[np.argmax(out, axis=1)]
        return labels if self._target_ndim == 1 else labels.reshape(-1, 1)

    def decision_function(self, X):
        """The model's raw outputs for ``X``, shape (n_samples, n_classes)."""
        return self._raw_predict(X)

    def predict_proba(self, X):
        """The model's outputs for ``X``, shape (n_samples, n_classes), columns in ``classes_`` order.

        They are probabilities when the model ends in a softmax. (Keras's wrapper has no
        ``predict_proba``; Ember adds it so scikit-learn's probability scorers work.)
        """
        return self._raw_predict(X)


class SKLearnRegressor(RegressorMixin, _SKLearnBase):
    """A scikit-learn regressor around an Ember model (``keras.wrappers.SKLearnRegressor``).

    A 1-D target is given to the model as a column and ``predict`` returns 1-D again; ``score`` is R^2.

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see the module and ``_SKLearnBase``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, _SKLearnBase):
    """A scikit-learn transformer around an Ember model (``keras.wrappers.SKLearnTransformer``).

    ``fit`` trains the model on (X, y); ``transform(X)`` returns the model's outputs, e.g. an embedding
    to feed to another estimator in a ``Pipeline``.

    Args:
        model, warm_start, model_kwargs, fit_kwargs: see the module and ``_SKLearnBase``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

    def transform(self, X):
        """The model's outputs for ``X``, shape (n_samples, n_outputs)."""
        return self._raw_predict(X)
