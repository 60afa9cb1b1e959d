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
        message = str(err) or type(err).__name__
        if isinstance(err, ValueError) and source in message:
            raise FileFormatError(message) from err
        raise FileFormatError(f"{source} is not a readable {what}: {type(err).__name__}: {message}") from err
