"""ember.mxnet's API details that need no MXNet oracle: contexts, DataLoader rules, vision datasets and
transforms, Trainer plumbing, parameters and names, errors."""

import subprocess
import sys

import numpy as np
import pytest

import ember.mxnet as mx
from ember.mxnet import autograd, gluon, nd


def test_import_ember_does_not_load_mxnet_front():
    code = "import sys, ember; assert 'ember.mxnet' not in sys.modules; ember.mxnet.nd; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_contexts_map_to_ember_devices():
    assert mx.cpu().device == "cpu" and repr(mx.cpu()) == "cpu(0)"
    assert mx.Context("gpu", 1).device == "cuda:1"
    with mx.cpu(0):
        assert mx.current_context() == mx.cpu()
    x = nd.zeros((2, 3), ctx=mx.cpu())
    assert x.context == mx.cpu() and x.ctx == mx.cpu()
    with pytest.raises(TypeError, match="mx.Context"):
        nd.zeros((2,), ctx=3)


def test_dataloader_last_batch_rules_and_shuffle():
    ds = gluon.data.ArrayDataset(np.arange(10, dtype="float32"), np.arange(10) % 2)
    keep = gluon.data.DataLoader(ds, batch_size=4)
    assert [b[0].shape[0] for b in keep] == [4, 4, 2] and len(keep) == 3
    discard = gluon.data.DataLoader(ds, batch_size=4, last_batch="discard")
    assert [b[0].shape[0] for b in discard] == [4, 4] and len(discard) == 2
    roll = gluon.data.DataLoader(ds, batch_size=4, last_batch="rollover")
    first = [b[0].asnumpy().tolist() for b in roll]
    second = [b[0].asnumpy().tolist() for b in roll]
    assert first == [[0, 1, 2, 3], [4, 5, 6, 7]] and second[0] == [8, 9, 0, 1]
    np.random.seed(0)
    shuffled = np.concatenate([b[0].asnumpy() for b in gluon.data.DataLoader(ds, 3, shuffle=True)])
    assert sorted(shuffled.tolist()) == list(range(10)) and shuffled.tolist() != list(range(10))
    xb, yb = next(iter(keep))
    assert isinstance(xb, mx.NDArray) and xb.dtype == np.float32 and yb.dtype == np.int64
    with pytest.raises(ValueError, match="last_batch"):
        gluon.data.DataLoader(ds, 2, last_batch="drop")
    with pytest.raises(ValueError, match="length 3"):
        gluon.data.ArrayDataset(np.zeros(4), np.zeros(3))


def test_transforms_to_tensor_and_normalize():
    img = nd.array(np.arange(12, dtype=np.uint8).reshape(2, 2, 3), dtype="uint8")
    t = gluon.data.vision.transforms.ToTensor()(img)
    assert t.shape == (3, 2, 2) and t.dtype == np.float32
    np.testing.assert_allclose(t.asnumpy()[1], np.array([[1, 4], [7, 10]]) / 255.0, rtol=1e-6)
    n = gluon.data.vision.transforms.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))(t)
    np.testing.assert_allclose(n.asnumpy(), (t.asnumpy() - 0.5) / 0.5, rtol=1e-6)


def test_vision_mnist_through_ember_datasets():
    try:
        ds = gluon.data.vision.MNIST(train=False, transform=lambda x, y: (x.astype("float32") / 255, y))
    except Exception as err:  # no offline MNIST source installed
        pytest.skip(f"MNIST not available offline: {err}")
    x, y = ds[0]
    assert len(ds) == 10_000 and x.shape == (28, 28, 1) and 0 <= int(y) <= 9
    loader = gluon.data.DataLoader(
        gluon.data.vision.MNIST(train=False).transform_first(gluon.data.vision.transforms.ToTensor()), 32
    )
    xb, yb = next(iter(loader))
    assert xb.shape == (32, 1, 28, 28) and float(xb.max().asscalar()) <= 1.0


def test_trainer_update_split_learning_rate_and_errors():
    net = gluon.nn.Dense(1, in_units=2, use_bias=False)
    net.initialize(mx.init.One())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    with autograd.record():
        loss = net(nd.array([[1.0, 2.0], [3.0, 4.0]])).sum()
    loss.backward()
    trainer.allreduce_grads()
    trainer.update(2)  # rescale 1/2: w -= 0.5 * [4, 6] / 2
    np.testing.assert_allclose(net.weight.data().asnumpy(), [[0.0, -0.5]])
    trainer.set_learning_rate(0.1)
    assert trainer.learning_rate == 0.1
    with pytest.raises(ValueError, match="unknown name 'lbfgs'"):
        gluon.Trainer(net.collect_params(), "lbfgs")
    with pytest.raises(TypeError, match="ParameterDict"):
        gluon.Trainer(net, "sgd")
    with pytest.raises(TypeError, match="unknown arguments"):
        gluon.Trainer(net.collect_params(), "sgd", {"learning_rte": 0.1})


def test_names_follow_mxnet_scopes():
    net = gluon.nn.Sequential(prefix="model_")
    with net.name_scope():
        net.add(gluon.nn.Dense(2), gluon.nn.Dense(2), gluon.nn.Conv2D(1, 1), gluon.nn.MaxPool2D())
    assert [c.prefix for c in net._children.values()] == [
        "model_dense0_",
        "model_dense1_",
        "model_conv0_",
        "model_pool0_",
    ]
    assert list(net.collect_params(".*bias").keys()) == ["model_dense0_bias", "model_dense1_bias", "model_conv0_bias"]


def test_hybridize_changes_nothing():
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(3, activation="relu"), gluon.nn.Dense(2))
    net.initialize()
    x = nd.random.uniform(shape=(4, 5))
    before = net(x).asnumpy()
    net.hybridize()
    np.testing.assert_array_equal(net(x).asnumpy(), before)


def test_parameter_errors_and_grad_req_null():
    p = gluon.Parameter("w", shape=(2, 3))
    with pytest.raises(RuntimeError, match="not been initialized"):
        p.data()
    p.initialize(mx.init.Zero())
    with pytest.raises(ValueError, match="does not match"):
        p.set_data(np.zeros((3, 2)))
    net = gluon.nn.Dense(2, in_units=2)
    net.initialize()
    net.collect_params().setattr("grad_req", "null")
    with pytest.raises(RuntimeError, match="'null'"):
        net.weight.grad()
    with pytest.raises(ValueError, match="unknown initializer"):
        net.initialize("gaussian", force_reinit=True)


def test_dropout_only_in_training_and_scales_kept_units():
    drop = gluon.nn.Dropout(0.5)
    x = nd.ones((200, 50))
    assert (drop(x).asnumpy() == 1).all()
    with autograd.record():
        y = drop(x).asnumpy()
    kept = y[y != 0]
    assert np.allclose(kept, 2.0) and 0.4 < kept.size / y.size < 0.6
    with autograd.predict_mode():
        assert (drop(x).asnumpy() == 1).all()


def test_backward_writes_only_the_gradients_of_its_own_graph():
    a, b = nd.array([1.0, 2.0]), nd.array([3.0])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        la = (a * a).sum()
    la.backward()
    with autograd.record():
        lb = (b * 5).sum()
    lb.backward()  # as MXNet: a's gradient from the first backward stays
    np.testing.assert_array_equal(a.grad.asnumpy(), [2.0, 4.0])
    np.testing.assert_array_equal(b.grad.asnumpy(), [5.0])


@pytest.mark.parametrize(
    "name, opts",
    [
        ("adam", {"learning_rate": 0.1}),
        ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
        ("rmsprop", {"centered": True}),
        ("sgd", {"learning_rate": 0.1}),
    ],
)
def test_trainer_states_save_and_resume(tmp_path, name, opts):
    x, y = nd.array(np.random.default_rng(0).normal(size=(4, 3))), nd.array([0, 1, 1, 0])

    def make():
        net = gluon.nn.Dense(2, in_units=3)
        net.initialize(mx.init.Constant(0.1))
        return net, gluon.Trainer(net.collect_params(), name, dict(opts))

    def step(net, trainer):
        with autograd.record():
            loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)
        loss.backward()
        trainer.step(4)

    net, trainer = make()
    for _ in range(2):
        step(net, trainer)
    net.save_parameters(str(tmp_path / "w.params"))
    trainer.save_states(str(tmp_path / "t.states"))
    step(net, trainer)
    net2, trainer2 = make()
    net2.load_parameters(str(tmp_path / "w.params"))
    trainer2.load_states(str(tmp_path / "t.states"))
    step(net2, trainer2)
    np.testing.assert_array_equal(net2.weight.data().asnumpy(), net.weight.data().asnumpy())


# ---- gluon.utils and mx.lr_scheduler ------------------------------------------------------------------------------
def test_split_data_refuses_an_uneven_split_and_keeps_axis():
    from ember.mxnet.gluon import utils

    x = mx.nd.arange(24).reshape((2, 12))
    with pytest.raises(ValueError, match=r"cannot be split evenly into 5 slices along axis 1"):
        utils.split_data(x, 5, batch_axis=1)
    parts = utils.split_data(x, 5, batch_axis=1, even_split=False)
    assert [p.shape for p in parts] == [(2, 3), (2, 3), (2, 2), (2, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([p.asnumpy() for p in parts], axis=1), x.asnumpy())


def test_clip_global_norm_scales_in_place_only_above_the_limit():
    from ember.mxnet.gluon import utils

    a, b = mx.nd.array([3.0, 0.0]), mx.nd.array([[4.0]])
    assert utils.clip_global_norm([a, b], 10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(a.asnumpy(), [3.0, 0.0])  # below the limit: unchanged
    assert utils.clip_global_norm([a, b], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([a.asnumpy(), b.asnumpy().ravel()]), [0.6, 0.0, 0.8], rtol=1e-6)
    with pytest.warns(UserWarning, match="nan or inf"):
        utils.clip_global_norm([mx.nd.array([np.inf])], 1.0)


def test_download_copies_a_url_and_checks_its_sha1(tmp_path):
    import hashlib

    from ember.mxnet.gluon import utils

    source = tmp_path / "weights.bin"
    source.write_bytes(b"ember" * 100)
    sha1 = hashlib.sha1(source.read_bytes()).hexdigest()  # noqa: S324 - a checksum, as MXNet's
    target = tmp_path / "out"
    target.mkdir()
    got = utils.download(source.as_uri(), str(target), sha1_hash=sha1)
    assert got == str(target / "weights.bin") and utils.check_sha1(got, sha1)
    with pytest.raises(OSError, match="SHA-1"):
        utils.download(source.as_uri(), str(tmp_path / "bad.bin"), sha1_hash="0" * 40, retries=1)
    assert not (tmp_path / "bad.bin").exists() and not list(target.glob(".download-*"))


def test_lr_schedulers_refuse_bad_settings_and_own_the_rate():
    with pytest.raises(ValueError, match="warmup_begin_lr"):
        mx.lr_scheduler.FactorScheduler(step=2, warmup_steps=1, warmup_begin_lr=0.5)
    with pytest.raises(ValueError, match="factor must be <= 1"):
        mx.lr_scheduler.FactorScheduler(step=2, factor=1.5)
    with pytest.raises(ValueError, match="increasing list"):
        mx.lr_scheduler.MultiFactorScheduler(step=[3, 2])
    schedule = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5)
    net = mx.gluon.nn.Dense(1, in_units=1)
    net.initialize()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.8, "lr_scheduler": schedule})
    assert schedule.base_lr == 0.8 and trainer.learning_rate == 0.8
    with pytest.raises(UserWarning, match="lr_scheduler"):
        trainer.set_learning_rate(0.1)


# ---- Block: hooks, apply, summary ------------------------------------------------------------------------------
def test_summary_prints_mxnets_table(capsys):
    import os

    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Conv2D(4, 3), gluon.nn.BatchNorm(), gluon.nn.MaxPool2D(), gluon.nn.Flatten())
        net.add(gluon.nn.Dense(3))
    net.initialize()
    net.summary(nd.ones((2, 1, 8, 8)))
    with open(os.path.join(os.path.dirname(__file__), "fixtures", "mxnet", "summary.txt")) as f:
        assert capsys.readouterr().out == f.read()  # MXNet 1.9.1's output for the same network
    net.hybridize()
    with pytest.raises(RuntimeError, match="before hybridize"):
        net.summary(nd.ones((2, 1, 8, 8)))


def test_forward_hooks_apply_and_detach():
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(3), gluon.nn.Dense(2))
    net.initialize()
    seen = []
    pre = net[0].register_forward_pre_hook(lambda block, inputs: seen.append(("pre", inputs[0].shape)))
    post = net[1].register_forward_hook(lambda block, inputs, out: seen.append(("post", out.shape)))
    net(nd.ones((4, 5)))
    assert seen == [("pre", (4, 5)), ("post", (4, 2))]
    pre.detach()
    post.detach()
    net(nd.ones((4, 5)))
    assert len(seen) == 2
    names = []
    assert net.apply(lambda block: names.append(type(block).__name__)) is net
    assert names == ["Dense", "Dense", "HybridSequential"]
    calls = []
    net.register_forward_hook(lambda block, inputs, out: calls.append(out.shape))
    net.hybridize()
    for _ in range(3):  # a hybridized block runs its own hooks at every call, replayed or not
        net(nd.ones((4, 5)))
    assert calls == [(4, 2)] * 3
