"""numvae: the variational autoencoder built from scratch in NumPy.

Every layer's backward pass is written by hand; every equation of the VAE is a function
whose docstring carries the math; ``numvae.gradcheck`` lets the computer check each
derivation. The modules, in the order of the lecture note:

    categorical          p_model should match p_data: a categorical model fitted by maximum likelihood
    autoregressive       a tractable explicit density, p(x) = prod_i p(x_i | x_<i)
    multivariate_normal  Gaussian log-densities and draws (Cholesky, never an inverse)
    linear_gaussian      a latent-variable model whose p(x), p(z|x) and ELBO are exact
    kl                   KL divergences between Gaussians, closed forms, and their gradients
    likelihoods          log p(x|z): Bernoulli (cross-entropy) and Gaussian (squared error)
    reparameterization   z = mu + sigma * eps and its backward
    gradient_estimators  pathwise (reparameterized) against score-function gradients
    layers, mlp          Linear, ReLU, ELU, sigmoid, tanh, softplus, the seed's sigma head: pairs
    im2col, convolution  patches as columns; conv2d and its transpose, one matrix product each
    conv_net, networks   the lecture's convolutional encoder/decoder; MLP or convolutional networks
    model_config, vae    the VAE, top to bottom; autoencoder: the same without the KL
    priors               p(z): N(0, I), or a learned mixture of Gaussians
    params, optim, train parameters in one flat buffer, SGD and Adam, the mini-batch loop
    iwae                 the importance-weighted bound L_k: log p(x), and the IWAE objective
    diagnostics          KL per dimension, active units, posterior collapse
    gradcheck            central differences: how each derivation above is verified
    subnormals           why training flushes numbers below 1e-38 to zero

``numvae.data`` loads the data sets; ``numvae.plumbing`` holds what is not the lecture
(argument checks, atomic files, checkpoints, run folders, figures).
"""

from .autoencoder import Autoencoder
from .autoregressive import LogisticAutoregressive, autoregressive_mask
from .categorical import (
    categorical_entropy,
    categorical_log_prob,
    categorical_log_prob_grad,
    categorical_mle,
    kl_categorical,
    sample_categorical,
    softmax,
)
from .conv_shapes import (
    conv2d_multiply_adds,
    conv2d_output_shape,
    conv_transpose2d_multiply_adds,
    conv_transpose2d_output_shape,
)
from .convolution import conv2d_backward, conv2d_forward, conv_transpose2d_backward, conv_transpose2d_forward
from .data import DATASET_NAMES, Dataset, load_dataset, read_amat, read_idx
from .diagnostics import (
    active_units,
    aggregate_posterior_kl,
    aggregate_posterior_moments,
    effective_sample_size,
    kl_per_dimension,
    nearest_neighbor_distance,
)
from .gradcheck import check_gradients, format_gradient_table, numerical_gradient, rel_error
from .gradient_estimators import (
    expected_squared_distance,
    pathwise_gradient,
    score_function_gradient,
    squared_distance,
)
from .im2col import col2im, im2col
from .iwae import importance_estimates, iwae_log_px, log_importance_weights, logsumexp
from .kl import kl_mvn, kl_mvn_grad, kl_normal, kl_normal_grad, kl_standard_normal, kl_standard_normal_grad
from .layers import (
    elu_backward,
    elu_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    relu_sigma_logvar_backward,
    relu_sigma_logvar_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softplus,
    softplus_backward,
    softplus_forward,
    softplus_variance_logvar_backward,
    softplus_variance_logvar_forward,
    tanh_backward,
    tanh_forward,
)
from .likelihoods import (
    bernoulli_log_prob,
    bernoulli_log_prob_grad,
    gaussian_log_prob,
    gaussian_log_prob_grad,
)
from .linear_gaussian import LinearGaussian
from .model_config import ModelConfig
from .multivariate_normal import mvn_log_prob, mvn_sample
from .optim import SGD, Adam
from .params import ParamDict
from .reparameterization import reparameterize, reparameterize_backward
from .train import LossParts, evaluate, fit, train_epoch
from .vae import CVAE, VAE

__version__ = "0.1.0"

# In the lecture's order, as the module docstring lists them.
__all__ = [
    # p_model vs p_data; a tractable explicit density
    "categorical_entropy", "categorical_log_prob", "categorical_log_prob_grad", "categorical_mle",
    "kl_categorical", "sample_categorical", "softmax",
    "LogisticAutoregressive", "autoregressive_mask",
    # latent-variable models: Gaussians, the exact linear-Gaussian model
    "mvn_log_prob", "mvn_sample", "LinearGaussian",
    # the two terms of the loss: KL and likelihood
    "kl_standard_normal", "kl_standard_normal_grad", "kl_normal", "kl_normal_grad", "kl_mvn", "kl_mvn_grad",
    "bernoulli_log_prob", "bernoulli_log_prob_grad", "gaussian_log_prob", "gaussian_log_prob_grad",
    # the reparameterization trick
    "reparameterize", "reparameterize_backward",
    "pathwise_gradient", "score_function_gradient", "squared_distance", "expected_squared_distance",
    # the network's pieces
    "linear_forward", "linear_backward", "relu_forward", "relu_backward", "sigmoid", "sigmoid_forward",
    "sigmoid_backward", "tanh_forward", "tanh_backward", "softplus", "softplus_forward", "softplus_backward",
    "elu_forward", "elu_backward",
    "relu_sigma_logvar_forward", "relu_sigma_logvar_backward",
    "softplus_variance_logvar_forward", "softplus_variance_logvar_backward",
    "im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv_transpose2d_forward",
    "conv_transpose2d_backward", "conv2d_output_shape", "conv_transpose2d_output_shape",
    "conv2d_multiply_adds", "conv_transpose2d_multiply_adds",
    # the models and their training
    "ModelConfig", "VAE", "CVAE", "Autoencoder", "LossParts", "ParamDict", "SGD", "Adam",
    "train_epoch", "evaluate", "fit",
    # evaluation: the importance-weighted bound, posterior collapse
    "logsumexp", "log_importance_weights", "importance_estimates", "iwae_log_px",
    "kl_per_dimension", "active_units", "aggregate_posterior_moments", "aggregate_posterior_kl",
    "effective_sample_size", "nearest_neighbor_distance",
    # verification
    "numerical_gradient", "rel_error", "check_gradients", "format_gradient_table",
    # data
    "DATASET_NAMES", "Dataset", "load_dataset", "read_amat", "read_idx",
]
