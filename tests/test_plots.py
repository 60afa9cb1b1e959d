"""ember.utils pictures: plot_history / plot_kfold / plot_confusion_matrix / plot_roc and plot_graph.

Oracles: Keras 3 (its History and its CSVLogger file give the values the curves must carry),
PyTorch (the autograd graph of the same expression has the same ops and leaves), and
scikit-learn's metric functions (the numbers drawn in the confusion matrix and the ROC areas).
"""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.utils import graph_to_dot, plot_confusion_matrix, plot_graph, plot_history, plot_kfold, plot_roc

pytest.importorskip("matplotlib", reason="the plot functions draw with matplotlib (the viz extra)")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for training histories")


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC and os.path.getsize(path) > 1000


def _lines(ax):
    return {line.get_label(): (line.get_xdata(), line.get_ydata()) for line in ax.get_lines()}


# ------------------------------------------------------------------ import hygiene


def test_import_ember_loads_no_plotting_or_sklearn():
    code = (
        "import sys, ember, ember.utils\n"
        "print([m for m in ('matplotlib', 'sklearn', 'pandas', 'graphviz') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_matplotlib_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"needs matplotlib: `pip install matplotlib`"):
        plot_history({"loss": [1.0, 0.5]})


# ------------------------------------------------------------------ plot_history


def _keras_run(keras, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    log = tmp_path / "keras_history.csv"
    history = model.fit(
        x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0, callbacks=[keras.callbacks.CSVLogger(log)]
    )
    return history, log


def test_plot_history_draws_keras_history_and_its_csvlogger_file(keras, tmp_path):
    history, log = _keras_run(keras, tmp_path)
    expected = history.history
    for source in (history, history.history, str(log)):
        out = tmp_path / "h.png"
        fig = plot_history(source, to_file=out)
        assert _is_png(out)
        axes = fig.get_axes()
        assert [ax.get_title() for ax in axes] == ["Training & Validation Loss", "Training & Validation Mae"]
        for ax, name in zip(axes, ["loss", "mae"]):
            lines = _lines(ax)
            np.testing.assert_array_equal(lines["Training"][0], np.arange(1, 5))
            np.testing.assert_allclose(lines["Training"][1], expected[name], rtol=1e-6)
            np.testing.assert_allclose(lines["Validation"][1], expected["val_" + name], rtol=1e-6)
        out.unlink()


def test_plot_history_of_an_ember_fit_and_metric_selection(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = rng.standard_normal((40, 1)).astype("float32")
    model = ember.Sequential([ember.layers.Input((3,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, verbose=0)
    fig = plot_history(history, metrics=["mae"])
    (ax,) = fig.get_axes()
    lines = _lines(ax)
    assert set(lines) == {"Training"}  # no validation: no green line
    np.testing.assert_allclose(lines["Training"][1], history.history["mae"])
    with pytest.raises(ValueError, match=r"metrics \['accuracy'\] are not in the history"):
        plot_history(history, metrics=["accuracy"])
    with pytest.raises(TypeError, match="expected a History"):
        plot_history(42)


# ------------------------------------------------------------------ plot_kfold


def test_plot_kfold_box_plot_of_the_scores_and_the_fold_curves(tmp_path):
    scores = [0.981, 0.985, 0.979, 0.988, 0.983]
    histories = [{"loss": [0.5, 0.3], "accuracy": [0.9, 0.95], "val_loss": [0.4, 0.35], "val_accuracy": [0.92, 0.93]}]
    out = tmp_path / "kfold.png"
    fig = plot_kfold(scores, histories * 2, to_file=out)
    assert _is_png(out)
    loss_ax, acc_ax, box_ax = fig.get_axes()
    assert len(loss_ax.get_lines()) == 4 and len(acc_ax.get_lines()) == 4  # train + test per fold
    assert f"mean={np.mean(scores):.4f} std={np.std(scores):.4f}, n=5" in box_ax.get_title()
    # the box's median line sits at the median score
    medians = [line for line in box_ax.get_lines() if len(set(line.get_ydata())) == 1]
    assert any(np.isclose(line.get_ydata()[0], np.median(scores)) for line in medians)
    only_box = plot_kfold(scores)
    assert len(only_box.get_axes()) == 1
    with pytest.raises(ValueError, match="one score per fold"):
        plot_kfold([])


# ------------------------------------------------------------------ confusion matrix and ROC


def test_plot_confusion_matrix_numbers_are_sklearns(tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 3, 120)
    probs = rng.random((120, 3))
    y_pred = probs.argmax(axis=1)
    out = tmp_path / "cm.png"
    fig = plot_confusion_matrix(np.eye(3)[y_true], probs, labels=["a", "b", "c"], to_file=out)
    assert _is_png(out)
    ax = fig.get_axes()[0]
    drawn = [int(t.get_text()) for t in ax.texts]
    assert drawn == metrics.confusion_matrix(y_true, y_pred).ravel().tolist()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    fig = plot_confusion_matrix(y_true, y_pred, normalize="true")
    drawn = [float(t.get_text()) for t in fig.get_axes()[0].texts]
    np.testing.assert_allclose(drawn, metrics.confusion_matrix(y_true, y_pred, normalize="true").ravel(), atol=5e-3)
    with pytest.raises(ValueError, match="normalize must be"):
        plot_confusion_matrix(y_true, y_pred, normalize="rows")
    with pytest.raises(ValueError, match="120 samples and y_pred 10"):
        plot_confusion_matrix(y_true, y_pred[:10])


def _auc_in(label):
    return float(re.search(r"AUC = ([0-9.]+)", label).group(1))


def test_plot_roc_binary_and_multiclass_areas(tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    score = np.clip(y * 0.3 + rng.random(200) * 0.8, 0, 1)
    out = tmp_path / "roc.png"
    fig = plot_roc(y, score[:, None], to_file=out)
    assert _is_png(out)
    (ax,) = fig.get_axes()
    curve = [line for line in ax.get_lines() if "AUC" in line.get_label()]
    assert len(curve) == 1
    assert _auc_in(curve[0].get_label()) == pytest.approx(metrics.roc_auc_score(y, score), abs=5e-4)
    fpr, tpr, _ = metrics.roc_curve(y, score)
    np.testing.assert_allclose(curve[0].get_xdata(), fpr)
    np.testing.assert_allclose(curve[0].get_ydata(), tpr)

    k = rng.integers(0, 3, 150)
    scores = rng.random((150, 3)) + 0.5 * np.eye(3)[k]
    fig = plot_roc(k, scores)
    labels = [line.get_label() for line in fig.get_axes()[0].get_lines() if "AUC" in line.get_label()]
    assert len(labels) == 3
    for c, label in enumerate(labels):
        assert _auc_in(label) == pytest.approx(metrics.roc_auc_score(k == c, scores[:, c]), abs=5e-4)
    with pytest.raises(ValueError, match="y_true has 10 samples and y_score 150"):
        plot_roc(k[:10], scores)


# ------------------------------------------------------------------ plot_graph


def _graph_e():
    a = ember.tensor(2.0, requires_grad=True)
    b = ember.tensor(1.0, requires_grad=True)
    return a, b, (a + b) * (b + 1)


def _dot_nodes(text):
    return dict(re.findall(r"^\s*(\w+) \[(?:shape=)?[^\]]*label=\"([^\"]*)\"", text, flags=re.M))


def _dot_edges(text):
    return re.findall(r"^\s*(\w+) -> (\w+)", text, flags=re.M)


def test_graph_of_e_matches_torch_autograd_graph():
    torch = pytest.importorskip("torch", reason="PyTorch's autograd graph is the oracle")
    ta = torch.tensor(2.0, requires_grad=True)
    tb = torch.tensor(1.0, requires_grad=True)
    te = (ta + tb) * (tb + 1)
    ops, leaves, stack, seen = [], 0, [te.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if type(fn).__name__ == "AccumulateGrad":
            leaves += 1
            continue
        ops.append({"AddBackward0": "add", "MulBackward0": "multiply"}[type(fn).__name__])
        stack.extend(f for f, _ in fn.next_functions)

    a, b, e = _graph_e()
    for when in ("before backward", "after backward"):
        text = graph_to_dot(e)
        nodes = _dot_nodes(text)
        op_names = sorted(label.split("\\n")[0] for n, label in nodes.items() if n.startswith("f"))
        assert op_names == sorted(ops), when  # add, add, multiply
        assert sum(n.startswith("t") for n in nodes) == leaves == 2
        assert sum(n.startswith("c") for n in nodes) == 1  # the constant 1 in b + 1
        assert len(_dot_edges(text)) == 7  # 2 into each add, 2 into multiply, multiply -> out
        if when == "before backward":
            e.backward()
    assert (e.item(), a.grad.item(), b.grad.item()) == (6.0, 2.0, 5.0)


def test_graph_shows_shapes_of_a_training_step():
    x = ember.tensor(np.ones((4, 3), dtype="float32"))
    w = ember.Variable(np.ones((3, 2), dtype="float32"), name="kernel")
    loss = ember.relu(ember.matmul(x, w)).mean()
    text = graph_to_dot(loss, show_dtype=True)
    assert "kernel\\n(3, 2)\\nfloat32" in text
    assert "matmul\\n(4, 2)" in text and "relu\\n(4, 2)" in text
    assert graph_to_dot(ember.tensor(1.0)).count("->") == 0  # no history: one node
    with pytest.raises(TypeError, match="expected an ember Tensor"):
        graph_to_dot(np.ones(3))


def test_plot_graph_png_with_graphviz(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    _, _, e = _graph_e()
    e.backward()
    out = plot_graph(e, to_file=tmp_path / "graph_e.png")
    assert out == str(tmp_path / "graph_e.png") and _is_png(out)


def test_plot_graph_without_graphviz_keeps_the_dot_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, _, e = _graph_e()
    out = plot_graph(e, to_file=tmp_path / "g.png")
    assert out == str(tmp_path / "g.dot")
    with open(out) as f:
        text = f.read()
    assert text == graph_to_dot(e)
    err = capsys.readouterr().err
    assert "needs Graphviz's `dot` program" in err and "apt-get install graphviz" in err and text in err
    assert not (tmp_path / "g.png").exists()
    assert plot_graph(e, to_file=tmp_path / "g2.dot") == str(tmp_path / "g2.dot")


def test_seed_graph_e_program_runs(tmp_path):
    seed = os.path.join(os.path.dirname(__file__), "..", "examples", "seeds", "graph_e.py")
    done = subprocess.run([sys.executable, os.path.abspath(seed)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6.0", "2.0", "5.0"]
    assert (tmp_path / "graph_e.png").exists() or (tmp_path / "graph_e.dot").exists()
