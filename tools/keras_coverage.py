"""How much of Keras 3's public API Ember has, namespace by namespace.

Imports Keras (on its torch backend) and Ember, lists the public names of each
Keras namespace below (``dir()`` less ``_``-prefixed names), and looks each one
up on the matching Ember namespace (``import ember as keras``: ``keras.ops.nn``
is ``ember.ops.nn``). A name counts as covered when the attribute exists; what
it does is the business of the behaviour tests.

Usage::

    python tools/keras_coverage.py            # one line per namespace and the total
    python tools/keras_coverage.py --missing  # ... and the missing names under each
    python tools/keras_coverage.py --json     # everything, for machines
    python tools/keras_coverage.py --only keras.ops --only keras.ops.nn

Needs Keras 3 and torch installed (``KERAS_BACKEND`` is set to ``torch`` here).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

# The Keras namespaces issue 14 lists. The top-level ``keras`` namespace counts
# its submodules' names too (``keras.ops`` is a name of ``keras``).
NAMESPACES = (
    "keras",
    "keras.ops",
    "keras.ops.nn",
    "keras.ops.numpy",
    "keras.ops.image",
    "keras.ops.linalg",
    "keras.layers",
    "keras.losses",
    "keras.metrics",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.callbacks",
    "keras.random",
    "keras.config",
    "keras.utils",
    "keras.saving",
    "keras.models",
    "keras.preprocessing",
    "keras.preprocessing.image",
    "keras.preprocessing.sequence",
    "keras.datasets",
    "keras.datasets.mnist",
    "keras.datasets.fashion_mnist",
    "keras.datasets.cifar10",
    "keras.datasets.cifar100",
    "keras.datasets.imdb",
    "keras.datasets.reuters",
    "keras.datasets.boston_housing",
    "keras.datasets.california_housing",
    "keras.wrappers",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.activations",
    "keras.applications",
    "keras.backend",
)

# Public in ``dir()`` but not API: ``keras.src`` is Keras's implementation package.
IGNORED = {"keras": {"src"}}


def keras_names(namespace: str) -> list[str]:
    """The public names of one Keras namespace, sorted."""
    module = importlib.import_module(namespace)
    ignored = IGNORED.get(namespace, set())
    return sorted(n for n in dir(module) if not n.startswith("_") and n not in ignored)


def ember_namespace(namespace: str):
    """The Ember object for a Keras namespace (``keras.ops.nn`` -> ``ember.ops.nn``), or None.

    Returns ``(object, error)``: the error text says why it could not be reached.
    """
    import ember

    obj = ember
    for part in namespace.split(".")[1:]:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return None, f"ember has no {namespace.replace('keras', 'ember', 1)}"
        except Exception as err:  # a subpackage that fails to import is reported, not fatal
            return None, f"importing {namespace.replace('keras', 'ember', 1)} failed: {type(err).__name__}: {err}"
    return obj, None


def _has(obj, name: str) -> bool:
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    except Exception:  # a lazily imported name whose import fails is not there
        return False
    return True


def measure(namespaces=NAMESPACES) -> dict:
    """Coverage of each namespace: ``{"namespaces": {ns: {...}}, "total": {...}}``."""
    report = {}
    total_names = total_present = 0
    for namespace in namespaces:
        names = keras_names(namespace)
        target, error = ember_namespace(namespace)
        present = [n for n in names if target is not None and _has(target, n)]
        missing = [n for n in names if n not in set(present)]
        report[namespace] = {
            "names": len(names),
            "present": len(present),
            "percent": round(100.0 * len(present) / len(names), 1) if names else 100.0,
            "missing": missing,
            "error": error,
        }
        total_names += len(names)
        total_present += len(present)
    total = {
        "names": total_names,
        "present": total_present,
        "percent": round(100.0 * total_present / total_names, 1) if total_names else 100.0,
    }
    return {"keras_version": importlib.import_module("keras").__version__, "namespaces": report, "total": total}


def _print_table(result: dict, show_missing: bool) -> None:
    width = max(len(ns) for ns in result["namespaces"])
    print(f"Keras {result['keras_version']} public names present in Ember")
    for namespace, row in result["namespaces"].items():
        line = f"{namespace:<{width}}  {row['present']:>4}/{row['names']:<4} {row['percent']:5.1f}%"
        if row["error"]:
            line += f"  ({row['error']})"
        print(line)
        if show_missing and row["missing"]:
            print("    missing: " + ", ".join(row["missing"]))
    total = result["total"]
    print(f"{'total':<{width}}  {total['present']:>4}/{total['names']:<4} {total['percent']:5.1f}%")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missing", action="store_true", help="list the missing names under each namespace")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--only", action="append", metavar="NAMESPACE", help="measure only these namespaces")
    args = parser.parse_args(argv)

    os.environ.setdefault("KERAS_BACKEND", "torch")
    # run from a checkout without installing: the repository root holds the ember package
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    namespaces = tuple(args.only) if args.only else NAMESPACES
    unknown = [ns for ns in namespaces if not ns.startswith("keras")]
    if unknown:
        parser.error(f"--only expects Keras namespaces such as keras.ops; got {unknown}")
    result = measure(namespaces)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        _print_table(result, args.missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
