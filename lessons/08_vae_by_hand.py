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

Run:  python lessons/08_vae_by_hand.py        (about 4 s)
Writes lessons/output/08_heads.png: the encoder's sigma under each head after training,
and each head's test -ELBO per epoch.
"""

from __future__ import annotations

import sys

import _common
import matplotlib.pyplot as plt
import numpy as np

import numvae as nv

BATCH = 8
TOL = 1e-6


def forward(params, x, eps, head: str, floor: float, replace: dict | None = None):
    """The forward pass, one primitive per line. ``replace`` swaps in a value for a named
    intermediate (used to differentiate the loss with respect to it). Returns
    (intermediates, caches, loss)."""
    replace = replace or {}
    v, c = {}, {}

    def keep(name, value):
        v[name] = replace.get(name, value)
        return v[name]

    a, c["enc.0"] = nv.linear_forward(x, params["enc.0.W"], params["enc.0.b"])
    a = keep("encoder pre-activation a", a)
    h, c["enc.relu"] = nv.relu_forward(a)
    h = keep("encoder hidden h", h)
    mu, c["enc.mu"] = nv.linear_forward(h, params["enc.mu.W"], params["enc.mu.b"])
    mu = keep("mu", mu)
    if head == "logvar":
        logvar, c["enc.logvar"] = nv.linear_forward(h, params["enc.logvar.W"], params["enc.logvar.b"])
    else:
        s, c["enc.sigma"] = nv.linear_forward(h, params["enc.sigma.W"], params["enc.sigma.b"])
        s = keep("sigma pre-activation s", s)
        logvar, c["head"] = nv.relu_sigma_logvar_forward(s, floor)
    logvar = keep("logvar", logvar)
    z = keep("z", nv.reparameterize(mu, logvar, eps))
    a2, c["dec.0"] = nv.linear_forward(z, params["dec.0.W"], params["dec.0.b"])
    a2 = keep("decoder pre-activation a'", a2)
    h2, c["dec.relu"] = nv.relu_forward(a2)
    h2 = keep("decoder hidden h'", h2)
    logits, c["dec.out"] = nv.linear_forward(h2, params["dec.out.W"], params["dec.out.b"])
    logits = keep("logits", logits)
    loss = float(np.mean(-nv.bernoulli_log_prob(x, logits) + nv.kl_standard_normal(mu, logvar)))
    return v, c, loss


def backward(v, c, x, eps, head: str):
    """The backward pass, bottom to top. Returns (intermediate gradients, parameter gradients)."""
    n = x.shape[0]
    g, p = {}, {}
    # loss = mean_n(-log p(x_n|z_n) + KL_n): d loss / d log p = -1/N, d loss / d KL = +1/N
    g["logits"] = nv.bernoulli_log_prob_grad(x, v["logits"], np.full(n, -1.0 / n))
    g["decoder hidden h'"], p["dec.out.W"], p["dec.out.b"] = nv.linear_backward(g["logits"], c["dec.out"])
    g["decoder pre-activation a'"] = nv.relu_backward(g["decoder hidden h'"], c["dec.relu"])
    g["z"], p["dec.0.W"], p["dec.0.b"] = nv.linear_backward(g["decoder pre-activation a'"], c["dec.0"])
    dmu_sample, dlogvar_sample = nv.reparameterize_backward(g["z"], v["mu"], v["logvar"], eps)
    dmu_kl, dlogvar_kl = nv.kl_standard_normal_grad(v["mu"], v["logvar"], np.full(n, 1.0 / n))
    g["mu"] = dmu_sample + dmu_kl  # mu reaches the loss twice: through z and through the KL
    g["logvar"] = dlogvar_sample + dlogvar_kl
    if head == "logvar":
        dh_var, p["enc.logvar.W"], p["enc.logvar.b"] = nv.linear_backward(g["logvar"], c["enc.logvar"])
    else:
        g["sigma pre-activation s"] = nv.relu_sigma_logvar_backward(g["logvar"], c["head"])
        dh_var, p["enc.sigma.W"], p["enc.sigma.b"] = nv.linear_backward(g["sigma pre-activation s"],
                                                                         c["enc.sigma"])
    dh_mu, p["enc.mu.W"], p["enc.mu.b"] = nv.linear_backward(g["mu"], c["enc.mu"])
    g["encoder hidden h"] = dh_mu + dh_var  # h feeds both heads: their gradients add
    g["encoder pre-activation a"] = nv.relu_backward(g["encoder hidden h"], c["enc.relu"])
    _, p["enc.0.W"], p["enc.0.b"] = nv.linear_backward(g["encoder pre-activation a"], c["enc.0"],
                                                       compute_dx=False)
    return g, p


def by_hand(head: str, x: np.ndarray, rng: np.random.Generator, check) -> dict:
    """Forward, backward and every check for one variance head; returns numbers to compare."""
    model = nv.VAE(nv.ModelConfig(input_dim=x.shape[1], hidden=(16,), latent=2, variance_head=head))
    floor = model.config.sigma_floor
    params = model.init_params(rng, dtype=np.float64)
    eps = rng.standard_normal((x.shape[0], 2))
    v, c, loss = forward(params, x, eps, head, floor)
    g, p = backward(v, c, x, eps, head)

    print(f"  {'intermediate':<28} {'shape':>8}  {'rel. error vs finite differences':>32}")
    inter = {}
    for name in reversed(list(v)):  # in the order the backward pass meets them
        def loss_at(value, name=name):
            return forward(params, x, eps, head, floor, replace={name: value})[2]

        numeric = nv.numerical_gradient(loss_at, v[name].copy())
        inter[name] = nv.rel_error(g[name], numeric)
        print(f"  {name:<28} {'x'.join(map(str, v[name].shape)):>8}  {inter[name]:32.1e}")
    check(max(inter.values()) < TOL, f"[{head} head] every intermediate gradient, dL/dlogits up to dL/da, "
                                     f"matches central differences: largest rel. error "
                                     f"{max(inter.values()):.1e}")

    grads = nv.ParamDict.from_arrays({name: p[name] for name in params})
    errors = nv.check_gradients(lambda: forward(params, x, eps, head, floor)[2], params, grads)
    print(nv.format_gradient_table(errors, params.shapes(), threshold=TOL))
    check(max(errors.values()) < TOL, f"[{head} head] all {len(errors)} parameter gradients match central "
                                      f"differences: largest rel. error {max(errors.values()):.1e}")

    parts, model_grads = model.loss_and_grads(params, x, eps=eps)
    agree = max(nv.rel_error(model_grads[name], grads[name]) for name in params)
    check(abs(parts.loss - loss) < 1e-12 and agree < 1e-12,
          f"[{head} head] the hand pass is what VAE.loss_and_grads computes: loss {loss:.10f} vs "
          f"{parts.loss:.10f}, gradients within rel. error {agree:.1e}")
    out = {"loss": loss, "sigma": np.exp(0.5 * v["logvar"])}
    if head == "relu":
        dead = v["sigma pre-activation s"] < 0
        out["dead"] = dead.mean()
        at_floor = np.allclose(out["sigma"][dead], floor, rtol=1e-12, atol=0)
        check(np.all(g["sigma pre-activation s"][dead] == 0) and at_floor,
              f"[relu head] {dead.sum()} of the batch's {dead.size} sigmas have s < 0: they sit on the floor "
              f"{floor} and their gradient is exactly 0 until s turns positive")
    return out


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    train, test = _common.load_data(False)
    x = train.x[:BATCH].astype(np.float64)

    results = {}
    for head in ("logvar", "relu"):
        _common.section(f"the '{head}' head: forward, backward, and every gradient checked")
        results[head] = by_hand(head, x, rng, check)

    _common.section("side by side: the two heads trained on the digits (hidden 128, latent 2, 60 epochs)")
    trained = {}
    for head in ("logvar", "relu"):
        model = nv.VAE(nv.ModelConfig(input_dim=64, hidden=(128,), latent=2, variance_head=head))
        run_rng = np.random.default_rng(args.seed)  # the same initial weights and batches for both
        params = model.init_params(run_rng)
        history = nv.fit(model, params, train.x, test.x, optimizer=nv.Adam(3e-3), epochs=60, rng=run_rng,
                         batch_size=64)
        _, logvar = model.encode(params, test.x)
        trained[head] = (history, np.exp(0.5 * logvar))
        print(f"  {head:>6} head: test -ELBO {history[0]['test_loss']:.2f} after 1 epoch -> "
              f"{history[-1]['test_loss']:.2f} after 60 (KL {history[-1]['test_kl']:.2f}); "
              f"sigma over the test set {np.exp(0.5 * logvar).min():.3f} .. {np.exp(0.5 * logvar).max():.3f}")
    sigma_relu = trained["relu"][1]
    at_floor = np.mean(sigma_relu <= 0.05 + 1e-6)
    check(sigma_relu.min() >= 0.05 - 1e-6 and at_floor < results["relu"]["dead"],
          f"training lifts the ReLU head's sigmas off the floor: {results['relu']['dead']:.0%} of the "
          f"batch's sigmas on it at initialisation, {at_floor:.1%} of the test set's after training "
          f"(smallest {sigma_relu.min():.3f})")
    gap = abs(trained["relu"][0][-1]["test_loss"] - trained["logvar"][0][-1]["test_loss"])
    check(all(t[0][-1]["test_loss"] < t[0][0]["test_loss"] for t in trained.values()),
          f"both heads train; on these digits they end {gap:.2f} nats apart in test -ELBO")

    fig, (ax_s, ax_l) = plt.subplots(1, 2, figsize=(12, 4.2))
    bins = np.linspace(0, max(t[1].max() for t in trained.values()), 60)
    for head, (history, sigma) in trained.items():
        ax_s.hist(sigma.ravel(), bins=bins, alpha=0.6, label=f"{head} head")
        ax_l.plot([r["epoch"] for r in history], [r["test_loss"] for r in history], label=f"{head} head")
    ax_s.axvline(0.05, color="k", linestyle="--", lw=0.8, label="the seed's floor 0.05")
    ax_s.set_xlabel("sigma of q(z|x) over the test set (both latent dimensions)")
    ax_s.set_title("the encoder's sigma after training")
    ax_s.legend()
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("test -ELBO (nats per image)")
    ax_l.set_title("training, the two heads side by side")
    ax_l.legend()
    _common.save_figure(fig, args.out / "08_heads.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
