"""Shape ops: forward and gradients vs finite differences (float64), PyTorch (float32) and NumPy/Keras semantics."""

import os

import numpy as np
import pytest
from oracles import check_against_torch, check_gradients, noncontiguous

import ember

torch = pytest.importorskip("torch", reason="PyTorch (torch==2.13.0) is the oracle for these tests")


# ---- reshape, expand_dims, squeeze, ravel -------------------------------------


@pytest.mark.parametrize(
    "shape,newshape",
    [
        ((2, 3, 4), (6, 4)),
        ((2, 3, 4), (-1,)),
        ((2, 3, 4), (4, -1, 2)),
        ((1, 5), (5, 1)),
        ((0, 3), (3, -1)),
        ((), (1, 1)),
    ],
)
def test_reshape(shape, newshape, rng):
    x = rng.standard_normal(shape)
    check_against_torch(lambda t: ember.reshape(t, newshape), lambda t: t.reshape(newshape), noncontiguous(x))
    check_gradients(lambda t: ember.reshape(t, newshape), x)
    np.testing.assert_array_equal(ember.tensor(x, dtype="float64").reshape(*newshape).numpy(), x.reshape(newshape))


@pytest.mark.host_only("checks the view through t.numpy(), which copies a device tensor's data")
def test_reshape_of_contiguous_input_is_a_view():
    t = ember.tensor(np.arange(6.0))
    assert np.shares_memory(ember.reshape(t, (2, 3)).numpy(), t.numpy())


def test_reshape_errors_name_both_shapes():
    x = ember.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\) \(6 elements\) into shape \(4, 2\)"
    ):
        ember.reshape(x, (4, 2))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\).*\(4, -1\)"):
        ember.reshape(x, (4, -1))
    with pytest.raises(ValueError, match="one -1"):
        ember.reshape(x, (-1, -1))


def test_ravel_and_flatten(rng):
    x = rng.standard_normal((2, 3))
    check_against_torch(ember.ravel, lambda t: t.flatten(), noncontiguous(x))
    check_gradients(lambda t: t.flatten(), x)


@pytest.mark.parametrize(
    "shape,axis", [((2, 3), 0), ((2, 3), -1), ((2, 3), 1), ((2, 3), (0, 3)), ((), 0), ((0, 2), -2)]
)
def test_expand_dims(shape, axis, rng):
    x = rng.standard_normal(shape)
    expected = np.expand_dims(x, axis)
    out = ember.expand_dims(ember.tensor(x, dtype="float64"), axis)
    np.testing.assert_array_equal(out.numpy(), expected)
    check_gradients(lambda t: ember.expand_dims(t, axis), x)
    if isinstance(axis, int):
        check_against_torch(lambda t: ember.expand_dims(t, axis), lambda t: t.unsqueeze(axis), x)


def test_expand_dims_errors():
    with pytest.raises(ValueError, match="expand_dims: axis 3 is out of range for a tensor with 3 dimensions"):
        ember.expand_dims(ember.zeros((2, 3)), 3)
    with pytest.raises(ValueError, match="expand_dims: repeated axis"):
        ember.expand_dims(ember.zeros((2, 3)), (0, 0))


@pytest.mark.parametrize(
    "shape,axis", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), (0, -1)), ((3,), None), ((1,), 0)]
)
def test_squeeze(shape, axis, rng):
    x = rng.standard_normal(shape)
    np.testing.assert_array_equal(ember.squeeze(ember.tensor(x, dtype="float64"), axis).numpy(), np.squeeze(x, axis))
    check_gradients(lambda t: ember.squeeze(t, axis=axis), x)
    dims = tuple(range(len(shape))) if axis is None else axis
    check_against_torch(lambda t: ember.squeeze(t, axis=axis), lambda t: torch.squeeze(t, dims), x)


def test_squeeze_of_non_unit_axis_raises():
    with pytest.raises(
        ValueError, match=r"squeeze: cannot squeeze axis 1 of a tensor of shape \(1, 3\): it has size 3"
    ):
        ember.squeeze(ember.zeros((1, 3)), axis=1)


# ---- transpose, swapaxes, moveaxis --------------------------------------------


@pytest.mark.parametrize(
    "shape,axes", [((2, 3), None), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, 1, 0)), ((0, 3), (1, 0))]
)
def test_transpose(shape, axes, rng):
    x = rng.standard_normal(shape)
    perm = tuple(reversed(range(len(shape)))) if axes is None else axes
    check_against_torch(lambda t: ember.transpose(t, axes), lambda t: t.permute(perm), noncontiguous(x))
    check_gradients(lambda t: ember.transpose(t, axes), x)


def test_tensor_transpose_methods(rng):
    x = rng.standard_normal((2, 3, 4))
    check_against_torch(lambda t: t.permute(1, 2, 0), lambda t: t.permute(1, 2, 0), x)
    check_against_torch(lambda t: t.transpose(), lambda t: t.permute(2, 1, 0), x)
    check_against_torch(lambda t: t.T, lambda t: t.permute(2, 1, 0), x)


def test_transpose_errors():
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        ember.transpose(ember.zeros((2, 3)), (0, 0))
    with pytest.raises(ValueError, match=r"transpose: axes \(0,\) do not match a tensor with 2 dimensions"):
        ember.transpose(ember.zeros((2, 3)), (0,))


@pytest.mark.parametrize("a,b", [(0, 1), (0, -1), (2, 1), (1, 1)])
def test_swapaxes(a, b, rng):
    x = rng.standard_normal((2, 3, 4))
    check_against_torch(lambda t: ember.swapaxes(t, a, b), lambda t: torch.swapaxes(t, a, b), noncontiguous(x))
    check_gradients(lambda t: t.swapaxes(a, b), x)


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), ((0, 1), (2, 0)), ((2, 0), (0, 1))])
def test_moveaxis(src, dst, rng):
    x = rng.standard_normal((2, 3, 4))
    check_against_torch(lambda t: ember.moveaxis(t, src, dst), lambda t: torch.movedim(t, src, dst), noncontiguous(x))
    check_gradients(lambda t: ember.moveaxis(t, src, dst), x)
    assert ember.moveaxis(ember.tensor(x), src, dst).shape == np.moveaxis(x, src, dst).shape


def test_moveaxis_errors():
    with pytest.raises(ValueError, match="moveaxis: source .* must have the same length"):
        ember.moveaxis(ember.zeros((2, 3)), (0, 1), 0)
    with pytest.raises(ValueError, match="moveaxis: axis 5 is out of range"):
        ember.moveaxis(ember.zeros((2, 3)), 5, 0)


# ---- broadcast_to -------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,target", [((3,), (2, 3)), ((3, 1), (3, 4)), ((1, 1), (2, 3, 4)), ((), (2,)), ((1, 3), (0, 3))]
)
def test_broadcast_to(shape, target, rng):
    x = rng.standard_normal(shape)
    check_against_torch(lambda t: ember.broadcast_to(t, target), lambda t: t.broadcast_to(target), x)
    check_gradients(lambda t: ember.broadcast_to(t, target), x)


def test_broadcast_to_error():
    with pytest.raises(
        ValueError, match=r"broadcast_to: cannot broadcast a tensor of shape \(2, 3\) to shape \(3, 3\)"
    ):
        ember.broadcast_to(ember.zeros((2, 3)), (3, 3))
    with pytest.raises(ValueError, match="broadcast_to: cannot broadcast"):
        ember.broadcast_to(ember.zeros((2, 3)), (3,))


# ---- concatenate, stack, split ------------------------------------------------


@pytest.mark.parametrize(
    "shapes,axis",
    [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 0), (2, 2)], 1), ([(2, 3, 4), (2, 3, 1)], -1), ([(0, 3), (2, 3)], 0)],
)
def test_concatenate(shapes, axis, rng):
    xs = [rng.standard_normal(s) for s in shapes]
    check_against_torch(
        lambda *ts: ember.concatenate(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), *map(noncontiguous, xs)
    )
    check_gradients(lambda *ts: ember.concatenate(list(ts), axis=axis), *xs)


def test_concatenate_errors_name_shapes():
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\) and \(2, 4\) differ outside axis 0"):
        ember.concatenate([ember.zeros((2, 3)), ember.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\) and \(3,\) differ"):
        ember.concatenate([ember.zeros((2, 3)), ember.zeros((3,))])
    with pytest.raises(ValueError, match="concatenate: expected at least one tensor"):
        ember.concatenate([])
    with pytest.raises(ValueError, match="concatenate: axis 2 is out of range"):
        ember.concatenate([ember.zeros((2, 3))], axis=2)


def test_concatenate_only_some_inputs_need_grad(rng):
    a = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((1, 3)))
    ember.concatenate([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 3)))
    assert b.grad is None


@pytest.mark.parametrize("shape,n,axis", [((2, 3), 3, 0), ((2, 3), 2, 2), ((2, 3), 2, -1), ((0, 3), 2, 1), ((), 3, 0)])
def test_stack(shape, n, axis, rng):
    xs = [rng.standard_normal(shape) for _ in range(n)]
    check_against_torch(
        lambda *ts: ember.stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis), *map(noncontiguous, xs)
    )
    check_gradients(lambda *ts: ember.stack(ts, axis=axis), *xs)


def test_stack_errors():
    with pytest.raises(ValueError, match=r"stack: all tensors must have the same shape, got \(2, 3\) and \(3, 2\)"):
        ember.stack([ember.zeros((2, 3)), ember.zeros((3, 2))])
    with pytest.raises(ValueError, match="stack: axis 3 is out of range"):
        ember.stack([ember.zeros((2, 3))], axis=3)


@pytest.mark.parametrize(
    "shape,spec,axis", [((6, 2), 3, 0), ((2, 6), [1, 4], 1), ((2, 6), [2, 2, 5], -1), ((4, 3), 1, 0), ((0, 4), 2, 1)]
)
def test_split(shape, spec, axis, rng):
    x = rng.standard_normal(shape)
    out = ember.split(ember.tensor(x, dtype="float64"), spec, axis=axis)
    expected = np.split(x, spec, axis=axis)
    assert isinstance(out, list) and len(out) == len(expected)
    for o, e in zip(out, expected):
        np.testing.assert_array_equal(o.numpy(), e)
    check_gradients(lambda t: tuple(ember.split(t, spec, axis=axis)), x)
    sizes = [e.shape[axis] for e in expected]
    check_against_torch(
        lambda t: tuple(ember.split(t, spec, axis=axis)), lambda t: torch.split(t, sizes, dim=axis), noncontiguous(x)
    )


def test_split_with_unused_outputs_gets_zero_gradient(rng):
    x = ember.tensor(rng.standard_normal((6, 2)), requires_grad=True)
    a, b, c = ember.split(x, 3)
    (b * 2.0).sum().backward()
    expected = np.zeros((6, 2), dtype=np.float32)
    expected[2:4] = 2.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_split_errors():
    with pytest.raises(ValueError, match=r"split: axis 0 of size 5 \(shape \(5, 2\)\) cannot be divided into 2 equal"):
        ember.split(ember.zeros((5, 2)), 2)
    with pytest.raises(ValueError, match="split: number of sections must be positive"):
        ember.split(ember.zeros((5, 2)), 0)


# ---- pad ------------------------------------------------------------------------


def _torch_pad_arg(widths):
    """numpy-style ((b0, a0), (b1, a1), ...) as torch's flat list, last axis first."""
    flat = []
    for b, a in reversed(widths):
        flat += [b, a]
    return flat


@pytest.mark.parametrize(
    "shape,widths",
    [((2, 3), ((1, 2), (0, 3))), ((2, 3, 4), ((0, 0), (2, 1), (1, 1))), ((0, 3), ((1, 0), (2, 2))), ((3,), ((0, 0),))],
)
@pytest.mark.parametrize("value", [0.0, -1.5])
def test_pad_constant(shape, widths, value, rng):
    x = rng.standard_normal(shape)
    check_against_torch(
        lambda t: ember.pad(t, widths, constant_values=value),
        lambda t: torch.nn.functional.pad(t, _torch_pad_arg(widths), value=value),
        noncontiguous(x),
    )
    check_gradients(lambda t: ember.pad(t, widths, constant_values=value), x)


@pytest.mark.parametrize("pad_width", [1, (1, 2), [[1, 0], [0, 2]], ((2,), (1,))])
def test_pad_width_forms_match_numpy(pad_width, rng):
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(ember.pad(ember.tensor(x, dtype="float64"), pad_width).numpy(), np.pad(x, pad_width))


@pytest.mark.parametrize("mode,torch_mode", [("reflect", "reflect"), ("edge", "replicate"), ("wrap", "circular")])
@pytest.mark.parametrize("widths", [((0, 0), (0, 0), (1, 2), (2, 1)), ((0, 0), (0, 0), (0, 3), (3, 0))])
def test_pad_copying_modes_against_torch(mode, torch_mode, widths, rng):
    x = rng.standard_normal((2, 1, 4, 5))
    check_against_torch(
        lambda t: ember.pad(t, widths, mode=mode),
        lambda t: torch.nn.functional.pad(t, _torch_pad_arg(widths[2:]), mode=torch_mode),
        noncontiguous(x),
    )


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap"])
def test_pad_copying_modes_gradients_and_numpy(mode, rng):
    x = rng.standard_normal((3, 4))
    widths = ((2, 1), (3, 5))  # wider than the axis on the right: padding repeats, as NumPy
    out = ember.pad(ember.tensor(x, dtype="float64"), widths, mode=mode)
    np.testing.assert_array_equal(out.numpy(), np.pad(x, widths, mode=mode))
    check_gradients(lambda t: ember.pad(t, widths, mode=mode), x)


def test_pad_matches_keras(rng):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 defines ops.pad's semantics")
    x = rng.standard_normal((2, 3)).astype(np.float32)
    # torch-backed Keras pads by less than the axis size only, and its 'symmetric' departs from
    # NumPy beyond one element (it pads [0, 1, 2] by 2 as [0, 0, 0, 1, 2]); NumPy is checked above
    cases = [("constant", ((1, 2), (2, 1))), ("reflect", ((1, 1), (2, 1))), ("symmetric", ((1, 1), (1, 0)))]
    for mode, widths in cases:
        expected = keras.ops.convert_to_numpy(keras.ops.pad(x, widths, mode=mode))
        np.testing.assert_array_equal(ember.pad(ember.tensor(x), widths, mode=mode).numpy(), expected)


def test_pad_errors():
    x = ember.zeros((2, 3))
    with pytest.raises(ValueError, match="pad: pad_width must be non-negative"):
        ember.pad(x, -1)
    with pytest.raises(ValueError, match="pad: pad_width .* cannot be read as"):
        ember.pad(x, ((1, 2, 3),))
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        ember.pad(x, 1, mode="mirror")
    with pytest.raises(ValueError, match=r"pad: cannot pad an empty axis in mode 'reflect'"):
        ember.pad(ember.zeros((0, 3)), 1, mode="reflect")


# ---- flip, repeat, tile ---------------------------------------------------------


@pytest.mark.parametrize("shape,axis", [((2, 3), None), ((2, 3), 0), ((2, 3, 4), (0, 2)), ((2, 3), -1), ((0, 3), 1)])
def test_flip(shape, axis, rng):
    x = rng.standard_normal(shape)
    dims = tuple(range(len(shape))) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    check_against_torch(lambda t: ember.flip(t, axis), lambda t: torch.flip(t, dims), noncontiguous(x))
    check_gradients(lambda t: ember.flip(t, axis=axis), x)


@pytest.mark.parametrize(
    "shape,repeats,axis",
    [((2, 3), 2, None), ((2, 3), 3, 0), ((2, 3), 2, -1), ((2, 3), [1, 0, 3], 1), ((3,), [2, 2, 2], 0), ((2, 3), 0, 1)],
)
def test_repeat(shape, repeats, axis, rng):
    x = rng.standard_normal(shape)
    trep = repeats if isinstance(repeats, int) else torch.tensor(repeats)
    check_against_torch(
        lambda t: ember.repeat(t, repeats, axis=axis),
        lambda t: torch.repeat_interleave(t, trep, dim=axis),
        noncontiguous(x),
    )
    check_gradients(lambda t: t.repeat(repeats, axis=axis), x)


def test_repeat_errors():
    with pytest.raises(ValueError, match=r"repeat: got 2 repeat counts for axis 1 of size 3 \(shape \(2, 3\)\)"):
        ember.repeat(ember.zeros((2, 3)), [1, 2], axis=1)
    with pytest.raises(ValueError, match="repeat: repeat counts must be non-negative"):
        ember.repeat(ember.zeros((2, 3)), -1)


@pytest.mark.parametrize(
    "shape,reps", [((2, 3), (2, 1)), ((2, 3), 3), ((3,), (2, 2)), ((2, 1, 3), (2, 2)), ((0, 2), (2, 2))]
)
def test_tile(shape, reps, rng):
    x = rng.standard_normal(shape)
    np.testing.assert_array_equal(ember.tile(ember.tensor(x, dtype="float64"), reps).numpy(), np.tile(x, reps))
    treps = (reps,) if isinstance(reps, int) else reps
    check_against_torch(lambda t: ember.tile(t, reps), lambda t: torch.tile(t, treps), noncontiguous(x))
    check_gradients(lambda t: ember.tile(t, reps), x)
