"""lstm, gru, simple_rnn over whole sequences: finite differences, PyTorch's RNN modules and Keras 3 layers."""

import os

import numpy as np
import pytest
from oracles import Const, assert_close, check_against_torch, check_gradients, noncontiguous

import ember
from ember.backend import jit

GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


@pytest.fixture(autouse=True, params=[True, False], ids=["jit", "numpy"])
def kernels(request):
    """Every test here runs twice: with the fused numba step kernels (where numba is installed) and without."""
    previous = jit.set_enabled(request.param)
    yield request.param
    jit.set_enabled(previous)


def _params(rng, cell, b, t, f, u, reset_after=True, scale=0.6):
    """Random inputs and Keras-layout weights: x, initial states, kernel, recurrent_kernel, bias."""
    g = GATES[cell]
    x = rng.standard_normal((b, t, f))
    states = [rng.standard_normal((b, u)) * 0.5 for _ in range(2 if cell == "lstm" else 1)]
    kernel = rng.standard_normal((f, g * u)) * scale
    rkernel = rng.standard_normal((u, g * u)) * scale
    bias_shape = (2, 3 * u) if cell == "gru" and reset_after else (g * u,)
    bias = rng.standard_normal(bias_shape) * 0.5
    return x, states, kernel, rkernel, bias


def _mask(rng, b, t):
    m = rng.random((b, t)) < 0.6
    if b and t:
        m[0, 0] = False  # a row that starts masked: its first outputs are zeros while its state is initial_h
        m[-1, -1] = False
    return m


def _ember_call(cell, n_states, **kw):
    """fn(x, *states, kernel, rkernel[, bias][, rdm]) for check_gradients / check_against_torch."""
    fn = getattr(ember, cell)
    has_bias = kw.pop("has_bias", True)
    has_rdm = kw.pop("has_rdm", False)

    def call(x, *rest):
        states, (k, rk), extra = rest[:n_states], rest[n_states : n_states + 2], list(rest[n_states + 2 :])
        bias = extra.pop(0) if has_bias else None
        rdm = extra.pop(0) if has_rdm else None
        return fn(x, *states, k, rk, bias, recurrent_dropout_mask=rdm, **kw)

    return call


# --------------------------------------------------------------------------- finite differences (float64)
CASES = [
    # (cell, go_backwards, masked, reset_after)
    ("lstm", False, False, True),
    ("lstm", True, True, True),
    ("lstm", False, True, True),
    ("gru", False, False, True),
    ("gru", True, True, True),
    ("gru", False, False, False),
    ("gru", True, True, False),
    ("simple_rnn", False, False, True),
    ("simple_rnn", True, True, True),
]


@pytest.mark.parametrize("cell,go_backwards,masked,reset_after", CASES)
@pytest.mark.parametrize("rdm", [False, True])
def test_gradients_finite_differences(cell, go_backwards, masked, reset_after, rdm, rng):
    x, states, k, rk, bias = _params(rng, cell, 2, 3, 3, 2, reset_after)
    kw = {"go_backwards": go_backwards}
    if cell == "gru":
        kw["reset_after"] = reset_after
    if masked:
        kw["mask"] = ember.tensor(np.array([[False, True, True], [True, False, True]]))
    arrays = [x, *states, k, rk, bias]
    if rdm:
        arrays.append(rng.uniform(0.5, 2.0, (2, 2)))
    check_gradients(_ember_call(cell, len(states), has_rdm=rdm, **kw), *arrays)


@pytest.mark.parametrize("cell", sorted(GATES))
def test_gradients_finite_differences_zero_output_for_mask_and_mask_input(cell, rng):
    x, states, k, rk, bias = _params(rng, cell, 2, 3, 3, 2)
    mask = Const(np.array([[False, True, False], [True, True, False]]))
    fn = getattr(ember, cell)

    def call(x, *rest):
        n = len(states)
        return fn(x, *rest[:n], rest[n], rest[n + 1], rest[n + 2], mask=rest[n + 3], zero_output_for_mask=True)

    check_gradients(call, x, *states, k, rk, bias, mask)


@pytest.mark.parametrize(
    "cell,activation,recurrent_activation",
    [
        ("lstm", "relu", "hard_sigmoid"),
        ("lstm", "linear", "tanh"),
        ("gru", "relu", "hard_sigmoid"),
        ("gru", "sigmoid", "linear"),
        ("simple_rnn", "relu", None),
        ("simple_rnn", "hard_sigmoid", None),
        ("simple_rnn", "linear", None),
        ("simple_rnn", "sigmoid", None),
    ],
)
def test_gradients_finite_differences_other_activations(cell, activation, recurrent_activation, rng):
    x, states, k, rk, bias = _params(rng, cell, 2, 3, 3, 2)
    kw = {"activation": activation}
    if recurrent_activation is not None:
        kw["recurrent_activation"] = recurrent_activation
    check_gradients(_ember_call(cell, len(states), **kw), x, *states, k, rk, bias)


@pytest.mark.parametrize("cell", sorted(GATES))
def test_gradients_finite_differences_without_bias(cell, rng):
    x, states, k, rk, _ = _params(rng, cell, 2, 3, 3, 2)
    check_gradients(_ember_call(cell, len(states), has_bias=False, go_backwards=True), x, *states, k, rk)


# --------------------------------------------------------------------------- PyTorch's modules (float32)
def _torch():
    return pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")


def _torch_gru_order(w):
    """Keras z, r, h blocks on the last axis -> torch r, z, n."""
    torch = _torch()
    z, r, h = torch.chunk(w, 3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


def _torch_params(cell, k, rk, bias):
    """Keras weights (torch tensors, differentiable) as the parameters of torch's nn.LSTM / nn.GRU / nn.RNN."""
    torch = _torch()
    if cell == "gru":
        k, rk = _torch_gru_order(k), _torch_gru_order(rk)
        b_ih, b_hh = (_torch_gru_order(bias[0]), _torch_gru_order(bias[1])) if bias is not None else (None, None)
    else:
        b_ih = bias
        b_hh = torch.zeros_like(bias) if bias is not None else None
    params = {"weight_ih": k.T.contiguous(), "weight_hh": rk.T.contiguous()}
    if bias is not None:
        params.update(bias_ih=b_ih, bias_hh=b_hh)
    return params


def _torch_module(cell, f, u, has_bias, activation, layer):
    torch = _torch()
    if cell == "lstm":
        return (torch.nn.LSTM if layer else torch.nn.LSTMCell)(f, u, bias=has_bias)
    if cell == "gru":
        return (torch.nn.GRU if layer else torch.nn.GRUCell)(f, u, bias=has_bias)
    return (torch.nn.RNN if layer else torch.nn.RNNCell)(f, u, bias=has_bias, nonlinearity=activation)


def _torch_sequence(cell, go_backwards=False, has_bias=True, activation="tanh"):
    """The same computation with torch.nn.LSTM / GRU / RNN (batch_first), returning Ember's outputs."""
    torch = _torch()
    n = 2 if cell == "lstm" else 1

    def call(x, *rest):
        states, k, rk = rest[:n], rest[n], rest[n + 1]
        bias = rest[n + 2] if has_bias else None
        mod = _torch_module(cell, x.shape[2], rk.shape[0], has_bias, activation, layer=True)
        mod.batch_first = True
        params = {f"{name}_l0": v for name, v in _torch_params(cell, k, rk, bias).items()}
        xin = torch.flip(x, [1]) if go_backwards else x
        hx = tuple(s[None] for s in states) if cell == "lstm" else states[0][None]
        out, hn = torch.func.functional_call(mod, params, (xin, hx))
        if cell == "lstm":
            return out, hn[0][0], hn[1][0]
        return out, hn[0]

    return call


def _torch_masked(cell, mask, go_backwards=False, zero_output_for_mask=False):
    """Keras 3's masking rules stepped with torch's LSTMCell / GRUCell / RNNCell."""
    torch = _torch()
    n = 2 if cell == "lstm" else 1
    mask = torch.from_numpy(mask)

    def call(x, *rest):
        states, k, rk, bias = list(rest[:n]), rest[n], rest[n + 1], rest[n + 2]
        mod = _torch_module(cell, x.shape[2], rk.shape[0], True, "tanh", layer=False)
        params = _torch_params(cell, k, rk, bias)
        steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
        prev = torch.zeros_like(states[0])
        outs = []
        for t in steps:
            hx = tuple(states) if cell == "lstm" else states[0]
            new = torch.func.functional_call(mod, params, (x[:, t], hx))
            new = list(new) if cell == "lstm" else [new]
            m = mask[:, t, None]
            out = torch.where(m, new[0], torch.zeros_like(prev) if zero_output_for_mask else prev)
            states = [torch.where(m, a, b) for a, b in zip(new, states)]
            outs.append(out)
            prev = out
        return (torch.stack(outs, 1), *states)

    return call


# (batch, time, features, units): plain, all size 1, longer, empty batch
TORCH_SHAPES = [(2, 3, 3, 2), (1, 1, 1, 1), (3, 6, 4, 5), (0, 3, 2, 2)]


@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("shape", TORCH_SHAPES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_against_torch_modules(cell, shape, go_backwards, rng):
    x, states, k, rk, bias = _params(rng, cell, *shape)
    check_against_torch(
        _ember_call(cell, len(states), go_backwards=go_backwards),
        _torch_sequence(cell, go_backwards),
        noncontiguous(x),
        *states,
        k,
        noncontiguous(rk),
        bias,
    )


@pytest.mark.parametrize("cell", sorted(GATES))
def test_against_torch_modules_without_bias(cell, rng):
    x, states, k, rk, _ = _params(rng, cell, 3, 4, 3, 2)
    check_against_torch(
        _ember_call(cell, len(states), has_bias=False), _torch_sequence(cell, has_bias=False), x, *states, k, rk
    )


def test_simple_rnn_relu_against_torch(rng):
    x, states, k, rk, bias = _params(rng, "simple_rnn", 3, 4, 3, 4)
    check_against_torch(
        _ember_call("simple_rnn", 1, activation="relu"),
        _torch_sequence("simple_rnn", activation="relu"),
        x,
        *states,
        k,
        rk,
        bias,
    )


@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masked_against_torch_cells(cell, go_backwards, zero_output_for_mask, rng):
    x, states, k, rk, bias = _params(rng, cell, 4, 5, 3, 3)
    mask = _mask(rng, 4, 5)
    mask[1] = False  # a fully masked row: outputs zeros, final state = initial state
    kw = {"go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}

    def ember_fn(x, *rest):
        return _ember_call(cell, len(states), mask=mask, **kw)(x, *rest)

    check_against_torch(
        ember_fn, _torch_masked(cell, mask, **kw), noncontiguous(x), *states, k, rk, noncontiguous(bias)
    )


# --------------------------------------------------------------------------- Keras 3 layers
def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines the RNN layers' semantics; pip install keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these tests compare with Keras on the torch backend")
    return keras


def _keras_layer(keras, cell, u, **kw):
    cls = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}[cell]
    return cls(u, return_sequences=True, return_state=True, **kw)


def _as_numpy(v):
    return v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)


def _keras_run(keras, cell, x, states, k, rk, bias, mask=None, training=False, rdm=None, **kw):
    layer = _keras_layer(keras, cell, rk.shape[0], use_bias=bias is not None, **kw)
    layer.build(x.shape)
    layer.set_weights([w.astype("float32") for w in ([k, rk] if bias is None else [k, rk, bias])])
    if rdm is not None:  # the cell reuses a cached recurrent dropout mask; one per gate for LSTM and GRU
        tm = keras.ops.convert_to_tensor(rdm.astype("float32"))
        count = getattr(layer.cell, "dropout_mask_count", None)
        layer.cell._recurrent_dropout_mask = tm if count is None else [tm] * count
    call_kw = {"initial_state": [keras.ops.convert_to_tensor(s.astype("float32")) for s in states]}
    if mask is not None:
        call_kw["mask"] = keras.ops.convert_to_tensor(mask)
    res = layer(keras.ops.convert_to_tensor(x.astype("float32")), training=training, **call_kw)
    return [_as_numpy(r) for r in res]


def _ember_run(cell, x, states, k, rk, bias, mask=None, rdm=None, **kw):
    to = lambda a: None if a is None else ember.tensor(a.astype("float32"))  # noqa: E731
    res = getattr(ember, cell)(
        to(x), *map(to, states), to(k), to(rk), to(bias), mask=mask, recurrent_dropout_mask=to(rdm), **kw
    )
    return [r.numpy() for r in res]


def _compare(ours, theirs):
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"output {i}: ember {a.shape}, keras {b.shape}"
        assert_close(a, b, msg=f"output {i} vs keras")


KERAS_CASES = [
    # (cell, options for both, masked)
    ("lstm", {}, False),
    ("lstm", {"go_backwards": True}, True),
    ("lstm", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}, True),
    ("gru", {}, False),
    ("gru", {"go_backwards": True}, True),
    ("gru", {"reset_after": False}, False),
    ("gru", {"reset_after": False, "go_backwards": True}, True),
    ("gru", {"activation": "linear", "recurrent_activation": "hard_sigmoid"}, True),
    ("simple_rnn", {}, False),
    ("simple_rnn", {"go_backwards": True}, True),
    ("simple_rnn", {"activation": "relu"}, True),
]


@pytest.mark.parametrize("cell,options,masked", KERAS_CASES)
def test_against_keras_layers(cell, options, masked, rng):
    keras = _keras()
    reset_after = options.get("reset_after", True)
    x, states, k, rk, bias = _params(rng, cell, 3, 5, 4, 3, reset_after)
    mask = _mask(rng, 3, 5) if masked else None
    theirs = _keras_run(keras, cell, x, states, k, rk, bias, mask=mask, **options)
    _compare(_ember_run(cell, x, states, k, rk, bias, mask=mask, **options), theirs)


@pytest.mark.parametrize("cell", sorted(GATES))
def test_against_keras_masking_layer_and_zero_output_for_mask(cell, rng):
    keras = _keras()
    x, states, k, rk, bias = _params(rng, cell, 3, 5, 2, 3)
    x[0, :2] = 0.0  # left padding
    x[1, 3:] = 0.0  # right padding
    x[2, :] = 0.0  # all padding
    for zero in (False, True):
        inp = keras.Input(shape=(5, 2), batch_size=3)
        layer = _keras_layer(keras, cell, 3, zero_output_for_mask=zero)
        model = keras.Model(inp, layer(keras.layers.Masking(0.0)(inp)))
        layer.set_weights([k.astype("float32"), rk.astype("float32"), bias.astype("float32")])
        theirs = [_as_numpy(r) for r in model(x.astype("float32"))]
        states0 = [np.zeros((3, 3)) for _ in states]
        mask = np.any(x != 0, axis=-1)
        _compare(_ember_run(cell, x, states0, k, rk, bias, mask=mask, zero_output_for_mask=zero), theirs)


RDM_CASES = [("lstm", {}), ("gru", {}), ("gru", {"reset_after": False}), ("simple_rnn", {})]


@pytest.mark.parametrize("cell,options", RDM_CASES)
def test_recurrent_dropout_mask_against_keras_training(cell, options, rng):
    keras = _keras()
    reset_after = options.get("reset_after", True)
    x, states, k, rk, bias = _params(rng, cell, 3, 4, 2, 3, reset_after)
    rdm = (rng.random((3, 3)) < 0.6) / 0.6  # a dropout mask, scaled as Keras scales it
    theirs = _keras_run(keras, cell, x, states, k, rk, bias, training=True, rdm=rdm, recurrent_dropout=0.4, **options)
    _compare(_ember_run(cell, x, states, k, rk, bias, rdm=rdm, **options), theirs)


@pytest.mark.parametrize("cell,options", [("lstm", {"go_backwards": True}), ("gru", {"reset_after": False})])
def test_gradients_against_keras_layers(cell, options, rng):
    """Keras on torch is differentiable: compare input and weight gradients too, with a mask."""
    keras = _keras()
    torch = _torch()
    x, states, k, rk, bias = _params(rng, cell, 3, 4, 2, 3, options.get("reset_after", True))
    mask = _mask(rng, 3, 4)
    layer = _keras_layer(keras, cell, 3, **options)
    layer.build(x.shape)
    layer.set_weights([k.astype("float32"), rk.astype("float32"), bias.astype("float32")])
    tx = torch.tensor(x.astype("float32"), requires_grad=True)
    res = layer(tx, initial_state=[torch.tensor(s.astype("float32")) for s in states], mask=torch.from_numpy(mask))
    weights = [rng.standard_normal(r.shape).astype("float32") for r in res]
    sum((r * torch.from_numpy(w)).sum() for r, w in zip(res, weights)).backward()
    kvars = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]

    ex = ember.tensor(x.astype("float32"), requires_grad=True)
    ew = [ember.tensor(w.astype("float32"), requires_grad=True) for w in (k, rk, bias)]
    states32 = [ember.tensor(s.astype("float32")) for s in states]
    ours = getattr(ember, cell)(ex, *states32, *ew, mask=mask, **options)
    sum((o * w).sum() for o, w in zip(ours, weights)).backward()
    assert_close(ex.grad.numpy(), tx.grad.numpy(), msg="inputs gradient vs keras")
    for name, e, v in zip(("kernel", "recurrent_kernel", "bias"), ew, kvars):
        assert_close(e.grad.numpy(), v.value.grad.numpy(), msg=f"{name} gradient vs keras")


# --------------------------------------------------------------------------- behaviour and errors
@pytest.mark.parametrize("cell", sorted(GATES))
def test_dtypes_zero_time_steps_and_default_states(cell, rng):
    x, states, k, rk, bias = _params(rng, cell, 2, 3, 3, 2)
    fn = getattr(ember, cell)
    out = fn(ember.tensor(x.astype("float32")), *[None] * len(states), k.astype("float32"), rk, bias)
    assert all(o.dtype == np.float32 for o in out)
    zeros = [np.zeros_like(s) for s in states]
    ref = fn(ember.tensor(x, dtype="float64"), *zeros, k, rk, bias)  # raw float arrays follow the tensor's dtype
    assert all(o.dtype == np.float64 for o in ref)
    for a, b in zip(out, ref):
        assert_close(a.numpy(), b.numpy())

    # no time steps: no outputs, the final states are the initial ones, gradients pass straight through
    x0 = ember.tensor(np.zeros((2, 0, 3)), dtype="float64", requires_grad=True)
    ts = [ember.tensor(s, dtype="float64", requires_grad=True) for s in states]
    kk = ember.tensor(k, dtype="float64", requires_grad=True)
    res = fn(x0, *ts, kk, rk, bias)
    assert res[0].shape == (2, 0, 2)
    for r, s in zip(res[1:], states):
        np.testing.assert_array_equal(r.numpy(), s)
    sum(r.sum() for r in res[1:]).backward()
    for s in ts:
        np.testing.assert_array_equal(s.grad.numpy(), np.ones_like(states[0]))
    np.testing.assert_array_equal(kk.grad.numpy(), np.zeros_like(k))


@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("steps", [1, 2, 5])
def test_without_graph_same_values(cell, steps, rng):
    """Without a graph the op saves nothing for backward (GRU/SimpleRNN: two alternating slots): same bits."""
    x, states, k, rk, bias = _params(rng, cell, 3, steps, 2, 4)
    mask = _mask(rng, 3, steps)
    tensors = [ember.tensor(a, dtype="float64", requires_grad=True) for a in (x, *states, k, rk, bias)]
    for kw in ({}, {"go_backwards": True, "mask": mask}):
        ref = getattr(ember, cell)(*tensors, **kw)
        with ember.no_grad():
            res = getattr(ember, cell)(*tensors, **kw)
        for a, b in zip(res, ref):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("cell", sorted(GATES))
def test_the_callers_arrays_are_not_written(cell, rng):
    """The running states live in the op's own buffers: initial states, inputs and weights keep their values."""
    x, states, k, rk, bias = _params(rng, cell, 3, 4, 2, 5)
    arrays = [a.astype("float32") for a in (x, *states, k, rk, bias)]  # float32: no cast copy shields them
    before = [a.copy() for a in arrays]
    mask = _mask(rng, 3, 4)
    for kw in ({}, {"mask": mask, "go_backwards": True}):
        tensors = [ember.tensor(a, requires_grad=True) for a in arrays]
        out = getattr(ember, cell)(*tensors, **kw)
        sum(o.sum() for o in out).backward()
        for t, a, b in zip(tensors, arrays, before):
            np.testing.assert_array_equal(t.numpy(), b)
            np.testing.assert_array_equal(a, b)
        with ember.no_grad():
            getattr(ember, cell)(*arrays, **kw)
        for a, b in zip(arrays, before):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", sorted(GATES))
def test_strided_inputs_give_the_contiguous_bits(cell, rng):
    """A time-major array's transposed view as inputs: the same outputs and gradients, bit for bit."""
    x, states, k, rk, bias = _params(rng, cell, 3, 5, 2, 4)
    x_view = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
    assert not x_view.flags.c_contiguous
    results = []
    for inputs in (x, x_view):
        tensors = [ember.tensor(a, dtype="float32", requires_grad=True) for a in (inputs, *states, k, rk, bias)]
        out = getattr(ember, cell)(*tensors, mask=_mask(np.random.default_rng(1), 3, 5))
        (out[0] * ember.tensor(np.arange(out[0].size, dtype="float32").reshape(out[0].shape))).sum().backward()
        results.append([o.numpy() for o in out] + [t.grad.numpy() for t in tensors])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_no_grad_and_inputs_without_grad(rng):
    x, (h, c), k, rk, bias = _params(rng, "lstm", 2, 3, 3, 2)
    x = x.astype("float32")
    with ember.no_grad():
        out = ember.lstm(ember.tensor(x, requires_grad=True), h, c, k, rk, bias)
    assert not out[0].requires_grad
    kk = ember.tensor(k, requires_grad=True)
    out = ember.lstm(x, h, c, kk, rk, bias)
    out[0].sum().backward()
    assert kk.grad is not None and kk.grad.shape == k.shape


ERRORS = [
    # (cell, what to change, value, message fragment)
    ("lstm", "x", np.zeros((2, 3)), "expected inputs of rank 3 (batch, time, features), got shape (2, 3)"),
    ("lstm", "k", np.zeros((4, 8)), "expected kernel of shape (features, 4*units) = (3, 8)"),
    ("lstm", "rk", np.zeros((2, 6)), "expected recurrent_kernel of shape (units, 4*units), got shape (2, 6)"),
    ("lstm", "h", np.zeros((3, 2)), "expected initial_h of shape (batch, units) = (2, 2)"),
    ("lstm", "c", np.zeros((2, 3)), "expected initial_c of shape (batch, units) = (2, 2)"),
    ("lstm", "bias", np.zeros((2, 8)), "expected bias of shape (8,) for 2 units, got shape (2, 8)"),
    ("lstm", "mask", np.ones((2, 4), bool), "expected mask of shape (batch, time) = (2, 3)"),
    ("lstm", "rdm", np.ones((2,)), "expected recurrent_dropout_mask of shape (batch, units) = (2, 2)"),
    ("lstm", "activation", "softmax", "activation must be one of tanh, sigmoid, relu, linear, hard_sigmoid"),
    ("gru", "bias", np.zeros((6,)), "expected bias of shape (2, 6) for 2 units, got shape (6,)"),
    ("gru", "k", np.zeros((3, 8)), "expected kernel of shape (features, 3*units) = (3, 6)"),
    ("gru", "recurrent_activation", "swish", "recurrent_activation must be one of"),
    ("simple_rnn", "rk", np.zeros((2, 3)), "expected recurrent_kernel of shape (units, units), got shape (2, 3)"),
    ("simple_rnn", "x", np.zeros((2, 3, 4, 1)), "got shape (2, 3, 4, 1)"),
]


@pytest.mark.parametrize("cell,what,value,message", ERRORS)
def test_errors_name_the_op_and_shapes(cell, what, value, message, rng):
    x, states, k, rk, bias = _params(rng, cell, 2, 3, 3, 2)
    args = {"x": x, "h": states[0], "k": k, "rk": rk, "bias": bias}
    if cell == "lstm":
        args["c"] = states[1]
    kw = {}
    if what in args:
        args[what] = value
    elif what == "mask":
        kw["mask"] = value
    elif what == "rdm":
        kw["recurrent_dropout_mask"] = value
    else:
        kw[what] = value
    states = [args["h"], args["c"]] if cell == "lstm" else [args["h"]]
    positional = [args["x"], *states, args["k"], args["rk"], args["bias"]]
    with pytest.raises(ValueError, match=f"^{cell}: ") as info:
        getattr(ember, cell)(*positional, **kw)
    assert message in str(info.value)
