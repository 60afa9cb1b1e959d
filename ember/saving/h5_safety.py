"""The check every HDF5 file (or ``model.weights.h5`` member) passes before Ember reads data from it.

HDF5 can point outside the file: a dataset's raw data can live in other files
(external storage, ``create_dataset(..., external=[(path, offset, size)])``),
a link can name an object in another file (``h5py.ExternalLink``), a soft
link can route through such a link, and a virtual dataset maps regions of
other files. Reading any of those reads local files the user never named.
:func:`scan` walks every link without following it out of the file and, in
``safe_mode``, refuses each of them with :class:`~ember.errors.UnsafeFileError`
naming the member, as it refuses datasets whose compression filter would make
HDF5 load a plugin library. It also records every dataset's declared shape and dtype,
so loaders compare shapes before reading and refuse a file whose datasets
declare more than ``LoadLimits.max_bytes``
(:class:`~ember.errors.ResourceLimitError`).
"""

from __future__ import annotations

import dataclasses

import numpy

from ..errors import FileFormatError, ResourceLimitError, UnsafeFileError
from .limits import LoadLimits, check_declared_bytes, format_bytes, refuse

# how many soft links in a row are followed when resolving one
_MAX_SOFT_HOPS = 8
# how many links a file may hold (Keras weight files hold a few per layer)
MAX_LINKS = 1_000_000


@dataclasses.dataclass
class Inventory:
    """What :func:`scan` found: each dataset's path -> (shape, dtype), and their declared bytes in all."""

    datasets: dict = dataclasses.field(default_factory=dict)
    total_bytes: int = 0

    def elements(self, prefix="") -> int:
        """How many array elements the datasets under ``prefix`` declare."""
        return sum(_count(shape) for path, (shape, _) in self.datasets.items() if path.startswith(prefix))


def _count(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def scan(root, source, safe_mode=True, limits=None) -> Inventory:
    """Walk every link under ``root`` (an open h5py File) and refuse what leaves the file or declares too much.

    Args:
        root: the open h5py File.
        source: how to name the file in messages (``"'m.keras' (model.weights.h5)"``).
        safe_mode: refuse external links, soft links that do not resolve inside the file, external storage
            and virtual datasets (False allows them: only for files you trust).
        limits: the LoadLimits (defaults if None).

    Returns:
        the Inventory of datasets.
    """
    import h5py

    limits = limits or LoadLimits()
    inventory = Inventory()
    seen = set()
    stack = [("", root)]
    links = 0
    while stack:
        prefix, group = stack.pop()
        for name in group:
            links += 1
            if links > MAX_LINKS:
                raise ResourceLimitError(f"{source} holds more than {MAX_LINKS} HDF5 links; refusing to walk it")
            path = f"{prefix}/{name}" if prefix else name
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                if safe_mode:
                    raise UnsafeFileError(
                        f"{source}: member '/{path}' is an HDF5 external link to '{link.filename}' "
                        f"(object '{link.path}'): loading it would read another file. {_UNSAFE_HINT}"
                    )
                continue
            if isinstance(link, h5py.SoftLink):
                target = link.path if link.path.startswith("/") else f"/{prefix}/{link.path}"
                _resolve_soft(root, path, target, source, safe_mode)
                continue  # its target is reached through its own hard link
            if not isinstance(link, h5py.HardLink):
                if safe_mode:
                    raise UnsafeFileError(f"{source}: member '/{path}' is a user-defined HDF5 link. {_UNSAFE_HINT}")
                continue
            obj = group[name]
            key = _object_key(obj)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(obj, h5py.Group):
                stack.append((path, obj))
            elif isinstance(obj, h5py.Dataset):
                _check_dataset(obj, path, source, safe_mode, limits, inventory)
    if inventory.total_bytes > limits.max_bytes:
        raise refuse(
            source,
            "its datasets together",
            format_bytes(inventory.total_bytes),
            format_bytes(limits.max_bytes),
            "max_bytes",
        )
    return inventory


_UNSAFE_HINT = "This is refused in safe_mode; pass `safe_mode=False` only for a file you trust."


def _object_key(obj):
    import h5py

    try:
        return h5py.h5o.get_info(obj.id).token
    except AttributeError:  # older h5py
        return h5py.h5o.get_info(obj.id).addr


def _check_dataset(dset, path, source, safe_mode, limits, inventory) -> None:
    if safe_mode and dset.external is not None:
        files = sorted({str(entry[0]) for entry in dset.external})
        raise UnsafeFileError(
            f"{source}: dataset '/{path}' keeps its data in external file(s) {files[:3]}: loading it would read "
            f"another file. {_UNSAFE_HINT}"
        )
    if safe_mode and dset.is_virtual:
        raise UnsafeFileError(
            f"{source}: dataset '/{path}' is a virtual dataset (its data comes from other files). {_UNSAFE_HINT}"
        )
    if safe_mode:
        _check_filters(dset, path, source)
    dtype = dset.dtype
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise FileFormatError(f"{source}: dataset '/{path}' has dtype {dtype}; expected a numeric array")
    shape = tuple(int(d) for d in (dset.shape or ()))
    nbytes = _count(shape) * dtype.itemsize
    check_declared_bytes(nbytes, source, f"dataset '/{path}' (shape {shape}, {dtype})", limits)
    inventory.datasets[path] = (shape, numpy.dtype(dtype))
    inventory.total_bytes += nbytes


# HDF5's own filters (deflate, shuffle, fletcher32, szip, nbit, scaleoffset) and h5py's LZF: anything else makes
# HDF5 look for a plugin library on this machine and load it
_BUILT_IN_FILTERS = {1, 2, 3, 4, 5, 6, 32000}


def _check_filters(dset, path, source) -> None:
    plist = dset.id.get_create_plist()
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _BUILT_IN_FILTERS:
            raise UnsafeFileError(
                f"{source}: dataset '/{path}' is compressed with HDF5 filter {code}, which is not built in: reading "
                f"it would load a filter plugin library from this machine. {_UNSAFE_HINT}"
            )


def _resolve_soft(root, path, target, source, safe_mode) -> None:
    """Follow a soft link's target one component at a time; anything but hard links inside the file is refused."""
    import h5py

    hops = 0
    while True:
        parts = [p for p in target.split("/") if p]
        group = root
        for i, part in enumerate(parts):
            if not isinstance(group, h5py.Group) or part not in group:
                raise FileFormatError(f"{source}: soft link '/{path}' points to '{target}', which is not in the file")
            link = group.get(part, getlink=True)
            if isinstance(link, h5py.SoftLink):
                hops += 1
                if hops > _MAX_SOFT_HOPS:
                    raise FileFormatError(f"{source}: soft link '/{path}' is a chain of more than {_MAX_SOFT_HOPS}")
                rest = "/".join(parts[i + 1 :])
                base = link.path if link.path.startswith("/") else "/".join(["", *parts[:i], link.path])
                target = f"{base}/{rest}" if rest else base
                break
            if not isinstance(link, h5py.HardLink):
                if safe_mode:
                    raise UnsafeFileError(
                        f"{source}: soft link '/{path}' points to '{target}', which leaves the file through an "
                        f"external link. {_UNSAFE_HINT}"
                    )
                return
            group = group[part]
        else:
            return


def _attr_size(aid) -> int:
    """The stored bytes of an attribute (attributes are never compressed: at most the file's size)."""
    try:
        return int(aid.get_storage_size())
    except Exception:  # noqa: BLE001 -- variable-length types have no fixed storage size
        return _count(aid.shape or ()) * aid.dtype.itemsize


def read_attr(obj, name, source, limits, default=None):
    """The attribute ``name`` of an h5py object, after checking its stored size against ``max_json_bytes``."""
    if name not in obj.attrs:
        return default
    size = _attr_size(obj.attrs.get_id(name))
    if size > limits.max_json_bytes:
        raise refuse(
            source, f"attribute '{name}'", format_bytes(size), format_bytes(limits.max_json_bytes), "max_json_bytes"
        )
    return obj.attrs[name]
