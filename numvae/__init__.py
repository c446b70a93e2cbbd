"""numvae: the variational autoencoder built from scratch in NumPy.

Every layer's backward pass is written by hand; every equation of the VAE is a function
whose docstring carries the math; ``numvae.gradcheck`` lets the computer check each
derivation. Read the modules in this order, which follows the lecture note:

    toy, autoregressive  p_model vs p_data; a tractable explicit density
    linear_gaussian      a latent-variable model where the ELBO identity is exact
    layers, mlp          Linear, ReLU, sigmoid, tanh, softplus: forward/backward pairs
    likelihoods          log p(x|z): Bernoulli (cross-entropy) and Gaussian (squared error)
    kl                   KL divergences between Gaussians, closed forms
    reparameterization   z = mu + sigma * eps (estimators: pathwise vs score function)
    heads                the seed's sigma = ReLU(h) + 0.05
    vae, autoencoder     the models; optim, train: learning
    importance           the importance-weighted log p(x); diagnostics: posterior collapse
    gradcheck            verification of every derivation above
"""

from .autoencoder import Autoencoder
from .autoregressive import LogisticAutoregressive, autoregressive_mask
from .convolution import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_multiply_adds,
    conv2d_output_shape,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose2d_multiply_adds,
    conv_transpose2d_output_shape,
    im2col,
)
from .data import DATASET_NAMES, Dataset, load_dataset, read_amat, read_idx
from .diagnostics import (
    active_units,
    aggregate_posterior_kl,
    aggregate_posterior_moments,
    effective_sample_size,
    kl_per_dimension,
    nearest_neighbor_distance,
)
from .estimators import (
    expected_squared_distance,
    pathwise_gradient,
    score_function_gradient,
    squared_distance,
)
from .gradcheck import check_gradients, format_gradient_table, numerical_gradient, rel_error
from .heads import sigma_head_backward, sigma_head_forward
from .importance import importance_estimates, iwae_log_px, log_importance_weights, logsumexp
from .kl import kl_mvn, kl_mvn_grad, kl_normal, kl_normal_grad, kl_normal_std, kl_normal_std_grad
from .layers import (
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softplus,
    softplus_backward,
    softplus_forward,
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
from .model import ModelConfig
from .mvn import mvn_log_prob, mvn_sample
from .optim import SGD, Adam
from .params import ParamDict
from .reparameterization import reparameterize, reparameterize_backward
from .toy import (
    categorical_entropy,
    categorical_log_prob,
    categorical_log_prob_grad,
    categorical_mle,
    kl_categorical,
    sample_categorical,
    softmax,
)
from .train import evaluate, fit, train_epoch
from .vae import VAE, LossParts

__version__ = "0.1.0"

__all__ = [
    "SGD", "VAE", "Adam", "Autoencoder", "Dataset", "LossParts", "ModelConfig", "ParamDict",
    "bernoulli_log_prob", "bernoulli_log_prob_grad", "check_gradients", "evaluate", "fit",
    "format_gradient_table", "gaussian_log_prob", "gaussian_log_prob_grad", "importance_estimates",
    "iwae_log_px", "kl_mvn",
    "kl_mvn_grad", "kl_normal", "kl_normal_grad", "kl_normal_std", "kl_normal_std_grad",
    "linear_backward", "linear_forward", "load_dataset", "log_importance_weights", "logsumexp",
    "numerical_gradient", "rel_error",
    "DATASET_NAMES", "read_amat", "read_idx",
    "relu_backward", "relu_forward", "reparameterize", "reparameterize_backward", "sigmoid",
    "sigmoid_backward", "sigmoid_forward", "softplus", "softplus_backward", "softplus_forward",
    "tanh_backward", "tanh_forward", "train_epoch",
]

__all__ += [
    "LinearGaussian", "LogisticAutoregressive", "active_units", "aggregate_posterior_kl",
    "aggregate_posterior_moments", "autoregressive_mask", "categorical_entropy", "categorical_log_prob",
    "categorical_log_prob_grad", "categorical_mle", "effective_sample_size", "expected_squared_distance",
    "kl_categorical",
    "kl_per_dimension", "mvn_log_prob", "mvn_sample", "nearest_neighbor_distance", "pathwise_gradient",
    "sample_categorical", "score_function_gradient", "sigma_head_backward", "sigma_head_forward", "softmax",
    "squared_distance",
]

__all__ += [
    "col2im", "conv2d_backward", "conv2d_forward", "conv2d_multiply_adds", "conv2d_output_shape",
    "conv_transpose2d_backward", "conv_transpose2d_forward", "conv_transpose2d_multiply_adds",
    "conv_transpose2d_output_shape", "im2col",
]
