"""``gluon.utils``: splitting a batch over contexts, clipping gradients by their global norm, downloads.

- ``split_data`` / ``split_and_load``: a batch cut along ``batch_axis`` into one slice per context (MXNet's
  slicing: with ``even_split=False`` the first ``size % num_slice`` slices take one row more), each moved to
  its context.
- ``clip_global_norm(arrays, max_norm)``: scales every array in place by ``max_norm / (norm + 1e-8)`` when that
  is below 1 (``norm`` the 2-norm of all of them together, in float32 as MXNet) and returns ``norm``.
- ``download(url, path, sha1_hash=...)`` and ``check_sha1``: a file fetched with ``urllib`` (any URL it opens,
  ``file://`` included), written atomically and checked against a SHA-1 when given.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
import warnings

import numpy as np

from ..ndarray import NDArray, array


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """``data`` cut into ``num_slice`` parts along ``batch_axis`` (a list of NDArrays)."""
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError(
            f"split_data: data with shape {tuple(data.shape)} cannot be split evenly into {num_slice} slices along "
            f"axis {batch_axis}; use a batch size divisible by {num_slice} or even_split=False"
        )
    each, extras = divmod(size, num_slice)  # the first `extras` slices take one more (MXNet 1.9's rule)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras))
    cuts = list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))
    index = [slice(None)] * data.ndim
    out = []
    for start, stop in cuts:
        index[batch_axis] = slice(start, stop)
        out.append(data[tuple(index)])
    return out


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """``data`` (an NDArray or array-like) split into ``len(ctx_list)`` slices, each on its context."""
    if not isinstance(data, NDArray):
        data = array(data)
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescale ``arrays`` (gradients, in place) so their joint 2-norm is at most ``max_norm``; return that norm
    before clipping (a float; an NDArray of shape (1,) with ``check_isfinite=False``, as MXNet)."""
    if not arrays:
        raise ValueError("clip_global_norm: expected at least one array")
    total = np.float32(0)
    for a in arrays:
        flat = a.data.reshape(-1)
        total = np.float32(total + np.dot(flat, flat))
    norm = np.sqrt(total, dtype=np.float32)
    if check_isfinite and not np.isfinite(norm):
        warnings.warn("clip_global_norm: nan or inf is detected; clipping results will be undefined", stacklevel=2)
    scale = min(np.float32(max_norm) / (norm + np.float32(1e-8)), np.float32(1.0))
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite norms were warned about above
        for a in arrays:
            a.data *= np.asarray(scale, dtype=a.data.dtype)
    return float(norm) if check_isfinite else array([norm])


def check_sha1(filename, sha1_hash):
    """Whether the file's SHA-1 hex digest is ``sha1_hash``."""
    digest = hashlib.sha1()  # noqa: S324 - MXNet's checksum of published files, not a security measure
    with open(filename, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == sha1_hash


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """Fetch ``url`` to ``path`` (a file, or a folder to put it in; default the URL's file name here); returns the
    file name. An existing file is kept unless ``overwrite`` or its SHA-1 differs from ``sha1_hash``."""
    name = url.split("/")[-1]
    if path is None:
        fname = name
    else:
        path = os.path.expanduser(path)
        fname = os.path.join(path, name) if os.path.isdir(path) else path
    if os.path.exists(fname) and not overwrite and (sha1_hash is None or check_sha1(fname, sha1_hash)):
        return fname
    folder = os.path.dirname(os.path.abspath(fname))
    os.makedirs(folder, exist_ok=True)
    error = None
    for _ in range(max(1, int(retries))):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out:
                with urllib.request.urlopen(url) as response:  # noqa: S310 - the caller's URL, as MXNet's download
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        out.write(chunk)
            if sha1_hash is not None and not check_sha1(tmp, sha1_hash):
                raise OSError(f"download({url!r}): the file's SHA-1 is not {sha1_hash}")
            os.replace(tmp, fname)
            return fname
        except OSError as err:  # urllib's errors are OSErrors
            error = err
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise OSError(f"download({url!r}) failed after {retries} tries: {error}") from error
