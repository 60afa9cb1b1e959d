"""gluon.nn blocks, gluon.loss and nd functions against real MXNet 1.9.1 (fixtures in MXNet's own binary
format, tests/fixtures/mxnet/*.nd, written by tests/fixtures/make_mxnet_fixtures.py)."""

import os

import numpy as np
import pytest

import ember.mxnet as mx
from ember.mxnet import autograd, gluon, nd
from tests.mxnet_programs._blocks import CASES, CELL_CASES, RNN_CASES, VALID_LENGTHS
from tests.mxnet_programs._ndops import ND_CASES

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet")
BLOCKS = nd.load(os.path.join(HERE, "blocks.nd"))
LOSSES = nd.load(os.path.join(HERE, "losses.nd"))
NDOPS = nd.load(os.path.join(HERE, "ndops.nd"))


def close(got, want, what):
    want = want.asnumpy() if hasattr(want, "asnumpy") else np.asarray(want)
    got = got.asnumpy() if hasattr(got, "asnumpy") else np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != MXNet's {want.shape}"
    scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


ALL_CASES = {**{k: (gluon.nn,) + v for k, v in CASES.items()}, **{k: (gluon.rnn,) + v for k, v in RNN_CASES.items()}}


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_block_forward_and_gradients_match_mxnet(name):
    module, build, _shape, train, int_range = ALL_CASES[name]
    block = build(module)
    block.initialize()
    x = BLOCKS[f"{name}/x"].copy()
    with autograd.record(train_mode=train):
        block(x)  # deferred shapes
    params = block._collect_params_with_prefix()
    for key, p in params.items():
        p.set_data(BLOCKS[f"{name}/param/{key}"])
    if not int_range:
        x.attach_grad()
    with autograd.record(train_mode=train):
        y = block(x)
    y.backward(BLOCKS[f"{name}/head"])
    close(y, BLOCKS[f"{name}/out"], f"{name} forward")
    if name == "batchnorm_infer":
        # MXNet 1.9.1 (its oneDNN kernel) does not return the gradient of the inference-mode function it ran;
        # Ember does: d(out)/dx = head * gamma / sqrt(running_var + eps)
        g, rv = params["gamma"].data().asnumpy(), params["running_var"].data().asnumpy()
        expected = BLOCKS[f"{name}/head"].asnumpy() * (g / np.sqrt(rv + 1e-3))[None, :, None, None]
        close(x.grad, expected, "batchnorm_infer input gradient (closed form)")
        return
    if name == "maxpool2d":
        # MXNet 1.9.1's CPU max-pool backward with padding routes gradients to the wrong cells (its forward is
        # right); the input gradient is checked against PyTorch instead
        torch = pytest.importorskip("torch", reason="PyTorch is the oracle for padded max-pool gradients")
        tx = torch.tensor(x.asnumpy(), requires_grad=True)
        ty = torch.nn.functional.max_pool2d(tx, 3, 2, padding=1)
        (ty * torch.tensor(BLOCKS[f"{name}/head"].asnumpy())).sum().backward()
        close(x.grad, tx.grad.numpy(), "maxpool2d input gradient (PyTorch)")
        return
    if name in ("globalmax1d", "selu"):
        # MXNet 1.9.1's CPU backward is wrong for these (GlobalMaxPool1D sends the gradient to the first cell,
        # SELU's input gradient is off for negative inputs); forward checked above, gradient against PyTorch
        torch = pytest.importorskip("torch", reason="PyTorch is the oracle for these gradients")
        tx = torch.tensor(x.asnumpy(), requires_grad=True)
        ty = tx.amax(2, keepdim=True) if name == "globalmax1d" else torch.nn.functional.selu(tx)
        (ty * torch.tensor(BLOCKS[f"{name}/head"].asnumpy())).sum().backward()
        close(x.grad, tx.grad.numpy(), f"{name} input gradient (PyTorch)")
        return
    if name in ("maxpool2d_ceil", "maxpool1d_ceil"):
        # the same MXNet 1.9.1 CPU bug with ceil_mode windows past the input's end (its forward is right, checked
        # above): the input gradient is checked against PyTorch's ceil_mode max pooling
        torch = pytest.importorskip("torch", reason="PyTorch is the oracle for ceil_mode max-pool gradients")
        tx = torch.tensor(x.asnumpy(), requires_grad=True)
        pool = torch.nn.functional.max_pool2d if name == "maxpool2d_ceil" else torch.nn.functional.max_pool1d
        size, stride = (3, 2) if name == "maxpool2d_ceil" else (2, 2)
        ty = pool(tx, size, stride, ceil_mode=True)
        (ty * torch.tensor(BLOCKS[f"{name}/head"].asnumpy())).sum().backward()
        close(x.grad, tx.grad.numpy(), f"{name} input gradient (PyTorch)")
        return
    if not int_range:
        close(x.grad, BLOCKS[f"{name}/dx"], f"{name} input gradient")
    for key, p in params.items():
        if p.grad_req != "null":
            close(p.grad(), BLOCKS[f"{name}/grad/{key}"], f"{name} gradient of {key}")
        close(p.data(), BLOCKS[f"{name}/after/{key}"], f"{name} {key} after the pass")


LOSS_FNS = {
    "sce_sparse": lambda: gluon.loss.SoftmaxCrossEntropyLoss(),
    "sce_dense": lambda: gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=False),
    "sce_weighted": lambda: gluon.loss.SoftmaxCrossEntropyLoss(weight=0.7),
    "l2": lambda: gluon.loss.L2Loss(),
    "l2_w_sw": lambda: gluon.loss.L2Loss(weight=3.0),
    "l1": lambda: gluon.loss.L1Loss(),
    "sbce": lambda: gluon.loss.SigmoidBinaryCrossEntropyLoss(),
    "sbce_prob": lambda: gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True),
    "l2_batch_axis1": lambda: gluon.loss.L2Loss(batch_axis=1),
    "huber": lambda: gluon.loss.HuberLoss(rho=0.7),
    "hinge": lambda: gluon.loss.HingeLoss(),
    "squared_hinge": lambda: gluon.loss.SquaredHingeLoss(margin=0.5),
    "logistic_signed": lambda: gluon.loss.LogisticLoss(),
    "logistic_binary": lambda: gluon.loss.LogisticLoss(label_format="binary"),
    "triplet": lambda: gluon.loss.TripletLoss(margin=0.3),  # (pred, positive, negative)
    "cosine_embedding": lambda: gluon.loss.CosineEmbeddingLoss(margin=0.2),  # (input1, input2, label)
    "poisson_nll": lambda: gluon.loss.PoissonNLLLoss(),
}


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_loss_values_and_gradients_match_mxnet(name):
    pred = LOSSES[f"{name}/pred"].copy()
    pred.attach_grad()
    label = LOSSES[f"{name}/label"]
    sw = LOSSES.get(f"{name}/sw")
    with autograd.record():
        loss = LOSS_FNS[name]()(pred, label) if sw is None else LOSS_FNS[name]()(pred, label, sw)
    loss.backward()
    close(loss, LOSSES[f"{name}/loss"], f"{name} value")
    close(pred.grad, LOSSES[f"{name}/grad"], f"{name} gradient")


@pytest.mark.parametrize("name", ["ctc", "ctc_tnc_lengths"])
def test_ctc_loss_matches_mxnet(name):
    pred = LOSSES[f"{name}/pred"].copy()
    pred.attach_grad()
    fn = gluon.loss.CTCLoss() if name == "ctc" else gluon.loss.CTCLoss(layout="TNC", label_layout="TN")
    with autograd.record():
        if name == "ctc":
            loss = fn(pred, LOSSES[f"{name}/label"])
        else:
            loss = fn(pred, LOSSES[f"{name}/label"], LOSSES[f"{name}/pred_lengths"], LOSSES[f"{name}/label_lengths"])
    loss.backward()
    close(loss, LOSSES[f"{name}/loss"], f"{name} value")
    close(pred.grad, LOSSES[f"{name}/grad"], f"{name} gradient")


def test_nd_functions_match_mxnet():
    a, m, n = NDOPS["a"], NDOPS["m"], NDOPS["n"]
    results = {
        "sum_exclude": nd.sum(a, axis=1, exclude=True),
        "mean_keep": nd.mean(a, axis=(0, 2), keepdims=True),
        "max_axis": nd.max(a, axis=-1),
        "min_exclude": nd.min(a, axis=0, exclude=True),
        "nansum_exclude": nd.nansum(n, axis=0, exclude=True),
        "nansum_all": nd.nansum(n),
        "softmax": nd.softmax(a, axis=1),
        "log_softmax": nd.log_softmax(m),
        "one_hot": nd.one_hot(nd.array([0, 2, 5, -1]), 4),
        "dot": nd.dot(m, m, transpose_b=True),
        "dot3": nd.dot(a, m.T),
        "pick": nd.pick(m, nd.array([0, 3, 1]), axis=1),
        "argmax": nd.argmax(a, axis=2),
        "reshape0": a.reshape((0, -1)),
        "relu": nd.relu(m),
        "norm": nd.norm(m),
        "eq": m == nd.array(m.asnumpy().round()),
        "clip": nd.clip(m, -0.5, 0.5),
    }
    for key, value in results.items():
        close(value, NDOPS[key], f"nd.{key}")
        assert value.dtype == NDOPS[key].dtype, f"nd.{key}: dtype {value.dtype} != MXNet's {NDOPS[key].dtype}"


@pytest.mark.parametrize("name", sorted(ND_CASES))
def test_more_nd_functions_match_mxnet(name):
    value = ND_CASES[name](nd, NDOPS["a"], NDOPS["m"])
    close(value, NDOPS[name], f"nd.{name}")
    assert value.dtype == NDOPS[name].dtype, f"nd.{name}: dtype {value.dtype} != MXNet's {NDOPS[name].dtype}"


def test_nd_arrays_are_ndarrays_with_mxnet_surface():
    x = nd.array([[1, 2], [3, 4]])
    assert isinstance(x, mx.NDArray) and x.dtype == np.float32
    assert isinstance(x + 1, mx.NDArray) and isinstance(nd.exp(x), mx.NDArray)
    assert x.context == mx.cpu() and x.as_in_context(mx.cpu()) is x
    assert nd.sum(x).asscalar() == 10.0 and isinstance(nd.sum(x).asscalar(), np.float32)
    with pytest.raises(ValueError, match="exactly one element"):
        x.asscalar()


def test_vector_backward_sums_and_write_overwrites():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    for _ in range(2):  # grad_req='write': the second backward does not add to the first
        with autograd.record():
            y = x * x
        y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 4.0, 6.0])


def test_backward_outside_record_is_a_clear_error():
    x = nd.array([1.0, 2.0])
    with pytest.raises(RuntimeError, match="autograd.record"):
        (x * 2).backward()


def test_gpu_without_cupy_is_a_clear_error():
    if mx.num_gpus() > 0:
        pytest.skip("a GPU is visible")
    with pytest.raises(RuntimeError, match="mx.gpu\\(0\\).*CuPy"):
        nd.zeros((2,), ctx=mx.gpu(0))


def test_deferred_parameter_before_forward_is_a_clear_error():
    net = gluon.nn.Dense(3)
    net.initialize()
    with pytest.raises(gluon.DeferredInitializationError, match="forward"):
        net.weight.data()


def test_initializers_follow_mxnet_rules():
    mx.random.seed(0)
    net = gluon.nn.Dense(200, in_units=300)
    net.initialize(mx.init.Xavier(magnitude=3))
    w = net.weight.data().asnumpy()
    bound = np.sqrt(3 / ((200 + 300) / 2))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert (net.bias.data().asnumpy() == 0).all()  # the bias keeps its own 'zeros'
    net.initialize(mx.init.Normal(0.5), force_reinit=True)
    assert abs(net.weight.data().asnumpy().std() - 0.5) < 0.01
    net.initialize(mx.init.MSRAPrelu(), force_reinit=True)
    assert abs(net.weight.data().asnumpy().std() - np.sqrt(2 / 1.0625 / 250)) < 0.005
    net.initialize(mx.init.Constant(0.25), force_reinit=True)
    assert (net.weight.data().asnumpy() == 0.25).all()
    net.initialize(force_reinit=True)  # MXNet's default: Uniform(0.07)
    assert np.abs(net.weight.data().asnumpy()).max() <= 0.07


CELLS = nd.load(os.path.join(HERE, "cells.nd"))


@pytest.mark.parametrize("name", sorted(CELL_CASES))
def test_rnn_cell_unroll_matches_mxnet(name):
    build, shape = CELL_CASES[name]
    cell = build(gluon.rnn)
    cell.initialize()
    x = CELLS[f"{name}/x"].copy()
    cell.unroll(shape[1], x, merge_outputs=True)
    for key, p in cell._collect_params_with_prefix().items():
        p.set_data(CELLS[f"{name}/param/{key}"])
    x.attach_grad()
    valid = nd.array(VALID_LENGTHS[name]) if name in VALID_LENGTHS else None
    with autograd.record():
        seq, states = cell.unroll(shape[1], x, merge_outputs=True, valid_length=valid)
        total = (seq * seq).sum() + sum((s * 2).sum() for s in states)
    total.backward()
    close(seq, CELLS[f"{name}/seq"], f"{name} outputs")
    for i, s in enumerate(states):
        close(s, CELLS[f"{name}/state{i}"], f"{name} state {i}")
    close(x.grad, CELLS[f"{name}/dx"], f"{name} input gradient")


def test_grouped_convolution_channel_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="multiple of groups"):
        gluon.nn.Conv2D(5, 3, groups=2)
    conv = gluon.nn.Conv2D(4, 3, groups=2)
    conv.initialize()
    with pytest.raises(ValueError, match="not divisible by groups=2"):
        conv(nd.ones((1, 3, 5, 5)))
    conv = gluon.nn.Conv2D(4, 3, groups=2, in_channels=4)
    conv.initialize()
    with pytest.raises(ValueError, match=r"input \(1, 6, 5, 5\), weight \(4, 2, 3, 3\), groups=2"):
        conv(nd.ones((1, 6, 5, 5)))


@pytest.mark.parametrize("include_pad", [True, False])
def test_ceil_mode_average_pool_gradient_matches_pytorch(include_pad):
    """Windows past the input's end average over the cells they cover, forward and backward (MXNet 1.9.1's CPU
    backward divides by the full window for some shapes, e.g. this 3x3 input; PyTorch is the oracle)."""
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for ceil_mode average-pool gradients")
    rng = np.random.default_rng(4)
    x_np = rng.normal(size=(2, 3, 3, 7)).astype("float32")
    head = rng.normal(size=(2, 3, 2, 4)).astype("float32")
    x = nd.array(x_np)
    x.attach_grad()
    pool = gluon.nn.AvgPool2D((2, 3), 2, (0, 1), ceil_mode=True, count_include_pad=include_pad)
    with autograd.record():
        y = pool(x)
    y.backward(nd.array(head))
    tx = torch.tensor(x_np, requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, (2, 3), 2, (0, 1), ceil_mode=True, count_include_pad=include_pad)
    (ty * torch.tensor(head)).sum().backward()
    close(y, ty.detach().numpy(), "ceil_mode average pool forward (PyTorch)")
    close(x.grad, tx.grad.numpy(), "ceil_mode average pool input gradient (PyTorch)")


def _lstm_pair(num_layers):
    """Two LSTM layers with the same weights, one with dropout 0.5 between layers."""
    x = nd.array(np.random.default_rng(6).normal(size=(5, 4, 3)))
    nets = [gluon.rnn.LSTM(4, num_layers=num_layers, dropout=d) for d in (0.0, 0.5)]
    for net in nets:
        net.initialize()
        net(x)
    for (_, a), (_, b) in zip(
        nets[0]._collect_params_with_prefix().items(), nets[1]._collect_params_with_prefix().items()
    ):
        b.set_data(a.data())
    return nets, x


def test_rnn_dropout_acts_between_layers_in_training_only():
    (plain, dropped), x = _lstm_pair(2)
    with autograd.predict_mode():
        assert np.array_equal(dropped(x).asnumpy(), plain(x).asnumpy())
    with autograd.record():
        a, b = plain(x), dropped(x)
    assert not np.allclose(a.asnumpy(), b.asnumpy())
    (plain1, dropped1), x = _lstm_pair(1)  # one layer: nothing between layers, nothing dropped (MXNet's rule)
    with autograd.record():
        assert np.array_equal(dropped1(x).asnumpy(), plain1(x).asnumpy())
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        gluon.rnn.LSTM(3, dropout=1.0)


def test_dropout_cell_scales_kept_inputs_in_training():
    cell = gluon.rnn.DropoutCell(0.25)
    x = nd.ones((400, 50))
    out, states = cell(x, [])
    assert states == [] and np.array_equal(out.asnumpy(), x.asnumpy())  # inference: identity
    with autograd.record():
        out, _ = cell(x, [])
    values = out.asnumpy()
    kept = values != 0
    assert np.allclose(values[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02


def test_residual_cell_needs_matching_sizes():
    cell = gluon.rnn.ResidualCell(gluon.rnn.GRUCell(4))
    cell.initialize()
    with pytest.raises(ValueError, match=r"output \(2, 4\) and input \(2, 3\) differ"):
        cell(nd.ones((2, 3)), cell.begin_state(2))


def test_poisson_nll_full_matches_pytorch():
    """compute_full=True (MXNet 1.9.1 itself fails on it inside record(): an in-place product); PyTorch's
    poisson_nll_loss(full=True) adds the same Stirling term where the target is above 1."""
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for PoissonNLLLoss(compute_full=True)")
    rng = np.random.default_rng(8)
    pred_np = rng.uniform(0.2, 3.0, size=(4, 5)).astype("float32")
    target_np = rng.integers(0, 6, size=(4, 5)).astype("float32")
    pred = nd.array(pred_np)
    pred.attach_grad()
    with autograd.record():
        loss = gluon.loss.PoissonNLLLoss(from_logits=False, compute_full=True)(pred, nd.array(target_np))
    loss.backward()
    tp = torch.tensor(pred_np, requires_grad=True)
    want = torch.nn.functional.poisson_nll_loss(tp, torch.tensor(target_np), log_input=False, full=True, eps=1e-8)
    want.backward()
    assert loss.shape == (1,)
    close(loss, want.detach().numpy().reshape(1), "PoissonNLLLoss(compute_full=True) value")
    close(pred.grad, tp.grad.numpy(), "PoissonNLLLoss(compute_full=True) gradient")


def test_zoneout_cell_keeps_previous_values_in_training_only():
    base = gluon.rnn.GRUCell(8)
    cell = gluon.rnn.ZoneoutCell(base, zoneout_outputs=0.5, zoneout_states=0.5)
    cell.initialize()
    x = nd.array(np.random.default_rng(3).normal(size=(64, 5, 4)))
    with autograd.predict_mode():
        got, got_states = cell.unroll(5, x, merge_outputs=True)
        want, want_states = base.unroll(5, x, merge_outputs=True)
    assert np.array_equal(got.asnumpy(), want.asnumpy())  # inference: the base cell
    assert np.array_equal(got_states[0].asnumpy(), want_states[0].asnumpy())
    mx.random.seed(11)
    with autograd.record():
        out, _ = cell.unroll(5, x, merge_outputs=False)
    first = out[0].asnumpy()
    kept = first == 0  # at the first step the previous output is zeros
    assert 0.35 < kept.mean() < 0.65
    step = out[1].asnumpy()
    assert np.mean(step == first) > 0.3  # later steps keep some of the previous outputs
    with pytest.raises(TypeError, match="BidirectionalCell"):
        gluon.rnn.ZoneoutCell(gluon.rnn.BidirectionalCell(gluon.rnn.GRUCell(2), gluon.rnn.GRUCell(2)))
