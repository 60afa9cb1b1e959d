"""How random layers hold their seed: an int gives the layer its own generator, None the process-wide one."""

from __future__ import annotations

import numbers

from ...engine.random import Generator


def layer_generator(layer_name: str, seed):
    """The generator a random layer draws from.

    Args:
        layer_name: for the error message.
        seed: None (draw from the process-wide generator, which
            ``ember.utils.set_random_seed`` resets), an int (a generator owned
            by the layer: its draws differ from call to call but repeat from
            run to run) or an ``ember.random.Generator``.

    Returns:
        None or a :class:`~ember.engine.random.Generator`, to pass as ``seed=``.
    """
    if seed is None or isinstance(seed, Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return Generator(int(seed))
    raise TypeError(f"{layer_name}: seed must be None or an int, got {seed!r} ({type(seed).__name__})")
