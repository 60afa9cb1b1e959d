"""The engine itself: tensors, dtype rules, the graph, backward, grad mode, devices, RNG."""

import os
import sys
import threading

import numpy as np
import pytest

import ember
from ember.engine.function import Function


# ---- tensors and dtype rules ---------------------------------------------------
def test_python_floats_and_float64_arrays_become_float32():
    assert ember.tensor(1.5).dtype == np.float32
    assert ember.tensor([1.0, 2.0]).dtype == np.float32
    assert ember.tensor(np.zeros(3, dtype=np.float64)).dtype == np.float32
    assert ember.tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16
    assert ember.tensor(np.zeros(3), dtype="float64").dtype == np.float64


def test_integer_and_bool_data_keep_their_kind():
    assert ember.tensor([1, 2, 3]).dtype == np.int64
    assert ember.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert ember.tensor([True, False]).dtype == np.bool_


def test_floatx_is_the_default_float_dtype():
    ember.backend.set_floatx("float64")
    try:
        assert ember.tensor(1.0).dtype == np.float64
        assert ember.zeros(2).dtype == np.float64
    finally:
        ember.backend.set_floatx("float32")
    assert ember.tensor(1.0).dtype == np.float32


def test_tensor_copies_its_input():
    a = np.ones(3)
    t = ember.tensor(a, dtype="float64")
    a[0] = 5.0
    assert t.numpy()[0] == 1.0


def test_tensor_accepts_nested_lists_of_tensors():
    t = ember.tensor([ember.tensor(1.0), ember.tensor(2.0)])
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


def test_description_and_host_access():
    t = ember.tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.device == ember.backend.default_device() and str(ember.device("cpu")) == "cpu"
    assert isinstance(t.numpy(), np.ndarray)
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert ember.tensor([[4.0]]).item() == 4.0
    with pytest.raises(ValueError, match=r"item: expected a tensor with one element, got shape \(2, 3\)"):
        t.item()
    assert "dtype=float32" in repr(t)


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="only float tensors can require grad, got dtype int64"):
        ember.tensor([1, 2], requires_grad=True)


def test_scalars_and_arrays_take_the_tensor_dtype():
    x = ember.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32
    assert (x * 2.5).dtype == np.float32
    assert (x + np.ones(2)).dtype == np.float32
    assert (np.ones(2) + x).dtype == np.float32
    assert isinstance(np.ones(2) + x, ember.Tensor)
    i = ember.tensor([1, 2])
    assert (i + 1).dtype == np.int64
    assert (i * x).dtype == np.float32


def test_tensors_of_two_float_dtypes_meet_at_the_wider_as_in_keras_and_torch():
    """float32 * float64 -> float64 and float16 + float32 -> float32, with each gradient in its input's dtype;
    checked against Keras 3's ops (torch backend) and PyTorch."""
    a = ember.tensor([1.5, -2.0], dtype="float32", requires_grad=True)
    b = ember.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    h = ember.tensor([0.5, 0.25], dtype="float16")
    product = a * b
    assert product.dtype == np.float64 and (h + a).dtype == np.float32
    product.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), np.float32([1.5, -2.0]).astype(np.float64))
    assert (a * b.astype("float32")).dtype == np.float32
    assert (a + np.ones(2)).dtype == np.float32  # a raw array stays a weak constant (NumPy 2's scalar rule)
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for type promotion")
    ta, tb = torch.tensor([1.5, -2.0], dtype=torch.float32), torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert str(product.dtype) == str(ta * tb).split("dtype=torch.")[1].rstrip(")")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines the promotion table")
    k = keras.ops.multiply(keras.ops.convert_to_tensor(np.float32([1.5])), keras.ops.convert_to_tensor(np.float64([3])))
    assert keras.backend.standardize_dtype(k.dtype) == "float64"


def test_shape_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        ember.ones((2, 3)) + ember.ones(4)


# ---- creation ----------------------------------------------------------------
def test_creation_functions():
    assert ember.zeros((2, 3)).numpy().sum() == 0 and ember.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(ember.ones(3).numpy(), [1, 1, 1])
    np.testing.assert_array_equal(ember.full((2,), 7.0).numpy(), [7, 7])
    assert ember.full((2,), 7, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ember.arange(4).numpy(), [0, 1, 2, 3])
    assert ember.arange(4).dtype == np.int64
    assert ember.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(ember.eye(2, 3, k=1).numpy(), np.eye(2, 3, k=1))
    np.testing.assert_allclose(ember.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    x = ember.tensor(np.ones((2, 2)), dtype="float64")
    assert ember.zeros_like(x).dtype == np.float64 and ember.zeros_like(x).shape == (2, 2)
    assert ember.ones_like(x, dtype="int32").dtype == np.int32
    assert ember.full_like(x, 3.0).numpy()[0, 0] == 3.0
    assert ember.zeros(3, requires_grad=True).requires_grad


# ---- backward ------------------------------------------------------------------
def test_seed_graph_e():
    a = ember.tensor(2.0, requires_grad=True)
    b = ember.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    assert e.item() == 6.0
    assert isinstance(e.grad_fn, Function) and a.is_leaf and not e.is_leaf
    e.backward()
    assert a.grad.item() == 2.0 and b.grad.item() == 5.0


def test_gradients_accumulate_across_backward_calls_and_paths():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * x + x).sum().backward()  # x used on three paths
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 5.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 8.0])


def test_broadcast_gradients_are_reduced_to_input_shape():
    x = ember.tensor(np.ones((3, 1)), requires_grad=True)
    y = ember.tensor(np.ones(4), requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(y.grad.numpy(), np.full(4, 3.0))


def test_backward_through_freed_graph_says_so():
    x = ember.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = ember.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_the_graph_frees_saved_arrays_after_backward():
    x = ember.tensor(np.ones(3), requires_grad=True)
    y = x * 2.0
    fn = y.grad_fn
    assert hasattr(fn, "a")
    y.sum().backward()
    assert not hasattr(fn, "a") and fn._freed


def test_backward_needs_grad_for_non_scalars():
    x = ember.tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one element, got shape \(3,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(2,\), expected the tensor's shape \(3,\)"):
        y.backward(np.ones(2))
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_on_a_tensor_without_graph_says_so():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor(1.0).backward()


def test_deep_graph_has_no_recursion_limit():
    depth = sys.getrecursionlimit() * 5
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**depth, rtol=1e-3)


def test_wide_graph_visits_each_function_once():
    calls = []

    class Counted(Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            calls.append(1)
            return g

    x = ember.tensor(1.0, requires_grad=True)
    shared = Counted.apply(x)
    total = shared
    for _ in range(50):
        total = total + shared
    total.backward()
    assert len(calls) == 1 and x.grad.item() == 51.0


def test_multi_output_function_gets_zeros_for_unused_outputs():
    class Halves(Function):
        def forward(self, a):
            self.n = a.shape[0] // 2
            return a[: self.n].copy(), a[self.n :].copy()

        def backward(self, g1, g2):
            return self.xp.concatenate([g1, g2])

    x = ember.tensor(np.arange(4.0), requires_grad=True)
    first, _ = Halves.apply(x)
    (first * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3, 0, 0])


def test_retain_grad_keeps_non_leaf_gradients():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_detach_shares_data_and_cuts_the_graph():
    x = ember.tensor([1.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x.detach()
    y.data[0] = 9.0
    assert x.item() == 9.0


def test_row_sparse_gradients_stay_sparse_until_they_meet_dense_ones():
    class Rows(Function):
        def forward(self, table, rows):
            self.rows, self.shape = rows, table.shape
            return table[rows]

        def backward(self, g):
            return ember.RowSparseGrad(self.rows, g, self.shape), None

    table = ember.tensor(np.zeros((5, 2)), requires_grad=True)
    rows = ember.tensor([1, 3, 1])
    Rows.apply(table, rows).sum().backward()
    assert isinstance(table.grad, ember.RowSparseGrad)
    expected = np.zeros((5, 2))
    expected[1], expected[3] = 2.0, 1.0
    np.testing.assert_array_equal(table.grad.numpy(), expected)
    coalesced = table.grad.coalesce()
    np.testing.assert_array_equal(ember.backend.to_host(coalesced.indices), [1, 3])
    # a second sparse use concatenates; a dense use makes it dense
    (Rows.apply(table, rows).sum() + (table * 1.0).sum()).backward()
    assert isinstance(table.grad, ember.Tensor)
    np.testing.assert_array_equal(table.grad.numpy(), 2 * expected + 1)


# ---- grad mode -----------------------------------------------------------------
def test_no_grad_and_enable_grad():
    x = ember.tensor(1.0, requires_grad=True)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @ember.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_is_per_thread():
    seen = []
    with ember.no_grad():
        worker = threading.Thread(target=lambda: seen.append(ember.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_setitem_refuses_to_corrupt_a_graph():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place assignment"):
        x[0] = 5.0
    with ember.no_grad():
        x[0] = 5.0
    assert x.numpy()[0] == 5.0


# ---- devices ---------------------------------------------------------------------
def test_device_parsing_and_errors():
    assert ember.device("cpu") == ember.Device("cpu") == "cpu"
    assert ember.device("cuda:1").index == 1 and ember.device("cuda").index == 0
    assert ember.device("cpu").xp is np
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        ember.device("tpu")
    with pytest.raises(ValueError, match="cuda:N"):
        ember.device("cuda:x")


def test_to_same_device_returns_self_and_dtype_casts():
    x = ember.tensor([1.0], requires_grad=True)
    assert x.to(x.device) is x
    y = x.to(dtype="float64")
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.item() == 1.0


def test_cuda_without_cupy_says_what_to_install():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="needs CuPy"):
            ember.tensor([1.0]).to("cuda")
    else:
        pytest.skip("CuPy is installed: the missing-CuPy message cannot be shown here")


def test_mixing_devices_says_so():
    from ember.backend import cuda

    if not cuda.is_available():  # CuPy may be installed without a driver (the NVRTC compile checks need only it)
        pytest.skip("needs CuPy and a GPU to put tensors on two devices")
    with pytest.raises(RuntimeError, match="expected all tensors on one device, got cpu and cuda:0"):
        ember.tensor([1.0]) + ember.tensor([1.0]).to("cuda")


# ---- random ------------------------------------------------------------------------
def test_seed_makes_draws_repeat():
    ember.random.seed(42)
    a = ember.random.normal((3,)).numpy()
    ember.random.seed(42)
    b = ember.random.normal((3,)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ember.random.normal((3,)).numpy())


def test_int_seed_is_a_fixed_stream_and_generators_are_independent():
    a = ember.random.uniform((4,), seed=7).numpy()
    b = ember.random.uniform((4,), seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    g = ember.random.Generator(3)
    c, d = ember.random.normal((2,), seed=g).numpy(), ember.random.normal((2,), seed=g).numpy()
    assert not np.array_equal(c, d)


def test_random_distributions_and_dtypes():
    x = ember.random.normal((20000,), mean=2.0, stddev=3.0, seed=1)
    assert x.dtype == np.float32
    # standard errors: mean 3/sqrt(n) ~ 0.02, std ~ 0.015
    assert abs(x.numpy().mean() - 2.0) < 0.1 and abs(x.numpy().std() - 3.0) < 0.1
    u = ember.random.uniform((1000,), -1.0, 1.0, seed=1).numpy()
    assert u.min() >= -1.0 and u.max() < 1.0
    t = ember.random.truncated_normal((1000,), stddev=1.0, seed=1).numpy()
    assert np.abs(t).max() <= 2.0
    r = ember.random.randint((100,), 0, 5, seed=1)
    assert r.dtype == np.int32 and set(np.unique(r.numpy())) <= set(range(5))
    assert sorted(ember.random.permutation(5, seed=1).tolist()) == [0, 1, 2, 3, 4]


def test_leaf_gradients_do_not_share_buffers():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # add's backward hands the same array to both inputs
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_inplace_arithmetic_updates_parameters_under_no_grad():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    alias = w
    with ember.no_grad():
        w -= 0.5 * w.grad
    assert alias is w
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match=r"in-place subtract \(-=\): a leaf tensor that requires grad"):
        w -= 1.0
    t = ember.tensor([1.0, 2.0])
    t *= 3
    t += ember.tensor([1.0, 1.0])
    t /= 2
    np.testing.assert_allclose(t.numpy(), [2.0, 3.5])


@pytest.mark.host_only("t.numpy() is a view of a cpu tensor's data; a device tensor's is a copy")
def test_numpy_array_protocol_copies_when_asked():
    """np.array(t) gives an array the caller owns (NumPy 2's copy=True); np.asarray(t) shares, as torch's does."""
    t = ember.tensor([1.0, 2.0])
    owned = np.array(t)
    owned[0] = 9.0
    assert t.numpy()[0] == 1.0
    shared = np.asarray(t)
    shared[1] = 5.0
    assert t.numpy()[1] == 5.0
    assert np.array(t, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.array(t, dtype="float64", copy=False)


def test_backend_set_floatx_refuses_bfloat16():
    with pytest.raises(ValueError, match="no bfloat16"):
        ember.backend.set_floatx("bfloat16")
    assert ember.backend.floatx() == "float32"


# ---- the backward walk worked out once (engine/autograd.py: BackwardWalk) ---------------------------------
def _small_graph(x, w, b):
    """A graph with a broadcast (bias), a value read twice (h) and one weight reached by two paths (w)."""
    h = ember.ops.relu(ember.ops.matmul(x, w) + b)
    return (ember.ops.sigmoid(h) * h).sum() + (w * w).mean()


@pytest.mark.host_only("drives BackwardWalk.run with host seed and buffer arrays; backward() runs it on devices")
def test_a_walk_built_once_replays_on_another_graph_of_the_same_shape_bit_for_bit():
    from ember.engine.autograd import BackwardWalk

    rng = np.random.default_rng(0)
    w = ember.tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    b = ember.tensor(rng.normal(size=(3,)).astype(np.float32), requires_grad=True)
    walk = BackwardWalk([_small_graph(ember.tensor(rng.normal(size=(5, 4))), w, b)], [w, b])
    assert len(walk.entries) == len(walk.order)
    assert any(edge[4] is not None for entry in walk.entries for edge in entry[5])  # the bias's sum, worked out

    x = rng.normal(size=(5, 4)).astype(np.float32)
    loss = _small_graph(ember.tensor(x), w, b)  # the same shape, new function objects
    walk.entries = walk.rebind(BackwardWalk([loss]).order)
    walk.order = None  # a caller keeps the table, not the graph it was built from
    into = [np.full((4, 3), np.nan, np.float32), None]
    slots = walk.run(walk.entries, [np.ones((), np.float32)])
    gw, gb = walk.gradients(slots, into)
    assert gw is into[0] and gb.shape == (3,)
    # the buffers filled as the gradients arrive (the two gradients of w summed in place)
    into_now = [np.full((4, 3), np.nan, np.float32), np.full((3,), np.nan, np.float32)]
    slots = walk.run(walk.entries, [np.ones((), np.float32)], into=into_now)
    gw_now, gb_now = walk.gradients(slots, into_now)
    assert gw_now is into_now[0] and gb_now is into_now[1]
    loss.backward()  # eager, on the very graph the walk was replayed on (retained: a replay frees nothing)
    for got in (gw, gw_now):
        np.testing.assert_array_equal(got, w.grad.numpy())
    for got in (gb, gb_now):
        np.testing.assert_array_equal(got, b.grad.numpy())


def test_grad_of_intermediate_tensors_and_leaves_in_one_call():
    x = ember.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    h = x * 3.0
    y = (ember.ops.tanh(h) * h).sum()
    gh, gx = ember.grad(y, [h, x])
    t = np.tanh(np.array([[3.0, -6.0], [9.0, 1.5]], np.float32))
    expected_h = t + (1 - t**2) * np.array([[3.0, -6.0], [9.0, 1.5]], np.float32)
    np.testing.assert_allclose(gh.numpy(), expected_h, rtol=1e-6)
    np.testing.assert_allclose(gx.numpy(), 3.0 * expected_h, rtol=1e-6)
    assert x.grad is None  # grad() leaves .grad alone


@pytest.mark.host_only("drives BackwardWalk.run with host seed and buffer arrays; backward() runs it on devices")
def test_a_walk_inside_part_of_a_graph_stops_at_its_inputs():
    """``inside`` (hybridize's traced call): the walk goes through the part's functions only; an input made
    before the part gets what reaches it, and None (not zeros) where nothing does."""
    from ember.engine.autograd import BackwardWalk

    ran = []

    class Halves(Function):
        def forward(self, a):
            return a[:2].copy(), a[2:].copy()

        def backward(self, g1, g2):
            ran.append("halves")
            return self.xp.concatenate([g1, g2])

    class Probe(Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            ran.append("probe")
            return g

    x = ember.tensor(np.array([1.0, -2.0, 0.5, 3.0], np.float32), requires_grad=True)
    v = ember.tensor(np.array([0.3, -1.1], np.float32), requires_grad=True)
    first, second = Halves.apply(x * 2.0)  # made before the part, by one function
    before = Probe.apply(second)
    part = [before * v, ember.ops.tanh(before).sum()]  # the part: a product, a tanh, a sum
    fns = {id(part[0].grad_fn), id(part[1].grad_fn), id(part[1].grad_fn._edges[0][1])}
    walk = BackwardWalk(part, [first, second, before, v, x], inside=fns)
    assert {id(fn) for fn in walk.order} == fns and not walk.keep
    seeds = [np.ones((2,), np.float32), np.ones((), np.float32)]
    g_first, g_second, g_before, g_v, g_x = walk.gradients(walk.run(walk.entries, seeds))
    assert ran == []  # Probe and Halves (before the part) never ran
    assert g_first is None and g_second is None and g_x is None  # not read by the part: nothing, no zeros
    b = before.numpy()
    np.testing.assert_array_equal(g_v, b)
    np.testing.assert_allclose(g_before, v.numpy() + (1 - np.tanh(b) ** 2), rtol=1e-6)
    # the same tensors without ``inside``: the walk goes on through Probe and Halves
    walk = BackwardWalk(part, [first, second, before, v, x])
    g_first, g_second, _, _, g_x = walk.gradients(walk.run(walk.entries, seeds))
    assert ran == ["probe", "halves"]
    np.testing.assert_array_equal(g_first, np.zeros(2, np.float32))  # zeros beside second's, as eager
    np.testing.assert_array_equal(g_second, g_before)
    np.testing.assert_array_equal(g_x, 2.0 * np.concatenate([g_first, g_second]))


@pytest.mark.host_only("drives BackwardWalk.run with host seed and buffer arrays; backward() runs it on devices")
def test_a_leafs_gradient_given_as_a_view_is_copied_as_it_arrives():
    """The op's array behind the view is freed during the walk, not held to its end (a copy either way)."""
    import weakref

    bases, alive = [], []

    class TransposedGrad(Function):
        def forward(self, a, b):
            return 2.0 * a + b

        def backward(self, g):
            base = self.xp.ascontiguousarray(g.T) * 2.0  # a's gradient as a transpose's view of a fresh array
            bases.append(weakref.ref(base))
            return base.T, g

    class Probe(Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, g):
            alive.append(bases[0]() is not None)
            return g

    x = ember.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    y = ember.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    (TransposedGrad.apply(x, Probe.apply(Probe.apply(y))) * 3.0).sum().backward()
    assert alive == [True, False]  # (the walk's last result holds it while the next function runs)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 2), 6.0, np.float32))
    assert x.grad.data.base is None
