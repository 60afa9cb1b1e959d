"""``gluon.contrib``: the parts of MXNet's contrib package Gluon programs use (``contrib.nn``)."""

from . import nn  # noqa: F401
