# ruff: noqa: N803  (MXNet's hybrid_forward(self, F, x))
"""``HybridBlock.hybridize()`` on Ember's traced plans (ember/mxnet/gluon/cached_op.py): the same numbers as the
eager call, bit for bit, on the Gluon corpus (tests/mxnet_programs) and on targeted cases; replans when the key
changes; stays eager where a plan cannot be exact."""

import importlib

import numpy as np
import pytest

import ember
import ember.mxnet as mx
from ember.mxnet import autograd, gluon, nd
from ember.mxnet.gluon import cached_op
from ember.mxnet.gluon.block import HybridBlock
from tests.mxnet_programs import PROGRAMS
from tests.mxnet_programs._util import seed_params


def _equal(a, b, where):
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _equal(a[k], b[k], f"{where}[{k}]")
    elif isinstance(a, (list, tuple)) and a and not isinstance(a[0], (int, float)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _equal(u, v, f"{where}[{i}]")
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), (
            f"{where}: hybridized differs from eager by {np.abs(a - b).max()}"
        )


# programs that call no HybridBlock twice with one input signature (their plans are still run and compared with
# the traced calls, forward and backward, by CachedCall.check)
_NO_REPLAY = {
    "p04_conv1d_pool",
    "p06_custom_block",
    "p11_sigmoid_bce",
    "p13_hybrid_forward",
    "p14_raw_ndarray_mlp",
    "p16_metrics_eval",
    "p17_autograd_grad",
}
_NO_HYBRID_CALL = {"p14_raw_ndarray_mlp", "p16_metrics_eval", "p17_autograd_grad"}  # raw NDArrays, plain Blocks


@pytest.mark.parametrize("name", PROGRAMS)
def test_corpus_hybridized_gives_eager_bits(name, monkeypatch):
    module = importlib.import_module(f"tests.mxnet_programs.{name}")
    ember.random.seed(0)
    eager = module.main(mx)
    original = HybridBlock.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        object.__setattr__(self, "_cached_call", cached_op.CachedCall(self))

    monkeypatch.setattr(HybridBlock, "__init__", init)
    monkeypatch.setattr(cached_op.CachedCall, "check", True)  # every traced call's plan is also run and compared
    before = dict(cached_op.stats)
    ember.random.seed(0)
    hybrid = module.main(mx)
    _equal(hybrid, eager, name)
    replays = cached_op.stats["replays"] - before["replays"]
    if name not in _NO_REPLAY:
        assert replays > 0, f"{name}: no call was replayed from a plan"
    elif name not in _NO_HYBRID_CALL:
        assert cached_op.stats["checks"] > before["checks"], f"{name}: no plan was checked"


# ---- targeted cases ----------------------------------------------------------------------------------------------
def _mlp(dropout=0.0, batchnorm=False):
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(16, activation="relu"))
        if batchnorm:
            net.add(gluon.nn.BatchNorm(axis=1))
        if dropout:
            net.add(gluon.nn.Dropout(dropout))
        net.add(gluon.nn.Dense(3))
    net.initialize(mx.init.Xavier())
    return net


def _train(hybridize, steps=6, **build):
    ember.random.seed(3)
    net = _mlp(**build)
    rng = np.random.default_rng(1)
    x = nd.array(rng.normal(size=(8, 5)))
    y = nd.array(rng.integers(0, 3, 8))
    net(x)
    seed_params(net, seed=2)
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    seen = []
    for _ in range(steps):
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        seen += [loss.asnumpy()] + [p.grad().asnumpy() for p in net.collect_params().values() if p.grad_req != "null"]
        trainer.step(8)
        seen.append(net(x).asnumpy())
    seen += [p.data().asnumpy() for p in net.collect_params().values()]
    return seen


@pytest.mark.parametrize("build", [{}, {"dropout": 0.4}, {"batchnorm": True}, {"dropout": 0.3, "batchnorm": True}])
def test_training_step_replayed_bit_for_bit(build):
    eager = _train(False, **build)
    before = cached_op.stats["replays"]
    hybrid = _train(True, **build)
    assert cached_op.stats["replays"] - before >= 8  # 6 recorded + 6 inference calls, two traces each
    _equal(hybrid, eager, str(build))


def test_recorded_replay_is_one_op_of_the_graph():
    net = _mlp()
    x = nd.array(np.random.default_rng(0).normal(size=(4, 5)))
    net.hybridize()
    for _ in range(3):
        with autograd.record():
            out = net(x)
    assert type(out.grad_fn).__name__ == "CachedOpFunction"
    with autograd.record():
        out2 = net(x)
    out2.sum().backward()
    grads = [p.grad().asnumpy().copy() for p in net.collect_params().values()]
    net.hybridize(active=False)
    with autograd.record():
        out3 = net(x)
    assert out3.grad_fn is not None and type(out3.grad_fn).__name__ != "CachedOpFunction"
    out3.sum().backward()
    for g, p in zip(grads, net.collect_params().values()):
        assert np.array_equal(g, p.grad().asnumpy())


def test_inference_replay_builds_no_graph_and_reads_new_weights():
    net = _mlp()
    x = nd.array(np.random.default_rng(0).normal(size=(4, 5)))
    net.hybridize()
    for _ in range(3):
        net(x)
    before = cached_op.stats["replays"]
    out = net(x)
    assert cached_op.stats["replays"] == before + 1
    assert out.grad_fn is None and isinstance(out, mx.NDArray)
    w = net[0].weight
    w.set_data(w.data().asnumpy() * 2)
    net.hybridize(active=False)
    want = net(x).asnumpy()
    net.hybridize()
    for _ in range(3):
        got = net(x).asnumpy()
    assert np.array_equal(got, want)


def test_input_gradient_through_a_hybridized_block():
    net = _mlp()
    x = nd.array(np.random.default_rng(0).normal(size=(4, 5)))
    x.attach_grad()
    grads = []
    before = cached_op.stats["replays"]
    for hybrid in (False, True, True, True):
        if hybrid and net._cached_call is None:
            net.hybridize()
        with autograd.record():
            y = net(x) * 2
        y.backward()
        grads.append(x.grad.asnumpy().copy())
    assert cached_op.stats["replays"] - before == 2
    for g in grads[1:]:
        assert np.array_equal(g, grads[0])


def test_new_shape_training_flag_and_attributes_replan():
    net = _mlp(dropout=0.5)
    net.hybridize()
    rng = np.random.default_rng(0)
    for n in (4, 4, 4, 6, 6, 6):
        x = nd.array(rng.normal(size=(n, 5)))
        assert net(x).shape == (n, 3)
    keys = net._cached_call.entries
    assert len(keys) == 2 and all(e[0] == "ready" for e in keys.values())
    # a changed attribute (the dropout rate) is a new key: the plan made for 0.5 is not replayed
    net[1]._rate = 0.0
    x = nd.array(rng.normal(size=(4, 5)))
    with autograd.record():
        a = net(x)
    net.hybridize(active=False)
    with autograd.record():
        b = net(x)
    assert np.array_equal(a.asnumpy(), b.asnumpy())


def test_data_dependent_control_flow_stays_eager():
    class Branchy(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return x * 2 if float(x.sum().asscalar()) > 0 else x - 1

    net = Branchy()
    net.hybridize()
    pos, neg = nd.array([[1.0, 2.0]]), nd.array([[-1.0, -2.0]])
    assert np.array_equal(net(pos).asnumpy(), [[2, 4]])
    assert np.array_equal(net(neg).asnumpy(), [[-2, -3]])  # second trace disagrees: eager from now on
    assert np.array_equal(net(pos).asnumpy(), [[2, 4]])
    assert np.array_equal(net(neg).asnumpy(), [[-2, -3]])
    (entry,) = net._cached_call.entries.values()
    assert entry[0] == "eager" and "different operations" in entry[1]


def test_random_draws_outside_dropout_stay_eager():
    class Noisy(gluon.HybridBlock):
        def hybrid_forward(self, F, x):
            return x + F.random.normal(shape=x.shape)

    net = Noisy()
    net.hybridize()
    x = nd.zeros((2, 3))
    outs = [net(x).asnumpy() for _ in range(3)]
    assert not np.array_equal(outs[1], outs[2])
    (entry,) = net._cached_call.entries.values()
    assert entry[0] == "eager"


def test_embedding_and_lstm_hybridized():
    class Tagger(gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.embed = gluon.nn.Embedding(10, 4)
                self.lstm = gluon.rnn.LSTM(6, layout="NTC")
                self.out = gluon.nn.Dense(2, flatten=False)

        def hybrid_forward(self, F, x):
            return self.out(self.lstm(self.embed(x)))

    rng = np.random.default_rng(5)
    batches = [nd.array(rng.integers(0, 10, size=(3, 4))) for _ in range(4)]
    results = {}
    for hybrid in (False, True):
        net = Tagger(prefix="tagger_")
        net.initialize()
        net(batches[0])
        seed_params(net, seed=9)
        net.hybridize(active=hybrid)
        got = []
        for x in batches:
            with autograd.record():
                loss = (net(x) ** 2).sum()
            loss.backward()
            got += [loss.asnumpy()] + [p.grad().asnumpy().copy() for p in net.collect_params().values()]
        results[hybrid] = got
        if hybrid:
            (entry,) = net._cached_call.entries.values()
            assert entry[0] == "ready"
    _equal(results[True], results[False], "tagger")


def test_hybridize_options_accepted_and_block_recurses():
    net = gluon.nn.Sequential()  # a plain Block: it runs eagerly, its HybridBlock children are hybridized
    net.add(gluon.nn.Dense(3), gluon.nn.Dense(2))
    net.initialize()
    net.hybridize(static_alloc=True, static_shape=True, inline_limit=2)
    assert net[0]._cached_call is not None and net[1]._cached_call is not None


def test_hybridized_import_of_a_real_mxnet_graph_replays_its_numbers():
    import os

    here = os.path.join(os.path.dirname(__file__), "fixtures", "mxnet")
    net = gluon.SymbolBlock.imports(
        os.path.join(here, "mxnet_export3-symbol.json"), ["data"], os.path.join(here, "mxnet_export3-0000.params")
    )
    rng = np.random.default_rng(7)
    batches = [nd.array(rng.normal(size=(2, 2, 9, 9))) for _ in range(4)]
    want = [net(x).asnumpy() for x in batches]
    net.hybridize()
    before = cached_op.stats["replays"]
    got = [net(x).asnumpy() for x in batches]
    assert cached_op.stats["replays"] - before == 3
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


def test_symbol_and_module_apis_are_clear_errors():
    with pytest.raises(NotImplementedError, match=r"mx.sym.Variable: .*gluon.SymbolBlock.imports"):
        mx.sym.Variable("data")
    with pytest.raises(NotImplementedError, match=r"mx.mod.Module: .*gluon.Trainer"):
        mx.mod.Module(symbol=None)
    assert mx.symbol is mx.sym and mx.module is mx.mod


def test_higher_order_gradient_through_a_replayed_call_is_a_clear_error():
    net = _mlp()
    x = nd.array(np.random.default_rng(0).normal(size=(4, 5)))
    x.attach_grad()
    net.hybridize()
    for _ in range(3):  # deferred shapes, trace, replay
        with autograd.record():
            y = net(x)
    assert type(y.grad_fn).__name__ == "CachedOpFunction"
    with pytest.raises(RuntimeError, match="hybridized_block has no differentiable backward"):
        autograd.grad(y.sum(), [x], create_graph=True)


def test_training_flag_and_parameter_dtype_are_part_of_the_key():
    net = _mlp(dropout=0.5, batchnorm=True)
    x = nd.array(np.random.default_rng(2).normal(size=(6, 5)))
    net(x)
    net.hybridize()
    modes = [(True, True), (True, False), (False, True), (False, False)]  # (recording, training)
    for _ in range(3):
        for recording, training in modes:
            if recording:
                with autograd.record(train_mode=training):
                    net(x)
            else:
                with autograd.pause(train_mode=training):
                    net(x)
    assert len(net._cached_call.entries) == 4
    assert all(entry[0] == "ready" for entry in net._cached_call.entries.values())
    running = net[1].running_mean.data().asnumpy().copy()
    with autograd.pause(train_mode=False):
        net(x)  # a replayed inference call leaves the running statistics alone
    assert np.array_equal(net[1].running_mean.data().asnumpy(), running)
    with autograd.record():
        net(x)  # a replayed training call moves them
    assert not np.array_equal(net[1].running_mean.data().asnumpy(), running)
    net.cast("float64")  # new parameter arrays: a new key, traced afresh in float64
    out = net(nd.array(x.asnumpy(), dtype="float64"))
    assert out.dtype == np.float64 and len(net._cached_call.entries) == 5


def test_autograd_grad_through_a_replayed_call():
    net = _mlp(batchnorm=True)
    x = nd.array(np.random.default_rng(3).normal(size=(4, 5)))
    x.attach_grad()
    results = []
    before = cached_op.stats["replays"]
    for hybrid in (False, True, True, True):
        if hybrid and net._cached_call is None:
            net.hybridize()
        with autograd.record(train_mode=False):
            y = (net(x) ** 2).sum()
        (gx,) = autograd.grad(y, [x])
        results.append(gx.asnumpy())
    assert cached_op.stats["replays"] - before == 2
    for g in results[1:]:
        assert np.array_equal(g, results[0])


class _SharedFrozen(HybridBlock):
    """A Dense applied twice (its parameters reached by two paths), a frozen Dense, two inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.shared = gluon.nn.Dense(5, in_units=5, activation="tanh")
            self.frozen = gluon.nn.Dense(5, in_units=5)
            self.head = gluon.nn.Dense(2, in_units=5)

    def hybrid_forward(self, F, a, b):
        return self.head(self.shared(self.shared(a)) + self.frozen(b))


def _shared_frozen_run(hybridize, inputs):
    """Four recorded steps (two traces, two replays); the loss also reads a parameter outside the call."""
    net = _SharedFrozen(prefix="sf_")
    net.initialize()
    seed_params(net, seed=4)
    net.shared.collect_params().setattr("grad_req", "add")  # summed over the steps (never zeroed)
    net.frozen.collect_params().setattr("grad_req", "null")
    if hybridize:
        net.hybridize()
    rng = np.random.default_rng(7)
    x, z = nd.array(rng.normal(size=(3, 5))), nd.array(rng.normal(size=(3, 5)))
    x.attach_grad()
    z.attach_grad()
    seen = []
    for step in range(4):
        with autograd.record():
            hx, hz = nd.tanh(x) * (step + 1), nd.tanh(z) * (step + 1)  # non-leaf arrays made before the call
            cases = {"twice": (x, x), "made_before": (hz, x), "made_from_the_other": (hx, x), "both_made": (hx, hx)}
            loss = (net(*cases[inputs]) ** 2).sum() + (net.head.weight.data() ** 2).sum()
        loss.backward()
        seen += [loss.asnumpy(), x.grad.asnumpy().copy(), z.grad.asnumpy().copy()]
        seen += [p.grad().asnumpy().copy() for p in net.collect_params().values() if p.grad_req != "null"]
    frozen = [p.data() for p in net.frozen.collect_params().values()]
    assert not any(f.requires_grad or (f.grad is not None and f.grad.asnumpy().any()) for f in frozen)  # untouched
    return net, seen


@pytest.mark.parametrize("inputs", ["twice", "made_before", "made_from_the_other", "both_made"])
def test_shared_frozen_and_accumulated_parameters_replay_eagers_gradients(inputs, monkeypatch):
    monkeypatch.setattr(cached_op.CachedCall, "check", True)  # each trace's plan is run and compared too
    _, eager = _shared_frozen_run(False, inputs)
    before = dict(cached_op.stats)
    net, hybrid = _shared_frozen_run(True, inputs)
    assert cached_op.stats["replays"] - before["replays"] >= 2
    assert cached_op.stats["checks"] > before["checks"]
    (entry,) = net._cached_call.entries.values()
    assert entry[0] == "ready"
    _equal(hybrid, eager, inputs)
