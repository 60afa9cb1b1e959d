"""In-place arithmetic and assignment on tensors: PyTorch's rule, version counters, Keras's ``inputs -= ...``.

Allowed on non-leaf tensors and on tensors that require no grad (recorded in
the graph when an operand requires grad); refused on a leaf that requires
grad while grad mode is on; a backward that needs an array changed in place
since its forward raises. Each case is run in PyTorch as well.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracles import assert_close

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests; pip install it")
rng = np.random.default_rng(0)
X, W, B, M = (
    rng.standard_normal((3, 4)),
    rng.standard_normal((3, 4)),
    rng.standard_normal((3, 4)),
    rng.standard_normal(4),
)


def _both(program, arrays=(X, W, B, M)):
    """Run ``program(lib, *tensors)`` in Ember and in torch (all inputs require grad); compare loss and gradients."""
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    e_loss = program(ember, *e_in)
    t_loss = program(torch, *t_in)
    e_loss.backward()
    t_loss.backward()
    assert_close(e_loss.numpy(), t_loss.detach().numpy(), msg="loss vs torch")
    for k, (e, t) in enumerate(zip(e_in, t_in)):
        e_g = np.zeros(e.shape) if e.grad is None else e.grad.numpy()
        t_g = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        assert_close(e_g, t_g, msg=f"gradient of input {k} vs torch")


def test_subtract_in_place_on_a_non_leaf():
    def program(lib, x, w, b, m):
        h = x * w
        h -= m
        return (h * h).sum()

    _both(program)


def test_add_multiply_divide_in_place_on_a_non_leaf():
    def program(lib, x, w, b, m):
        h = x * 2.0
        h += b
        h *= w  # multiply needs h's old value for w's gradient: kept by the engine
        h /= 1.5 + m * m
        return (h**2).sum()

    _both(program)


def test_in_place_chains_keep_the_graph():
    def program(lib, x, w, b, m):
        h = x + 0.0
        for _ in range(3):
            h *= w
            h += b
        return h.sum()

    _both(program)


def test_in_place_into_a_tensor_that_requires_no_grad_joins_the_graph():
    def program(lib, x, w, b, m):
        acc = lib.zeros((3, 4))
        acc += x * w
        acc -= b
        return (acc * acc).sum()

    _both(program)
    acc = ember.zeros((3, 4))
    assert acc.is_leaf and not acc.requires_grad
    acc += ember.tensor(X, requires_grad=True)
    assert acc.requires_grad and not acc.is_leaf


def test_setitem_on_a_non_leaf():
    def program(lib, x, w, b, m):
        h = x * w
        h[0] = b[1] * 3.0
        h[:, 1] = m[2]
        h[1:, 2:] = 0.0
        return (h * b).sum()

    _both(program)


def test_a_recorded_write_into_a_view_leaves_the_viewed_tensor_alone():
    """h's values must match h's graph: the write into its reshaped view gives the view new data."""
    x = ember.tensor(X, requires_grad=True)
    h = x * 2.0
    v = h.reshape(12)
    v *= 3.0
    np.testing.assert_allclose(h.numpy(), X * 2.0, rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), (X * 6.0).reshape(12), rtol=1e-6)
    (h.sum() + (v * v).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 + 2 * 36.0 * X, rtol=1e-5)


def test_in_place_on_a_plain_tensor_is_a_plain_write():
    t = ember.tensor([1.0, 2.0])
    t *= 3
    t += ember.tensor([1.0, 1.0])
    t /= 2
    t[0] = 7.0
    np.testing.assert_allclose(t.numpy(), [7.0, 3.5])
    assert t.grad_fn is None and not t.requires_grad


def test_a_leaf_that_requires_grad_is_refused_as_torch_refuses_it():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    t_w = torch.tensor([1.0, 2.0], requires_grad=True)
    for op in ("add", "sub", "mul", "div"):
        with pytest.raises(RuntimeError, match="a leaf tensor that requires grad is being used in an in-place"):
            getattr(w, f"__i{op if op != 'div' else 'truediv'}__")(1.0)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            getattr(t_w, f"__i{op if op != 'div' else 'truediv'}__")(1.0)
    with pytest.raises(RuntimeError, match=r"in-place assignment \(x\[...\] = v\): a leaf tensor"):
        w[0] = 5.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])  # nothing was written
    with ember.no_grad():  # parameter updates: allowed, as in torch
        w -= 0.5
        w[1] = 9.0
    np.testing.assert_array_equal(w.numpy(), [0.5, 9.0])


def test_a_saved_output_changed_in_place_is_refused():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    y = ember.exp(x)  # exp keeps its output for backward
    y += 1.0
    with pytest.raises(
        RuntimeError,
        match=r"modified by an inplace operation: exp saved output 0 at version 0, now 1",
    ):
        y.sum().backward()
    t_x = torch.tensor([0.5, 1.0], requires_grad=True)
    t_y = torch.exp(t_x)
    t_y += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        t_y.sum().backward()


def test_a_saved_input_changed_in_place_is_refused():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    w = ember.tensor([2.0, 3.0], requires_grad=True)
    h = x * 1.0
    y = h * w  # multiply keeps h for w's gradient
    h += 1.0
    with pytest.raises(RuntimeError, match=r"multiply saved input 0 at version 0, now 1"):
        y.sum().backward()
    t_x = torch.tensor([0.5, 1.0], requires_grad=True)
    t_w = torch.tensor([2.0, 3.0], requires_grad=True)
    t_h = t_x * 1.0
    t_y = t_h * t_w
    t_h += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        t_y.sum().backward()


def test_a_constant_input_changed_in_place_is_refused():
    """A tensor that requires no grad but whose array an op saved: changing it would corrupt w's gradient."""
    data = ember.tensor([1.0, 2.0])
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    y = (data * w).sum()
    data += 1.0
    with pytest.raises(RuntimeError, match=r"multiply saved input 0 at version 0, now 1"):
        y.backward()
    # written before the op used it: fine
    data = ember.tensor([1.0, 2.0])
    data += 1.0
    (data * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])


def test_an_in_place_change_no_backward_needs_is_fine():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    h = x + 2.0  # add keeps nothing
    y = h.sum()
    h *= 10.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_version_counters_count_like_torch():
    e, t = ember.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert e._version == t._version == 0
    for lib_t in (e, t):
        lib_t += 1.0
        lib_t *= 2.0
        lib_t[0] = 3.0
    assert e._version == t._version == 3
    d = e.detach()  # shares data, so shares the version
    d -= 1.0
    assert e._version == 4 and d._version == 4


def test_shape_and_dtype_mismatches_are_refused():
    h = ember.tensor(np.ones(3), requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match=r"result has shape \(2, 3\).*tensor's shape \(3,\)"):
        h += ember.tensor(np.ones((2, 3)))
    i = ember.tensor([1, 2])
    with pytest.raises(TypeError, match="dtype"):
        i += ember.tensor([0.5, 0.5], requires_grad=True)


def test_in_place_under_create_graph_backward():
    """Backward formulas that update a gradient in place (softmax) stay differentiable."""
    x = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    t_x = torch.tensor(x.numpy(), requires_grad=True)
    (g,) = ember.grad((ember.softmax(x) ** 2).sum(), x, create_graph=True)
    (t_g,) = torch.autograd.grad((torch.softmax(t_x, -1) ** 2).sum(), t_x, create_graph=True)
    (h,) = ember.grad((g * g).sum(), x)
    (t_h,) = torch.autograd.grad((t_g * t_g).sum(), t_x)
    assert_close(h.numpy(), t_h.numpy())


# ---- Keras: ``inputs -= ops.mean(inputs, ...)`` inside a layer's call, trained by fit --------------------------------


def _fit(layer_cls, jit_compile):
    import ember as keras

    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), layer_cls(), keras.layers.Dense(1)])
    kwargs = {} if jit_compile is None else {"jit_compile": jit_compile}
    model.compile(optimizer="sgd", loss="mse", **kwargs)
    r = np.random.default_rng(0)
    x, y = r.standard_normal((64, 4)).astype("float32"), r.standard_normal((64, 1)).astype("float32")
    x_before = x.copy()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    np.testing.assert_array_equal(x, x_before, err_msg="fit changed the training data")
    return history.history["loss"], [w.numpy() for w in model.weights]


@pytest.mark.parametrize("jit_compile", [False, None], ids=["eager", "default"])
def test_keras_layer_centering_its_inputs_in_place_trains_as_out_of_place(jit_compile):
    import ember as keras
    from ember import ops

    class CenterInPlace(keras.layers.Layer):
        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            return inputs

    class CenterOutOfPlace(keras.layers.Layer):
        def call(self, inputs):
            return inputs - ops.mean(inputs, axis=-1, keepdims=True)

    loss_a, weights_a = _fit(CenterInPlace, jit_compile)
    loss_b, weights_b = _fit(CenterOutOfPlace, jit_compile)
    assert loss_a == loss_b
    assert loss_a[-1] < loss_a[0]
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


def test_keras_layer_centering_in_place_predicts_as_out_of_place():
    """Under predict nothing requires grad, so the write is a plain one; the compiled predict must not lose it."""
    import ember as keras
    from ember import ops

    class CenterInPlace(keras.layers.Layer):
        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            return inputs

    class CenterOutOfPlace(keras.layers.Layer):
        def call(self, inputs):
            return inputs - ops.mean(inputs, axis=-1, keepdims=True)

    x = np.random.default_rng(1).standard_normal((48, 4)).astype("float32")
    results = []
    for layer_cls in (CenterInPlace, CenterOutOfPlace):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), layer_cls(), keras.layers.Dense(1)])
        results.append([model.predict(x, batch_size=16, verbose=0) for _ in range(3)] + [model(x).numpy()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_and_or_invert_of_tensors_follow_numpy():
    """Masks combine with & | ~ (the backward formulas use them under create_graph); integers are bitwise."""
    a, b = np.array([True, False, True]), np.array([True, True, False])
    i, j = np.array([6, 3, 12]), np.array([3, 5, 10])
    ea, eb, ei, ej = (ember.tensor(v) for v in (a, b, i, j))
    np.testing.assert_array_equal((ea & eb).numpy(), a & b)
    np.testing.assert_array_equal((ea | eb).numpy(), a | b)
    np.testing.assert_array_equal((~ea).numpy(), ~a)
    np.testing.assert_array_equal((ei & ej).numpy(), i & j)
    np.testing.assert_array_equal((ei | ej).numpy(), i | j)
    np.testing.assert_array_equal((~ei).numpy(), ~i)
