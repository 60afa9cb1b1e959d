"""Differential test: the default ``fit``/``predict`` (compiled) equal ``jit_compile=False`` (eager), bit for bit.

Hypothesis draws a small model (Dense, Conv2D, pooling, SimpleRNN/GRU/LSTM,
Embedding with or without a mask, BatchNormalization, Dropout, a layer writing
in place, a two-branch
merge; one or two outputs), an optimizer, a loss per output, sample or class
weights, and a list of mid-training changes (freeze or unfreeze a layer,
swap a Dense layer's activation, change a Dropout rate, recompile with
another optimizer and loss). The same program runs twice from the same
seed, once as ``compile`` leaves it and once with ``jit_compile=False``;
every batch's running loss (through a callback, when drawn), every epoch's
logs, the predictions and all weights (optimizer slots and moving statistics
included) after each ``fit`` must be equal bit for bit. The compiled path has
no fused kernel whose summation order differs, so no ulp allowance is needed.

Examples: 60 in CI, the same ones each run (about 20 s on one quiet core). A longer run::

    EMBER_DIFF_EXAMPLES=2000 python -m pytest tests/test_differential.py -q

(``EMBER_DIFF_SEED`` picks Hypothesis's seed; a failure prints the drawn program.)
"""

from __future__ import annotations

import os
import warnings

import numpy
import pytest

hypothesis = pytest.importorskip("hypothesis", reason="the differential test draws programs with hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember as keras  # noqa: E402
from ember import layers  # noqa: E402

EXAMPLES = int(os.environ.get("EMBER_DIFF_EXAMPLES", "60"))
LONG_RUN = "EMBER_DIFF_EXAMPLES" in os.environ
ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear", "elu", "softplus", "gelu"]
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.05),
    "momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: keras.optimizers.Adam(0.01),
    "adamw": lambda: keras.optimizers.AdamW(0.01),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01),
    "adagrad": lambda: keras.optimizers.Adagrad(0.05),
    "adadelta": lambda: keras.optimizers.Adadelta(1.0),
    "nadam": lambda: keras.optimizers.Nadam(0.01),
    "clipped": lambda: keras.optimizers.Adam(0.01, clipnorm=0.5),
}
HEADS = {  # kind -> (final activation, losses that fit it)
    "softmax": ("softmax", ["categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence"]),
    "sigmoid": ("sigmoid", ["binary_crossentropy", "mse"]),
    "linear": ("linear", ["mse", "mae", "huber", "log_cosh"]),
    "logits": ("linear", ["categorical_crossentropy_logits"]),
}


@st.composite
def programs(draw):
    """A drawn training program (plain data: hypothesis prints it when a case fails)."""
    kind = draw(st.sampled_from(["dense", "conv", "rnn", "embedding"]))
    body = []
    if kind == "dense":
        for _ in range(draw(st.integers(1, 3))):
            body.append(("dense", draw(st.integers(2, 7)), draw(st.sampled_from(ACTIVATIONS))))
            extra = draw(st.sampled_from([None, None, "bn", "dropout", "layernorm", "inplace"]))
            if extra:
                body.append((extra, draw(st.sampled_from([0.1, 0.3, 0.5]))))
    elif kind == "conv":
        body.append(("conv", draw(st.integers(2, 4)), draw(st.sampled_from(ACTIVATIONS)), draw(st.booleans())))
        body.append((draw(st.sampled_from(["maxpool", "avgpool", "none"])),))
        if draw(st.booleans()):
            body.append(("bn", 0.0))
        body.append((draw(st.sampled_from(["flatten", "gap"])),))
        if draw(st.booleans()):
            body.append(("dropout", draw(st.sampled_from([0.2, 0.5]))))
    else:
        if kind == "embedding":
            body.append(("embedding", draw(st.integers(2, 5)), draw(st.booleans())))
        body.append((draw(st.sampled_from(["simple_rnn", "gru", "lstm"])), draw(st.integers(2, 5))))
    merge = draw(st.sampled_from([None, None, "add", "concatenate"]))
    n_heads = draw(st.integers(1, 2))
    heads = []
    for _ in range(n_heads):
        head = draw(st.sampled_from(sorted(HEADS)))
        heads.append((head, draw(st.sampled_from(HEADS[head][1])), draw(st.integers(2, 4))))
    weighting = draw(st.sampled_from([None, "sample", "class"] if n_heads == 1 else [None, "sample"]))
    if weighting == "class" and heads[0][0] not in ("softmax", "sigmoid"):
        weighting = "sample"
    changes = draw(st.lists(st.sampled_from(["freeze", "unfreeze", "activation", "dropout", "recompile"]), max_size=3))
    return {
        "kind": kind,
        "body": body,
        "merge": merge,
        "heads": heads,
        "optimizer": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "weighting": weighting,
        "batch_size": draw(st.sampled_from([5, 8])),
        "samples": draw(st.sampled_from([24, 27])),
        "per_batch": draw(st.booleans()),
        "changes": changes,
        "change_args": draw(st.lists(st.integers(0, 1000), min_size=len(changes), max_size=len(changes))),
        "seed": draw(st.integers(0, 2**16)),
    }


def _input_shape(program):
    return {"dense": (6,), "conv": (6, 6, 2), "rnn": (5, 3), "embedding": (5,)}[program["kind"]]


def _data(program):
    r = numpy.random.RandomState(program["seed"])
    n = program["samples"]
    if program["kind"] == "embedding":
        x = r.randint(1, 12, (n, 5))
        x[r.rand(n) < 0.5, 3:] = 0  # padding at the end of half the rows (masked when mask_zero)
    else:
        x = r.randn(n, *_input_shape(program)).astype("float32")
    ys = []
    for head, loss, units in program["heads"]:
        if head == "softmax" or head == "logits":
            labels = r.randint(0, units, n)
            ys.append(labels.reshape(n, 1) if loss.startswith("sparse") else numpy.eye(units, dtype="float32")[labels])
        elif head == "sigmoid":
            ys.append(r.randint(0, 2, (n, units)).astype("float32"))
        else:
            ys.append(r.randn(n, units).astype("float32"))
    sample_weight = class_weight = None
    if program["weighting"] == "sample":
        sample_weight = r.rand(n).astype("float32") + 0.1
    elif program["weighting"] == "class":
        units = program["heads"][0][2]
        classes = 2 if program["heads"][0][0] == "sigmoid" and units == 1 else units  # labels: argmax, or 0/1
        class_weight = {c: float(w) for c, w in enumerate(r.rand(classes) + 0.1)}
    return x, ys, sample_weight, class_weight


class _ShiftInPlace(layers.Layer):
    """Writes in place into a value its call made (``y -= shift``; ``y *= 2`` keeps a copy for its backward)."""

    def __init__(self, shift, **kwargs):
        super().__init__(**kwargs)
        self.shift = shift

    def call(self, x):
        y = x * 1.5
        y -= self.shift
        y *= 2.0
        return y


def _layer(spec):
    name = spec[0]
    if name == "dense":
        return layers.Dense(spec[1], activation=spec[2])
    if name == "bn":
        return layers.BatchNormalization(momentum=0.9)
    if name == "layernorm":
        return layers.LayerNormalization()
    if name == "inplace":
        return _ShiftInPlace(spec[1])
    if name == "dropout":
        return layers.Dropout(spec[1])
    if name == "conv":
        return layers.Conv2D(spec[1], 3, activation=spec[2], padding="same" if spec[3] else "valid")
    if name == "maxpool":
        return layers.MaxPooling2D(2, padding="same")
    if name == "avgpool":
        return layers.AveragePooling2D(2, padding="same")
    if name == "flatten":
        return layers.Flatten()
    if name == "gap":
        return layers.GlobalAveragePooling2D()
    if name == "embedding":
        return layers.Embedding(12, spec[1], mask_zero=spec[2])
    if name in ("simple_rnn", "gru", "lstm"):
        cls = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU, "lstm": layers.LSTM}[name]
        return cls(spec[1])
    if name == "none":
        return None
    raise AssertionError(spec)


def _build(program):
    inputs = keras.Input(_input_shape(program), dtype="int32" if program["kind"] == "embedding" else "float32")
    h = inputs
    for spec in program["body"]:
        layer = _layer(spec)
        if layer is not None:
            h = layer(h)
    if program["merge"]:
        a = layers.Dense(4, activation="relu")(h)
        b = layers.Dense(4, activation="tanh")(h)
        h = layers.Add()([a, b]) if program["merge"] == "add" else layers.Concatenate()([a, b])
    outputs = []
    for i, (head, _, units) in enumerate(program["heads"]):
        outputs.append(layers.Dense(units, activation=HEADS[head][0], name=f"out{i}")(h))
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0])


def _loss(name):
    if name == "categorical_crossentropy_logits":
        return keras.losses.CategoricalCrossentropy(from_logits=True)
    return name


def _compile(model, program, jit, optimizer, losses):
    losses = [_loss(n) for n in losses]
    kwargs = {} if jit == "default" else {"jit_compile": False}
    model.compile(
        optimizer=OPTIMIZERS[optimizer](),
        loss=losses if len(losses) > 1 else losses[0],
        metrics=_metrics(program),
        **kwargs,
    )


def _metrics(program):
    """Accuracy (its lean per-batch counter on the compiled path) for classifiers, MAE for regressions."""
    kinds = [head for head, _, _ in program["heads"]]
    if len(kinds) == 1:
        return ["mae"] if kinds[0] == "linear" else ["accuracy"]
    return [["accuracy"] if kind != "linear" else ["mae"] for kind in kinds]


class _BatchLosses(keras.callbacks.Callback):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_train_batch_end(self, batch, logs=None):
        self.out.append(logs["loss"])


def _apply_change(model, change, arg, program, jit):
    """One mid-training change; returns the (optimizer, losses) compile should use from now on, or None."""
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    weighted = [layer for layer in model.layers if layer.weights]
    if change == "freeze":
        weighted[arg % len(weighted)].trainable = False
    elif change == "unfreeze":
        for layer in weighted:
            layer.trainable = True
    elif change == "activation":
        dense[arg % len(dense)].activation = keras.activations.get(ACTIVATIONS[arg % len(ACTIVATIONS)])
    elif change == "dropout":
        for layer in model.layers:
            if isinstance(layer, layers.Dropout):
                layer.rate = [0.0, 0.25, 0.6][arg % 3]
    elif change == "recompile":
        optimizer = sorted(OPTIMIZERS)[arg % len(OPTIMIZERS)]
        losses = []
        for head, loss, _ in program["heads"]:  # another loss for the same targets (sparse labels stay sparse)
            choices = [n for n in HEADS[head][1] if n.startswith("sparse") == loss.startswith("sparse")]
            losses.append(choices[(arg // 7) % len(choices)])
        _compile(model, program, jit, optimizer, losses)


def _run(program, jit):
    """The program's record: per-batch losses (when drawn), per-fit histories, predictions and weights."""
    keras.utils.set_random_seed(program["seed"])
    x, ys, sample_weight, class_weight = _data(program)
    y = ys if len(ys) > 1 else ys[0]
    model = _build(program)
    _compile(model, program, jit, program["optimizer"], [loss for _, loss, _ in program["heads"]])
    record = []
    batch_losses = []
    functions = {}  # the compiled train functions used (a recompile makes a new one)
    callbacks = [_BatchLosses(batch_losses)] if program["per_batch"] else []

    def fit():
        history = model.fit(
            x,
            y,
            batch_size=program["batch_size"],
            epochs=2,
            verbose=0,
            shuffle=True,
            sample_weight=sample_weight,
            class_weight=class_weight,
            callbacks=callbacks,
        )
        record.append(history.history)
        functions[id(model._train_function)] = model._train_function
        record.append(model.predict(x, batch_size=program["batch_size"], verbose=0))
        record.append([w.copy() for w in model.get_weights()])
        record.append([numpy.asarray(w).copy() for w in model.optimizer.variables])

    try:
        fit()
        for change, arg in zip(program["changes"], program["change_args"]):
            _apply_change(model, change, arg, program, jit)
            fit()
    except ValueError as e:  # e.g. unfreezing after a recompile: Keras's "unknown variable", on both paths alike
        record.append(("error", str(e)))
    record.append(batch_losses)
    fits = len([entry for entry in record if isinstance(entry, dict)])
    traces = sum(getattr(f, "traces", 0) for f in functions.values())
    replays = sum(getattr(f, "replays", 0) for f in functions.values())
    return record, (fits, traces, replays)


def _assert_equal(a, b, where="record"):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_equal(u, v, f"{where}[{i}]")
    else:
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b), err_msg=where)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG_RUN and "EMBER_DIFF_SEED" not in os.environ,  # CI: the same 60 programs every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(program=programs())
@pytest.mark.slow
def test_default_fit_equals_eager_step_by_step(program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings on both paths (e.g. a model without trainable weights)
        compiled, (fits, traces, replays) = _run(program, "default")
        eager, _ = _run(program, False)
    _assert_equal(compiled, eager)
    # the default path did replay plans, and traced each signature at most twice per fit (no stale key, no
    # key that changes by itself and retraces every epoch)
    signatures = 1 + (program["samples"] % program["batch_size"] != 0)
    assert replays > 0
    assert traces <= 2 * signatures * fits, (traces, signatures, fits)


if "EMBER_DIFF_SEED" in os.environ:
    test_default_fit_equals_eager_step_by_step = hypothesis.seed(int(os.environ["EMBER_DIFF_SEED"]))(
        test_default_fit_equals_eager_step_by_step
    )
