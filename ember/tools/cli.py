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


def _load_model(path, compile=True):  # noqa: A002
    from ember.models import load_model

    _require_file(path, "model file")
    return load_model(path, compile=compile)


# ------------------------------------------------------------------ subcommands


def _cmd_doctor(args) -> int:
    from ember.tools.doctor import exit_status, format_json, format_text, run_checks

    checks = run_checks(probe_coretype=not args.no_probe)
    print(format_json(checks) if args.json else format_text(checks))
    return exit_status(checks)


def _cmd_demo(args) -> int:
    from ember.tools.demo import run_demo

    run_demo(epochs=args.epochs, samples=args.samples, verbose=2)
    return 0


def _cmd_summary(args) -> int:
    model = _load_model(args.model, compile=False)
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

    data = _read_data(args.data)
    model = _load_model(args.model, compile=False)
    predictions = np.asarray(model.predict(data, batch_size=args.batch_size, verbose=0))
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
    model = _load_model(args.input)
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
    model = _load_model(args.model, compile=False)
    export(model, args.output)
    print(f"exported {args.model} to {args.output}")
    return 0


def _cmd_plot(args) -> int:
    from ember.utils.plots import plot_history

    _require_file(args.history, "history file")
    out = args.output or os.path.splitext(args.history)[0] + ".png"
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
    serve(args.model, host=args.host, port=args.port)
    return 0


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ember`` command (one subparser per subcommand)."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember's command-line tools.")
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    p = sub.add_parser("doctor", help="inspect this machine and say how to fix what is missing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-probe", action="store_true", help="skip the OpenBLAS core-type matmul timing")
    p.set_defaults(func=_cmd_doctor)

    p = sub.add_parser("demo", help="train the seeds' MNIST network and print its test accuracy")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (default 5, as the seed)")
    p.add_argument("--samples", type=int, default=None, help="use only this many images (a quick run)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("summary", help="print a saved model's summary")
    p.add_argument("model", help="a .keras (or legacy .h5) model file")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("predict", help="run a saved model on a .npy or .csv file")
    p.add_argument("model", help="a .keras (or legacy .h5) model file")
    p.add_argument("data", help="inputs: a .npy array or a numeric CSV, one sample per row")
    p.add_argument("--batch-size", type=int, default=32, help="prediction batch size (default 32)")
    p.add_argument("--output", "-o", default=None, help="write to out.npy or out.csv instead of stdout")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("convert", help="convert a legacy Keras .h5 model to .keras")
    p.add_argument("input", help="the .h5 model")
    p.add_argument("output", help="the .keras file to write")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("export-onnx", help="export a saved model to ONNX")
    p.add_argument("model", help="a .keras model file")
    p.add_argument("output", help="the .onnx file to write")
    p.set_defaults(func=_cmd_export_onnx)

    p = sub.add_parser("plot", help="draw a CSVLogger history file as a PNG")
    p.add_argument("history", help="the CSV written by ember.callbacks.CSVLogger")
    p.add_argument("-o", "--output", default=None, help="the picture (default: the CSV's name with .png)")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("serve", help="serve a saved model over HTTP (TensorFlow Serving's JSON)")
    p.add_argument("model", help="a .keras model file")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv=None) -> int:
    """Run the ``ember`` command with ``argv`` (default: ``sys.argv[1:]``); return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as err:
        print(f"ember {args.command}: {err}", file=sys.stderr)
        return 1
    except (OSError, ValueError, ImportError) as err:
        print(f"ember {args.command}: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
