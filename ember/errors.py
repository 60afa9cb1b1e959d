"""Ember's error family: what bad files, payloads and data raise.

Every error Ember raises about input it was handed (a model file, a request
body, a dataset) is an :class:`EmberError`. Each concrete kind also subclasses
the built-in exception a Keras user would already catch, so ``except
ValueError`` keeps working:

- :class:`FileFormatError` (``ValueError``): a file that is not what its
  loader expects (truncated, corrupt, wrong members, shapes that do not match
  the model).
- :class:`UnsafeFileError` (``FileFormatError``): a file that asks the loader
  to read outside itself (HDF5 external storage, external or escaping soft
  links, virtual datasets, a config path naming a file) or to import code, in
  ``safe_mode``.
- :class:`ResourceLimitError` (``FileFormatError``): a file that declares more
  than a loader's limit (member sizes, compression ratio, array shapes, JSON
  depth or size); the limit can be raised by argument.
- :class:`PayloadError` (``ValueError``): a malformed or oversized request
  body sent to ``ember serve``.
- :class:`DataError` (``ValueError``): malformed data handed to a data
  source (a CSV row with the wrong number of fields, a refused SQL statement).

Messages name where (file and member, request field, line), what was
expected, and what came.
"""

__all__ = [
    "DataError",
    "EmberError",
    "FileFormatError",
    "PayloadError",
    "ResourceLimitError",
    "UnsafeFileError",
]


class EmberError(Exception):
    """Base of every error Ember raises about the input it was handed."""


class FileFormatError(EmberError, ValueError):
    """A file that its loader cannot read as the format it claims to be."""


class UnsafeFileError(FileFormatError):
    """A file that would make the loader read outside it or import code (refused in safe_mode)."""


class ResourceLimitError(FileFormatError):
    """A file that declares more than a loader's limit (size, ratio, shape, depth)."""


class PayloadError(EmberError, ValueError):
    """A request body that the server cannot accept (malformed, too large, too many instances)."""


class DataError(EmberError, ValueError):
    """Data that a data source cannot read as declared (wrong field count, refused statement)."""
