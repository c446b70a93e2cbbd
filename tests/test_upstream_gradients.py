"""Every *_grad and *_backward refuses an upstream gradient of the wrong shape, naming dout,
and keeps the dtype of its inputs whatever the dtype of dout."""

import numpy as np
import pytest

import numvae as nv

N, K = 4, 3


def float32(*shape):
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


PER_EXAMPLE = {
    "bernoulli_log_prob_grad": lambda dout: nv.bernoulli_log_prob_grad(
        np.full((N, K), 0.5, np.float32), float32(N, K), dout),
    "gaussian_log_prob_grad": lambda dout: nv.gaussian_log_prob_grad(
        float32(N, K), float32(N, K), np.float32(0.0), dout)[0],
    "kl_standard_normal_grad": lambda dout: nv.kl_standard_normal_grad(float32(N, K), float32(N, K), dout)[0],
    "kl_normal_grad": lambda dout: nv.kl_normal_grad(*(float32(N, K) for _ in range(4)), dout)[0],
}


@pytest.mark.parametrize("name", PER_EXAMPLE)
@pytest.mark.parametrize("bad", [np.ones((N, 1)), np.ones(N + 1), np.ones((1, N)), np.ones(())])
def test_a_per_example_dout_of_another_shape_is_refused(name, bad):
    with pytest.raises(ValueError, match=rf"dout must have shape \({N},\)"):
        PER_EXAMPLE[name](bad)


@pytest.mark.parametrize("name", PER_EXAMPLE)
def test_a_float64_dout_keeps_a_float32_gradient_and_weights_each_example(name):
    dout = np.array([1.0, -2.0, 0.0, 0.5])
    weighted = PER_EXAMPLE[name](dout)
    assert weighted.dtype == np.float32
    expected = PER_EXAMPLE[name](None) * dout[:, None].astype(np.float32)
    np.testing.assert_allclose(weighted, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="dout must be finite"):
        PER_EXAMPLE[name](np.array([1.0, np.nan, 0.0, 1.0]))


@pytest.mark.parametrize("forward, backward", [
    (nv.sigmoid_forward, nv.sigmoid_backward), (nv.tanh_forward, nv.tanh_backward),
    (nv.softplus_forward, nv.softplus_backward), (nv.relu_forward, nv.relu_backward),
    (nv.elu_forward, nv.elu_backward)])
def test_elementwise_backward_refuses_a_dout_of_another_shape(forward, backward):
    _, cache = forward(float32(N, K))
    with pytest.raises(ValueError, match="dout and .* must have the same shape"):
        backward(np.ones((N, 1), np.float32), cache)
