"""ember.utils against keras.utils (torch backend): re-exports, set_random_seed, model_to_dot/plot_model, the
custom-object registry and serialize/deserialize_keras_object.

The graph drawn by ``model_to_dot`` is checked against the graph Keras records
for the same model (layer names, types, output shapes, connections). Graphviz
is not needed: rendering runs against a stand-in ``dot`` program on PATH.
"""

import os
import random
import re
import stat
import sys

import numpy as np
import pytest

import ember
from ember import utils

os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="module")
def keras():
    k = pytest.importorskip("keras", reason="Keras 3 (torch backend) is the oracle for ember.utils")
    if k.backend.backend() != "torch":
        pytest.skip("Keras must run on the torch backend for these comparisons")
    return k


# ---- re-exports and the legacy path ----------------------------------------------------------


def test_reexports_are_the_defining_objects():
    from ember.callbacks.progbar import Progbar
    from ember.data.datasets._files import get_file
    from ember.data.preprocessing import categorical, sequence

    assert utils.to_categorical is categorical.to_categorical
    assert utils.normalize is categorical.normalize
    assert utils.pad_sequences is sequence.pad_sequences
    assert utils.Progbar is Progbar
    assert utils.get_file is get_file
    assert ember.utils is utils
    for name in utils.__all__:
        assert hasattr(utils, name), name


def test_np_utils_legacy_path(keras):
    from ember.utils import np_utils
    from ember.utils.np_utils import to_categorical

    assert to_categorical is utils.to_categorical and np_utils.normalize is utils.normalize
    labels = np.array([2, 0, 1, 2, 3])
    np.testing.assert_array_equal(np_utils.to_categorical(labels), keras.utils.to_categorical(labels))
    np.testing.assert_array_equal(
        np_utils.to_categorical(labels, num_classes=6), keras.utils.to_categorical(labels, num_classes=6)
    )
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(np_utils.normalize(x, axis=-1), keras.utils.normalize(x, axis=-1), rtol=1e-6)


def test_names_exist_in_keras_utils(keras):
    for name in utils.__all__:
        if name in ("np_utils", "get_random_seed"):  # Keras 2's module path; keras.src.utils.rng_utils
            continue
        assert hasattr(keras.utils, name), f"keras.utils has no {name}"


# ---- set_random_seed -----------------------------------------------------------------------------


def _train_once(seed):
    utils.set_random_seed(seed)
    draws = (random.random(), float(np.random.rand()), ember.random.normal((3,)).numpy())
    model = ember.Sequential(
        [
            ember.layers.Dense(8, activation="relu", input_shape=(5,)),
            ember.layers.Dropout(0.5),
            ember.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    x = np.random.rand(64, 5).astype("float32")
    y = np.random.rand(64, 1).astype("float32")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    return draws, [w.copy() for w in model.get_weights()], history.history["loss"]


def test_set_random_seed_repeats_a_cpu_run_bit_for_bit():
    a = _train_once(123)
    b = _train_once(123)
    c = _train_once(124)
    assert a[0][:2] == b[0][:2]
    np.testing.assert_array_equal(a[0][2], b[0][2])
    for wa, wb in zip(a[1], b[1]):
        np.testing.assert_array_equal(wa, wb)
    assert a[2] == b[2]
    assert a[0][:2] != c[0][:2]
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a[1], c[1]))
    assert utils.get_random_seed() == 124


def test_set_random_seed_seeds_python_and_numpy_as_keras_does(keras):
    utils.set_random_seed(7)
    mine = (random.random(), np.random.rand(3))
    keras.utils.set_random_seed(7)
    theirs = (random.random(), np.random.rand(3))
    assert mine[0] == theirs[0]
    np.testing.assert_array_equal(mine[1], theirs[1])
    if "torch" in sys.modules:
        import torch

        utils.set_random_seed(7)
        t1 = torch.rand(3)
        keras.utils.set_random_seed(7)
        np.testing.assert_array_equal(t1.numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("bad", [1.5, "3", None])
def test_set_random_seed_rejects_non_integers_like_keras(keras, bad):
    with pytest.raises(ValueError):
        keras.utils.set_random_seed(bad)
    with pytest.raises(ValueError, match="expected an integer seed"):
        utils.set_random_seed(bad)


# ---- model_to_dot --------------------------------------------------------------------------------

_NODE = re.compile(r'^\s*(n\d+) \[label="(.*)"\];$')
_EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$")


def _parse(dot_text):
    """{node id: label lines} and the set of (from label's first line, to label's first line) edges."""
    labels, edges = {}, set()
    for line in dot_text.splitlines():
        m = _NODE.match(line)
        if m:
            labels[m.group(1)] = m.group(2).split("\\n")
        m = _EDGE.match(line)
        if m:
            edges.add((m.group(1), m.group(2)))
    named = {(labels[a][0], labels[b][0]) for a, b in edges}
    return labels, named


def _keras_graph(model):
    """Keras's own record of ``model``: {"name (Type)": output shape} and (producer, consumer) name pairs."""
    from keras.src.models.sequential import Sequential

    layers = model.layers if isinstance(model, Sequential) else model._operations
    shapes = {f"{layer.name} ({type(layer).__name__})": tuple(layer.output.shape) for layer in layers}
    names = {id(layer): f"{layer.name} ({type(layer).__name__})" for layer in layers}
    edges = set()
    if isinstance(model, Sequential):
        edges = {(names[id(a)], names[id(b)]) for a, b in zip(layers, layers[1:])}
    else:
        from keras.src.models.functional import make_node_key

        for layer in layers:
            for index, node in enumerate(layer._inbound_nodes):
                if make_node_key(layer, index) not in model._nodes:
                    continue
                for parent in node.parent_nodes:
                    edges.add((names[id(parent.operation)], names[id(layer)]))
    return shapes, edges


def _build_functional(lib):
    a = lib.Input(shape=(6,), name="a")
    b = lib.Input(shape=(4,), name="b")
    shared = lib.layers.Dense(3, name="shared")
    ha = lib.layers.Dense(4, activation="relu", name="da")(a)
    hb = lib.layers.Dense(4, activation="tanh", name="db")(b)
    merged = lib.layers.Concatenate(name="cat")([ha, hb])
    out1 = shared(merged)
    out2 = lib.layers.Dense(2, name="head")(lib.layers.Add(name="add")([ha, hb]))
    return lib.Model(inputs=[a, b], outputs=[out1, out2], name="two_heads")


def _build_sequential(lib):
    return lib.Sequential(
        [
            lib.Input(shape=(8, 8, 1)),
            lib.layers.Conv2D(4, 3, activation="relu", name="conv"),
            lib.layers.MaxPooling2D(2, name="pool"),
            lib.layers.Flatten(name="flat"),
            lib.layers.Dense(10, activation="softmax", name="out"),
        ],
        name="cnn",
    )


@pytest.mark.parametrize("build", [_build_sequential, _build_functional], ids=["sequential", "functional"])
def test_model_to_dot_draws_the_graph_keras_records(keras, build):
    shapes, edges = _keras_graph(build(keras))
    text = utils.model_to_dot(build(ember), show_shapes=True, show_layer_names=True)
    assert text.startswith("digraph ") and text.rstrip().endswith("}")
    labels, named = _parse(text)
    mine = {}
    for lines in labels.values():
        out = [ln for ln in lines if ln.startswith("Output shape: ")]
        mine[lines[0]] = out[0][len("Output shape: ") :] if out else None
    assert set(mine) == set(shapes)
    for name, shape in shapes.items():
        assert mine[name] == str(shape), name
    assert named == edges


def test_model_to_dot_options():
    model = _build_sequential(ember)
    plain = utils.model_to_dot(model, show_layer_names=False)
    labels, _ = _parse(plain)
    assert sorted(lines[0] for lines in labels.values()) == ["Conv2D", "Dense", "Flatten", "MaxPooling2D"]
    assert all(len(lines) == 1 for lines in labels.values())
    full = utils.model_to_dot(
        model, show_dtype=True, show_layer_activations=True, show_trainable=True, rankdir="LR", dpi=96
    )
    labels, _ = _parse(full)
    conv = next(lines for lines in labels.values() if lines[0] == "conv (Conv2D)")
    assert "Activation: relu" in conv and "dtype: float32" in conv and "Trainable: Y" in conv
    assert "rankdir=LR" in full and "dpi=96" in full
    sub = utils.model_to_dot(model, subgraph=True)
    assert sub.startswith('subgraph "cluster_cnn" {')
    with pytest.raises(ValueError, match="rankdir"):
        utils.model_to_dot(model, rankdir="UP")
    with pytest.raises(ValueError, match="unrecognized"):
        utils.model_to_dot(model, colour="red")


def test_model_to_dot_nested_and_subclassed():
    inner = ember.Sequential([ember.layers.Dense(4, name="i1"), ember.layers.Dense(3, name="i2")], name="inner")
    x = ember.Input(shape=(5,), name="x")
    y = ember.layers.Dense(2, name="after")(inner(x))
    outer = ember.Model(x, y, name="outer")
    _, collapsed = _parse(utils.model_to_dot(outer))
    assert collapsed == {("x (InputLayer)", "inner (Sequential)"), ("inner (Sequential)", "after (Dense)")}
    text = utils.model_to_dot(outer, expand_nested=True)
    assert "subgraph cluster_" in text and 'label="inner (Sequential)"' in text
    _, expanded = _parse(text)
    assert expanded == {("x (InputLayer)", "i1 (Dense)"), ("i1 (Dense)", "i2 (Dense)"), ("i2 (Dense)", "after (Dense)")}

    class Tiny(ember.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.d = ember.layers.Dense(2)

        def call(self, inputs):
            return self.d(inputs)

    model = Tiny()
    model(np.zeros((1, 3), "float32"))
    labels, edges = _parse(utils.model_to_dot(model))
    assert [lines[0] for lines in labels.values()] == ["tiny (Tiny)"] and not edges


# ---- plot_model ------------------------------------------------------------------------------------


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


@pytest.fixture
def fake_dot(monkeypatch, tmp_path):
    """A stand-in Graphviz: records its arguments and stdin, writes a marker file to ``-o``."""
    bindir = tmp_path / "fake_bin"
    bindir.mkdir()
    script = bindir / "dot"
    log = tmp_path / "dot_calls.txt"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "text = sys.stdin.read()\n"
        f"open({str(log)!r}, 'a').write(repr(args) + '\\n' + text)\n"
        "if '-Tbogus' in args:\n"
        "    sys.stderr.write('Format: \"bogus\" not recognized')\n"
        "    sys.exit(1)\n"
        "open(args[args.index('-o') + 1], 'w').write('rendered ' + args[0])\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    return log


def test_plot_model_renders_with_dot(fake_dot, tmp_path):
    model = _build_functional(ember)
    target = tmp_path / "out" / "model.png"
    assert utils.plot_model(model, to_file=target, show_shapes=True) is None
    assert target.read_text() == "rendered -Tpng"
    call = fake_dot.read_text()
    assert call.startswith("['-Tpng', '-o', ") and 'digraph "two_heads"' in call
    assert "Output shape: (None, 3)" in call
    utils.plot_model(model, to_file=tmp_path / "noext")
    assert (tmp_path / "noext.png").read_text() == "rendered -Tpng"
    utils.plot_model(model, to_file=str(tmp_path / "m.svg"))
    assert (tmp_path / "m.svg").read_text() == "rendered -Tsvg"


def test_plot_model_without_graphviz_keeps_the_dot_text(no_dot, tmp_path):
    model = _build_sequential(ember)
    target = tmp_path / "model.png"
    with pytest.raises(ImportError, match="(?i)graphviz") as info:
        utils.plot_model(model, to_file=target, show_shapes=True)
    saved = tmp_path / "model.dot"
    assert str(saved) in str(info.value) and "dot -Tpng" in str(info.value)
    assert saved.read_text() == utils.model_to_dot(model, show_shapes=True, show_layer_names=False)
    assert not target.exists()
    # a .dot target needs no Graphviz
    utils.plot_model(model, to_file=tmp_path / "graph.dot", show_layer_names=True)
    assert (tmp_path / "graph.dot").read_text() == utils.model_to_dot(model)


def test_plot_model_reports_dot_failures_and_unbuilt_models(fake_dot, tmp_path):
    model = _build_sequential(ember)
    with pytest.raises(OSError, match="bogus"):
        utils.plot_model(model, to_file=tmp_path / "m.bogus")
    assert (tmp_path / "m.dot").exists()
    unbuilt = ember.Sequential([ember.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        utils.plot_model(unbuilt, to_file=tmp_path / "u.png")
    with pytest.raises(ValueError, match="unrecognized"):
        utils.plot_model(model, to_file=tmp_path / "u.png", bogus=1)


def test_plot_model_defaults_match_keras(keras):
    import inspect

    for name in ("plot_model", "model_to_dot"):
        mine = inspect.signature(getattr(utils, name)).parameters
        theirs = inspect.signature(getattr(keras.utils, name)).parameters
        assert list(mine) == list(theirs), name
        for p in theirs:
            assert mine[p].default == theirs[p].default, (name, p)


# ---- the custom-object registry ----------------------------------------------------------------------


@pytest.fixture
def clean_registry(keras):
    from keras.src.saving import object_registration as k_reg

    from ember.utils import object_registration as e_reg

    saved = [dict(d) for d in (e_reg.GLOBAL_CUSTOM_OBJECTS, e_reg.GLOBAL_CUSTOM_NAMES)]
    k_saved = [dict(d) for d in (k_reg.GLOBAL_CUSTOM_OBJECTS, k_reg.GLOBAL_CUSTOM_NAMES)]
    yield
    for d, old in zip((e_reg.GLOBAL_CUSTOM_OBJECTS, e_reg.GLOBAL_CUSTOM_NAMES), saved):
        d.clear()
        d.update(old)
    for d, old in zip((k_reg.GLOBAL_CUSTOM_OBJECTS, k_reg.GLOBAL_CUSTOM_NAMES), k_saved):
        d.clear()
        d.update(old)


def test_register_keras_serializable_names_like_keras(keras, clean_registry):
    for lib in (keras.utils, utils):

        @lib.register_keras_serializable()
        def my_fn(x):
            return x

        @lib.register_keras_serializable(package="Pkg", name="Renamed")
        class Thing:
            def get_config(self):
                return {}

        assert lib.get_registered_name(my_fn) == "Custom>my_fn"
        assert lib.get_registered_name(Thing) == "Pkg>Renamed"
        assert lib.get_custom_objects()["Pkg>Renamed"] is Thing
        assert lib.get_registered_object("Custom>my_fn") is my_fn
        assert lib.get_registered_name(len) == "len"  # not registered: its own name
        with pytest.raises(ValueError, match="get_config"):

            @lib.register_keras_serializable()
            class NoConfig:
                pass


def test_custom_object_scope_lookup_order_like_keras(keras, clean_registry):
    def a():
        pass

    def b():
        pass

    for lib in (keras.utils, utils):
        lib.get_custom_objects()["name"] = a
        assert lib.get_registered_object("name") is a
        assert lib.get_registered_object("other", custom_objects={"other": b}) is b
        assert lib.get_registered_object("other", module_objects={"other": a}) is a
        assert lib.get_registered_object("missing") is None
        with lib.custom_object_scope({"name": b, "inner": a}):
            assert lib.get_registered_object("name") is b  # the scope comes before the registry
            with lib.CustomObjectScope({"deeper": b}):
                assert lib.get_registered_object("deeper") is b
                assert lib.get_registered_object("inner") is None  # an inner scope replaces the outer one
            assert lib.get_registered_object("inner") is a
        assert lib.get_registered_object("inner") is None
        assert lib.get_registered_object("name") is a


# ---- serialize / deserialize --------------------------------------------------------------------------


def test_serialize_plain_values_like_keras(keras):
    for value in [None, 3, 2.5, "s", [1, (2, 3)], {"k": (1, 2)}, np.arange(4, dtype="float32").reshape(2, 2)]:
        mine = utils.serialize_keras_object(value)
        theirs = keras.utils.serialize_keras_object(value)
        assert mine == theirs, value
        back = utils.deserialize_keras_object(mine)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value)
            assert back.dtype == value.dtype
        else:
            assert back == value


def test_serialize_round_trips_layers_and_registered_objects(clean_registry):
    layer = ember.layers.Dense(3, activation="relu", name="d")
    config = utils.serialize_keras_object(layer)
    assert config["class_name"] == "Dense" and config["module"] == "ember.layers" and config["registered_name"] is None
    rebuilt = utils.deserialize_keras_object(config)
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()

    @utils.register_keras_serializable(package="Test")
    class Scale(ember.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    config = utils.serialize_keras_object(Scale(3.0, name="s"))
    assert config["registered_name"] == "Test>Scale"
    assert utils.deserialize_keras_object(config).factor == 3.0

    @utils.register_keras_serializable(package="Test")
    def double(x):
        return 2 * x

    assert utils.deserialize_keras_object(utils.serialize_keras_object(double)) is double
    with pytest.raises(TypeError, match="custom_objects"):
        utils.deserialize_keras_object({"module": None, "class_name": "Nowhere", "config": {}})
    with pytest.raises(TypeError, match="cannot serialize"):
        utils.serialize_keras_object(object())


def test_deserialize_reads_a_keras_written_layer(keras):
    config = keras.utils.serialize_keras_object(keras.layers.Dense(5, activation="tanh", use_bias=False, name="kd"))
    assert config["config"]["dtype"]["class_name"] == "DTypePolicy"  # read back as the dtype's name
    # Keras 3.15 adds quantization_config to Dense's config; ember.layers.Dense does not take it (yet)
    config["config"].pop("quantization_config", None)
    layer = utils.deserialize_keras_object(config)
    assert isinstance(layer, ember.layers.Dense)
    assert (layer.units, layer.use_bias, layer.name) == (5, False, "kd")
    assert utils.deserialize_keras_object(keras.utils.serialize_keras_object(keras.activations.relu)) is (
        ember.activations.relu
    )


def test_deserialize_reads_a_keras_written_layer_config_unchanged(keras):
    config = keras.utils.serialize_keras_object(keras.layers.Dense(5, name="kd"))
    assert isinstance(utils.deserialize_keras_object(config), ember.layers.Dense)
