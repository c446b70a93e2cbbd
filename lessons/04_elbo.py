# %%
"""Lesson 04: log p(x) = ELBO + KL(q(z|x) || p(z|x)), to the last digit.

The seed's central derivation: for any distribution q_phi(z|x),

    log p(x) = E_q[ log p(x,z) / q(z|x) ]  +  E_q[ log q(z|x) / p(z|x) ]
             =          ELBO(phi)          +   KL(q(z|x) || p(z|x))  (>= 0),

    ELBO     = E_q[log p(x|z)] - KL(q(z|x) || p(z)).

In a VAE neither log p(x) nor p(z|x) can be computed, so the identity can only be trusted.
In the linear-Gaussian model (p(z) = N(0, I), p(x|z) = N(W z + b, s^2 I)) all three terms
have closed forms, so the lesson verifies it to numerical precision; checks the ELBO's
closed form against Monte Carlo of its defining integral; shows the gap closing as q moves
onto the true posterior; and shows that maximising the ELBO over q is minimising the gap
(all the way to 0 when q may be correlated, not quite when q is diagonal like an encoder's).

Shows: log p(x) = ELBO + KL(q || p(z|x)) to 1e-15 on a linear-Gaussian model; the gap
       closing as q reaches the posterior.
Run:  python lessons/04_elbo.py        (about 4 s)
Writes lessons/output/04_elbo_gap.png: q against the true posterior, and ELBO, KL and
log p(x) as q moves onto the posterior.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 04: $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q(z|x)\,\|\,p(z|x))$
#
# Variational inference wants $q_\phi(z|x)$ close to the posterior $p(z|x)$, that is a
# small $\mathrm{KL}(q_\phi(z|x)\,\|\,p(z|x))$, but that KL cannot be computed: $p(z|x)$
# is intractable (lesson 03). The lecture's way around it writes $\log p(x)$ as a sum of
# two terms, using only $\int q_\phi(z|x)\, dz = 1$ and $p(x) = p(x,z) / p(z|x)$:
#
# $$\begin{aligned}
# \log p(x) &= \int \log p(x)\; q_\phi(z|x)\, dz
#   = \int \log \frac{p(x,z)}{p(z|x)}\; q_\phi(z|x)\, dz \\
# &= \int \log\left(\frac{p(x,z)}{q_\phi(z|x)} \cdot \frac{q_\phi(z|x)}{p(z|x)}\right)
#   q_\phi(z|x)\, dz \\
# &= \underbrace{\int \log \frac{p(x,z)}{q_\phi(z|x)}\; q_\phi(z|x)\, dz}_{\mathrm{ELBO}(\phi)}
#  + \underbrace{\int \log \frac{q_\phi(z|x)}{p(z|x)}\; q_\phi(z|x)\, dz}_{\mathrm{KL}(q_\phi(z|x)
#   \,\|\, p(z|x)) \;\ge\; 0}
# \end{aligned}$$
#
# Since the KL is never negative, the first term is a lower bound, the **evidence lower
# bound**: $\log p(x) \ge \mathrm{ELBO}$. And since $\log p(x)$ does not depend on $\phi$,
# raising the ELBO by changing $q$ lowers the KL by exactly as much: maximising the ELBO
# is variational inference, and it pushes $\log p(x)$ up at the same time.
#
# In a VAE none of the three terms can be computed, so the identity can only be trusted.
# In the **linear-Gaussian model**, $p(z) = \mathcal{N}(0, I)$ and
# $p(x|z) = \mathcal{N}(Wz + b, s^2 I)$, all three have closed forms, so it can be checked
# to the last digit. The two columns of $W$ are chosen nearly parallel: the data can
# barely tell the two latent directions apart, so the posterior is strongly correlated,
# something a diagonal $q$ (an encoder's) cannot copy.

# %%
def make_model(rng: np.random.Generator) -> dict:
    """The linear-Gaussian model, one observed x, its exact posterior and a diagonal guess q0."""
    # two latent directions the decoder maps to similar images: the data can barely tell
    # them apart, so the true posterior is strongly correlated
    w1 = rng.standard_normal(5)  # (5,)
    W = np.column_stack([w1, 0.8 * w1 + 0.6 * rng.standard_normal(5)])  # (5, 2)
    lg = nv.LinearGaussian(W, rng.standard_normal(5), noise_logvar=2 * math.log(0.6))
    x, _ = lg.sample(1, rng)  # (1, 5)
    post = lg.posterior(x)  # (m (1, 2), S (2, 2))
    corr = post[1][0, 1] / math.sqrt(post[1][0, 0] * post[1][1, 1])
    # an encoder's guess: a diagonal Gaussian, somewhat off in mean and spread
    q0 = (post[0] + np.array([[0.8, -0.5]]), np.diag([0.5**2, 0.9**2]))  # ((1, 2), (2, 2))
    return {"lg": lg, "x": x, "post": post, "corr": corr, "q0": q0}


# %% [markdown]
# ## The identity, every term in closed form
#
# $\log p(x)$, $\mathrm{ELBO}(q_0)$ and $\mathrm{KL}(q_0\,\|\,p(z|x))$ computed separately,
# for a guess $q_0$ off the posterior in mean and spread, must add up. The derivation's
# second line, Bayes' rule $\log p(x) = \log p(x,z) - \log p(z|x)$, must hold at any $z$.

# %%
def check_identity(m: dict, rng: np.random.Generator, check) -> dict:
    """log p(x) = ELBO + KL in closed form; p(x) = p(x,z) / p(z|x) at random z."""
    lg, x, q0 = m["lg"], m["x"], m["q0"]
    _common.section("the identity, every term in closed form")
    log_px = lg.log_marginal(x)[0]
    elbo = lg.elbo(x, *q0)[0]
    gap = lg.kl_to_posterior(x, *q0)[0]
    print(f"  log p(x) = {log_px:.12f}")
    print(f"  ELBO     = {elbo:.12f}")
    print(f"  KL(q || p(z|x)) = {gap:.12f}")
    diff = abs(log_px - (elbo + gap))
    check(diff < 1e-10,
          f"log p(x) = {log_px:.6f}  ELBO + KL = {elbo + gap:.6f}  |diff| = {diff:.1e}")
    check(gap > 0 and elbo < log_px,
          f"KL >= 0, so the ELBO is a lower bound: {elbo:.4f} < {log_px:.4f}")

    z = rng.standard_normal((5, 2)) * 2  # (5, 2) codes anywhere, not only likely ones
    xs = np.broadcast_to(x, (5, 5))  # (5, 5) x repeated for each code
    bayes = lg.log_joint(xs, z) - lg.log_posterior(z, xs)  # (5,)
    spread = np.max(np.abs(bayes - log_px))
    check(spread < 1e-10,
          f"the derivation's second line, p(x) = p(x,z) / p(z|x), holds at any z: at 5 random "
          f"z, log p(x,z) - log p(z|x) differs from log p(x) by at most {spread:.1e}")
    return {"log_px": log_px, "elbo": elbo}


# %% [markdown]
# ## The ELBO's two forms
#
# Writing $p(x,z) = p(x|z)\, p(z)$ splits the ELBO into the two terms a VAE trains on, a
# reconstruction term and a regulariser (note the KL is now to the prior $p(z)$, not to
# the posterior):
#
# $$\mathrm{ELBO}(\phi) = \int \log \frac{p(x|z)\, p(z)}{q_\phi(z|x)}\; q_\phi(z|x)\, dz
#   = \mathbb{E}_{q_\phi(z|x)}[\log p(x|z)] - \mathrm{KL}(q_\phi(z|x) \,\|\, p(z)).$$
#
# The closed form must equal this difference, and a Monte Carlo average of
# $\log p(x,z) - \log q(z|x)$ over $z \sim q$ must agree with it within its standard error.

# %%
def check_elbo_forms(m: dict, elbo: float, rng: np.random.Generator, check) -> None:
    """ELBO = E_q[log p(x|z)] - KL(q || p(z)) = Monte Carlo of its defining integral."""
    lg, x, q0 = m["lg"], m["x"], m["q0"]
    _common.section("the ELBO's two forms")
    rec = lg.expected_log_likelihood(x, *q0)[0]
    kl_prior = lg.kl_to_prior(x, *q0)[0]
    print(f"  E_q[log p(x|z)] = {rec:.6f}   KL(q || p(z)) = {kl_prior:.6f}   "
          f"difference = {rec - kl_prior:.6f}")
    n = 200_000
    zq = nv.mvn_sample(q0[0][0], q0[1], n, rng)  # (n, 2) draws from q0
    # (n,) log p(x, z) - log q(z|x): the integrand of the ELBO
    integrand = lg.log_joint(np.broadcast_to(x, (n, 5)), zq) - nv.mvn_log_prob(zq, q0[0][0], q0[1])
    mc, se = integrand.mean(), integrand.std(ddof=1) / math.sqrt(n)
    print(f"  Monte Carlo of integral log(p(x,z) / q(z|x)) q(z|x) dz with {n} draws: "
          f"{mc:.4f} +- {se:.4f}")
    check(abs(rec - kl_prior - elbo) < 1e-12,
          f"ELBO = E_q[log p(x|z)] - KL(q || p(z)) = {rec - kl_prior:.6f} (the closed form: "
          f"{elbo:.6f})")
    check(abs(mc - elbo) < 4 * se,
          f"the defining integral agrees: Monte Carlo {mc:.4f} vs closed form {elbo:.4f}, "
          f"{abs(mc - elbo) / se:.1f} standard errors apart")


# %% [markdown]
# ## Closing the gap
#
# Move $q$ along a straight path from the guess to the posterior,
# $q_t = \mathcal{N}((1-t)\,m_0 + t\,m,\ (1-t)\,S_0 + t\,S)$. The gap
# $\mathrm{KL}(q_t\,\|\,p(z|x))$ should shrink at every step and vanish at $t = 1$,
# where the ELBO *is* $\log p(x)$; all along, the ELBO rises exactly as much as the KL
# falls.

# %%
def interpolate(q0, q1, t: float):
    """The Gaussian whose mean and covariance are (1 - t) q0 + t q1 (a path from q0 to q1)."""
    return (1 - t) * q0[0] + t * q1[0], (1 - t) * q0[1] + t * q1[1]


def check_closing_gap(m: dict, log_px: float, check) -> dict:
    """Along the path from q0 to p(z|x): the gap shrinks to 0 and ELBO + KL stays log p(x)."""
    lg, x = m["lg"], m["x"]
    _common.section("closing the gap: q moves onto the true posterior")
    ts = np.linspace(0, 1, 41)  # (41,)
    path = [interpolate(m["q0"], m["post"], t) for t in ts]
    elbos = np.array([lg.elbo(x, *q)[0] for q in path])  # (41,)
    gaps = np.array([lg.kl_to_posterior(x, *q)[0] for q in path])  # (41,)
    print(f"  {'t':>5}  {'ELBO':>12}  {'KL(q||p(z|x))':>14}  {'sum':>12}")
    for i in range(0, 41, 10):
        print(f"  {ts[i]:5.2f}  {elbos[i]:12.6f}  {gaps[i]:14.6e}  {elbos[i] + gaps[i]:12.6f}")
    check(np.all(np.diff(gaps) < 0),
          f"the gap shrinks at every step of the path: {gaps[0]:.4f} -> {gaps[-1]:.1e}")
    check(abs(elbos[-1] - log_px) < 1e-10,
          f"q = p(z|x) closes it: ELBO = {elbos[-1]:.10f} = log p(x) = {log_px:.10f}")
    check(np.max(np.abs(elbos + gaps - log_px)) < 1e-10,
          "along the whole path ELBO + KL stays log p(x): the ELBO rises exactly as much as the "
          "KL falls")
    return {"ts": ts, "path": path, "elbos": elbos}


# %% [markdown]
# ## Maximising the ELBO over $q$ minimises the gap
#
# A VAE never sees the posterior; it only maximises the ELBO. Over all Gaussians (a full
# covariance $LL^\top$), the maximiser is the posterior itself and the gap goes to 0. Over
# diagonal Gaussians, the family a VAE's encoder outputs, the ELBO still improves on the
# guess, but a gap remains: a diagonal $q$ cannot express the posterior's correlation.

# %%
def full_q(theta):
    """theta = (mean (2), log L_11, L_21, log L_22): covariance L L^T, any correlation."""
    L = np.array([[math.exp(theta[2]), 0.0], [theta[3], math.exp(theta[4])]])  # (2, 2)
    return theta[None, :2], L @ L.T


def diag_q(theta):
    """theta = (mean (2), log-variances (2)): the diagonal family of a VAE's encoder."""
    return theta[None, :2], np.diag(np.exp(theta[2:]))


def check_maximising_elbo(m: dict, elbo: float, check):
    """BFGS on the ELBO over full and diagonal Gaussians; returns the best diagonal q."""
    lg, x, q0, corr = m["lg"], m["x"], m["q0"], m["corr"]
    _common.section("maximising the ELBO over q minimises the gap")
    mean0, log_sd0 = q0[0][0], np.log(np.sqrt(np.diag(q0[1])))  # (2,), (2,)
    best_full = minimize(lambda th: -lg.elbo(x, *full_q(th))[0],
                         np.concatenate([mean0, [log_sd0[0], 0.0, log_sd0[1]]]), method="BFGS")
    best_diag = minimize(lambda th: -lg.elbo(x, *diag_q(th))[0],
                         np.concatenate([mean0, 2 * log_sd0]), method="BFGS")
    q_full, q_diag = full_q(best_full.x), diag_q(best_diag.x)
    gap_full, gap_diag = lg.kl_to_posterior(x, *q_full)[0], lg.kl_to_posterior(x, *q_diag)[0]
    print(f"  the posterior's correlation: {corr:.3f}")
    print(f"  best q with a full covariance: ELBO {-best_full.fun:.8f}, gap {gap_full:.2e}")
    print(f"  best diagonal q (an encoder's family): ELBO {-best_diag.fun:.8f}, "
          f"gap {gap_diag:.4f} nats")
    check(gap_full < 1e-8,
          f"maximising the ELBO over correlated Gaussians finds the posterior: gap {gap_full:.1e}")
    check(gap_diag > 1e-3 and -best_diag.fun > elbo,
          f"over diagonal Gaussians it improves on the guess ({elbo:.4f} -> "
          f"{-best_diag.fun:.4f}) but a gap of {gap_diag:.4f} nats remains: a diagonal q "
          f"cannot express the correlation {corr:.2f}")
    return q_diag


# %% [markdown]
# ## The figure
#
# Left, the posterior and three $q$'s (the guess, halfway along the path, the best
# diagonal one) as 1- and 2-standard-deviation contours. Right, the ELBO along the path,
# with the gap to $\log p(x)$ shaded: that area is the KL.

# %%
def draw_figure(m: dict, log_px: float, gap_path: dict, q_diag, out) -> None:
    post, ts, elbos = m["post"], gap_path["ts"], gap_path["elbos"]
    fig, (ax_q, ax_gap) = plt.subplots(1, 2, figsize=(12, 4.8))
    centre = post[0][0]  # (2,)
    g1, g2 = np.meshgrid(np.linspace(centre[0] - 2.5, centre[0] + 2.5, 160),
                         np.linspace(centre[1] - 2.5, centre[1] + 2.5, 160))  # (160, 160) each
    zz = np.column_stack([g1.ravel(), g2.ravel()])  # (25600, 2)
    for (mean, cov), colour, label in ((post, "k", "p(z|x)"),
                                       (m["q0"], "tab:blue", "q at t = 0 (a guess)"),
                                       (gap_path["path"][20], "tab:orange", "q at t = 0.5"),
                                       (q_diag, "tab:green", "best diagonal q")):
        dens = np.exp(nv.mvn_log_prob(zz, mean[0], cov)).reshape(g1.shape)  # (160, 160)
        ax_q.contour(g1, g2, dens, levels=[dens.max() * np.exp(-2), dens.max() * np.exp(-0.5)],
                     colors=colour)
        ax_q.plot([], [], color=colour, label=label)
    ax_q.set_xlabel("z1")
    ax_q.set_ylabel("z2")
    ax_q.set_title("q(z|x) against the true posterior (1 and 2 sd contours)")
    ax_q.legend(loc="upper right", fontsize=8)
    ax_gap.plot(ts, elbos, label="ELBO(q_t)")
    ax_gap.axhline(log_px, color="k", linestyle="--", label="log p(x)")
    ax_gap.fill_between(ts, elbos, log_px, alpha=0.2, label="KL(q_t || p(z|x))")
    ax_gap.set_xlabel("t   (q_t moves from the guess to the posterior)")
    ax_gap.set_ylabel("nats")
    ax_gap.set_title("log p(x) = ELBO + KL: the gap closes")
    ax_gap.legend()
    _common.save_figure(fig, out / "04_elbo_gap.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    m = make_model(rng)
    closed = check_identity(m, rng, check)
    check_elbo_forms(m, closed["elbo"], rng, check)
    gap_path = check_closing_gap(m, closed["log_px"], check)
    q_diag = check_maximising_elbo(m, closed["elbo"], check)
    draw_figure(m, closed["log_px"], gap_path, q_diag, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
