"""Data-parallel training over several processes on MPI, with Keras 3's ``keras.distribution`` names.

Run with ``mpiexec -n N python train.py`` (or ``srun`` under Slurm), after::

    ember.distribution.initialize()
    ember.distribution.set_distribution(ember.distribution.DataParallel())
    model.fit(x, y, batch_size=b)   # each process: its shard, batch b; the step is the global batch N*b

For custom loops: :func:`all_reduce` (gradients), :func:`broadcast_variables` (initial weights and
optimizer state), :func:`rank`, :func:`size`. mpi4py is an optional extra (``pip install mpi4py mpich``),
imported only when an MPI launcher started the process. See docs/distributed.md.
"""

from ._mpi import DistributedError, rank, size
from .collectives import all_reduce, broadcast_variables
from .distribution_lib import (
    DataParallel,
    DeviceMesh,
    LayoutMap,
    ModelParallel,
    distribution,
    initialize,
    list_devices,
    set_distribution,
)

__all__ = [
    "DataParallel",
    "DeviceMesh",
    "DistributedError",
    "LayoutMap",
    "ModelParallel",
    "all_reduce",
    "broadcast_variables",
    "distribution",
    "initialize",
    "list_devices",
    "rank",
    "set_distribution",
    "size",
]
