"""Objects to Keras 3 config dicts and back: class name -> Ember class.

Every saved object is written the way Keras 3 writes it::

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 4]}}

Loading finds the class by name: ``custom_objects=``, then the active
``custom_object_scope``, then classes registered with
``register_keras_serializable``, then Ember's own modules (``ember.layers``,
``ember.models``, ``ember.optimizers``, ``ember.losses``, ``ember.metrics``,
``ember.activations``, ``ember.initializers``, ``ember.regularizers``,
``ember.constraints``). Nothing is unpickled. In ``safe_mode`` (the default)
nothing is imported by the module name written in a file: a module outside
Ember's and Keras's own namespaces (``keras``, ``keras.*``, ``ember.*``,
``tf_keras``, ``builtins``) that names a class not found above is refused
without importing it; with ``safe_mode=False`` it is imported, as Keras does.
Also refused unless ``safe_mode=False``: Python code stored in a file
(``Lambda`` layers, ``__lambda__`` functions) and configs naming a file to
read (a lookup layer's ``vocabulary`` given as a path; Keras writes adapted
vocabularies into the archive's ``assets/``, which is read instead).

This is the one deserialization routine: ``load_model``, ``model_from_json``
and the public ``ember.saving.deserialize_keras_object`` /
``ember.utils.deserialize_keras_object`` all come through
:func:`deserialize_keras_object`.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import marshal
import types

import numpy

from ..errors import FileFormatError, UnsafeFileError
from . import registry

# the Ember subpackages a Keras module name points to, in lookup order
_FAMILIES = (
    "layers",
    "models",
    "optimizers",
    "losses",
    "metrics",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
)
# keyword arguments every Ember layer accepts through the Layer base
_LAYER_BASE_KWARGS = {
    "name",
    "trainable",
    "dtype",
    "autocast",
    "activity_regularizer",
    "input_shape",
    "input_dim",
    "batch_size",
    "batch_input_shape",
    "input_length",
}
# Keras 3 config keys Ember has no option for; dropped when they hold the Keras default
_KERAS_ONLY_DEFAULTS = {
    "quantization_config": None,
    "ragged": False,
    "optional": False,
    "lora_rank": None,
    "lora_alpha": None,
    "synchronized": False,
}


class UnsafeDeserializationError(UnsafeFileError):
    """A config asks to run Python code, import a module or read a file, and safe_mode is on."""


class UnknownObjectError(FileFormatError, TypeError):
    """A config names a class or function that is neither Ember's nor registered (a TypeError, as in Keras)."""


# module namespaces whose names Ember maps to its own classes (never imported)
_OWN_NAMESPACES = ("keras", "ember", "tf_keras", "builtins")
# config keys that name a file to read when they hold a string
_FILE_KEYS = ("vocabulary", "idf_weights", "vocabulary_file", "vocab_file", "filepath", "file_path", "filename")
# Keras's wrappers for values JSON cannot hold
_DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")


def serialize_keras_object(obj):
    """``obj`` as Keras 3's dict ``{"module", "class_name", "config", "registered_name"}``.

    Layers also get ``build_config`` when they are built. None, strings,
    numbers, lists and dicts of those pass through. A plain function becomes
    Keras's ``{"class_name": "function", "config": name, ...}``.

    Args:
        obj: a layer, model, optimizer, loss, metric, initializer, ... or a plain value.

    Returns:
        a JSON-serializable value.
    """
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        raise ValueError(
            "serialize_keras_object: cannot serialize an anonymous lambda by name; use a named, registered function"
        )
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        registered = registry._GLOBAL_CUSTOM_NAMES.get(obj)
        return {
            "module": _public_module(obj) if registered is None else obj.__module__,
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": registered or obj.__name__,
        }
    if not hasattr(obj, "get_config"):
        raise TypeError(f"serialize_keras_object: {type(obj).__name__} object {obj!r} has no get_config()")
    cls = type(obj)
    registered = registry._GLOBAL_CUSTOM_NAMES.get(cls)
    built_in = registered is None and cls.__module__.startswith("ember.")
    config = obj.get_config()
    out = {
        "module": _public_module(cls) if built_in else cls.__module__,
        # a class Keras exports under another name (GroupedQueryAttention as GroupQueryAttention) says so itself
        "class_name": cls.__dict__.get("_keras_export_name", cls.__name__),
        "config": serialize_keras_object(config),
        "registered_name": None if built_in else (registered or cls.__name__),
    }
    build_config = layer_build_config(obj)
    if build_config is not None:
        out["build_config"] = build_config
    return out


def layer_build_config(layer):
    """``{"input_shape": ...}`` for a built layer that has been called on symbolic inputs, else None."""
    from ..layers.core.input_layer import InputLayer
    from ..layers.layer import Layer

    if not isinstance(layer, Layer) or isinstance(layer, InputLayer) or not layer.built:
        return None
    if hasattr(layer, "get_build_config"):  # a layer whose build takes several shapes (MultiHeadAttention)
        return layer.get_build_config()
    if not layer._inbound_nodes:
        return None
    from ..layers.symbolic import flatten

    shapes = [list(t.shape) for t in flatten(layer._inbound_nodes[0].inputs)]
    if not shapes:
        return None
    return {"input_shape": shapes[0] if len(shapes) == 1 else shapes}


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, family=None, **kwargs):
    """Rebuild an object from ``serialize_keras_object``'s dict (or Keras 3's); safe by default.

    Args:
        config: the dict, or a plain value / list / tuple / dict of them (rebuilt item by item).
        custom_objects: dict of name -> class/function for your own objects.
        safe_mode: refuse Python code (Lambda layers, marshalled functions), modules outside Ember/Keras
            (never imported) and file paths in configs. False only for configs you trust.
        family: "layers", "optimizers", ... to look in first when the module is not telling.
        **kwargs: accepted for Keras compatibility (``printable_module_name``) and ignored.

    Returns:
        the object.

    Raises:
        UnsafeDeserializationError: refused by ``safe_mode`` (an ``ember.errors.UnsafeFileError``).
        UnknownObjectError: an unknown class or function (a TypeError and a FileFormatError), naming it.
    """
    try:
        if safe_mode:
            check_safe(config, safe_mode)
        return _deserialize(config, custom_objects, safe_mode, family)
    except RecursionError:
        from ..errors import ResourceLimitError

        raise ResourceLimitError("deserialize_keras_object: the config is nested too deeply to rebuild") from None


def _deserialize(config, custom_objects, safe_mode, family):
    if config is None or isinstance(config, (str, bool, int, float)):
        return config
    if isinstance(config, (list, tuple)):
        return type(config)(_deserialize(c, custom_objects, safe_mode, family) for c in config)
    if not isinstance(config, dict):
        raise TypeError(
            f"deserialize_keras_object: expected a dict, list, tuple or plain value, got {type(config).__name__}"
        )
    if "class_name" not in config:
        return {k: _deserialize(v, custom_objects, safe_mode, family) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name in ("__tuple__", "__numpy__", "__bytes__") or class_name in _DTYPE_POLICIES:
        return _unwrap(class_name, inner)
    if class_name == "__lambda__":
        check_safe(config, safe_mode)
        return load_lambda(inner)
    module, registered = config.get("module"), config.get("registered_name")
    if class_name == "function":
        fn = resolve(inner, registered, module, custom_objects, family, safe_mode)
        if fn is None and isinstance(inner, str):
            from .. import activations  # Keras writes its own functions as {"module": "builtins", "config": "relu"}

            try:
                fn = activations.get(inner)
            except (ValueError, TypeError):
                fn = None
        if fn is None:
            raise UnknownObjectError(
                f"deserialize_keras_object: could not locate function {inner!r} (module {module!r}): {_hint()}"
            )
        return fn
    if not isinstance(class_name, str):
        raise FileFormatError(f"deserialize_keras_object: 'class_name' should be a string, got {class_name!r}")
    cls = resolve(class_name, registered, module, custom_objects, family, safe_mode)
    if cls is None:
        raise UnknownObjectError(
            f"Unknown class {class_name!r} (module {module!r}, registered name {registered!r}): Ember has no such "
            f"class and could not locate it. {_hint()}"
        )
    if inner is not None and not isinstance(inner, dict):
        raise FileFormatError(f"the config of {class_name!r} should be a dict, got {type(inner).__name__}")
    inner = dict(inner or {})
    if _is_layer_class(cls):
        inner = clean_layer_config(cls, inner)
        obj = _from_config(cls, inner, custom_objects, safe_mode)
        build_config = config.get("build_config")
        if not isinstance(build_config, dict) or getattr(obj, "built", True):
            return obj
        if build_config.get("shapes_dict"):  # a layer whose build takes several shapes (MultiHeadAttention)
            if hasattr(obj, "build_from_config"):
                obj.build_from_config(build_config)
        elif build_config.get("input_shape") is not None:
            obj.build(_tuple_shape(build_config["input_shape"]))
            obj.built = True
        return obj
    if not hasattr(cls, "from_config") and not isinstance(cls, type):
        return cls
    return _from_config(cls, _unwrap_values(inner), custom_objects, safe_mode)


def _unwrap(class_name, inner):
    """The value behind Keras's ``__tuple__`` / ``__numpy__`` / ``__bytes__`` / dtype-policy wrappers."""
    if not isinstance(inner, dict):
        raise FileFormatError(f"a {class_name!r} entry should have a dict 'config', got {inner!r}")
    if class_name in _DTYPE_POLICIES:
        return dtype_name({"config": inner})
    if class_name == "__tuple__":
        return tuple(_unwrap_values(v) for v in inner.get("value", ()))
    if class_name == "__bytes__":
        return str(inner.get("value", "")).encode("latin-1")
    dtype = numpy.dtype(inner.get("dtype", "float32"))
    if dtype.kind not in "biufcSU":
        raise FileFormatError(f"a '__numpy__' entry has dtype {dtype}; only numeric and string arrays are read")
    return numpy.asarray(inner.get("value"), dtype=dtype)


def _unwrap_values(value):
    """``value`` with Keras's value wrappers (tuples, arrays, bytes) inside it undone; objects stay configs."""
    if isinstance(value, list):
        return [_unwrap_values(v) for v in value]
    if isinstance(value, dict):
        name = value.get("class_name")
        if name in ("__tuple__", "__numpy__", "__bytes__"):
            return _unwrap(name, value.get("config"))
        if name is None:
            return {k: _unwrap_values(v) for k, v in value.items()}
    return value


def resolve(class_name, registered_name=None, module=None, custom_objects=None, family=None, safe_mode=True):
    """The class or function a saved config names, or None.

    Order: ``custom_objects`` (by registered name, then class name), the active
    custom-object scopes and the registry, then Ember's family modules. A module
    outside Ember's and Keras's namespaces is never imported in ``safe_mode``: the
    config is refused (UnsafeDeserializationError); with ``safe_mode=False`` it is
    imported and the name looked up in it.
    """
    for key in (registered_name, class_name):
        if isinstance(key, str) and key:
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    if not isinstance(class_name, str) or class_name.startswith("_"):
        return None
    if module is not None and not isinstance(module, str):
        raise FileFormatError(f"the 'module' of {class_name!r} should be a string, got {module!r}")
    if module and not _own_namespace(module):
        if safe_mode:
            raise UnsafeDeserializationError(
                f"Refusing to load {class_name!r} from module {module!r}: it is neither Ember's nor Keras's, and "
                "importing a module a file names runs that module's code. The module was not imported. Register "
                "the class (`@ember.saving.register_keras_serializable()`) or pass it in `custom_objects`; or, if "
                "you trust the file, pass `safe_mode=False`."
            )
        try:
            found = getattr(importlib.import_module(module), class_name, None)
        except ImportError:
            found = None
        if found is not None:
            return found
    families = _families_for(module, family)
    for fam in families:
        mod = _ember_module(fam)
        if mod is None:
            continue
        if fam == "models" and class_name == "Functional":
            from ..models.functional import Functional

            return Functional
        obj = getattr(mod, class_name, None)
        if obj is not None and (isinstance(obj, type) or callable(obj)) and not isinstance(obj, types.ModuleType):
            return obj
    return None


def _own_namespace(module: str) -> bool:
    return any(module == ns or module.startswith(f"{ns}.") for ns in _OWN_NAMESPACES)


def check_safe(config, safe_mode: bool) -> None:
    """Raise UnsafeDeserializationError if ``config`` holds Python code or names a file, and ``safe_mode`` is on."""
    if not safe_mode:
        return
    found = _find_code(config)
    if found:
        raise UnsafeDeserializationError(
            f"Refusing to load {found}: it holds Python code (bytecode or a lambda) that would run on load. "
            "This is disabled by default (safe_mode=True) because a file could run arbitrary code. If you trust "
            "the file, pass `safe_mode=False` to the loading function."
        )
    found = _find_file_path(config)
    if found:
        raise UnsafeDeserializationError(
            f"Refusing to load {found}: loading would read that file from this machine. Keras writes vocabularies "
            "into the archive's assets/ (which Ember reads); a path in the config is refused in safe_mode. If you "
            "trust the file, pass `safe_mode=False` to the loading function."
        )


def _find_file_path(config):
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            inner = item.get("config")
            if "class_name" in item and isinstance(inner, dict):
                for key in _FILE_KEYS:
                    if isinstance(inner.get(key), str):
                        return (
                            f"{item.get('class_name')} '{inner.get('name', '?')}': its {key!r} is a path "
                            f"({inner[key][:200]!r})"
                        )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _find_code(config):
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get("class_name")
            if name == "__lambda__":
                return "a marshalled Python function ('__lambda__')"
            if name in ("Lambda", "TensorOp"):
                inner = item.get("config")
                return f"a {name} layer ({inner.get('name', '?') if isinstance(inner, dict) else '?'})"
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def load_lambda(config):
    """The Python function stored by Keras as ``{"code": base64 marshal, "defaults", "closure"}``.

    Only reached with ``safe_mode=False``. Uses ``marshal`` (code objects), never pickle.
    """
    if not isinstance(config, dict) or "code" not in config:
        raise ValueError(f"a '__lambda__' entry must have a 'code' field, got {config!r}")
    raw = base64.b64decode(config["code"].encode("ascii") if isinstance(config["code"], str) else config["code"])
    try:
        code = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as err:
        raise ValueError(
            f"a '__lambda__' entry holds bytecode this Python ({_py()}) cannot read; it was probably "
            f"written by another Python version: {err}"
        ) from None
    defaults = config.get("defaults")
    closure = config.get("closure")
    if closure is not None:
        closure = tuple(types.CellType(c) for c in closure)
    return types.FunctionType(
        code, globals(), name=code.co_name, argdefs=tuple(defaults) if defaults else None, closure=closure
    )


def clean_layer_config(cls, config: dict) -> dict:
    """A Keras 3 layer config made ready for the Ember class ``cls``.

    DTypePolicy dicts become dtype names; Keras-only keys holding their
    default are dropped; a Keras-only key with another value is an error that
    names the layer, the key and the value.
    """
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = dtype_name(config["dtype"])
    for key, value in config.items():  # wrapped layers (TimeDistributed's layer, Bidirectional's, RNN cells)
        config[key] = _clean_nested(value)
    accepted = accepted_kwargs(cls)
    if accepted is None:
        return config
    for key in list(config):
        if key in accepted:
            continue
        if key in _KERAS_ONLY_DEFAULTS and config[key] == _KERAS_ONLY_DEFAULTS[key]:
            del config[key]
        elif key in _KERAS_ONLY_DEFAULTS:
            raise ValueError(
                f"Layer '{config.get('name', '?')}' ({cls.__name__}) uses the Keras option {key}={config[key]!r}, "
                "which Ember does not support yet"
            )
    return config


def _clean_nested(value):
    if isinstance(value, list):
        return [_clean_nested(v) for v in value]
    if not (isinstance(value, dict) and isinstance(value.get("config"), dict) and "class_name" in value):
        return value
    module = value.get("module") or ""
    if not isinstance(module, str) or (module and not _own_namespace(module)):
        return value
    if "layers" not in module and "models" not in module and module != "keras":
        return value
    cls = resolve(value["class_name"], value.get("registered_name"), module, None, "layers", safe_mode=True)
    if cls is None or not _is_layer_class(cls):
        return value
    return {**value, "config": clean_layer_config(cls, value["config"])}


def accepted_kwargs(cls):
    """The keyword names ``cls(...)`` accepts, or None when that cannot be told (custom ``**kwargs``)."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {"self"}
        if klass.__module__ == "ember.layers.layer" and klass.__name__ == "Layer":
            return (names | _LAYER_BASE_KWARGS) - {"self"}
    return None


def dtype_name(dtype) -> str:
    """A dtype name from a string or Keras's ``DTypePolicy`` dict (``{"config": {"name": "float32"}}``)."""
    if isinstance(dtype, dict):
        name = (dtype.get("config") or {}).get("name")
        if not isinstance(name, str):  # a policy name: a dtype or "mixed_float16" (the layer checks which)
            raise ValueError(f"dtype policy {dtype!r} has no name (expected {{'config': {{'name': 'float32'}}}})")
        return name
    return dtype


def _from_config(cls, config, custom_objects, safe_mode=True):
    try:
        params = inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError, AttributeError):
        params = {}
    if "safe_mode" in params:  # e.g. Lambda, which holds Python code the caller has allowed (or not)
        return cls.from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
    if "custom_objects" in params:
        return cls.from_config(config, custom_objects=custom_objects)
    with registry.CustomObjectScope(custom_objects or {}):
        return cls.from_config(config)


def _is_layer_class(cls) -> bool:
    from ..layers.layer import Layer

    return isinstance(cls, type) and issubclass(cls, Layer)


def _families_for(module, family):
    module = module or ""
    first = [f for f in _FAMILIES if f".{f}" in f".{module}".replace("keras.src.", "keras.")]
    if "optimizers" in module:
        first = ["optimizers"]
    if module in ("keras", "keras.models") or module.startswith("keras.src.models"):
        first = ["models", "layers"]
    order = ([family] if family else []) + first + list(_FAMILIES)
    seen, out = set(), []
    for f in order:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _ember_module(family):
    try:
        return importlib.import_module(f"ember.{family}")
    except ModuleNotFoundError:
        return None


def _public_module(obj) -> str:
    """Keras's public module name for an Ember object (``ember.layers.core.dense`` -> ``keras.layers``)."""
    parts = obj.__module__.split(".")
    if len(parts) >= 2 and parts[0] == "ember" and parts[1] in _FAMILIES:
        if parts[1] == "models":
            return "keras"
        return f"keras.{parts[1]}"
    return obj.__module__


def _tuple_shape(shape):
    if shape and isinstance(shape[0], (list, tuple)):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _hint() -> str:
    return (
        "If it is your own class or function, pass it in `custom_objects={'Name': Name}` or decorate it with "
        "`@ember.saving.register_keras_serializable()`."
    )


def _py() -> str:
    import sys

    return "{}.{}".format(*sys.version_info[:2])
