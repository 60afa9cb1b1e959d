"""Indexing: x[index], take, take_along_axis, one_hot vs finite differences, PyTorch, NumPy and Keras."""

import os

import numpy as np
import pytest
from oracles import Const, check_against_torch, check_gradients, noncontiguous

import ember

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")


def _to_torch_index(index):
    """The same index for torch: NumPy arrays become torch tensors."""
    if not isinstance(index, tuple):
        index = (index,)
    return tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in index)


def _torch_getitem(index):
    """A torch function applying the same index."""
    return lambda t: t[_to_torch_index(index)]


BASIC = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "int and slice": (0, slice(None, None, 2)),
    "None and Ellipsis": (None, Ellipsis, 1),
    "slice past the end": (slice(2, 10), slice(None)),
    "empty slice": slice(2, 1),
    "step 2 slices": (slice(None, None, 2), slice(1, None, 2)),
    "ellipsis then int": (Ellipsis, 2),
    "new axis in the middle": (slice(None), None, slice(0, 2)),
}

NEGATIVE_STEPS = {
    "reversed": slice(None, None, -1),
    "reversed by 2": (slice(None), slice(None, None, -2)),
    "reversed window": (1, slice(3, 0, -1)),
    "mixed": (slice(None, None, -1), None, slice(None, None, 3)),
}

ADVANCED = {
    "list of ints": np.array([0, 2, 0]),
    "repeated rows": np.array([1, 1, 1, 2]),
    "negative indices": np.array([-1, 0, -1]),
    "2-D index": np.array([[0, 1], [2, 2]]),
    "columns": (slice(None), np.array([3, 1, 3])),
    "pairs": (np.array([0, 2, 2]), np.array([1, 1, 3])),
    "broadcast pair": (np.array([[0], [2]]), np.array([1, 1, 3])),
    "index then slice": (np.array([2, 0, 2]), slice(1, None)),
    "ellipsis then index": (Ellipsis, np.array([0, 0])),
    "index and None": (np.array([1, 1]), None),
    "empty index": np.array([], dtype=np.int64),
    "row mask": np.array([True, False, True]),
    "element mask": None,  # filled in below: a (3, 4) mask
    "mask and slice": (np.array([False, True, True]), slice(None, None, 2)),
    "mask and index": (np.array([True, False, True]), np.array([3, 3])),
}


def _index(name, rng):
    if name == "element mask":
        return rng.standard_normal((3, 4)) > 0
    return ADVANCED[name]


@pytest.mark.parametrize("name", sorted(BASIC))
def test_basic_indexing(name, rng):
    x = rng.standard_normal((3, 4))
    index = BASIC[name]
    check_against_torch(lambda t: t[index], _torch_getitem(index), noncontiguous(x))
    check_gradients(lambda t: t[index], x)


@pytest.mark.parametrize("name", sorted(NEGATIVE_STEPS))
def test_negative_step_slices(name, rng):
    x = rng.standard_normal((3, 4, 5)) if name == "mixed" else rng.standard_normal((3, 4))
    index = NEGATIVE_STEPS[name]
    expected = x[index]
    np.testing.assert_array_equal(ember.tensor(x, dtype="float64")[index].numpy(), expected)
    check_gradients(lambda t: t[index], x)
    # torch has no negative steps: compare with flip + forward slicing on the same values
    if name == "reversed":
        check_against_torch(lambda t: t[index], lambda t: torch.flip(t, (0,)), x)
    elif name == "reversed by 2":
        check_against_torch(lambda t: t[index], lambda t: torch.flip(t, (1,))[:, ::2], x)


@pytest.mark.parametrize("name", sorted(ADVANCED))
def test_advanced_indexing(name, rng):
    x = rng.standard_normal((3, 4))
    index = _index(name, rng)
    check_against_torch(lambda t: t[index], _torch_getitem(index), noncontiguous(x))
    check_gradients(lambda t: t[index], x)


def test_repeated_indices_accumulate_gradient():
    x = ember.tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0, 0.0, 1.0])


@pytest.mark.parametrize("kind", ["tensor", "array", "list"])
def test_index_kinds_are_constants(kind, rng):
    x = rng.standard_normal((4, 3))
    idx = [2, 0, 2]
    mask = [True, False, True, True]
    wrap = {"tensor": ember.tensor, "array": np.asarray, "list": list}[kind]
    t = ember.tensor(x, dtype="float64", requires_grad=True)
    out = t[wrap(idx)] + t[wrap(mask)].sum() + t[:, wrap(idx)].sum()
    np.testing.assert_allclose(out.numpy(), x[idx] + x[mask].sum() + x[:, idx].sum())
    out.sum().backward()
    assert t.grad.shape == x.shape
    if kind == "tensor":
        # a float index tensor that requires grad is refused, not differentiated
        with pytest.raises(IndexError, match="getitem: index arrays must be integer or boolean"):
            t[ember.tensor([0.0, 1.0], requires_grad=True)]


def test_mixed_index_with_tensor_components(rng):
    x = rng.standard_normal((3, 4, 5))
    rows = ember.tensor([0, 2, 2])
    cols = np.array([4, 0, 4])
    check_gradients(lambda t: t[rows, 1:3, cols], x)
    check_against_torch(
        lambda t: t[rows, 1:3, cols], lambda t: t[torch.tensor([0, 2, 2]), 1:3, torch.from_numpy(cols)], x
    )


def test_indexing_empty_tensors(rng):
    x = rng.standard_normal((0, 3))
    check_against_torch(lambda t: t[:, 1], lambda t: t[:, 1], x)
    check_against_torch(lambda t: t[np.array([], dtype=np.int64)], lambda t: t[torch.tensor([], dtype=torch.long)], x)


def test_scalar_output_and_iteration(rng):
    x = rng.standard_normal((2, 3))
    check_gradients(lambda t: t[1, 2], x)
    check_gradients(lambda t: ember.stack(list(t)), x)  # __iter__ uses getitem


def test_getitem_errors_name_the_shape():
    x = ember.zeros((2, 3))
    with pytest.raises(IndexError, match=r"getitem: .*\(indexing a tensor of shape \(2, 3\)\)"):
        x[5]
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[np.array([0, 3])]
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="getitem: index arrays must be integer or boolean, got dtype float"):
        x[np.array([0.5])]


# ---- take -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,indices,axis",
    [
        ((3, 4), [0, 5, 5, 11], None),
        ((3, 4), [[1, 1], [0, 2]], 0),
        ((3, 4), [3, -1, 0, 3], 1),
        ((2, 3, 4), [2, 2], -2),
        ((3, 4), 2, 1),
        ((0, 4), [1, 3], 1),
        ((3, 4), [], 0),
    ],
)
def test_take(shape, indices, axis, rng):
    x = rng.standard_normal(shape)
    idx = np.asarray(indices, dtype=np.int64)
    np.testing.assert_array_equal(
        ember.take(ember.tensor(x, dtype="float64"), indices, axis=axis).numpy(), np.take(x, idx, axis)
    )

    def torch_take(t):
        if axis is None:
            return t.flatten()[torch.from_numpy(idx)]
        return t[(slice(None),) * (axis % t.ndim) + (torch.from_numpy(idx),)]

    check_against_torch(lambda t: ember.take(t, indices, axis=axis), torch_take, noncontiguous(x))
    check_gradients(lambda t: t.take(ember.tensor(idx), axis=axis), x)


def test_take_errors():
    with pytest.raises(IndexError, match=r"take: indices must lie in \[-4, 4\) for axis 1 of shape \(3, 4\)"):
        ember.take(ember.zeros((3, 4)), [4], axis=1)
    with pytest.raises(TypeError, match="take: indices must be integers"):
        ember.take(ember.zeros((3, 4)), [0.5])
    with pytest.raises(ValueError, match="take: axis 2 is out of range"):
        ember.take(ember.zeros((3, 4)), [0], axis=2)


# ---- take_along_axis --------------------------------------------------------------


@pytest.mark.parametrize(
    "xshape,ishape,axis",
    [((3, 4), (3, 6), 1), ((3, 4), (5, 4), 0), ((3, 4), (1, 2), 1), ((1, 4), (3, 2), 1), ((2, 3, 4), (2, 3, 1), -1)],
)
def test_take_along_axis(xshape, ishape, axis, rng):
    x = rng.standard_normal(xshape)
    idx = rng.integers(-xshape[axis], xshape[axis], ishape)
    np.testing.assert_array_equal(
        ember.take_along_axis(ember.tensor(x, dtype="float64"), idx, axis).numpy(), np.take_along_axis(x, idx, axis)
    )
    nonneg = idx % xshape[axis]  # torch.take_along_dim wants indices in [0, n)
    check_against_torch(
        lambda t: ember.take_along_axis(t, idx, axis=axis),
        lambda t: torch.take_along_dim(t, torch.from_numpy(nonneg), dim=axis),
        noncontiguous(x),
    )
    check_gradients(lambda t: ember.take_along_axis(t, ember.tensor(idx), axis), x)


def test_take_along_axis_with_argsort_and_flat(rng):
    x = rng.standard_normal((3, 5))
    order = np.argsort(x, axis=1)
    check_against_torch(
        lambda t: ember.take_along_axis(t, order, 1), lambda t: torch.take_along_dim(t, torch.from_numpy(order), 1), x
    )
    flat = np.array([14, 0, 0, 7])
    check_against_torch(
        lambda t: ember.take_along_axis(t, flat, None), lambda t: torch.take_along_dim(t, torch.from_numpy(flat)), x
    )
    check_gradients(lambda t: ember.take_along_axis(t, flat, None), x)


def test_take_along_axis_errors():
    x = ember.zeros((3, 4))
    with pytest.raises(ValueError, match=r"take_along_axis: indices of shape \(2,\) must have the rank of x"):
        ember.take_along_axis(x, np.array([0, 1]), 1)
    with pytest.raises(ValueError, match=r"take_along_axis: x of shape \(3, 4\) and indices of shape \(2, 1\) do not"):
        ember.take_along_axis(x, np.zeros((2, 1), dtype=np.int64), 1)
    with pytest.raises(IndexError, match="take_along_axis: indices must lie in"):
        ember.take_along_axis(x, np.full((3, 1), 4), 1)


# ---- one_hot ---------------------------------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_one_hot_matches_keras(axis, dtype):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines ops.one_hot's semantics")
    labels = np.array([[0, 2, -1], [1, 1, 3]])
    out = ember.one_hot(ember.tensor(labels), 4, axis=axis, dtype=dtype)
    expected = keras.ops.convert_to_numpy(keras.ops.one_hot(labels, 4, axis=axis, dtype=dtype))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected)
    assert not out.requires_grad


def test_one_hot_inputs_and_torch():
    labels = [3, 0, 1, 1]
    out = ember.one_hot(labels, 5)
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor(labels), 5).numpy())
    assert out.dtype == np.float32
    np.testing.assert_array_equal(ember.one_hot(np.array(labels), 5).numpy(), out.numpy())
    assert ember.one_hot(np.zeros((0, 2), dtype=np.int64), 3).shape == (0, 2, 3)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="one_hot: labels must be smaller than num_classes=3, got a label 3"):
        ember.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="one_hot: num_classes must be a positive integer"):
        ember.one_hot([0], 0)
    with pytest.raises(ValueError, match="one_hot: axis 3 is out of range"):
        ember.one_hot([[0]], 2, axis=3)


def test_gradient_flows_through_gather_of_a_const_index(rng):
    # the usual cross-entropy pattern: pick each row's target logit
    logits = rng.standard_normal((4, 3))
    target = np.array([2, 0, 1, 2])
    check_gradients(lambda t, y: ember.take_along_axis(t, y[:, None], 1), logits, Const(target))
