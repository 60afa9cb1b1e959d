"""Keras 3's ``keras.distribution`` names: ``DeviceMesh``, ``DataParallel``, ``set_distribution`` and company.

Ember runs one process per device: under ``mpiexec -n N`` (or Slurm's ``srun``) each rank is one CPU
(or GPU) process, and ``DataParallel`` means each rank trains on its shard of every batch with the
gradients averaged across ranks. Model parallelism (``ModelParallel``, ``LayoutMap``) is not built.
"""

from __future__ import annotations

from . import _mpi

_distribution = None  # the global distribution set by set_distribution()


def initialize(job_addresses=None, num_processes=None, process_id=None) -> None:
    """Start the multi-process world (Keras 3's ``keras.distribution.initialize``).

    With MPI the launcher has already said who is who: the rank and size come from the
    communicator, and ``job_addresses`` is not used. ``num_processes``/``process_id``, when given,
    are checked against the communicator. In a process that no MPI launcher started this is a world
    of one (mpi4py is not needed).
    """
    c = _mpi.comm(required=num_processes is not None and num_processes > 1)
    world, me = (c.Get_size(), c.Get_rank()) if c is not None else (1, 0)
    if num_processes is not None and int(num_processes) != world:
        raise ValueError(
            f"initialize: num_processes={num_processes}, but the MPI world has {world} processes; "
            f"start the job with `mpiexec -n {num_processes} python ...`"
        )
    if process_id is not None and int(process_id) != me:
        raise ValueError(f"initialize: process_id={process_id}, but MPI gave this process rank {me}")


def list_devices(device_type=None) -> list:
    """The devices of the whole job, one per process: ``["cpu:0", "cpu:1", ...]`` (``device_type``: cpu or gpu)."""
    kind = (device_type or "cpu").lower()
    if kind not in ("cpu", "gpu"):
        raise ValueError(f"list_devices: device_type must be 'cpu' or 'gpu', got {device_type!r}")
    return [f"{kind}:{i}" for i in range(_mpi.size())]


class DeviceMesh:
    """A named grid of devices (Keras 3's ``DeviceMesh``); Ember uses its one ``batch`` axis."""

    def __init__(self, shape, axis_names, devices=None):
        shape, axis_names = tuple(int(s) for s in shape), list(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(f"DeviceMesh: shape {shape} and axis_names {axis_names} must have the same length")
        devices = list(devices) if devices is not None else list_devices()
        count = 1
        for s in shape:
            count *= s
        if count != len(devices):
            raise ValueError(f"DeviceMesh: shape {shape} holds {count} devices, but {len(devices)} were given")
        self.shape, self.axis_names, self.devices = shape, axis_names, devices

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape} axis_names={self.axis_names}>"


class LayoutMap:
    """Keras 3's ``LayoutMap`` (variable paths -> layouts): model parallelism, not built in Ember."""

    def __init__(self, device_mesh=None):
        raise NotImplementedError(
            "LayoutMap (model parallelism) is not built in Ember; use DataParallel, which keeps a full copy "
            "of the model in each process"
        )


class ModelParallel:
    """Keras 3's ``ModelParallel``: not built in Ember (use ``DataParallel``)."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "ModelParallel is not built in Ember; use ember.distribution.DataParallel (one process per device "
            "under mpiexec, each with a full copy of the model and its shard of every batch)"
        )


class DataParallel:
    """Data parallelism: every process holds the whole model and trains on its shard of each batch.

    Args:
        device_mesh: a one-axis :class:`DeviceMesh` (its devices are the processes), or None.
        devices: the devices to use (``list_devices()``); must be one per process of the MPI world.
        auto_shard_dataset: whether ``fit`` shards the data by rank (True) or the data given to each
            process is already its own shard (False).

    In ``fit``, ``batch_size`` is the per-process batch: N processes with batch b take the same step as
    one process with batch N*b.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None and devices is not None:
            raise ValueError("DataParallel: pass device_mesh or devices, not both")
        if device_mesh is None:
            devices = list(devices) if devices is not None else list_devices()
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        if len(device_mesh.shape) != 1:
            raise ValueError(f"DataParallel: the device mesh must have one axis, got shape {device_mesh.shape}")
        world = _mpi.size()
        if len(device_mesh.devices) != world:
            raise ValueError(
                f"DataParallel: {len(device_mesh.devices)} devices given, but Ember runs one process per device "
                f"and this MPI world has {world}; start the job with "
                f"`mpiexec -n {len(device_mesh.devices)} python ...`"
            )
        self.device_mesh = device_mesh
        self.batch_dim_name = device_mesh.axis_names[0]
        self.auto_shard_dataset = bool(auto_shard_dataset)

    @property
    def num_processes(self) -> int:
        return _mpi.size()

    @property
    def process_id(self) -> int:
        return _mpi.rank()

    def __repr__(self):
        return f"<DataParallel processes={self.num_processes} rank={self.process_id}>"


def set_distribution(value) -> None:
    """Set the distribution ``fit`` uses (a :class:`DataParallel`, or None for one process)."""
    global _distribution
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: expected a DataParallel or None, got {type(value).__name__}")
    _distribution = value


def distribution():
    """The distribution set by :func:`set_distribution` (None when unset)."""
    return _distribution


def active_data_parallel():
    """The DataParallel distribution when one is set and the world has more than one process, else None."""
    d = _distribution
    return d if d is not None and _mpi.size() > 1 else None
