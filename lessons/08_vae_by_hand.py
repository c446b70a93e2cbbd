# %%
"""Lesson 08: one mini-batch through the VAE by hand, forward and backward, every step checked.

The seed's implementation section, written out one primitive at a time for a batch of 8
digits (float64, eps frozen so the loss is an ordinary function):

    encoder   a = x W0 + b0,  h = ReLU(a)
    heads     mu = h W_mu + b_mu;   logvar = h W_lv + b_lv            ('logvar' head)
                                    sigma = ReLU(h W_s + b_s) + 0.05  ('relu' head, the seed's)
    sampling  z = mu + exp(logvar / 2) * eps
    decoder   a' = z W0' + b0',  h' = ReLU(a'),  logits = h' W_out + b_out
    loss      1/N sum_n [ -log Bernoulli(x_n | sigmoid(logits_n)) + KL(q(z|x_n) || N(0, I)) ]

The backward pass is the same list read from the bottom up, each step the backward
function of one primitive. Every intermediate gradient (dL/dlogits, dL/dz, dL/dmu, ...)
and every parameter gradient is checked against central differences, and the whole hand
pass against ``VAE.loss_and_grads``. The seed's two variance heads are run side by side;
the ReLU head's price shows up as units that receive no gradient at all.

Shows: one mini-batch forward and backward by hand, every gradient checked; the two
       variance heads side by side.
Run:  python lessons/08_vae_by_hand.py        (about 10 s)
Writes lessons/output/08_heads.png: the encoder's sigma under each head after training,
and each head's test -ELBO per epoch.
"""

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 08: the VAE by hand
#
# The lecture's implementation section: an encoder turns an image into a 2-D $\mu$ and a
# 2-D $\sigma$; a code $z$ is drawn by the reparameterization trick (lesson 07); a decoder
# turns $z$ into pixel probabilities. Its loss, per batch, is
#
# 1. the **reconstruction loss**, binary cross-entropy summed over the pixels and
#    averaged over the batch;
# 2. the **regularisation loss**, the KL of lesson 05 summed over the latent dimensions
#    and averaged over the batch:
#
# ```python
# recon_loss = tf.keras.losses.binary_crossentropy(img_list[batch_num], out)
# recon_loss = tf.reduce_sum(recon_loss, axis=(1,2))
# recon_loss = tf.reduce_mean(recon_loss)
# reg_loss = -0.5 * (1 + tf.math.log(tf.square(sigma)) - tf.square(mu) - tf.square(sigma))
# reg_loss = tf.reduce_sum(reg_loss, axis=1)
# reg_loss = tf.reduce_mean(reg_loss)
# ```
#
# (Sum over pixels and latent dimensions, mean over the batch: mixing these up is one of
# the two classic VAE bugs; the other is confusing $\ln \sigma^2$ with $\ln \sigma$.)
# Here one mini-batch of 8 digits goes through it one primitive at a time, in float64,
# with $\epsilon$ frozen so that the loss is an ordinary function of its inputs:
#
# $$\begin{aligned}
# &\text{encoder} & a &= x W_0 + b_0, \quad h = \mathrm{ReLU}(a) \\
# &\text{heads} & \mu &= h W_\mu + b_\mu, \quad \ln \sigma^2 = h W_{lv} + b_{lv}
#   \quad \text{or} \quad \sigma = \mathrm{ReLU}(\underbrace{h W_s + b_s}_{s}) + 0.05 \\
# &\text{sampling} & z &= \mu + \exp(\tfrac{1}{2} \ln \sigma^2) \odot \epsilon \\
# &\text{decoder} & a' &= z W_0' + b_0', \quad h' = \mathrm{ReLU}(a'), \quad
#   \mathrm{logits} = h' W_{out} + b_{out} \\
# &\text{loss} & L &= \frac{1}{N} \sum_n \Big[ -\log \mathrm{Bernoulli}\big(x_n \mid
#   \mathrm{sigmoid}(\mathrm{logits}_n)\big) + \mathrm{KL}\big(q(z|x_n) \,\|\,
#   \mathcal{N}(0, I)\big) \Big]
# \end{aligned}$$
#
# The seed's $\sigma$ head makes $\sigma$ non-negative with a ReLU and adds 0.05 because
# a $\sigma$ of exactly 0 would make $q$ a spike; the common choice, the `logvar` head,
# outputs $\ln \sigma^2$, valid for any real number. Both are run.

# %%
BATCH = 8
TOL = 1e-6  # largest relative error accepted against central differences (float64)

# %% [markdown]
# ## The forward pass
#
# One primitive per line, each a `numvae` forward function returning its output and a
# cache for its backward. `keep` records every intermediate by name, and lets a caller
# replace one of them with another value: that is how the loss is differentiated with
# respect to an intermediate (dL/dz, dL/dmu, ...) by central differences.

# %%
def forward(params, x, eps, head: str, floor: float, replace: dict | None = None):
    """The forward pass, one primitive per line.

    ``replace`` swaps in a value for a named intermediate (used to differentiate the loss
    with respect to it). Shapes: x (N, D), eps (N, K). Returns (intermediates, caches, loss).
    """
    replace = replace or {}
    v, c = {}, {}

    def keep(name, value):
        v[name] = replace.get(name, value)
        return v[name]

    a, c["enc.0"] = nv.linear_forward(x, params["enc.0.W"], params["enc.0.b"])  # (N, H)
    a = keep("encoder pre-activation a", a)
    h, c["enc.relu"] = nv.relu_forward(a)  # (N, H)
    h = keep("encoder hidden h", h)
    mu, c["enc.mu"] = nv.linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])  # (N, K)
    mu = keep("mu", mu)
    if head == "logvar":
        logvar, c["enc.logvar"] = nv.linear_forward(h, params["enc.logvar.W"],
                                                    params["enc.logvar.b"])  # (N, K)
    else:
        s, c["enc.sigma"] = nv.linear_forward(h, params["enc.sigma.W"],
                                              params["enc.sigma.b"])  # (N, K)
        s = keep("sigma pre-activation s", s)
        logvar, c["head"] = nv.relu_sigma_logvar_forward(s, floor)  # (N, K) 2 ln(ReLU(s) + floor)
    logvar = keep("logvar", logvar)
    z = keep("z", nv.reparameterize(mu, logvar, eps))  # (N, K)
    a2, c["dec.0"] = nv.linear_forward(z, params["dec.0.W"], params["dec.0.b"])  # (N, H)
    a2 = keep("decoder pre-activation a'", a2)
    h2, c["dec.relu"] = nv.relu_forward(a2)  # (N, H)
    h2 = keep("decoder hidden h'", h2)
    logits, c["dec.out"] = nv.linear_forward(h2, params["dec.out.W"],
                                             params["dec.out.b"])  # (N, D)
    logits = keep("logits", logits)
    # (N,) per example: reconstruction summed over pixels, KL summed over latent dimensions
    per_example = -nv.bernoulli_log_prob(x, logits) + nv.kl_standard_normal(mu, logvar)
    loss = float(np.mean(per_example))  # averaged over the batch
    return v, c, loss


# %% [markdown]
# ## The backward pass
#
# The same list from the bottom up, each line the backward function of one primitive.
# Two places need care. $\mu$ and $\ln \sigma^2$ reach the loss twice, through $z$ and
# through the KL, so their gradients are sums:
#
# $$\frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z}
#   + \frac{1}{N} \frac{\partial\, \mathrm{KL}}{\partial \mu}, \qquad
#   \frac{\partial L}{\partial \ln \sigma^2} = \frac{\partial L}{\partial z} \odot
#   \frac{\sigma \epsilon}{2} + \frac{1}{N} \frac{\partial\, \mathrm{KL}}{\partial \ln
#   \sigma^2},$$
#
# and $h$ feeds both heads, so its gradient is the sum of what comes back from each. The
# mean over the batch becomes the factors $-1/N$ (for $\log p$) and $+1/N$ (for the KL).

# %%
def backward(v, c, x, eps, head: str):
    """The backward pass, bottom to top. Returns (intermediate gradients, parameter gradients)."""
    n = x.shape[0]
    g, p = {}, {}
    # loss = mean_n(-log p(x_n|z_n) + KL_n): d loss / d log p = -1/N, d loss / d KL = +1/N
    g["logits"] = nv.bernoulli_log_prob_grad(x, v["logits"], np.full(n, -1.0 / n))  # (N, D)
    g["decoder hidden h'"], p["dec.out.W"], p["dec.out.b"] = nv.linear_backward(g["logits"],
                                                                             c["dec.out"])
    g["decoder pre-activation a'"] = nv.relu_backward(g["decoder hidden h'"], c["dec.relu"])
    g["z"], p["dec.0.W"], p["dec.0.b"] = nv.linear_backward(g["decoder pre-activation a'"],
                                                            c["dec.0"])  # dz (N, K)
    dmu_sample, dlogvar_sample = nv.reparameterize_backward(g["z"], v["mu"], v["logvar"], eps)
    dmu_kl, dlogvar_kl = nv.kl_standard_normal_grad(v["mu"], v["logvar"], np.full(n, 1.0 / n))
    g["mu"] = dmu_sample + dmu_kl  # (N, K) mu reaches the loss twice: through z and the KL
    g["logvar"] = dlogvar_sample + dlogvar_kl  # (N, K)
    if head == "logvar":
        dh_var, p["enc.logvar.W"], p["enc.logvar.b"] = nv.linear_backward(g["logvar"],
                                                                          c["enc.logvar"])
    else:
        # (N, K): through logvar = 2 ln(ReLU(s) + floor)
        g["sigma pre-activation s"] = nv.relu_sigma_logvar_backward(g["logvar"], c["head"])
        dh_var, p["enc.sigma.W"], p["enc.sigma.b"] = nv.linear_backward(
            g["sigma pre-activation s"], c["enc.sigma"])
    dh_mu, p["enc.mu.W"], p["enc.mu.b"] = nv.linear_backward(g["mu"], c["enc.mu"])
    g["encoder hidden h"] = dh_mu + dh_var  # (N, H) h feeds both heads: their gradients add
    g["encoder pre-activation a"] = nv.relu_backward(g["encoder hidden h"], c["enc.relu"])
    _, p["enc.0.W"], p["enc.0.b"] = nv.linear_backward(g["encoder pre-activation a"], c["enc.0"],
                                                       compute_dx=False)
    return g, p


# %% [markdown]
# ## Checking every gradient
#
# For one head: build a small VAE (hidden 16, latent 2) in float64, freeze
# $\epsilon$, run the two passes, and check
#
# * every intermediate gradient, from $\partial L / \partial\, \mathrm{logits}$ up to
#   $\partial L / \partial a$, against central differences of the loss with that
#   intermediate replaced;
# * every parameter gradient, against central differences with `nv.check_gradients`;
# * the whole hand pass against what `VAE.loss_and_grads` computes.

# %%
def run_by_hand(head: str, x: np.ndarray, rng: np.random.Generator) -> dict:
    """A small VAE with the given head, eps frozen, the hand forward and backward passes."""
    model = nv.VAE(nv.ModelConfig(input_dim=x.shape[1], hidden=(16,), latent=2,
                                  variance_head=head))
    floor = model.config.sigma_floor
    params = model.init_params(rng, dtype=np.float64)
    eps = rng.standard_normal((x.shape[0], 2))  # (N, K) frozen
    v, c, loss = forward(params, x, eps, head, floor)
    g, p = backward(v, c, x, eps, head)
    return {"head": head, "model": model, "floor": floor, "params": params, "x": x, "eps": eps,
            "v": v, "loss": loss, "g": g, "p": p}


def check_intermediate_gradients(r: dict, check) -> None:
    """dL/d(each intermediate) from the backward pass against central differences."""
    head, v, g = r["head"], r["v"], r["g"]
    print(f"  {'intermediate':<28} {'shape':>8}  {'rel. error vs finite differences':>32}")
    inter = {}
    for name in reversed(list(v)):  # in the order the backward pass meets them
        def loss_at(value, name=name):
            return forward(r["params"], r["x"], r["eps"], head, r["floor"],
                           replace={name: value})[2]

        numeric = nv.numerical_gradient(loss_at, v[name].copy())
        inter[name] = nv.rel_error(g[name], numeric)
        print(f"  {name:<28} {'x'.join(map(str, v[name].shape)):>8}  {inter[name]:32.1e}")
    check(max(inter.values()) < TOL,
          f"[{head} head] every intermediate gradient, dL/dlogits up to dL/da, matches central "
          f"differences: largest rel. error {max(inter.values()):.1e}")


def check_parameter_gradients(r: dict, check) -> None:
    """Every parameter gradient against central differences; the hand pass against the VAE's."""
    head, params, x, eps = r["head"], r["params"], r["x"], r["eps"]
    grads = nv.ParamDict.from_arrays({name: r["p"][name] for name in params})
    errors = nv.check_gradients(lambda: forward(params, x, eps, head, r["floor"])[2], params,
                                grads)
    print(nv.format_gradient_table(errors, params.shapes(), threshold=TOL))
    check(max(errors.values()) < TOL,
          f"[{head} head] all {len(errors)} parameter gradients match central differences: "
          f"largest rel. error {max(errors.values()):.1e}")

    parts, model_grads = r["model"].loss_and_grads(params, x, eps=eps)
    agree = max(nv.rel_error(model_grads[name], grads[name]) for name in params)
    check(abs(parts.loss - r["loss"]) < 1e-12 and agree < 1e-12,
          f"[{head} head] the hand pass is what VAE.loss_and_grads computes: loss "
          f"{r['loss']:.10f} vs {parts.loss:.10f}, gradients within rel. error {agree:.1e}")


# %% [markdown]
# ## The ReLU head's price
#
# $\sigma = \mathrm{ReLU}(s) + 0.05$ gives $\partial \ln \sigma^2 / \partial s = 2/\sigma$
# where $s > 0$ and **0** where $s < 0$: a unit whose $s$ is negative sits on the floor,
# $\sigma = 0.05$, and receives no gradient at all until $s$ turns positive again.

# %%
def check_relu_floor(r: dict, check) -> float:
    """Units with s < 0 sit at sigma = floor with a zero gradient; returns their fraction."""
    s = r["v"]["sigma pre-activation s"]  # (N, K)
    sigma = np.exp(0.5 * r["v"]["logvar"])  # (N, K)
    dead = s < 0  # (N, K)
    at_floor = np.allclose(sigma[dead], r["floor"], rtol=1e-12, atol=0)
    check(np.all(r["g"]["sigma pre-activation s"][dead] == 0) and at_floor,
          f"[relu head] {dead.sum()} of the batch's {dead.size} sigmas have s < 0: they sit on "
          f"the floor {r['floor']} and their gradient is exactly 0 until s turns positive")
    return float(dead.mean())


def by_hand(head: str, x: np.ndarray, rng: np.random.Generator, check) -> float | None:
    """Forward, backward and every check for one head; returns the ReLU head's dead fraction."""
    _common.section(f"the '{head}' head: forward, backward, and every gradient checked")
    r = run_by_hand(head, x, rng)
    check_intermediate_gradients(r, check)
    check_parameter_gradients(r, check)
    return check_relu_floor(r, check) if head == "relu" else None


# %% [markdown]
# ## The two heads side by side, trained
#
# The same network (hidden 128, latent 2), the same initial weights and batches, 60
# epochs on the digits, once with each head. Training should lift the ReLU head's
# $\sigma$'s off the floor, and both heads should train.

# %%
def train_both_heads(train, test, seed: int) -> dict:
    """head -> (history, sigma of q(z|x) over the test set (N, 2))."""
    _common.section("side by side: the two heads trained on the digits (hidden 128, latent 2, "
                    "60 epochs)")
    trained = {}
    for head in ("logvar", "relu"):
        model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(128,), latent=2,
                                      variance_head=head))
        run_rng = np.random.default_rng(seed)  # the same initial weights and batches for both
        params = model.init_params(run_rng)
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(3e-3), epochs=60,
                         rng=run_rng, batch_size=64)
        _, logvar = model.encode(params, test.x)  # (N, 2)
        sigma = np.exp(0.5 * logvar)  # (N, 2)
        trained[head] = (history, sigma)
        print(f"  {head:>6} head: test -ELBO {history[0]['test_loss']:.2f} after 1 epoch -> "
              f"{history[-1]['test_loss']:.2f} after 60 (KL {history[-1]['test_kl']:.2f}); "
              f"sigma over the test set {sigma.min():.3f} .. {sigma.max():.3f}")
    return trained


def check_trained_heads(trained: dict, dead_at_init: float, check) -> None:
    """The ReLU head's sigmas leave the floor; both heads train."""
    sigma_relu = trained["relu"][1]  # (N, 2)
    at_floor = np.mean(sigma_relu <= 0.05 + 1e-6)
    check(sigma_relu.min() >= 0.05 - 1e-6 and at_floor < dead_at_init,
          f"training lifts the ReLU head's sigmas off the floor: {dead_at_init:.0%} of the "
          f"batch's sigmas on it at initialisation, {at_floor:.1%} of the test set's after "
          f"training (smallest {sigma_relu.min():.3f})")
    gap = abs(trained["relu"][0][-1]["test_loss"] - trained["logvar"][0][-1]["test_loss"])
    check(all(t[0][-1]["test_loss"] < t[0][0]["test_loss"] for t in trained.values()),
          f"both heads train; on these digits they end {gap:.2f} nats apart in test -ELBO")


# %% [markdown]
# ## The figure
#
# Left, the encoder's $\sigma$ over the test set under each head, with the seed's floor.
# Right, each head's test $-\mathrm{ELBO}$ per epoch.

# %%
def draw_figure(trained: dict, out) -> None:
    fig, (ax_s, ax_l) = plt.subplots(1, 2, figsize=(12, 4.2))
    bins = np.linspace(0, max(t[1].max() for t in trained.values()), 60)
    for head, (history, sigma) in trained.items():
        ax_s.hist(sigma.ravel(), bins=bins, alpha=0.6, label=f"{head} head")
        ax_l.plot([r["epoch"] for r in history], [r["test_loss"] for r in history],
                  label=f"{head} head")
    ax_s.axvline(0.05, color="k", linestyle="--", lw=0.8, label="the seed's floor 0.05")
    ax_s.set_xlabel("sigma of q(z|x) over the test set (both latent dimensions)")
    ax_s.set_title("the encoder's sigma after training")
    ax_s.legend()
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("test -ELBO (nats per image)")
    ax_l.set_title("training, the two heads side by side")
    ax_l.legend()
    _common.save_figure(fig, out / "08_heads.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(False)
    x = train.x[:BATCH].astype(np.float64)  # (BATCH, 64)
    by_hand("logvar", x, rng, check)
    dead_at_init = by_hand("relu", x, rng, check)
    trained = train_both_heads(train, test, args.seed)
    check_trained_heads(trained, dead_at_init, check)
    draw_figure(trained, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
