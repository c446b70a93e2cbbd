"""The encoder's variance heads: the seed's sigma = ReLU(s) + floor, CS236's softplus(s) + 1e-8."""

import numpy as np
import pytest
from gradients import assert_gradient_matches
from hypothesis import given
from hypothesis import strategies as st
from strategies import sigma_floors, sigma_head_inputs, softplus_head_inputs, upstream_gradients

import numvae as nv
from numvae.data import load_digits


@given(sigma_head_inputs(), sigma_floors, st.data())
def test_forward_and_gradient(s, floor, data):
    """sigma = max(s, 0) + floor; ds = dlogvar 2 / sigma where s > 0 and exactly 0 elsewhere."""
    logvar, cache = nv.relu_sigma_logvar_forward(s, floor)
    np.testing.assert_allclose(np.exp(0.5 * logvar), np.maximum(s, 0) + floor, rtol=1e-14)
    dout = data.draw(upstream_gradients(s.shape), label="dout")
    ds = nv.relu_sigma_logvar_backward(dout, cache)
    assert_gradient_matches(ds, lambda v: dout * nv.relu_sigma_logvar_forward(v, floor)[0], s)
    assert np.all(ds[s < 0] == 0)


def test_it_is_what_the_vae_computes(rng):
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(8,), latent=2, variance_head="relu", sigma_floor=0.1))
    params = model.init_params(rng, dtype=np.float64)
    x = load_digits("test").x[:5].astype(np.float64)
    h = np.maximum(x @ params["enc.0.W"] + params["enc.0.b"], 0)
    s = h @ params["enc.sigma.W"] + params["enc.sigma.b"]
    expected = nv.relu_sigma_logvar_forward(s, 0.1)[0]
    np.testing.assert_allclose(expected, model.encode(params, x)[1], rtol=1e-14)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="sigma_floor must be positive"):
        nv.relu_sigma_logvar_forward(np.zeros((1, 2)), 0.0)
    _, cache = nv.relu_sigma_logvar_forward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="dlogvar and s must have the same shape"):
        nv.relu_sigma_logvar_backward(np.zeros((2, 2)), cache)


@given(softplus_head_inputs(), st.data())
def test_softplus_head_forward_and_gradient(s, data):
    """var = log(1 + e^s) + 1e-8 (checked against log1p(exp), fine in float64 on [-24, 6]);
    ds = dlogvar sigmoid(s) / var against central differences."""
    logvar, cache = nv.softplus_variance_logvar_forward(s)
    np.testing.assert_allclose(np.exp(logvar), np.log1p(np.exp(s)) + 1e-8, rtol=1e-13)
    dout = data.draw(upstream_gradients(s.shape), label="dout")
    ds = nv.softplus_variance_logvar_backward(dout, cache)
    assert_gradient_matches(ds, lambda v: dout * nv.softplus_variance_logvar_forward(v)[0], s)


def test_softplus_head_is_what_the_vae_computes(rng):
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(8,), latent=2, variance_head="softplus"))
    params = model.init_params(rng, dtype=np.float64)
    x = load_digits("test").x[:5].astype(np.float64)
    h = np.maximum(x @ params["enc.0.W"] + params["enc.0.b"], 0)
    s = h @ params["enc.var.W"] + params["enc.var.b"]
    variance = np.log1p(np.exp(s)) + 1e-8
    np.testing.assert_allclose(np.log(variance), model.encode(params, x)[1], rtol=1e-13)


def test_softplus_head_floor_keeps_the_variance_positive():
    """Where exp(s) underflows, the variance is the floor itself and logvar ln(1e-8)."""
    logvar, _ = nv.softplus_variance_logvar_forward(np.array([[-800.0, -40.0]]))
    np.testing.assert_allclose(logvar, np.log([[1e-8, 1e-8 + np.exp(-40.0)]]), rtol=1e-15)


def test_softplus_head_bad_input_is_named():
    with pytest.raises(ValueError, match="variance_floor must be positive"):
        nv.softplus_variance_logvar_forward(np.zeros((1, 2)), 0.0)
    with pytest.raises(ValueError, match="s must be finite"):
        nv.softplus_variance_logvar_forward(np.array([[np.nan]]))
    _, cache = nv.softplus_variance_logvar_forward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="dlogvar and s must have the same shape"):
        nv.softplus_variance_logvar_backward(np.zeros((2, 2)), cache)
