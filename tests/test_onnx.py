"""ONNX export: every layer family is exported, run in onnxruntime and compared with Ember's ``predict``.

Each model gets random weights (positive variances for the normalization
statistics), is written with ``ember.onnx.export`` and run by onnxruntime at
two batch sizes, which proves the batch axis is dynamic; the outputs must
match Ember's ``predict`` at float32 tolerances.
"""

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export needs the onnx package (pip install onnx onnxruntime)")
ort = pytest.importorskip("onnxruntime", reason="the exported files are checked with onnxruntime")

import ember  # noqa: E402
import ember.onnx  # noqa: E402
from ember import layers as L  # noqa: E402, N812

BATCHES = (1, 5)


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for var in model.weights:
        shape = tuple(var.shape)
        name = getattr(var, "path", None) or getattr(var, "name", "")
        if "variance" in name:
            value = rng.uniform(0.5, 1.5, size=shape)
        elif "count" in name:
            continue
        else:
            value = rng.normal(scale=0.5, size=shape)
        var.assign(np.asarray(value, dtype=np.dtype(str(var.dtype))))


def _inputs(model, batch, seed):
    rng = np.random.default_rng(seed)
    out = []
    for sym in model.inputs:
        shape = (batch, *sym.shape[1:])
        if "int" in str(sym.dtype):
            out.append(rng.integers(0, 10, size=shape).astype(str(sym.dtype)))
        else:
            out.append(rng.normal(size=shape).astype("float32"))
    return out


def _check(model, tmp_path, rtol=1e-5, atol=2e-6):
    _randomize(model)
    path = str(tmp_path / "model.onnx")
    ember.onnx.export(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for seed, batch in enumerate(BATCHES):
        xs = _inputs(model, batch, seed)
        got = session.run(None, dict(zip(names, xs)))
        want = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        want = want if isinstance(want, (list, tuple)) else [want]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            w = np.asarray(w)
            assert g.shape == w.shape
            assert g.shape[0] == batch
            scale = max(1.0, float(np.abs(w).max()))
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale)
    return path


def seq(input_shape, *layers, dtype="float32"):
    return ember.Sequential([ember.Input(input_shape, dtype=dtype), *layers])


# --------------------------------------------------------------------------------------
# one model per layer family (and option worth its own case)
# --------------------------------------------------------------------------------------

ACTIVATIONS = [
    "relu", "sigmoid", "tanh", "softmax", "gelu", "elu", "selu", "leaky_relu", "swish", "silu",
    "softplus", "softsign", "hard_sigmoid", "linear", "relu6", "hard_silu", "mish", "exponential",
]  # fmt: skip


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_activations(tmp_path, activation):
    _check(seq((6,), L.Dense(7, activation=activation), L.Dense(3, use_bias=False)), tmp_path)


def test_activation_layers(tmp_path):
    model = seq(
        (4, 6),
        L.Dense(6),
        L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
        L.Dense(6),
        L.LeakyReLU(negative_slope=0.3),
        L.ELU(alpha=0.7),
        L.PReLU(),
        L.Activation("gelu"),
        L.Softmax(axis=1),
    )
    _check(model, tmp_path)


def test_dense_on_sequences_and_time_distributed(tmp_path):
    model = seq((5, 4), L.Dense(6, activation="relu"), L.TimeDistributed(L.Dense(3)))
    _check(model, tmp_path)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: L.Conv2D(4, 3, padding="same", activation="relu"),
        lambda: L.Conv2D(4, (3, 2), strides=2, padding="same"),
        lambda: L.Conv2D(4, 2, strides=(2, 1), padding="valid", dilation_rate=1),
        lambda: L.Conv2D(4, 3, padding="same", dilation_rate=2),
        lambda: L.Conv2D(4, 3, groups=2, padding="valid"),
        lambda: L.Conv2DTranspose(3, 3, strides=2, padding="same"),
        lambda: L.Conv2DTranspose(3, 2, strides=3, padding="valid", activation="tanh"),
        lambda: L.Conv2DTranspose(3, 3, strides=1, padding="valid"),
        lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        lambda: L.DepthwiseConv2D(2, strides=2, padding="valid"),
        lambda: L.SeparableConv2D(5, 3, depth_multiplier=2, padding="same", activation="relu"),
    ],
    ids=[
        "conv2d-same", "conv2d-stride2-same", "conv2d-valid", "conv2d-dilated", "conv2d-groups",
        "transpose-same", "transpose-valid-s3", "transpose-valid", "depthwise-same", "depthwise-valid",
        "separable",
    ],
)  # fmt: skip
def test_conv2d_family(tmp_path, layer):
    _check(seq((7, 8, 4), layer(), L.Flatten(), L.Dense(3)), tmp_path)


@pytest.mark.parametrize("padding", ["same", "valid", "causal"])
def test_conv1d(tmp_path, padding):
    _check(seq((9, 3), L.Conv1D(4, 3, strides=1 if padding == "causal" else 2, padding=padding), L.Flatten()), tmp_path)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: L.MaxPooling2D(),
        lambda: L.MaxPooling2D(3, strides=2, padding="same"),
        lambda: L.AveragePooling2D(2, padding="valid"),
        lambda: L.AveragePooling2D(3, strides=2, padding="same"),
        lambda: L.GlobalAveragePooling2D(),
        lambda: L.GlobalMaxPooling2D(keepdims=True),
    ],
    ids=["max", "max-same", "avg", "avg-same", "global-avg", "global-max-keepdims"],
)
def test_pooling_2d(tmp_path, layer):
    _check(seq((7, 6, 3), layer(), L.Flatten()), tmp_path)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: L.MaxPooling1D(2),
        lambda: L.AveragePooling1D(3, strides=2, padding="same"),
        lambda: L.GlobalAveragePooling1D(),
        lambda: L.GlobalMaxPooling1D(),
    ],
    ids=["max", "avg-same", "global-avg", "global-max"],
)
def test_pooling_1d(tmp_path, layer):
    _check(seq((9, 4), layer(), L.Flatten()), tmp_path)


def test_reshaping_layers(tmp_path):
    model = seq(
        (6, 4, 2),
        L.ZeroPadding2D(((1, 2), (0, 1))),
        L.Cropping2D(((0, 1), (1, 0))),
        L.UpSampling2D((2, 3)),
        L.Permute((2, 1, 3)),
        L.Reshape((-1, 6)),
        L.Flatten(),
        L.Dense(4),
        L.RepeatVector(3),
    )
    _check(model, tmp_path)


def test_reshaping_1d(tmp_path):
    _check(seq((5, 3), L.ZeroPadding1D((2, 1)), L.Cropping1D((1, 2)), L.UpSampling1D(3), L.Flatten()), tmp_path)


def test_normalization_and_regularization(tmp_path):
    model = seq(
        (5, 5, 3),
        L.Conv2D(4, 3, padding="same"),
        L.BatchNormalization(),
        L.Dropout(0.5),
        L.SpatialDropout2D(0.3),
        L.GaussianNoise(0.1),
        L.GaussianDropout(0.2),
        L.LayerNormalization(),
        L.Flatten(),
        L.LayerNormalization(axis=-1, center=False),
        L.BatchNormalization(scale=False),
    )
    _check(model, tmp_path)


def test_layer_normalization_several_axes(tmp_path):
    _check(seq((4, 3, 2), L.LayerNormalization(axis=[1, 2, 3])), tmp_path)


def test_preprocessing_rescaling_normalization(tmp_path):
    norm = L.Normalization(mean=[0.5, -1.0, 2.0], variance=[2.0, 0.5, 1.0])
    model = seq((4, 3), L.Rescaling(0.5, offset=-1.0), norm, L.Dense(2))
    path = str(tmp_path / "pre.onnx")
    ember.onnx.export(model, path)  # weights kept (Normalization's statistics are set, not random)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for batch in BATCHES:
        x = np.random.default_rng(batch).normal(size=(batch, 4, 3)).astype("float32")
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=2e-6)


def test_embedding(tmp_path):
    _check(seq((6,), L.Embedding(10, 4), L.Flatten(), L.Dense(2), dtype="int32"), tmp_path)


def test_embedding_float_ids(tmp_path):
    model = seq((6,), L.Embedding(10, 4), L.GlobalAveragePooling1D())
    _randomize(model)
    path = str(tmp_path / "emb.onnx")
    ember.onnx.export(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).integers(0, 10, size=(4, 6)).astype("float32")
    np.testing.assert_allclose(
        session.run(None, {session.get_inputs()[0].name: x})[0], model.predict(x, verbose=0), rtol=1e-5, atol=2e-6
    )


RNN_CASES = {
    "lstm": lambda: L.LSTM(5),
    "lstm-seq": lambda: L.LSTM(5, return_sequences=True),
    "lstm-back-seq": lambda: L.LSTM(5, return_sequences=True, go_backwards=True),
    "lstm-back": lambda: L.LSTM(5, go_backwards=True),
    "lstm-hard-sigmoid-relu": lambda: L.LSTM(4, activation="relu", recurrent_activation="hard_sigmoid"),
    "lstm-no-bias": lambda: L.LSTM(4, use_bias=False, return_sequences=True),
    "gru": lambda: L.GRU(5),
    "gru-seq": lambda: L.GRU(5, return_sequences=True),
    "gru-reset-before": lambda: L.GRU(5, reset_after=False, return_sequences=True),
    "gru-back": lambda: L.GRU(4, go_backwards=True, return_sequences=True),
    "simple-rnn": lambda: L.SimpleRNN(5),
    "simple-rnn-seq-back": lambda: L.SimpleRNN(5, return_sequences=True, go_backwards=True),
    "bidir-lstm-concat-seq": lambda: L.Bidirectional(L.LSTM(4, return_sequences=True)),
    "bidir-gru-sum": lambda: L.Bidirectional(L.GRU(4), merge_mode="sum"),
    "bidir-rnn-ave-seq": lambda: L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="ave"),
    "bidir-lstm-mul": lambda: L.Bidirectional(L.LSTM(3), merge_mode="mul"),
}


@pytest.mark.parametrize("case", sorted(RNN_CASES))
def test_recurrent(tmp_path, case):
    _check(seq((6, 3), RNN_CASES[case]()), tmp_path, atol=1e-5)


def test_recurrent_states_and_stacks(tmp_path):
    inp = ember.Input((7, 3))
    seq_out, h, c = L.LSTM(4, return_sequences=True, return_state=True)(inp)
    g = L.GRU(3, return_sequences=True)(seq_out)
    both = L.Bidirectional(L.LSTM(2), merge_mode=None)(g)
    model = ember.Model(inp, [seq_out, h, c, *both])
    _check(model, tmp_path, atol=1e-5)


def test_functional_merges_several_inputs_and_outputs(tmp_path):
    a = ember.Input((4,), name="a")
    b = ember.Input((4,), name="b")
    c = ember.Input((3, 4), name="c")
    da, db = L.Dense(4)(a), L.Dense(4)(b)
    merged = [
        L.Add()([da, db, a]),
        L.Subtract()([da, db]),
        L.Multiply()([da, db, b]),
        L.Average()([da, db]),
        L.Maximum()([da, db]),
        L.Minimum()([da, db]),
        L.Concatenate()([da, db]),
        L.Dot(axes=1)([da, db]),
        L.Dot(axes=1, normalize=True)([da, db]),
    ]
    seq_dot = L.Dot(axes=(2, 1))([c, L.Reshape((4, 1))(da)])
    cat = L.Concatenate(axis=1)([c, L.RepeatVector(3)(db)])
    model = ember.Model([a, b, c], [L.Concatenate()(merged), seq_dot, cat])
    _check(model, tmp_path)


def test_nested_sequential_in_functional(tmp_path):
    inner = seq((6,), L.Dense(5, activation="relu"), L.Dense(3))
    x = ember.Input((6,))
    model = ember.Model(x, L.Activation("softmax")(inner(x)))
    _check(model, tmp_path)


def test_cnn_classifier_end_to_end(tmp_path):
    model = seq(
        (12, 12, 1),
        L.Conv2D(6, 3, activation="relu", padding="same"),
        L.BatchNormalization(),
        L.MaxPooling2D(),
        L.SeparableConv2D(8, 3, activation="relu"),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.3),
        L.Dense(10, activation="softmax"),
    )
    _check(model, tmp_path)


# --------------------------------------------------------------------------------------
# the file itself, and refusals
# --------------------------------------------------------------------------------------


def test_file_has_dynamic_batch_and_channels_last_io(tmp_path):
    model = seq((8, 8, 3), L.Conv2D(2, 3), L.Flatten())
    path = _check(model, tmp_path)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    (graph_input,) = proto.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [8, 8, 3]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_opset_choice(tmp_path):
    model = seq((4,), L.Dense(3), L.LayerNormalization())
    _randomize(model)
    for opset in (13, 17, 18):
        path = str(tmp_path / f"m{opset}.onnx")
        proto = ember.onnx.export(model, path, opset=opset)
        assert proto.opset_import[0].version == opset
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        x = np.ones((2, 4), "float32")
        np.testing.assert_allclose(
            session.run(None, {session.get_inputs()[0].name: x})[0], model.predict(x, verbose=0), rtol=1e-5, atol=2e-6
        )
    with pytest.raises(ValueError, match="opset"):
        ember.onnx.export(model, str(tmp_path / "old.onnx"), opset=9)


def test_unsupported_layer_names_layer_and_class(tmp_path):
    model = seq((4, 4, 3), L.Conv2D(2, 2), L.UpSampling2D(2, interpolation="bilinear"))
    with pytest.raises(NotImplementedError, match="up_sampling2d.*UpSampling2D|UpSampling2D"):
        ember.onnx.export(model, str(tmp_path / "x.onnx"))
    assert not os.path.exists(tmp_path / "x.onnx")


def test_unknown_layer_class_is_refused(tmp_path):
    class Twice(ember.layers.Layer):
        def call(self, x):
            return x * 2.0

    model = seq((3,), Twice(name="twice"))
    with pytest.raises(ember.onnx.UnsupportedLayerError, match="'twice' of class Twice"):
        ember.onnx.export(model, str(tmp_path / "x.onnx"))


def test_masked_recurrent_input_is_refused(tmp_path):
    model = seq((5,), L.Embedding(10, 3, mask_zero=True), L.LSTM(2), dtype="int32")
    with pytest.raises(NotImplementedError, match="mask"):
        ember.onnx.export(model, str(tmp_path / "x.onnx"))


def test_failed_export_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.onnx"
    path.write_bytes(b"old")
    model = seq((4, 3), L.UpSampling1D(2), L.LSTM(2))
    ember.onnx.export(model, str(path))
    assert path.read_bytes() != b"old"
    bad = seq((4, 4, 3), L.UpSampling2D(2, interpolation="bilinear"))
    path.write_bytes(b"old")
    with pytest.raises(NotImplementedError):
        ember.onnx.export(bad, str(path))
    assert path.read_bytes() == b"old"


def test_import_ember_does_not_import_onnx():
    import subprocess
    import sys

    code = "import sys, ember, ember.onnx; assert 'onnx' not in sys.modules, 'onnx imported'; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
