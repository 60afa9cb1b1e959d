"""Split a batch into ``(x, y, sample_weight)``, as Keras's ``unpack_x_y_sample_weight`` does."""

from __future__ import annotations

__all__ = ["unpack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data):
    """``x`` → ``(x, None, None)``; ``(x,)``, ``(x, y)``, ``(x, y, sample_weight)`` → the three (missing ones None).

    A list is treated like a tuple. Anything longer than three raises ValueError.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"unpack_x_y_sample_weight: expected x, (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)}"
    )
