"""Optimizers against real Keras 3 (torch backend): same start, same gradients -> same variables and slots."""

import os
import warnings

import numpy as np
import pytest

import ember
import ember.optimizers as eopt
from ember.backend import to_host
from ember.engine.sparse_grad import RowSparseGrad
from ember.engine.variable import Variable

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="the optimizer tests compare against Keras 3")


SHAPES = ((3, 4), (4,), (2, 3, 2))


def _problem(seed, shapes=SHAPES, steps=5):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype(np.float32) for s in shapes]
    grads = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(steps)]
    return init, grads


def _assert_close(actual, expected, what):
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    actual = np.asarray(actual, dtype=np.float64)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


def _run_both(make, seed=0, steps=5, shapes=SHAPES, grad_scale=1.0):
    """Apply the same gradients with Keras and Ember; compare variables and optimizer state after each step."""
    init, grads = _problem(seed, shapes, steps)
    k_opt, e_opt = make(keras.optimizers), make(eopt)
    k_vars = [keras.Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
    e_vars = [Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
    for t in range(steps):
        step_grads = [g * np.float32(grad_scale) for g in grads[t]]
        k_opt.apply([keras.ops.convert_to_tensor(g) for g in step_grads], k_vars)
        e_opt.apply([ember.tensor(g) for g in step_grads], e_vars)
        for i, (kv, ev) in enumerate(zip(k_vars, e_vars)):
            _assert_close(ev.numpy(), keras.ops.convert_to_numpy(kv), f"step {t + 1}, variable {i}")
        k_state, e_state = k_opt.variables, e_opt.variables
        assert len(e_state) == len(k_state), [v.path for v in k_state]
        for ks, es in zip(k_state, e_state):
            assert tuple(es.shape) == tuple(ks.shape), (es.path, ks.path)
            _assert_close(es.numpy(), keras.ops.convert_to_numpy(ks), f"step {t + 1}, state {ks.path}")
    return k_opt, e_opt


def _sched(opt):
    return opt.schedules


CASES = {
    "sgd": lambda o: o.SGD(),
    "sgd_momentum": lambda o: o.SGD(learning_rate=0.1, momentum=0.9),
    "sgd_nesterov": lambda o: o.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda o: o.RMSprop(),
    "rmsprop_momentum": lambda o: o.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5),
    "rmsprop_centered": lambda o: o.RMSprop(learning_rate=0.01, centered=True),
    "rmsprop_centered_momentum": lambda o: o.RMSprop(learning_rate=0.01, momentum=0.9, centered=True),
    "adam": lambda o: o.Adam(),
    "adam_amsgrad": lambda o: o.Adam(learning_rate=0.01, amsgrad=True),
    "adam_params": lambda o: o.Adam(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
    "adamw": lambda o: o.AdamW(),
    "adamw_amsgrad": lambda o: o.AdamW(learning_rate=0.01, weight_decay=0.1, amsgrad=True),
    "adamax": lambda o: o.Adamax(learning_rate=0.01),
    "nadam": lambda o: o.Nadam(learning_rate=0.01),
    "nadam_params": lambda o: o.Nadam(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4),
    "adagrad": lambda o: o.Adagrad(learning_rate=0.05),
    "adagrad_params": lambda o: o.Adagrad(learning_rate=0.05, initial_accumulator_value=0.5, epsilon=1e-4),
    "adadelta": lambda o: o.Adadelta(),
    "adadelta_lr1": lambda o: o.Adadelta(learning_rate=1.0, rho=0.9),
    "ftrl": lambda o: o.Ftrl(learning_rate=0.05),
    "ftrl_regularized": lambda o: o.Ftrl(
        learning_rate=0.1,
        learning_rate_power=-0.3,
        initial_accumulator_value=0.2,
        l1_regularization_strength=0.01,
        l2_regularization_strength=0.02,
        l2_shrinkage_regularization_strength=0.03,
        beta=0.1,
    ),
    # base-class options
    "sgd_weight_decay": lambda o: o.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.05),
    "adam_weight_decay": lambda o: o.Adam(learning_rate=0.01, weight_decay=0.05),
    "rmsprop_weight_decay": lambda o: o.RMSprop(learning_rate=0.01, weight_decay=0.1),
    "sgd_clipnorm": lambda o: o.SGD(learning_rate=0.1, clipnorm=0.5),
    "adam_clipnorm": lambda o: o.Adam(learning_rate=0.01, clipnorm=1.0),
    "sgd_clipvalue": lambda o: o.SGD(learning_rate=0.1, momentum=0.5, clipvalue=0.3),
    "adagrad_clipvalue": lambda o: o.Adagrad(learning_rate=0.05, clipvalue=0.5),
    "sgd_global_clipnorm": lambda o: o.SGD(learning_rate=0.1, global_clipnorm=1.0),
    "nadam_global_clipnorm": lambda o: o.Nadam(learning_rate=0.01, global_clipnorm=2.0),
    "sgd_loss_scale": lambda o: o.SGD(learning_rate=0.1, momentum=0.9, loss_scale_factor=4.0),
    "sgd_ema": lambda o: o.SGD(learning_rate=0.1, momentum=0.9, use_ema=True, ema_momentum=0.9),
    "adam_ema_overwrite": lambda o: o.Adam(learning_rate=0.01, use_ema=True, ema_overwrite_frequency=2),
    "adam_accumulation": lambda o: o.Adam(learning_rate=0.01, gradient_accumulation_steps=2),
    "nadam_accumulation": lambda o: o.Nadam(learning_rate=0.01, gradient_accumulation_steps=3),
    # schedules
    "adam_exponential": lambda o: o.Adam(learning_rate=o.schedules.ExponentialDecay(0.01, 2, 0.5)),
    "sgd_cosine_warmup": lambda o: o.SGD(
        learning_rate=o.schedules.CosineDecay(0.05, 3, alpha=0.1, warmup_target=0.2, warmup_steps=2), momentum=0.9
    ),
    "rmsprop_piecewise": lambda o: o.RMSprop(
        learning_rate=o.schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.01, 0.001])
    ),
    "adagrad_polynomial": lambda o: o.Adagrad(learning_rate=o.schedules.PolynomialDecay(0.1, 3, power=2.0)),
    "adamw_inverse_time": lambda o: o.AdamW(learning_rate=o.schedules.InverseTimeDecay(0.01, 1, 0.5), weight_decay=0.1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_keras(case):
    steps = 6 if "accumulation" in case else 5
    _run_both(CASES[case], seed=sorted(CASES).index(case), steps=steps)


@pytest.mark.parametrize("case", ["sgd_clipnorm", "sgd_global_clipnorm", "adagrad_clipvalue"])
def test_clipping_inactive_for_small_gradients(case):
    # Tiny gradients: the clip must leave them alone, as in Keras.
    _run_both(CASES[case], seed=3, grad_scale=1e-3)


def test_defaults_and_config_match_keras():
    for name in ["SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "Adagrad", "Adadelta", "Ftrl"]:
        k_config = getattr(keras.optimizers, name)(name="opt").get_config()
        e_config = getattr(eopt, name)(name="opt").get_config()
        assert e_config == k_config, name


def test_state_variable_names_and_order_match_keras():
    for name in ["SGD", "RMSprop", "Adam", "Adamax", "Adagrad", "Adadelta", "Ftrl"]:
        kwargs = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        if name == "RMSprop":
            kwargs["centered"] = True
        if name == "Adam":
            kwargs["amsgrad"] = True
        k_opt = getattr(keras.optimizers, name)(name="opt", use_ema=True, **kwargs)
        e_opt = getattr(eopt, name)(name="opt", use_ema=True, **kwargs)
        k_opt.build([keras.Variable(np.zeros((2, 3), "float32"), name="kernel"), keras.Variable(np.zeros(3), name="b")])
        e_opt.build([Variable(np.zeros((2, 3), "float32"), name="kernel"), Variable(np.zeros(3), name="b")])
        assert [v.path for v in e_opt.variables] == [v.path for v in k_opt.variables], name


def test_legacy_lr_and_decay():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = eopt.SGD(lr=0.05)
    assert float(opt.learning_rate) == pytest.approx(0.05)
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = eopt.Adadelta(lr=1.0)
    assert float(opt.learning_rate) == 1.0
    # Keras 2's decay is lr / (1 + decay * iterations): Keras 3's InverseTimeDecay with decay_steps=1.
    with pytest.warns(DeprecationWarning, match="decay"):
        legacy = eopt.SGD(learning_rate=0.1, momentum=0.9, decay=0.5)
    init, grads = _problem(7)
    k_opt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5), momentum=0.9)
    k_vars = [keras.Variable(a.copy()) for a in init]
    e_vars = [Variable(a.copy()) for a in init]
    for step_grads in grads:
        k_opt.apply([keras.ops.convert_to_tensor(g) for g in step_grads], k_vars)
        legacy.apply(step_grads, e_vars)
    for kv, ev in zip(k_vars, e_vars):
        _assert_close(ev.numpy(), keras.ops.convert_to_numpy(kv), "legacy decay")
    assert eopt.SGD.from_config(legacy.get_config())._legacy_decay == 0.5


def test_unknown_argument_and_clip_conflict_raise():
    with pytest.raises(ValueError, match="not recognized"):
        eopt.Adam(foo=1)
    with pytest.raises(ValueError, match="only one of"):
        eopt.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        eopt.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="momentum"):
        eopt.SGD(momentum=1.5)


def test_learning_rate_property():
    opt = eopt.Adam(learning_rate=0.01)
    assert isinstance(opt.learning_rate, Variable)
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    scheduled = eopt.SGD(learning_rate=eopt.schedules.ExponentialDecay(0.1, 1, 0.5))
    k_scheduled = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        scheduled.learning_rate = 0.1
    with pytest.raises(TypeError):
        k_scheduled.learning_rate = 0.1
    v = Variable(np.ones(2, "float32"))
    kv = keras.Variable(np.ones(2, "float32"))
    for _ in range(3):
        scheduled.apply([np.ones(2, "float32")], [v])
        k_scheduled.apply([keras.ops.ones((2,))], [kv])
    assert float(scheduled.learning_rate) == pytest.approx(float(k_scheduled.learning_rate), rel=1e-6)
    assert int(scheduled.iterations) == 3
    # A float rate replaced by a schedule leaves the variables list, as in Keras.
    opt.learning_rate = eopt.schedules.ExponentialDecay(0.1, 1, 0.5)
    assert [v.name for v in opt.variables] == ["iteration"]


def test_none_gradients_are_skipped_with_a_warning():
    init, grads = _problem(11, shapes=((3,), (2,)), steps=1)
    k_opt, e_opt = keras.optimizers.Adam(learning_rate=0.1), eopt.Adam(learning_rate=0.1)
    k_vars = [keras.Variable(a.copy()) for a in init]
    e_vars = [Variable(a.copy(), name=f"w{i}") for i, a in enumerate(init)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_opt.apply([keras.ops.convert_to_tensor(grads[0][0]), None], k_vars)
    with pytest.warns(UserWarning, match="w1"):
        e_opt.apply([grads[0][0], None], e_vars)
    _assert_close(e_vars[0].numpy(), keras.ops.convert_to_numpy(k_vars[0]), "with a None gradient")
    np.testing.assert_array_equal(e_vars[1].numpy(), init[1])
    with pytest.raises(ValueError, match="no gradients"):
        e_opt.apply([None, None], e_vars)


def test_non_trainable_variables_are_skipped():
    opt = eopt.SGD(learning_rate=0.1)
    frozen = Variable(np.ones(3, "float32"), trainable=False, name="frozen")
    live = Variable(np.ones(3, "float32"), name="live")
    opt.apply([np.ones(3, "float32"), np.ones(3, "float32")], [frozen, live])
    np.testing.assert_array_equal(frozen.numpy(), np.ones(3, "float32"))
    np.testing.assert_allclose(live.numpy(), np.full(3, 0.9, "float32"))


def test_constraint_applied_after_update():
    init, grads = _problem(5, shapes=((4, 3),), steps=3)
    k_var = keras.Variable(init[0].copy())
    k_var.constraint = keras.constraints.NonNeg()
    e_var = Variable(init[0].copy())
    e_var.constraint = lambda w: ember.relu(w)
    k_opt, e_opt = keras.optimizers.SGD(learning_rate=0.5), eopt.SGD(learning_rate=0.5)
    for step_grads in grads:
        k_opt.apply([keras.ops.convert_to_tensor(step_grads[0])], [k_var])
        e_opt.apply([ember.tensor(step_grads[0])], [e_var])
        _assert_close(e_var.numpy(), keras.ops.convert_to_numpy(k_var), "constraint")
    assert (e_var.numpy() >= 0).all()


def test_apply_gradients_and_build_then_apply_without_variables():
    init, grads = _problem(2, steps=2)
    a = [Variable(x.copy()) for x in init]
    b = [Variable(x.copy()) for x in init]
    opt_a, opt_b = eopt.RMSprop(momentum=0.5), eopt.RMSprop(momentum=0.5)
    opt_b.build(b)
    for step_grads in grads:
        it = opt_a.apply_gradients(zip(step_grads, a))
        opt_b.apply(step_grads)
    assert int(it.numpy()) == 2
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    with pytest.raises(ValueError, match="unknown variable"):
        opt_a.apply(grads[0], [Variable(x.copy()) for x in init])
    with pytest.raises(ValueError, match="shape"):
        eopt.SGD().apply([np.ones((2, 2), "float32")], [Variable(np.ones(3, "float32"))])


def test_tensor_gradients_from_backward():
    # The usual loop: loss.backward() fills .grad; the optimizer reads it.
    w = Variable(np.array([1.0, -2.0, 3.0], "float32"), name="w")
    loss = (w * w).sum()
    loss.backward()
    opt = eopt.SGD(learning_rate=0.1)
    opt.apply([w.grad], [w])
    np.testing.assert_allclose(w.numpy(), np.array([0.8, -1.6, 2.4], "float32"), rtol=1e-6)
    assert ember.is_grad_enabled()


SPARSE_CASES = [
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "rmsprop_centered_momentum",
    "adam",
    "adam_amsgrad",
    "adamw",
    "adamax",
    "nadam",
    "adagrad",
    "adadelta_lr1",
    "ftrl_regularized",
    "sgd_weight_decay",
    "sgd_clipnorm",
    "adam_clipnorm",
    "sgd_global_clipnorm",
    "sgd_clipvalue",
    "sgd_loss_scale",
    "adam_accumulation",
    "sgd_ema",
]


@pytest.mark.parametrize("case", SPARSE_CASES)
def test_sparse_gradient_equals_dense(case):
    """A RowSparseGrad (repeated rows, untouched rows) gives exactly the dense update, slots included."""
    rng = np.random.default_rng(21)
    table = rng.normal(size=(10, 3)).astype(np.float32)
    sparse_var, dense_var = Variable(table.copy(), name="emb"), Variable(table.copy(), name="emb")
    sparse_opt, dense_opt = CASES[case](eopt), CASES[case](eopt)
    for _ in range(4):
        rows = rng.integers(0, 6, size=7)  # rows 6..9 never touched; repeats sum
        grad = RowSparseGrad(rows, rng.normal(size=(7, 3)).astype(np.float32), (10, 3))
        sparse_opt.apply([grad], [sparse_var])
        dense_opt.apply([grad.dense_array()], [dense_var])
        np.testing.assert_array_equal(sparse_var.numpy(), dense_var.numpy())
        for s, d in zip(sparse_opt.variables, dense_opt.variables):
            np.testing.assert_array_equal(s.numpy(), d.numpy())


def test_plain_sgd_scatters_sparse_rows(monkeypatch):
    # Plain SGD must not build the dense vocabulary-sized gradient.
    def refuse(self):
        raise AssertionError("plain SGD densified a sparse gradient")

    monkeypatch.setattr(RowSparseGrad, "dense_array", refuse)
    table = np.arange(12, dtype=np.float32).reshape(6, 2)
    var = Variable(table.copy())
    grad = RowSparseGrad(np.array([4, 1, 4]), np.ones((3, 2), np.float32), (6, 2))
    eopt.SGD(learning_rate=0.5).apply([grad], [var])
    expected = table.copy()
    expected[1] -= 0.5
    expected[4] -= 1.0
    np.testing.assert_array_equal(var.numpy(), expected)


def test_embedding_gradient_end_to_end():
    rng = np.random.default_rng(4)
    table = Variable(rng.normal(size=(8, 2)).astype(np.float32), name="embeddings")
    ids = ember.tensor(np.array([[1, 2], [2, 5]]))
    out = ember.embedding(ids, table)
    (out * out).sum().backward()
    assert isinstance(table.grad, RowSparseGrad)
    k_table = keras.Variable(table.numpy().copy())
    dense = table.grad.dense_array()
    eopt.Adam(learning_rate=0.1).apply([table.grad], [table])
    keras.optimizers.Adam(learning_rate=0.1).apply([keras.ops.convert_to_tensor(to_host(dense))], [k_table])
    _assert_close(table.numpy(), keras.ops.convert_to_numpy(k_table), "embedding + Adam")


def test_get_serialize_round_trips():
    for name in ["sgd", "rmsprop", "adam", "adamw", "adamax", "nadam", "adagrad", "adadelta", "ftrl"]:
        opt = eopt.get(name)
        assert type(opt).__name__.lower() == name
        assert type(eopt.get(name.upper())) is type(opt)
        again = eopt.deserialize(eopt.serialize(opt))
        assert type(again) is type(opt) and again.get_config() == opt.get_config()
        # Keras reads our serialized form and we read Keras's.
        k_opt = keras.optimizers.deserialize(eopt.serialize(opt))
        assert type(k_opt).__name__ == type(opt).__name__
        assert k_opt.get_config() == opt.get_config()
        ours = eopt.deserialize(keras.optimizers.serialize(k_opt))
        assert ours.get_config() == k_opt.get_config()
    scheduled = eopt.Adam(learning_rate=eopt.schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10))
    k_scheduled = keras.optimizers.deserialize(eopt.serialize(scheduled))  # Keras edits the dict it reads
    assert k_scheduled.get_config() == scheduled.get_config()
    back = eopt.get(eopt.serialize(scheduled))
    assert isinstance(back._learning_rate, eopt.schedules.CosineDecay)
    assert back.get_config() == scheduled.get_config()
    opt = eopt.SGD(learning_rate=0.3, momentum=0.5, nesterov=True, clipnorm=2.0)
    assert eopt.get(opt) is opt
    assert eopt.SGD.from_config(opt.get_config()).get_config() == opt.get_config()
    assert eopt.get({"class_name": "SGD", "config": {"momentum": 0.5}}).momentum == 0.5
    assert eopt.get(None) is None
    with pytest.raises(ValueError, match="unknown optimizer"):
        eopt.get("nope")
    with pytest.raises(ValueError, match="Could not interpret"):
        eopt.get(3)


def test_weights_round_trip():
    init, grads = _problem(9, steps=2)
    a = [Variable(x.copy()) for x in init]
    opt = eopt.Adam(learning_rate=0.01)
    for step_grads in grads:
        opt.apply(step_grads, a)
    fresh = eopt.Adam(learning_rate=0.01)
    fresh.build([Variable(x.copy()) for x in init])
    store = {}
    opt.save_own_variables(store)
    fresh.load_own_variables(store)
    for x, y in zip(opt.variables, fresh.variables):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    fresh.set_weights(opt.get_weights())
    assert int(fresh.iterations) == 2


def test_ema_finalize_matches_keras():
    make = CASES["sgd_ema"]
    k_opt, e_opt = _run_both(make, seed=13, steps=3)
    k_vars, e_vars = k_opt._trainable_variables, e_opt._trainable_variables
    k_opt.finalize_variable_values(k_vars)
    e_opt.finalize_variable_values(e_vars)
    for kv, ev in zip(k_vars, e_vars):
        _assert_close(ev.numpy(), keras.ops.convert_to_numpy(kv), "finalize")


def test_float64_variables_stay_float64():
    w = Variable(np.ones(3), dtype="float64")
    opt = eopt.Adam(learning_rate=0.1)
    opt.apply([np.full(3, 0.5)], [w])
    assert w.dtype == np.float64 and all(v.dtype == np.float64 for v in opt.variables[2:])


# ---- the fused updates: numba kernels against the NumPy path, flat buffers against per-variable -------------

FUSED_CASES = [
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "rmsprop",
    "rmsprop_momentum",
    "rmsprop_centered",
    "rmsprop_centered_momentum",
    "adam",
    "adam_amsgrad",
    "adam_params",
    "adamw",
    "adamw_amsgrad",
    "adadelta",
    "adadelta_lr1",
    "sgd_weight_decay",
    "adam_ema_overwrite",
]


def _apply_steps(case, jit_on, flat, sparse=False, steps=4):
    from ember.backend import jit
    from ember.optimizers import kernels

    previous, min_size = jit.set_enabled(jit_on), kernels.KERNEL_MIN_SIZE
    kernels.KERNEL_MIN_SIZE = 0  # the kernels on these small arrays too
    try:
        init, grads = _problem(3, SHAPES, steps)
        opt = CASES[case](eopt)
        opt.flat_buffers = flat  # the reference: variable by variable
        variables = [Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
        if sparse:  # an embedding-like table with a row-sparse gradient, updated one by one
            table = Variable(np.random.default_rng(5).normal(size=(10, 3)).astype(np.float32), name="emb")
            variables.append(table)
        opt.build(variables)
        groups = opt.flat_groups(variables[:3]) if flat else None
        for t in range(steps):
            step = [g.copy() for g in grads[t]]
            rest = []
            if sparse:
                rows = np.random.default_rng(t).integers(0, 6, size=7)
                values = np.random.default_rng(t + 10).normal(size=(7, 3)).astype(np.float32)
                rest = [(RowSparseGrad(rows, values, (10, 3)), variables[3])]
            if flat:
                for view, g in zip(groups[0].grad_views, step):
                    view[...] = g
                opt.apply_flat(groups, variables, rest)
            else:
                opt.apply(step + [g for g, _ in rest], variables)
        return [v.numpy().copy() for v in variables], [v.numpy().copy() for v in opt.variables]
    finally:
        jit.set_enabled(previous)
        kernels.KERNEL_MIN_SIZE = min_size


@pytest.mark.parametrize("case", FUSED_CASES)
def test_fused_updates_are_bit_identical_on_both_jit_paths_and_flat(case):
    pytest.importorskip("numba")
    reference = _apply_steps(case, jit_on=False, flat=False)
    for jit_on, flat in [(True, False), (False, True), (True, True)]:
        got = _apply_steps(case, jit_on=jit_on, flat=flat)
        for a, b in zip(got[0] + got[1], reference[0] + reference[1]):
            np.testing.assert_array_equal(a, b, err_msg=f"jit={jit_on} flat={flat}")


@pytest.mark.parametrize("case", ["adam", "adam_amsgrad", "adamw"])
def test_sparse_adam_kernel_equals_numpy(case):
    pytest.importorskip("numba")
    reference = _apply_steps(case, jit_on=False, flat=False, sparse=True)
    for jit_on, flat in [(True, False), (True, True)]:
        got = _apply_steps(case, jit_on=jit_on, flat=flat, sparse=True)
        for a, b in zip(got[0] + got[1], reference[0] + reference[1]):
            np.testing.assert_array_equal(a, b, err_msg=f"jit={jit_on} flat={flat}")


@pytest.mark.host_only("the flat buffers hold NumPy arrays only")
@pytest.mark.parametrize("case", ["adam", "rmsprop_centered_momentum", "sgd_momentum", "adadelta"])
def test_big_variables_are_updated_where_their_gradient_lies(case, monkeypatch):
    # apply() keeps variables of more than FLAT_MAX_SIZE elements out of the flat buffers (their gradient is not
    # copied), updated by the same rule one by one: the numbers are the per-variable reference's, bit for bit
    from ember.optimizers import flat

    reference = _apply_steps(case, jit_on=True, flat=False)
    monkeypatch.setattr(flat, "FLAT_MAX_SIZE", 11)  # (3, 4) and (2, 3, 2) are "big", (4,) is flat
    init, grads = _problem(3, SHAPES, 4)
    opt = CASES[case](eopt)
    variables = [Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
    for t in range(4):
        step = [g.copy() for g in grads[t]]
        opt.apply(step, variables)
        assert variables[0].data.base is None and variables[2].data.base is None  # their own arrays
        assert variables[1].data.base is not None  # a view into the flat buffer
        np.testing.assert_array_equal(step[0], grads[t][0])  # the caller's gradient is read, not written
    layout = opt._flat
    assert layout.rest == [0, 2] and layout.positions == [[1]]
    for a, b in zip([v.numpy() for v in variables] + [v.numpy() for v in opt.variables], reference[0] + reference[1]):
        np.testing.assert_array_equal(a, b)


def test_flat_update_is_refused_where_it_cannot_hold():
    assert eopt.Adam().supports_flat_update()
    assert eopt.RMSprop(momentum=0.9, centered=True).supports_flat_update()
    assert not eopt.Adam(clipnorm=1.0).supports_flat_update()
    assert not eopt.SGD(gradient_accumulation_steps=2).supports_flat_update()
    assert not eopt.Nadam().supports_flat_update()  # no flat rule: per variable

    class Custom(eopt.Adam):
        def update_step(self, gradient, variable, learning_rate):
            super().update_step(gradient, variable, learning_rate)

    assert not Custom().supports_flat_update()


def test_flat_groups_are_views_and_follow_assign():
    opt = eopt.Adam()
    variables = [Variable(np.ones((2, 3), np.float32), name="a"), Variable(np.zeros(4, np.float32), name="b")]
    opt.build(variables)
    (group,) = opt.flat_groups(variables)
    assert group.size == 10 and variables[0].data.base is group.w
    variables[1].assign(np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(group.w[6:], np.arange(4))
    variables[0].data = np.full((2, 3), 5, np.float32)  # rebinding is noticed and undone
    assert not group.intact()
    group.adopt()
    assert group.intact() and variables[0].data.base is group.w
    np.testing.assert_array_equal(group.w[:6], 5)


@pytest.mark.host_only("the split runs the numba kernels on NumPy arrays")
@pytest.mark.parametrize(
    "case", ["adam", "adam_amsgrad", "rmsprop", "rmsprop_centered_momentum", "sgd_nesterov", "adadelta"]
)
def test_split_updates_equal_the_serial_update_bit_for_bit(case, monkeypatch):
    # a large update runs in workers.split_parts() parts over its elements: elementwise, so any count gives the
    # serial bits (5000 elements, SPLIT_MIN_SIZE 2048: parts of >= 1024 elements, bounds on multiples of 1024)
    pytest.importorskip("numba")
    from ember.backend import workers
    from ember.optimizers import kernels

    monkeypatch.setattr(kernels, "KERNEL_MIN_SIZE", 0)
    monkeypatch.setattr(kernels, "SPLIT_MIN_SIZE", 2048)
    shapes = ((50, 100), (7,))
    init, grads = _problem(11, shapes, 3)
    calls = []
    real_run_parts = workers.run_parts

    def spy(run, parts):
        calls.append(list(parts))
        return real_run_parts(run, parts)

    monkeypatch.setattr(workers, "run_parts", spy)

    def train(parts):
        opt = CASES[case](eopt)
        opt.flat_buffers = False
        variables = [Variable(a.copy(), name=f"v{i}") for i, a in enumerate(init)]
        with workers.forced_parts(parts):
            for t in range(3):
                opt.apply([g.copy() for g in grads[t]], variables)
        return [v.numpy().copy() for v in variables] + [v.numpy().copy() for v in opt.variables]

    serial = train(1)
    assert calls == []
    # 9 asked: at most 5000 // 1024 = 4 parts, of 1250 rounded up to 2048: 3
    expected = {2: [(0, 3072), (3072, 5000)], 3: [(0, 2048), (2048, 4096), (4096, 5000)]}
    expected[9] = expected[3]
    for parts in (2, 3, 9):
        calls.clear()
        split = train(parts)
        assert calls and all(c == expected[parts] for c in calls)  # only the big variable, every step
        for a, b in zip(split, serial):
            np.testing.assert_array_equal(a, b, err_msg=f"{parts} parts")


@pytest.mark.host_only("the numba kernels run on NumPy arrays")
def test_small_updates_take_the_kernel_only_once_numba_is_imported(monkeypatch):
    # below KERNEL_MIN_SIZE the kernel would cost the numba import (~100 MiB): NumPy, unless numba is already in
    pytest.importorskip("numba")
    import sys

    from ember.optimizers import kernels

    w = np.ones(10, np.float32)
    assert kernels._compiled(kernels._sgd_kernel, w, w) is not None  # numba imported by the import above
    monkeypatch.delitem(sys.modules, "numba")
    assert kernels._compiled(kernels._sgd_kernel, w, w) is None
    big = np.ones(kernels.KERNEL_MIN_SIZE, np.float32)
    assert kernels._compiled(kernels._sgd_kernel, big, big) is not None
