"""The custom-object registry used by saving: the one in ``ember.utils.object_registration``.

Classes registered with ``ember.utils.register_keras_serializable`` (or this
module's re-export of it) are found by name when a file is loaded; there is a
single registry for the whole library.
"""

from __future__ import annotations

from ..utils.object_registration import (
    GLOBAL_CUSTOM_NAMES as _GLOBAL_CUSTOM_NAMES,
)
from ..utils.object_registration import (
    GLOBAL_CUSTOM_OBJECTS as _GLOBAL_CUSTOM_OBJECTS,
)
from ..utils.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "CustomObjectScope",
    "_GLOBAL_CUSTOM_NAMES",
    "_GLOBAL_CUSTOM_OBJECTS",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]
