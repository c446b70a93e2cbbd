"""The whole -ELBO's gradients against finite differences, and the model's contracts."""

import numpy as np
import pytest

import numvae as nv
from numvae.data import load_digits

TOL = 1e-6


def digits_batch(n=8, offset=0):
    return load_digits("train").x[offset:offset + n].astype(np.float64)


@pytest.mark.parametrize("hidden", [(16,), (12, 10)], ids=["1-hidden", "2-hidden"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("head", ["logvar", "relu", "softplus"])
def test_vae_loss_gradients(head, likelihood, hidden):
    rng = np.random.default_rng(7)
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=hidden, latent=2, likelihood=likelihood,
                                  variance_head=head))
    params = model.init_params(rng, dtype=np.float64)
    x = digits_batch()
    eps = rng.standard_normal((8, 2))
    parts, grads = model.loss_and_grads(params, x, eps=eps, beta=0.8)
    assert set(grads) == set(params)
    assert parts.loss == pytest.approx(model.loss(params, x, eps=eps, beta=0.8).loss, rel=1e-14)
    errors = nv.check_gradients(lambda: model.loss(params, x, eps=eps, beta=0.8).loss, params, grads)
    assert max(errors.values()) < TOL, nv.format_gradient_table(errors, params.shapes())


@pytest.mark.parametrize("hidden", [(16,), ()])
def test_autoencoder_gradients(hidden):
    rng = np.random.default_rng(3)
    model = nv.Autoencoder(nv.ModelConfig(input_dim=64, hidden=hidden, latent=3))
    params = model.init_params(rng, dtype=np.float64)
    x = digits_batch()
    _, grads = model.loss_and_grads(params, x)
    errors = nv.check_gradients(lambda: model.loss(params, x).loss, params, grads)
    assert max(errors.values()) < TOL, nv.format_gradient_table(errors)


def test_loss_is_batch_mean_of_pixel_sums_and_latent_sums():
    """-ELBO = mean_n [ -sum_d log p(x_nd|z_n) + sum_j KL_nj ]: the seed's reduction."""
    rng = np.random.default_rng(0)
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(8,), latent=3))
    params = model.init_params(rng, dtype=np.float64)
    x = digits_batch(5)
    eps = rng.standard_normal((5, 3))
    mu, logvar = model.encode(params, x)
    z = mu + np.exp(0.5 * logvar) * eps
    p = model.decode(params, z)
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    kl = 0.5 * (mu**2 + np.exp(logvar) - logvar - 1).sum(1)
    parts = model.loss(params, x, eps=eps)
    assert parts.recon == pytest.approx(bce.mean(), rel=1e-12)
    assert parts.kl == pytest.approx(kl.mean(), rel=1e-12)
    assert parts.loss == pytest.approx((bce + kl).mean(), rel=1e-12)


def test_relu_head_is_the_seeds_sigma():
    rng = np.random.default_rng(1)
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(8,), latent=2, variance_head="relu"))
    params = model.init_params(rng, dtype=np.float64)
    x = digits_batch(4)
    _, logvar = model.encode(params, x)
    h = np.maximum(x @ params["enc.0.W"] + params["enc.0.b"], 0)
    sigma = np.maximum(h @ params["enc.sigma.W"] + params["enc.sigma.b"], 0) + 0.05
    np.testing.assert_allclose(np.exp(0.5 * logvar), sigma, rtol=1e-12)


def test_float32_in_float32_out_and_shapes(rng):
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(16,), latent=2))
    params = model.init_params(rng)
    x = load_digits("test").x[:10]
    parts, grads = model.loss_and_grads(params, x, rng=rng)
    assert params.flat.dtype == np.float32 and grads.flat.dtype == np.float32
    mu, logvar = model.encode(params, x)
    assert mu.shape == logvar.shape == (10, 2) and mu.dtype == np.float32
    assert model.reconstruct(params, x).shape == (10, 64)
    s = model.sample(params, 7, rng)
    assert s.shape == (7, 64) and s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1


def test_same_seed_same_numbers():
    model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(16,), latent=2))
    x = load_digits("test").x[:10]
    a = model.loss_and_grads(model.init_params(np.random.default_rng(5)), x, rng=np.random.default_rng(9))
    b = model.loss_and_grads(model.init_params(np.random.default_rng(5)), x, rng=np.random.default_rng(9))
    assert a[0] == b[0] and np.array_equal(a[1].flat, b[1].flat)


def test_bad_input_names_the_argument(rng):
    with pytest.raises(ValueError, match="latent"):
        nv.ModelConfig(input_dim=64, latent=0)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        nv.ModelConfig(input_dim=64, hidden=(8, -1))
    with pytest.raises(ValueError, match="input_dim"):
        nv.ModelConfig(input_dim=0)
    with pytest.raises(ValueError, match="variance_head"):
        nv.ModelConfig(input_dim=4, variance_head="logstd")
    model = nv.VAE(nv.ModelConfig(input_dim=4, hidden=(3,), latent=2))
    params = model.init_params(rng)
    with pytest.raises(ValueError, match="x must have 4 features"):
        model.loss(params, np.zeros((2, 5)), rng=rng)
    with pytest.raises(ValueError, match="x must be finite"):
        model.loss(params, np.array([[0.0, np.nan, 0.0, 0.0]]), rng=rng)
    with pytest.raises(ValueError, match="x must lie in"):
        model.loss(params, np.full((1, 4), 2.0), rng=rng)
    with pytest.raises(ValueError, match="eps"):
        model.loss(params, np.zeros((2, 4)), eps=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="exactly one of eps"):
        model.loss(params, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="missing enc.mu.W"):
        model.check_params({k: v for k, v in params.items() if k != "enc.mu.W"})
