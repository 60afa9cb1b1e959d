"""The ``ember`` command: doctor, demo, summary, predict, convert, export-onnx, plot, serve.

Each subcommand is a small function ``_cmd_<name>(args) -> int`` that imports what it needs
when it runs, so ``ember doctor`` works even where optional packages are missing. Errors a
user can fix (a missing file, a missing extra, a wrong shape) are printed as one
``ember <command>: ...`` line on stderr with exit status 1; argument mistakes exit with 2.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["build_parser", "main"]


class CommandError(Exception):
    """A problem the user can fix; ``main`` prints it as one line and returns 1."""


def _require_file(path, what):
    if not os.path.isfile(path):
        raise CommandError(f"{what} {path!r} does not exist")
    return path


def _custom_objects(module_names):
    """The classes and functions of the modules named by ``--custom-objects`` (the user's own code, by choice).

    Importing a module runs it: this is the explicit trust a user gives, as ``safe_mode=False`` is in Python.
    """
    import importlib

    found = {}
    for name in module_names or ():
        sys.path.insert(0, os.getcwd())  # `--custom-objects my_layers` finds ./my_layers.py
        try:
            module = importlib.import_module(name)
        except ImportError as err:
            raise CommandError(f"--custom-objects {name!r}: cannot import it ({err})") from err
        finally:
            sys.path.pop(0)
        found.update({k: v for k, v in vars(module).items() if not k.startswith("_") and callable(v)})
    return found


def _load_model(path, compile=True, custom_objects=None):  # noqa: A002
    from ember.models import load_model

    _require_file(path, "model file")
    return load_model(path, compile=compile, custom_objects=_custom_objects(custom_objects) or None)


# ------------------------------------------------------------------ subcommands


def _cmd_doctor(args) -> int:
    from ember.tools.doctor import exit_status, format_json, format_text, run_checks

    def progress(text):  # on stderr, so `ember doctor --json > report.json` stays clean
        print(f"ember doctor: {text}", file=sys.stderr, flush=True)

    checks = run_checks(probe_coretype=not args.no_probe, progress=None if args.quiet else progress)
    print(format_json(checks) if args.json else format_text(checks))
    return exit_status(checks)


def _cmd_demo(args) -> int:
    from ember.tools.demo import run_demo

    run_demo(epochs=args.epochs, samples=args.samples, verbose=2)
    return 0


def _cmd_summary(args) -> int:
    model = _load_model(args.model, compile=False, custom_objects=args.custom_objects)
    model.summary()
    return 0


def _read_data(path):
    """Inputs from a .npy file, or from a numeric CSV (a header row of names is skipped)."""
    import numpy as np

    _require_file(path, "data file")
    lower = path.lower()
    if lower.endswith(".npy"):
        return np.load(path, allow_pickle=False)
    if lower.endswith((".csv", ".txt")):
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        try:
            [float(x) for x in first.strip().split(",")]
            skip = 0
        except ValueError:
            skip = 1
        try:
            data = np.loadtxt(path, delimiter=",", skiprows=skip, dtype="float32", ndmin=2)
        except ValueError as err:
            raise CommandError(f"{path!r} is not a numeric CSV (one sample per row): {err}") from err
        return data
    raise CommandError(f"expected a .npy or .csv data file, got {path!r}")


def _write_predictions(path, predictions):
    import numpy as np

    lower = path.lower()
    if lower.endswith(".npy"):
        np.save(path, predictions)
    elif lower.endswith(".csv"):
        flat = predictions.reshape(predictions.shape[0], -1) if predictions.ndim > 1 else predictions[:, None]
        np.savetxt(path, flat, delimiter=",", fmt="%.8g")
    else:
        raise CommandError(f"--output must end in .npy or .csv, got {path!r}")


def _cmd_predict(args) -> int:
    import numpy as np

    data = [_read_data(path) for path in args.data]
    model = _load_model(args.model, compile=False, custom_objects=args.custom_objects)
    n_inputs = len(getattr(model, "inputs", None) or [None])
    if len(data) != n_inputs:
        raise CommandError(f"the model takes {n_inputs} input(s), one data file each; got {len(data)} file(s)")
    rows = {len(d) for d in data}
    if len(rows) > 1:
        raise CommandError(f"the data files must have the same number of samples, got {sorted(rows)}")
    with np.errstate(all="ignore"):  # overflow in a user's model is reported once below, not as NumPy warnings
        out = model.predict(data[0] if n_inputs == 1 else data, batch_size=args.batch_size, verbose=0)
    outputs = out if isinstance(out, (list, tuple)) else [out]
    if len(outputs) > 1:  # several outputs: one flat row of all of them per sample
        outputs = [np.asarray(o).reshape(len(o), -1) for o in outputs]
        predictions = np.concatenate(outputs, axis=1)
    else:
        predictions = np.asarray(outputs[0])
    bad = int(np.size(predictions) - np.count_nonzero(np.isfinite(predictions)))
    if bad:
        print(f"ember predict: {bad} prediction value(s) are not finite (nan or inf)", file=sys.stderr)
    if args.output:
        _write_predictions(args.output, predictions)
        print(f"wrote predictions of shape {predictions.shape} to {args.output}", file=sys.stderr)
    else:
        flat = predictions.reshape(predictions.shape[0], -1) if predictions.ndim > 1 else predictions[:, None]
        np.savetxt(sys.stdout, flat, delimiter=",", fmt="%.8g")
    return 0


def _cmd_convert(args) -> int:
    if not args.output.endswith(".keras"):
        raise CommandError(f"the output must be a .keras file, got {args.output!r}")
    model = _load_model(args.input, custom_objects=args.custom_objects)
    model.save(args.output)
    print(f"converted {args.input} to {args.output}")
    return 0


def _cmd_export_onnx(args) -> int:
    try:
        from ember.onnx import export
    except ImportError as err:
        raise CommandError(
            f"ONNX export is not available in this Ember ({err}); it needs ember.onnx and the onnx extra: "
            f"`{sys.executable} -m pip install onnx onnxruntime`"
        ) from err
    if not args.output.lower().endswith(".onnx"):
        raise CommandError(f"the output must be a .onnx file, got {args.output!r}")
    model = _load_model(args.model, compile=False, custom_objects=args.custom_objects)
    export(model, args.output)
    print(f"exported {args.model} to {args.output}")
    return 0


def _check_history_csv(path, max_epochs=100_000):
    """Refuse a CSV that is not a CSVLogger history: its header must start with ``epoch`` and every row
    must be one number per column, with at most ``max_epochs`` rows (a picture one point per epoch)."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if not header or header[0].strip() != "epoch" or len(header) < 2:
            raise CommandError(
                f"{path!r} is not a CSVLogger history: expected a header 'epoch,<metric>,...', got {header!r}"
            )
        for line, row in enumerate(reader, start=2):
            if line - 1 > max_epochs:
                raise CommandError(f"{path!r} has more than {max_epochs} epochs; not a history to draw")
            if len(row) != len(header):
                raise CommandError(f"{path!r} line {line}: expected {len(header)} fields, got {len(row)}")
            for field in row:
                try:
                    float(field)
                except ValueError:
                    raise CommandError(f"{path!r} line {line}: {field!r} is not a number") from None


def _cmd_plot(args) -> int:
    from ember.utils.plots import plot_history

    _require_file(args.history, "history file")
    _check_history_csv(args.history)
    out = args.output or os.path.splitext(args.history)[0] + ".png"
    if not out.lower().endswith(".png"):
        raise CommandError(f"the picture must be a .png file, got {out!r}")
    plot_history(args.history, to_file=out)
    print(f"wrote {out}")
    return 0


def _cmd_serve(args) -> int:
    try:
        from ember.serving import serve
    except ImportError as err:
        raise CommandError(
            f"serving is not available ({err}); it needs the serve extra: "
            f"`{sys.executable} -m pip install starlette uvicorn`"
        ) from err
    _require_file(args.model, "model file")
    limits = {key: getattr(args, key) for _, key, _, _ in _SERVE_LIMITS if getattr(args, key) is not None}
    if args.allow_nonfinite:
        limits["allow_nonfinite"] = True
    serve(args.model, host=args.host, port=args.port, **limits)
    return 0


# ------------------------------------------------------------------ parser


def _add_custom_objects(p):
    p.add_argument(
        "--custom-objects",
        action="append",
        metavar="MODULE",
        help="a Python module (importable, or MODULE.py in the current folder) defining the model's custom "
        "layers, losses or functions; importing it runs it, so name only your own code; repeatable",
    )


# ember serve's limits: (flag, serve() keyword, type, help); defaults from ember.serving.limits
_SERVE_LIMITS = (
    ("--batch-size", "max_batch_size", int, "most examples merged into one model call"),
    ("--batch-timeout-ms", "batch_timeout_ms", float, "how long a request waits for others to join its batch"),
    ("--max-request-bytes", "max_body_bytes", int, "largest request body; 413 above it"),
    ("--max-instances", "max_instances", int, "most examples in one request; 413 above it"),
    ("--max-concurrent", "max_concurrent", int, "most prediction requests in flight; 503 above it"),
    ("--body-timeout", "body_timeout_s", float, "seconds a request body may take to arrive; 408 after"),
    ("--header-timeout", "header_timeout_s", float, "seconds a request line and headers may take to arrive"),
    ("--keep-alive-timeout", "keep_alive_timeout_s", float, "seconds an idle keep-alive connection stays open"),
    ("--max-header-bytes", "max_header_bytes", int, "largest request line plus headers; 400 above it"),
)


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    return parse


def _add_serve_limits(p) -> None:
    """``ember serve``'s limit flags (docs/tools.md, "Limits and guarantees")."""
    try:
        from ember.serving.limits import SERVE_DEFAULTS
    except ImportError:  # serve then says what is missing; its own defaults apply
        SERVE_DEFAULTS = {}  # noqa: N806
    for flag, key, kind, text in _SERVE_LIMITS:
        metavar = "SECONDS" if key.endswith("_s") else ("MS" if key.endswith("_ms") else "N")
        default = SERVE_DEFAULTS.get(key)
        shown = f" (default {default})" if default is not None else ""
        p.add_argument(flag, dest=key, metavar=metavar, type=_positive(kind), default=default, help=text + shown)
    p.add_argument("--allow-nonfinite", action="store_true", help="accept NaN and Infinity in the inputs")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ember`` command (one subparser per subcommand)."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember's command-line tools.")
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    p = sub.add_parser("doctor", help="inspect this machine and say how to fix what is missing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-probe", action="store_true", help="skip the OpenBLAS core-type matmul timing")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("demo", help="train the seeds' MNIST network and print its test accuracy")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (default 5, as the seed)")
    p.add_argument("--samples", type=int, default=None, help="use only this many images (a quick run)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("summary", help="print a saved model's summary")
    p.add_argument("model", help="a .keras (or legacy .h5) model file")
    _add_custom_objects(p)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("predict", help="run a saved model on a .npy or .csv file")
    p.add_argument("model", help="a .keras (or legacy .h5) model file")
    p.add_argument("data", nargs="+", help="inputs: a .npy array or a numeric CSV, one sample per row; one per input")
    p.add_argument("--batch-size", type=int, default=32, help="prediction batch size (default 32)")
    p.add_argument("--output", "-o", default=None, help="write to out.npy or out.csv instead of stdout")
    _add_custom_objects(p)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("convert", help="convert a legacy Keras .h5 model to .keras")
    p.add_argument("input", help="the .h5 model")
    p.add_argument("output", help="the .keras file to write")
    _add_custom_objects(p)
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("export-onnx", help="export a saved model to ONNX")
    p.add_argument("model", help="a .keras model file")
    p.add_argument("output", help="the .onnx file to write")
    _add_custom_objects(p)
    p.set_defaults(func=_cmd_export_onnx)

    p = sub.add_parser("plot", help="draw a CSVLogger history file as a PNG")
    p.add_argument("history", help="the CSV written by ember.callbacks.CSVLogger")
    p.add_argument("-o", "--output", default=None, help="the picture (default: the CSV's name with .png)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("serve", help="serve a saved model over HTTP (TensorFlow Serving's JSON)")
    p.add_argument("model", help="a .keras model file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    _add_serve_limits(p)
    p.set_defaults(func=_cmd_serve)
    return parser


def _one_line(err) -> str:
    """The error's message on one line (a weights-mismatch report lists one mismatch a line)."""
    return "; ".join(line.strip() for line in str(err).splitlines() if line.strip())


def main(argv=None) -> int:
    """Run the ``ember`` command with ``argv`` (default: ``sys.argv[1:]``); return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as err:
        print(f"ember {args.command}: {_one_line(err)}", file=sys.stderr)
        return 1
    except (OSError, ValueError, ImportError) as err:  # Ember errors (ember.errors) are ValueErrors
        print(f"ember {args.command}: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
