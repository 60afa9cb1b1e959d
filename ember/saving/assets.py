"""A ``.keras`` file's ``assets/``: files a layer keeps beside its weights (lookup vocabularies).

Keras 3 gives every object with ``save_assets(dir_path)`` a folder
``assets/<its path>/`` in the zip (the path of ``weights_h5.walk``:
``assets/layers/string_lookup/vocabulary.txt``) and hands it back to
``load_assets(dir_path)`` on load. Ember does the same. Loading extracts only
the object's own members, into a fresh temporary folder, after checking each
name (no absolute paths, no ``..``: nothing lands outside that folder) and
each declared size against the limits.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile

from ..errors import UnsafeFileError
from .weights_h5 import walk

ASSETS = "assets"


def save_assets(model, zf) -> None:
    """Add each object's ``save_assets`` output to the open (writable) zip ``zf`` under ``assets/<path>/``."""
    for path, obj in walk(model):
        if not callable(getattr(obj, "save_assets", None)):
            continue
        folder = tempfile.mkdtemp(prefix="ember-assets-")
        try:
            obj.save_assets(folder)
            for here, _, files in os.walk(folder):
                for name in sorted(files):
                    full = os.path.join(here, name)
                    rel = os.path.relpath(full, folder).replace(os.sep, "/")
                    zf.write(full, posixpath.join(ASSETS, path, rel) if path else posixpath.join(ASSETS, rel))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def load_assets(model, zf, source) -> None:
    """Give each object with ``load_assets`` its folder of ``assets/<path>/`` from the open zip ``zf``.

    The members' sizes were checked by ``limits.check_zip_members`` before this is called.
    """
    names = [n for n in zf.namelist() if n.startswith(f"{ASSETS}/") and not n.endswith("/")]
    if not names:
        return
    for name in names:
        _check_name(name, source)
    for path, obj in walk(model):
        if not callable(getattr(obj, "load_assets", None)):
            continue
        prefix = f"{ASSETS}/{path}/" if path else f"{ASSETS}/"
        mine = [n for n in names if n.startswith(prefix)]
        if not mine:
            continue
        folder = tempfile.mkdtemp(prefix="ember-assets-")
        try:
            for name in mine:
                target = os.path.join(folder, *name[len(prefix) :].split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with zf.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            obj.load_assets(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _check_name(name, source) -> None:
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or any(p in ("..", "") for p in parts[:-1])
        or (":" in parts[0])
    ):
        raise UnsafeFileError(
            f"{source}: member {name!r} has a name that would place it outside the assets folder; refused"
        )
