"""``RemoteMonitor``: POST each epoch's logs to a server."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy

from .callback import Callback


class RemoteMonitor(Callback):
    """POST ``{"epoch": epoch, **logs}`` to ``root + path`` after every epoch (``keras.callbacks.RemoteMonitor``).

    The body is a form field ``field`` holding the JSON, or the JSON itself with
    ``send_as_json=True``. An unreachable server gives a warning, not an error.
    (Uses the standard library's ``urllib``; Keras uses ``requests``.)

    Args:
        root: the server's URL.
        path: the path the events are posted to.
        field: the form field of the JSON.
        headers: extra HTTP headers (a dict).
        send_as_json: post ``application/json`` instead of a form.
    """

    def __init__(
        self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None, send_as_json=False
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (numpy.ndarray, numpy.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
