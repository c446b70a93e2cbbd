"""The learned mixture prior: its density against scipy, its gradients against central
differences over hypothesis-drawn mixtures, its draws, and its KL estimate's mean."""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from strategies import mixture_prior_inputs

import numvae as nv
from numvae.priors import MixturePrior, StandardNormalPrior


def mixture_params(means, logvars, logits):
    return nv.ParamDict.from_arrays({"prior.means": means, "prior.logvars": logvars, "prior.logits": logits})


def test_log_prob_is_the_weighted_sum_of_gaussian_densities():
    rng = np.random.default_rng(0)
    c, k = 4, 3
    params = mixture_params(rng.standard_normal((c, k)), rng.normal(0, 0.5, (c, k)), rng.standard_normal(c))
    z = rng.standard_normal((10, k)) * 2
    pi = np.exp(params["prior.logits"] - logsumexp(params["prior.logits"]))
    covs = [np.diag(np.exp(params["prior.logvars"][j])) for j in range(c)]
    dens = [multivariate_normal(params["prior.means"][j], covs[j]).logpdf(z) for j in range(c)]
    expected = logsumexp(np.stack(dens, axis=1) + np.log(pi), axis=1)
    np.testing.assert_allclose(MixturePrior(k, c).log_prob(params, z), expected, rtol=1e-12)


def test_one_component_at_the_origin_is_the_standard_normal():
    z = np.random.default_rng(1).standard_normal((7, 2))
    params = mixture_params(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1))
    np.testing.assert_allclose(MixturePrior(2, 1).log_prob(params, z),
                               StandardNormalPrior(2).log_prob(params, z), rtol=1e-13)


@settings(max_examples=40)
@given(mixture_prior_inputs())
def test_log_prob_gradients_match_central_differences(inputs):
    z, means, logvars, logits, dout = inputs
    c, k = means.shape
    prior, params = MixturePrior(k, c), mixture_params(means, logvars, logits)
    grads = params.zeros_like()
    dz = prior.log_prob_grad(params, z, dout, grads)

    def f():
        return float(dout @ prior.log_prob(params, z))

    numeric = {"z": nv.numerical_gradient(lambda _: f(), z)}
    numeric.update({name: nv.numerical_gradient(lambda _: f(), params[name]) for name in params})
    analytic = {"z": dz, **grads}
    for name in numeric:
        assert nv.rel_error(analytic[name], numeric[name]) < 1e-6, name


def test_draws_have_the_mixtures_mean_and_covariance():
    rng = np.random.default_rng(2)
    means = np.array([[-2.0, 0.0], [2.0, 1.0]])
    logvars = np.log(np.array([[0.5, 1.0], [1.0, 0.25]]))
    logits = np.log(np.array([0.3, 0.7]))
    params = mixture_params(means, logvars, logits)
    z = MixturePrior(2, 2).sample(params, 200_000, rng)
    pi = np.array([0.3, 0.7])
    mean = pi @ means
    second = sum(pi[j] * (np.diag(np.exp(logvars[j])) + np.outer(means[j], means[j])) for j in range(2))
    np.testing.assert_allclose(z.mean(axis=0), mean, atol=0.01)
    np.testing.assert_allclose(np.cov(z.T), second - np.outer(mean, mean), atol=0.02)


def test_kl_estimate_averages_to_the_closed_form_for_a_standard_normal_mixture():
    # With one component at the origin the mixture is N(0, I): the mean of the one-sample
    # estimate log q(z|x) - log p(z) over z ~ q must be kl_standard_normal.
    rng = np.random.default_rng(3)
    mu, logvar = np.array([[0.5, -1.0]]), np.array([[-0.5, 0.4]])
    params = mixture_params(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1))
    eps = rng.standard_normal((100_000, 2))
    z = nv.reparameterize(np.repeat(mu, len(eps), 0), np.repeat(logvar, len(eps), 0), eps)
    estimates = MixturePrior(2, 1).kl(params, np.repeat(mu, len(eps), 0), np.repeat(logvar, len(eps), 0), z)
    exact = nv.kl_standard_normal(mu, logvar)[0]
    assert abs(estimates.mean() - exact) < 4 * estimates.std() / np.sqrt(len(eps))


def test_a_trained_mixture_is_a_normalised_density():
    # sum over a fine grid of exp(log p(z)) dz = 1 for any parameters
    rng = np.random.default_rng(4)
    means, logvars = rng.standard_normal((3, 2)), rng.normal(-0.5, 0.3, (3, 2))
    logits = rng.standard_normal(3)
    params = mixture_params(means, logvars, logits)
    grid = np.linspace(-8, 8, 401)
    zz = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    mass = np.exp(MixturePrior(2, 3).log_prob(params, zz)).sum() * (grid[1] - grid[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-6)
