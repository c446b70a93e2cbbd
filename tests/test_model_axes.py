"""The next chapter's axes compose: every combination of label, prior and objective is one
VAE whose every gradient agrees with central differences (float64, eps frozen, 1e-6)."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

import numvae as nv
from numvae.data import load_digits
from numvae.iwae import log_weight_terms

TOL = 1e-6
DIGITS = load_digits("train")
X, Y = DIGITS.x[:6].astype(np.float64), DIGITS.y[:6] % 3


def make(prior="standard", objective="elbo", classes=0, head="logvar", likelihood="bernoulli", seed=1):
    config = nv.ModelConfig(64, hidden=(7,), latent=2, prior=prior, components=3 if prior == "mixture" else 0,
                            objective=objective, k=3 if objective == "iwae" else 1, classes=classes,
                            variance_head=head, likelihood=likelihood)
    model = nv.VAE(config)
    rng = np.random.default_rng(seed)
    params = model.init_params(rng, dtype=np.float64)
    if prior == "mixture":  # away from the symmetric start, so every prior gradient is exercised
        params["prior.logvars"][...] = rng.normal(0, 0.3, params["prior.logvars"].shape)
        params["prior.logits"][...] = rng.normal(0, 0.5, 3)
    eps = rng.standard_normal((3, 6, 2) if objective == "iwae" else (6, 2))
    return model, params, eps, (Y if classes else None)


# Every (prior, objective, label) triple, each with a variance head and a likelihood chosen
# so that every pair of choices across the five axes meets at least once (checked below):
# 8 gradient checks instead of the 32 of the full product.
COMBINATIONS = [
    ("standard", "elbo", 0, "logvar", "bernoulli"), ("standard", "elbo", 3, "relu", "bernoulli"),
    ("standard", "iwae", 0, "relu", "gaussian"), ("standard", "iwae", 3, "logvar", "gaussian"),
    ("mixture", "elbo", 0, "relu", "gaussian"), ("mixture", "elbo", 3, "relu", "bernoulli"),
    ("mixture", "iwae", 0, "relu", "bernoulli"), ("mixture", "iwae", 3, "logvar", "gaussian"),
]


def test_the_combinations_cover_every_pair_of_choices():
    choices = [sorted(set(axis), key=str) for axis in zip(*COMBINATIONS, strict=True)]
    for a, b in itertools.combinations(range(5), 2):
        assert {(c[a], c[b]) for c in COMBINATIONS} == set(itertools.product(choices[a], choices[b]))


@pytest.mark.parametrize("prior, objective, classes, head, likelihood", COMBINATIONS,
                         ids=["-".join(map(str, c)) for c in COMBINATIONS])
def test_every_combination_has_correct_gradients(prior, objective, classes, head, likelihood):
    model, params, eps, y = make(prior, objective, classes, head, likelihood)
    beta = 0.7 if objective == "elbo" else 1.0  # the KL weight belongs to the ELBO only
    parts, grads = model.loss_and_grads(params, X, y=y, eps=eps, beta=beta)
    assert set(grads) == set(params)
    assert parts.loss == model.loss(params, X, y=y, eps=eps, beta=beta).loss

    def loss():
        return model.loss(params, X, y=y, eps=eps, beta=beta).loss

    errors = nv.check_gradients(loss, params, grads)
    assert max(errors.values()) < TOL, nv.format_gradient_table(errors, params.shapes())


@pytest.mark.parametrize("prior", ["standard", "mixture"])
def test_iwae_gradient_is_the_softmax_weighted_sum_of_the_per_draw_gradients(prior):
    # d L_k / d theta = sum_i softmax(log w)_i d log w_i / d theta, derived, not differenced:
    # each draw's gradient comes from the k = 1 objective (whose loss is -log w_i, N = 1).
    model, params, eps, _ = make(prior, "iwae")
    x, eps = X[:1], eps[:, :1]  # one example, its three draws (3, 1, 2)
    _, grads = model.loss_and_grads(params, x, eps=eps)
    log_w, _, _ = log_weight_terms(model, params, x, None, eps)
    w_tilde = np.exp(log_w[:, 0] - np.logaddexp.reduce(log_w[:, 0]))
    single = nv.VAE(replace(model.config, k=1))
    weighted = params.zeros_like()
    for i in range(3):
        parts, g = single.loss_and_grads(params, x, eps=eps[i:i + 1])
        assert parts.loss == pytest.approx(-log_w[i, 0], rel=1e-12)
        weighted.flat += w_tilde[i] * g.flat
    assert nv.rel_error(grads.flat, weighted.flat) < 1e-12


def test_l1_is_the_elbo_with_the_kl_estimated_from_the_draw():
    # objective='iwae' with k = 1: -L_1 = -(log p(x|z) + log p(z) - log q(z|x)) at the drawn z,
    # whose mean over draws is the closed-form -ELBO of objective='elbo'.
    elbo_model, params, _, _ = make()
    iwae_model = nv.VAE(replace(elbo_model.config, objective="iwae"))
    rng = np.random.default_rng(5)
    eps = rng.standard_normal((4000, 6, 2))
    l1 = [iwae_model.loss(params, X, eps=eps[i:i + 1]).loss for i in range(400)]
    elbo = [elbo_model.loss(params, X, eps=eps[i]).loss for i in range(400)]
    # the same draws: the two differ only by the KL's Monte Carlo noise, which averages out
    diff = np.array(l1) - np.array(elbo)
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(diff.size)


def test_l_k_grows_with_k_toward_log_px():
    # q(z|x) made too wide (sigma = e^1.5 / 2 ~ 2.1), so the bound has room to tighten
    model, params, _, _ = make()
    params["enc.logvar.b"][...] = 1.5
    x = DIGITS.x[:300].astype(np.float64)
    rng = np.random.default_rng(0)
    estimates = [nv.iwae_log_px(model, params, x, k, rng).mean() for k in (1, 5, 50, 500)]
    assert estimates == sorted(estimates) and estimates[-1] - estimates[0] > 1, estimates


def test_iwae_noise_has_k_draws_and_a_wrong_shape_is_named():
    model, params, eps, _ = make(objective="iwae")
    with pytest.raises(ValueError, match=r"eps must have shape \(3, 6, 2\), got \(6, 2\)"):
        model.loss(params, X, eps=eps[0])
    with pytest.raises(ValueError, match="pass exactly one of eps"):
        model.loss(params, X)


def test_a_conditional_model_needs_its_labels_and_the_others_refuse_them():
    model, params, eps, y = make(classes=3)
    with pytest.raises(ValueError, match=r"y \(the labels\) is required: this model is conditional"):
        model.loss(params, X, eps=eps)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 2\] for 3 classes, got values in \[0, 5\]"):
        model.loss(params, X, y=np.arange(6), eps=eps)
    with pytest.raises(ValueError, match=r"y must have shape \(6,\)"):
        model.loss(params, X, y=y[:5], eps=eps)
    with pytest.raises(TypeError, match="y must hold integer class labels"):
        model.loss(params, X, y=y.astype(float), eps=eps)
    plain, plain_params, plain_eps, _ = make()
    with pytest.raises(ValueError, match="y must be None: this model is not conditional"):
        plain.loss(plain_params, X, y=Y, eps=plain_eps)
    with pytest.raises(ValueError, match="a CVAE needs the number of classes"):
        nv.CVAE(nv.ModelConfig(64))
    assert isinstance(nv.CVAE(nv.ModelConfig(64, classes=10)), nv.VAE)


def test_the_label_is_a_one_hot_input_of_encoder_and_decoder():
    model, params, _, y = make(classes=3)
    z = np.random.default_rng(0).standard_normal((6, 2))
    # by hand: [z, one_hot(y)] through the decoder's ReLU layer and its output layer
    inputs = np.hstack([z, np.eye(3)[y]])
    h = np.maximum(inputs @ params["dec.0.W"] + params["dec.0.b"], 0)
    expected = nv.sigmoid(h @ params["dec.out.W"] + params["dec.out.b"])
    np.testing.assert_allclose(model.decode(params, z, y), expected, rtol=1e-12)
    # the same z under two labels gives two images
    zeros, ones = np.zeros(6, int), np.ones(6, int)
    assert np.abs(model.decode(params, z, zeros) - model.decode(params, z, ones)).max() > 1e-3
    assert params["enc.0.W"].shape == (64 + 3, 7) and params["dec.0.W"].shape == (2 + 3, 7)


def test_bad_combinations_are_refused_by_the_configuration():
    cases = [(dict(prior="mixture"), "components must be a positive integer"),
             (dict(prior="mixture", components=0), "components must be a positive integer, got 0"),
             (dict(components=3), "components is the mixture prior's"),
             (dict(objective="iwae", k=0), "k must be a positive integer, got 0"),
             (dict(k=5), "k is the number of draws of objective='iwae'"),
             (dict(classes=-1), "classes must be 0"),
             (dict(prior="vamp"), "prior must be one of"),
             (dict(objective="iwea"), "objective must be one of")]
    for kwargs, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            nv.ModelConfig(64, **kwargs)
    with pytest.raises(ValueError, match="the plain autoencoder has no label, prior or objective"):
        nv.Autoencoder(nv.ModelConfig(64, classes=10))


def test_the_standard_prior_keeps_the_parameters_and_draws_of_before():
    # Adding the axes must not change a plain VAE: same names, same initial values.
    config = nv.ModelConfig(64, hidden=(8,), latent=2)
    params = nv.VAE(config).init_params(np.random.default_rng(0))
    assert not [name for name in params if name.startswith("prior.")]
    rng = np.random.default_rng(0)
    assert params["enc.0.W"][0, 0] == np.float32(rng.uniform(-1 / 8, 1 / 8))


@pytest.mark.parametrize("activation", ["relu", "elu", "tanh"])
@pytest.mark.parametrize("model_class", [nv.VAE, nv.Autoencoder])
def test_every_hidden_activation_has_correct_gradients(activation, model_class):
    model = model_class(nv.ModelConfig(64, hidden=(7, 5), latent=2, activation=activation))
    params = model.init_params(np.random.default_rng(0), dtype=np.float64)
    eps = np.random.default_rng(1).standard_normal((6, 2))
    _, grads = model.loss_and_grads(params, X, eps=eps)
    errors = nv.check_gradients(lambda: model.loss(params, X, eps=eps).loss, params, grads)
    assert max(errors.values()) < TOL, nv.format_gradient_table(errors, params.shapes())


CONV_CASES = [((5,), 0, "logvar", "elbo", nv.VAE), ((), 0, "relu", "elbo", nv.VAE),
              ((5,), 3, "relu", "iwae", nv.VAE), ((5,), 0, "logvar", "elbo", nv.Autoencoder),
              ((), 0, "logvar", "elbo", nv.Autoencoder)]


@pytest.mark.parametrize("hidden, classes, head, objective, model_class", CONV_CASES)
def test_the_convolutional_network_has_correct_gradients(hidden, classes, head, objective, model_class):
    config = nv.ModelConfig(64, hidden=hidden, latent=2, arch="conv", image_shape=(8, 8),
                            conv_channels=(2, 3), classes=classes, variance_head=head,
                            objective=objective, k=2 if objective == "iwae" else 1)
    model = model_class(config)
    rng = np.random.default_rng(0)
    params = model.init_params(rng, dtype=np.float64)
    x, y = X[:4], (Y[:4] if classes else None)
    eps = rng.standard_normal((2, 4, 2) if objective == "iwae" else (4, 2))
    _, grads = model.loss_and_grads(params, x, y=y, eps=eps)
    errors = nv.check_gradients(lambda: model.loss(params, x, y=y, eps=eps).loss, params, grads)
    assert max(errors.values()) < TOL, nv.format_gradient_table(errors, params.shapes())


def test_the_convolutional_network_has_the_lectures_shapes():
    config = nv.ModelConfig(1024, hidden=(256,), latent=2, arch="conv", image_shape=(32, 32))
    shapes = nv.VAE(config).param_shapes()
    assert shapes["enc.conv0.W"] == (32, 1, 3, 3) and shapes["enc.conv1.W"] == (64, 32, 3, 3)
    assert shapes["enc.0.W"] == (64 * 8 * 8, 256)  # two stride-2 convolutions: 32 -> 16 -> 8
    assert shapes["dec.fc.W"] == (256, 64 * 8 * 8)
    assert shapes["dec.deconv0.W"] == (64, 32, 3, 3) and shapes["dec.deconv1.W"] == (32, 1, 3, 3)
    assert "dec.out.W" not in shapes
    model = nv.VAE(config)
    params = model.init_params(np.random.default_rng(0))
    images = model.decode(params, np.zeros((3, 2), np.float32))
    assert images.shape == (3, 1024) and images.dtype == np.float32
    # PyTorch's Conv2d initialisation: U(+-1/sqrt(fan_in)), fan_in = C_in * 3 * 3
    assert np.abs(params["enc.conv1.W"]).max() <= 1 / np.sqrt(32 * 9)
    assert np.abs(params["enc.conv1.W"]).max() > 0.9 / np.sqrt(32 * 9)
