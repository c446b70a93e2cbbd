"""The seed's sigma = ReLU(s) + floor head."""

import numpy as np
import pytest

import numvae as nv
from numvae.data import load_digits


def test_forward_and_gradient(rng):
    s = rng.standard_normal((6, 3))
    logvar, cache = nv.relu_sigma_logvar_forward(s, 0.05)
    np.testing.assert_allclose(np.exp(0.5 * logvar), np.maximum(s, 0) + 0.05, rtol=1e-14)
    dout = rng.standard_normal((6, 3))
    ds = nv.relu_sigma_logvar_backward(dout, cache)
    numeric = nv.numerical_gradient(lambda v: np.sum(dout * nv.relu_sigma_logvar_forward(v, 0.05)[0]), s)
    assert nv.rel_error(ds, numeric) < 1e-6
    assert np.all(ds[s < 0] == 0)


def test_it_is_what_the_vae_computes(rng):
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(8,), latent=2, variance_head="relu", sigma_floor=0.1))
    params = model.init_params(rng, dtype=np.float64)
    x = load_digits("test").x[:5].astype(np.float64)
    h = np.maximum(x @ params["enc.0.W"] + params["enc.0.b"], 0)
    s = h @ params["enc.sigma.W"] + params["enc.sigma.b"]
    np.testing.assert_allclose(nv.relu_sigma_logvar_forward(s, 0.1)[0], model.encode(params, x)[1], rtol=1e-14)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="sigma_floor must be positive"):
        nv.relu_sigma_logvar_forward(np.zeros((1, 2)), 0.0)
    _, cache = nv.relu_sigma_logvar_forward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="dlogvar and s must have the same shape"):
        nv.relu_sigma_logvar_backward(np.zeros((2, 2)), cache)
