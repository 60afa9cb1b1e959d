"""``LossFunctionWrapper``: a Loss made from a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

from __future__ import annotations

from .base import Loss
from .reduction import squeeze_or_expand_to_same_rank

__all__ = ["LossFunctionWrapper"]


class LossFunctionWrapper(Loss):
    """Wrap a per-sample loss function as a :class:`Loss`.

    ``call`` first brings ``y_true`` and ``y_pred`` to one rank (a trailing
    size-1 axis is squeezed, or a rank-1 partner expanded), then returns
    ``fn(y_true, y_pred, **kwargs)``.

    Args:
        fn: ``fn(y_true, y_pred, **kwargs)`` -> per-sample losses.
        reduction, name, dtype: as for :class:`Loss`.
        **kwargs: passed to ``fn`` on every call (and saved in the config).
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        from .registry import serialize

        config = super().get_config()
        config["fn"] = serialize(self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        from .registry import deserialize

        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", repr(self.fn))
        return f"<{type(self).__name__}({name}, kwargs={self._fn_kwargs})>"
