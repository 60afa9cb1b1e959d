"""Whether a distributed ``fit`` is on: the one check the trainer and the compiled step make per step."""

from __future__ import annotations

import sys


def fit_hooks():
    """``ember.distribution.fit_hooks`` when a DataParallel distribution over several processes is set, else None.

    Costs a dict lookup when no distribution was ever set (``distribution_lib`` never imported).
    """
    lib = sys.modules.get("ember.distribution.distribution_lib")
    if lib is None or lib.active_data_parallel() is None:
        return None
    from . import fit_hooks as hooks

    return hooks
