"""nd functions' gradients (built from Ember's ops) against float64 central differences, and NDArray details."""

import numpy as np
import pytest

import ember
from ember.mxnet import nd
from tests.oracles import check_gradients

rng = np.random.default_rng(0)


def _nd64(t):
    """Run nd functions on Ember's float64 test tensors (re-labelled in place as NDArrays)."""
    return nd._nd(t)


@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("nansum_exclude", lambda a: nd.nansum(_nd64(a), axis=0, exclude=True), [(3, 4)]),
        ("mean_exclude_keep", lambda a: nd.mean(_nd64(a), axis=1, exclude=True, keepdims=True), [(2, 3, 4)]),
        ("max_axis", lambda a: nd.max(_nd64(a), axis=-1), [(3, 5)]),
        ("dot_3d", lambda a, b: nd.dot(_nd64(a), _nd64(b)), [(2, 3, 4), (4, 5)]),
        (
            "dot_transposed",
            lambda a, b: nd.dot(_nd64(a), _nd64(b), transpose_a=True, transpose_b=True),
            [(4, 3), (5, 4)],
        ),
        ("batch_dot", lambda a, b: nd.batch_dot(_nd64(a), _nd64(b), transpose_b=True), [(2, 3, 4), (2, 5, 4)]),
        ("pick", lambda a: nd.pick(_nd64(a), nd.array([0, 3, 1]), axis=1), [(3, 4)]),
        ("softmax_axis1", lambda a: nd.softmax(_nd64(a), axis=1), [(2, 3, 4)]),
        ("log_softmax_temperature", lambda a: nd.log_softmax(_nd64(a), temperature=2.0), [(3, 4)]),
        ("norm", lambda a: nd.norm(_nd64(a)), [(3, 4)]),
        ("reshape_zero", lambda a: _nd64(a).reshape((0, -1)) * 2, [(2, 3, 2)]),
    ],
)
def test_nd_function_gradients(name, fn, shapes):
    arrays = [rng.normal(size=s) for s in shapes]
    check_gradients(fn, *arrays)


def test_nd_array_dtype_rules():
    assert nd.array(np.arange(3)).dtype == np.float32  # MXNet: float32 unless told
    assert nd.array(np.arange(3), dtype="int64").dtype == np.int64
    assert nd.array(nd.array([1, 2], dtype="int32")).dtype == np.int32  # an NDArray keeps its dtype
    assert nd.sum(nd.ones((2, 3))).shape == (1,)
    assert nd.argmax(nd.array([[1, 3], [4, 2]]), axis=1).asnumpy().tolist() == [1.0, 0.0]


def test_nd_ops_accept_plain_ember_tensors_and_numpy():
    t = ember.tensor([[1.0, 2.0]])
    assert isinstance(nd.relu(t), nd.NDArray)
    np.testing.assert_allclose(nd.dot(np.eye(2, dtype="float32"), nd.array([[1.0], [2.0]])).asnumpy(), [[1], [2]])
