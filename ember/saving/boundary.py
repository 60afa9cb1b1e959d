"""The loader boundary: whatever a bad file makes the reading code raise leaves as an Ember error.

h5py, zipfile, json and the layers' constructors raise their own exceptions
on a damaged or hostile file (OSError, KeyError, AttributeError,
RecursionError, MemoryError, zlib.error, ...). Each public loader runs inside
:func:`boundary`, which passes Ember errors and the caller's own mistakes
(a missing file, a directory) through, and turns everything else into a
:class:`~ember.errors.FileFormatError` (or a
:class:`~ember.errors.ResourceLimitError` for recursion and memory) whose
message names the file and what went wrong; the original is kept as
``__cause__``.
"""

from __future__ import annotations

import contextlib

from ..errors import EmberError, FileFormatError, ResourceLimitError

# the caller's mistakes, not the file's: they pass unchanged
_PASS = (FileNotFoundError, IsADirectoryError, PermissionError, KeyboardInterrupt)


def ember_cause(err):
    """The first Ember error in ``err``'s chain of causes (a layer may re-raise ours as its own ValueError)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, EmberError):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


@contextlib.contextmanager
def boundary(source, what="file"):
    """Run a load; non-Ember exceptions become Ember errors naming ``source`` (the file, quoted).

    Args:
        source: the file as messages name it (``"'m.keras'"``).
        what: what the file was expected to be (``"Keras model file"``), for the message.
    """
    try:
        yield
    except EmberError:
        raise
    except _PASS:
        raise
    except RecursionError as err:
        raise ResourceLimitError(
            f"{source}: the {what} nests its structure too deeply to read (Python's recursion limit was hit)"
        ) from err
    except MemoryError as err:
        raise ResourceLimitError(
            f"{source}: reading the {what} ran out of memory; it declares more data than this machine can hold"
        ) from err
    except Exception as err:  # noqa: BLE001 -- the boundary: every other failure is a bad file
        inner = ember_cause(err)
        if inner is not None:
            raise inner from err
        message = str(err) or type(err).__name__
        if isinstance(err, ValueError) and source in message:
            raise FileFormatError(message) from err
        raise FileFormatError(f"{source} is not a readable {what}: {type(err).__name__}: {message}") from err
