"""The MPI world Ember runs in: rank, size and the collectives, on mpi4py (an optional extra).

mpi4py is imported only when the process was started by an MPI launcher (``mpiexec``, ``srun`` with
PMI/PMIx) or when :func:`ember.distribution.initialize` asks for it, so a plain ``python train.py``
neither needs nor initialises MPI: it is rank 0 of a world of size 1.

Every collective waits with a deadline (``EMBER_MPI_TIMEOUT`` seconds, default 600): a rank that
stops answering (hung, or dead without its launcher noticing) makes the others abort the job with a
message naming the collective, instead of hanging. A rank killed outright is noticed sooner by the
launcher (MPICH's Hydra ends the whole job with "BAD TERMINATION ... KILLED BY SIGNAL").
"""

from __future__ import annotations

import os
import sys
import time

import numpy

# environment variables that MPI launchers set in each process they start
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")

_comm = None  # mpi4py's COMM_WORLD once imported
_checked = False


class DistributedError(RuntimeError):
    """A collective failed or timed out: another rank died or stopped answering."""


def launched_by_mpi() -> bool:
    """Whether an MPI launcher started this process (so there may be other ranks)."""
    return any(name in os.environ for name in _LAUNCHER_VARS)


def comm(required: bool = False):
    """mpi4py's ``COMM_WORLD``, or None in a plain single process (``required``: raise instead)."""
    global _comm, _checked
    if _comm is None and (required or not _checked):
        _checked = True
        if required or launched_by_mpi():
            try:
                from mpi4py import MPI
            except ImportError as err:
                raise ImportError(
                    "ember.distribution: multi-process training needs mpi4py and an MPI runtime; "
                    "install them with `pip install mpi4py mpich` (or use your cluster's MPI)"
                ) from err
            _comm = MPI.COMM_WORLD
            _comm.Set_errhandler(MPI.ERRORS_RETURN)  # errors raise in Python instead of aborting silently
    return _comm


def rank() -> int:
    """This process's rank (0 in a single process)."""
    c = comm()
    return c.Get_rank() if c is not None else 0


def size() -> int:
    """How many processes train together (1 in a single process)."""
    c = comm()
    return c.Get_size() if c is not None else 1


def timeout() -> float:
    return float(os.environ.get("EMBER_MPI_TIMEOUT", "600"))


def _wait(requests, what: str) -> None:
    """Wait for nonblocking requests; abort the whole job with a clear message past the deadline."""
    from mpi4py import MPI

    begin = time.monotonic()
    deadline = begin + timeout()
    while not MPI.Request.Testall(requests):  # each Test also moves MPI's transfers on
        now = time.monotonic()
        if now > deadline:
            message = (
                f"ember.distribution: rank {rank()} of {size()} waited more than {timeout():g} s for {what}; "
                "another rank has died or stopped answering. Stopping the job; restart it to resume from the "
                "last backup (BackupAndRestore). EMBER_MPI_TIMEOUT sets the wait."
            )
            print(message, file=sys.stderr, flush=True)
            comm().Abort(70)
            raise DistributedError(message)  # Abort has the launcher end every rank; this rank stops here
        if now - begin < 1.0:
            _yield()  # poll as MPI's own Wait does, but let a rank sharing this core run
        else:
            time.sleep(1e-3)  # a long wait (another rank far behind, or gone): poll gently


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


def allreduce_sum_(buffers, what: str = "an all-reduce") -> None:
    """Sum each contiguous NumPy buffer across ranks, in place (all started, then waited for together)."""
    from mpi4py import MPI

    c = comm(required=True)
    requests = [c.Iallreduce(MPI.IN_PLACE, b, op=MPI.SUM) for b in buffers]
    _wait(requests, what)


def broadcast_(buffers, root: int = 0, what: str = "a broadcast") -> None:
    """Overwrite each contiguous NumPy buffer with ``root``'s, in place."""
    c = comm(required=True)
    requests = [c.Ibcast(b, root=root) for b in buffers]
    _wait(requests, what)


def broadcast_object(obj, root: int = 0, what: str = "a broadcast"):
    """A small picklable object from ``root`` (sent as bytes with a size header, under the deadline)."""
    import pickle

    payload = pickle.dumps(obj) if rank() == root else b""
    length = numpy.array([len(payload)], dtype=numpy.int64)
    broadcast_([length], root, what)
    data = (
        numpy.frombuffer(payload, dtype=numpy.uint8).copy() if rank() == root else numpy.empty(length[0], numpy.uint8)
    )
    broadcast_([data], root, what)
    return pickle.loads(data.tobytes())  # noqa: S301 (bytes from our own rank 0)


def barrier(what: str = "a barrier") -> None:
    c = comm()
    if c is not None and c.Get_size() > 1:
        _wait([c.Ibarrier()], what)
