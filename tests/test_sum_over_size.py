"""ops/loss.SumOverSize: Keras's sum_over_batch_size reduction as one op, bit for bit sum then divide_no_nan."""

import numpy as np
import pytest

import ember
from ember.losses.reduction import reduce_values
from ember.ops.loss import SumOverSize, sum_over_size


def _two_ops(x, g):
    t = ember.tensor(x, requires_grad=True)
    out = ember.divide_no_nan(t.sum(), ember.tensor(float(x.size), dtype=t.dtype))
    out.backward(ember.tensor(g))
    return out.numpy(), t.grad.numpy()


def _one_op(x, g):
    t = ember.tensor(x, requires_grad=True)
    out = sum_over_size(t)
    assert type(out.grad_fn) is SumOverSize
    out.backward(ember.tensor(g))
    return out.numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape", [(8,), (7, 3), (2, 3, 5), (5000,), (1,)])
def test_sum_over_size_is_sum_then_divide_no_nan_bit_for_bit(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = np.asarray(rng.standard_normal(), dtype)
    for got, want in zip(_one_op(x, g), _two_ops(x, g)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    x.flat[0] = np.nan  # NaN and inf pass through both the same way
    with np.errstate(all="ignore"):
        for got, want in zip(_one_op(x, g), _two_ops(x, g)):
            np.testing.assert_array_equal(got, want)


def test_reduce_values_takes_the_one_op_where_the_divisor_is_the_count():
    values = ember.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    for reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        out = reduce_values(values, None, reduction)
        assert type(out.grad_fn) is SumOverSize and out.item() == 2.5
    weights = ember.tensor(np.full((2, 3), 2.0, np.float32))
    out = reduce_values(values, weights, "mean_with_sample_weight")  # divided by the weights' sum
    assert type(out.grad_fn) is not SumOverSize and out.item() == pytest.approx(15 / 12)
    assert reduce_values(values, None, "sum").item() == 15.0


def test_sum_over_size_second_order_and_bad_input():
    x = ember.tensor(np.array([1.0, 2.0, 4.0], np.float32), requires_grad=True)
    (gx,) = ember.grad(sum_over_size(x * x), x, create_graph=True)  # 2x / 3
    np.testing.assert_allclose(gx.numpy(), [2 / 3, 4 / 3, 8 / 3], rtol=1e-6)
    (gxx,) = ember.grad(gx.sum(), x)
    np.testing.assert_allclose(gxx.numpy(), [2 / 3] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match="sum_over_size: expected a non-empty floating array, got shape \\(0,\\)"):
        sum_over_size(ember.tensor(np.zeros(0, np.float32)))
