# %%
"""Lesson 05: the KL divergence between Gaussians, closed forms against Monte Carlo.

The VAE's regulariser is KL(q(z|x) || p(z)). The seed writes it for q = N(mu, diag sigma^2)
and p = N(0, I) as

    KL = 1/2 { tr(sigma^2 I) + mu^T mu - J + ln 1 / prod_j sigma_j^2 }
       = 1/2 sum_j ( mu_j^2 + sigma_j^2 - ln sigma_j^2 - 1 )          "easy to compute!!"

a special case of the general formula it quotes for two multivariate normals,

    KL(N0 || N1) = 1/2 { tr(S1^-1 S0) + (m1 - m0)^T S1^-1 (m1 - m0) - k + ln |S1| / |S0| }.

The lesson checks both against Monte Carlo estimates of the definition
KL(q || p) = E_q[log q(z) - log p(z)], checks that the special case really is the general
formula with S0 = diag sigma^2 and S1 = I, shows the properties (non-negative, zero only
when equal, not symmetric, additive over independent dimensions, unchanged by a change of
coordinates) and checks every gradient the VAE uses against finite differences.

Shows: the Gaussian KL closed forms against Monte Carlo, their properties, their gradients.
Run:  python lessons/05_kl_divergence.py      (about 3 s)
Writes lessons/output/05_kl.png: Monte Carlo estimates converging to the closed forms, and
the regulariser KL(N(mu, sigma^2) || N(0, 1)) over (mu, ln sigma).
"""

import math

import matplotlib.pyplot as plt
import numpy as np

import numvae as nv
from numvae.plumbing import lesson as _common

# %% [markdown]
# # Lesson 05: the KL divergence between Gaussians
#
# Minimising the negative ELBO (lesson 04) gives the VAE's loss for one image $x_i$:
#
# $$L_i(\phi, \theta, x_i) = \underbrace{-\mathbb{E}_{q_\phi(z|x_i)}[\log p(x_i \mid
#   g_\theta(z))]}_{\text{reconstruction error}}
#   + \underbrace{\mathrm{KL}(q_\phi(z|x_i) \,\|\, p(z))}_{\text{regularisation}}.$$
#
# The regulariser keeps every $q(z|x)$ close to the prior $p(z)$, so that codes drawn
# from $p(z)$ at generation time look like the codes the decoder was trained on. Both are
# Gaussians, $q = \mathcal{N}(\mu_i, \mathrm{diag}\,\sigma_i^2)$ and
# $p = \mathcal{N}(0, I)$ in $J$ dimensions, and the lecture writes the KL in closed form:
#
# $$\begin{aligned}
# \mathrm{KL}(q_\phi(z|x_i) \,\|\, p(z))
#   &= \frac{1}{2} \left\{ \mathrm{tr}(\sigma_i^2 I) + \mu_i^\top \mu_i - J
#      + \ln \frac{1}{\prod_{j=1}^J \sigma_{i,j}^2} \right\} \\
#   &= \frac{1}{2} \sum_{j=1}^J \left( \mu_{i,j}^2 + \sigma_{i,j}^2 - \ln \sigma_{i,j}^2
#      - 1 \right) \qquad \text{easy to compute!}
# \end{aligned}$$
#
# It is a special case of the general formula for two $k$-dimensional normals,
#
# $$D_{\mathrm{KL}}(\mathcal{N}_0 \,\|\, \mathcal{N}_1) = \frac{1}{2} \left\{
#   \mathrm{tr}(\Sigma_1^{-1} \Sigma_0) + (\mu_1 - \mu_0)^\top \Sigma_1^{-1} (\mu_1 - \mu_0)
#   - k + \ln \frac{|\Sigma_1|}{|\Sigma_0|} \right\},$$
#
# with $\Sigma_0 = \mathrm{diag}\,\sigma^2$, $\mu_1 = 0$, $\Sigma_1 = I$. Both formulas are
# checked here against the definition $\mathrm{KL}(q \,\|\, p) = \mathbb{E}_{z \sim q}
# [\log q(z) - \log p(z)]$, estimated by Monte Carlo.

# %%
N_MC = 200_000  # draws z ~ q for each Monte Carlo estimate


def random_spd(rng: np.random.Generator, k: int) -> np.ndarray:
    """A random well-conditioned covariance A A^T + 0.3 I, (k, k)."""
    a = rng.standard_normal((k, k)) * 0.8  # (k, k)
    return a @ a.T + 0.3 * np.eye(k)


def monte_carlo(log_ratio: np.ndarray, exact: float, check, what: str) -> np.ndarray:
    """Compare the mean of log q(z) - log p(z) over z ~ q with the closed form.

    Returns the running means (n,), for the figure.
    """
    mc, se = log_ratio.mean(), log_ratio.std(ddof=1) / math.sqrt(log_ratio.size)
    check(abs(mc - exact) < 4 * se,
          f"{what}: closed form {exact:.5f}, Monte Carlo over {log_ratio.size} draws {mc:.5f} "
          f"+- {se:.5f} ({abs(mc - exact) / se:.1f} std. errors)")
    return np.cumsum(log_ratio) / np.arange(1, log_ratio.size + 1)


# %% [markdown]
# ## The seed's formula
#
# $J = 2$, $\mu = (1.2, -0.6)$, $\sigma = (0.3, 1.7)$. The VAE's networks output
# $\ln \sigma^2$ (`logvar`), so that is what the functions take. The three routes (the
# seed's formula, the general one with $\Sigma_0 = \mathrm{diag}\,\sigma^2$ and
# $\Sigma_1 = I$, and the KL between two diagonal Gaussians with the second one standard)
# must agree to rounding.

# %%
def check_seed_formula(rng: np.random.Generator, check) -> dict:
    """KL(N(mu, diag sigma^2) || N(0, I)) against Monte Carlo and the general formula."""
    _common.section("the seed's formula: q = N(mu, diag sigma^2) against p(z) = N(0, I), J = 2")
    mu, logvar = np.array([[1.2, -0.6]]), np.array([[np.log(0.3**2), np.log(1.7**2)]])  # (1, 2)
    kl_seed = nv.kl_standard_normal(mu, logvar)[0]
    mus, logvars = np.repeat(mu, N_MC, 0), np.repeat(logvar, N_MC, 0)  # (N_MC, 2) each
    z = nv.reparameterize(mus, logvars, rng.standard_normal((N_MC, 2)))  # (N_MC, 2) z ~ q
    log_ratio = (nv.gaussian_log_prob(z, mus, logvars)
                 - nv.gaussian_log_prob(z, np.zeros_like(z), 0.0))  # (N_MC,) log q - log p
    running = monte_carlo(log_ratio, kl_seed, check, "diagonal q against N(0, I)")
    general = nv.kl_mvn(mu[0], np.diag(np.exp(logvar[0])), np.zeros(2), np.eye(2))
    diag_pair = nv.kl_normal(mu, logvar, np.zeros_like(mu), np.zeros_like(mu))[0]
    check(abs(general - kl_seed) < 1e-12 and abs(diag_pair - kl_seed) < 1e-12,
          f"the special case is the general formula: kl_standard_normal {kl_seed:.12f}, "
          f"kl_mvn with S0 = diag sigma^2, S1 = I {float(general):.12f}, kl_normal against "
          f"(0, 0) {diag_pair:.12f}")
    return {"kl": kl_seed, "running": running}


# %% [markdown]
# ## The general formula
#
# Two correlated Gaussians in $k = 3$ dimensions, random means and covariances; the
# general formula against Monte Carlo over $z \sim \mathcal{N}_0$.

# %%
def check_general_formula(rng: np.random.Generator, check) -> dict:
    """KL(N(m0, S0) || N(m1, S1)) with full covariances against Monte Carlo."""
    _common.section("the general formula: two correlated Gaussians in k = 3 dimensions")
    m0, m1 = rng.standard_normal(3), rng.standard_normal(3)  # (3,) each
    s0, s1 = random_spd(rng, 3), random_spd(rng, 3)  # (3, 3) each
    kl_full = float(nv.kl_mvn(m0, s0, m1, s1))
    z = nv.mvn_sample(m0, s0, N_MC, rng)  # (N_MC, 3)
    log_ratio = nv.mvn_log_prob(z, m0, s0) - nv.mvn_log_prob(z, m1, s1)  # (N_MC,)
    running = monte_carlo(log_ratio, kl_full, check, "full covariances")
    return {"m0": m0, "s0": s0, "m1": m1, "s1": s1, "kl": kl_full, "running": running}


# %% [markdown]
# ## Properties
#
# The lecture calls the KL "the distance between two distributions", and uses that it is
# never negative (that is what makes the ELBO a lower bound). It is not a distance in the
# strict sense:
#
# * $\mathrm{KL}(p \,\|\, q) \ge 0$, with equality only when $p = q$;
# * it is **not symmetric**: $\mathrm{KL}(p \,\|\, q) \ne \mathrm{KL}(q \,\|\, p)$ in
#   general, which is why the order of the arguments matters in lesson 04;
# * it **adds up over independent dimensions**, which is why the VAE's KL is a sum over
#   $j$;
# * it does not depend on the coordinates: $z \mapsto Az + c$ with $A$ invertible leaves
#   it unchanged.

# %%
def check_properties(pair: dict, rng: np.random.Generator, check) -> None:
    """Non-negative, zero when equal, not symmetric, additive, coordinate-free."""
    _common.section("properties")
    k, n = 3, 2000
    a0, a1 = rng.standard_normal((n, k, k)), rng.standard_normal((n, k, k))  # (n, k, k) each
    c0 = a0 @ a0.transpose(0, 2, 1) + 0.1 * np.eye(k)  # (n, k, k) covariances
    mu0 = rng.standard_normal((n, k)) * 2  # (n, k)
    # half the pairs unrelated, half nearly equal (where a sign error in the formula would show)
    scale = np.where(np.arange(n) < n // 2, 1.0, 0.02)  # (n,)
    c1 = np.where(scale[:, None, None] == 1, a1 @ a1.transpose(0, 2, 1) + 0.1 * np.eye(k),
                  c0 + 0.02 * a1 @ a1.transpose(0, 2, 1))  # (n, k, k)
    mu1 = np.where(scale[:, None] == 1, 0, mu0) + scale[:, None] * rng.standard_normal((n, k))
    kls = nv.kl_mvn(mu0, c0, mu1, c1)  # (n,)
    check(kls.min() >= 0, f"non-negative: over {n} random pairs, half of them nearly equal, the "
                          f"smallest KL is {kls.min():.2e} (the largest {kls.max():.1f})")
    self_kl = np.abs(nv.kl_mvn(mu0, c0, mu0, c0)).max()
    check(self_kl < 1e-10,
          f"zero when the two are equal: largest |KL(p || p)| of {n} = {self_kl:.1e}")
    forward = float(nv.kl_mvn(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1)))
    backward = float(nv.kl_mvn(np.ones(1), 4 * np.eye(1), np.zeros(1), np.eye(1)))
    check(abs(forward - backward) > 0.1,
          f"not symmetric: KL(N(0, 1) || N(1, 4)) = {forward:.4f}, KL(N(1, 4) || N(0, 1)) = "
          f"{backward:.4f}")
    mu6, lv6 = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))  # (4, 6) each
    whole = nv.kl_standard_normal(mu6, lv6)  # (4,)
    parts = sum(nv.kl_standard_normal(mu6[:, [j]], lv6[:, [j]]) for j in range(6))  # (4,)
    check(np.max(np.abs(whole - parts)) < 1e-12,
          f"additive over independent dimensions: 6-D KL {whole[0]:.6f} = sum of six 1-D KLs "
          f"{parts[0]:.6f}")
    A, c = rng.standard_normal((3, 3)) + 2 * np.eye(3), rng.standard_normal(3)  # (3, 3), (3,)
    m0, s0, m1, s1 = pair["m0"], pair["s0"], pair["m1"], pair["s1"]
    moved = float(nv.kl_mvn(A @ m0 + c, A @ s0 @ A.T, A @ m1 + c, A @ s1 @ A.T))
    check(abs(moved - pair["kl"]) < 1e-9,
          f"unchanged by an invertible change of coordinates z -> A z + c: {pair['kl']:.10f} vs "
          f"{moved:.10f}")


# %% [markdown]
# ## Gradients
#
# Training needs the KL's derivatives. For the seed's formula they are short:
#
# $$\frac{\partial\, \mathrm{KL}}{\partial \mu_j} = \mu_j, \qquad
#   \frac{\partial\, \mathrm{KL}}{\partial \ln \sigma_j^2} = \frac{1}{2}(\sigma_j^2 - 1),$$
#
# both zero exactly at $\mu = 0$, $\sigma = 1$: the regulariser pulls every $q(z|x)$
# towards $\mathcal{N}(0, I)$. Every gradient `numvae` writes by hand (the seed's KL,
# the diagonal-pair KL, the general one with respect to means and covariances) is checked
# against central differences in float64. A covariance is symmetric, so its finite
# differences go through $(C + C^\top)/2$.

# %%
def check_gradients(pair: dict, rng: np.random.Generator, check) -> None:
    """Every KL gradient against central differences (float64)."""
    _common.section("gradients, against central differences (float64)")
    mu_q, lv_q = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))  # (N, J) each
    mu_p, lv_p = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))  # (N, J) each
    dout = rng.standard_normal(5)  # (N,) upstream gradient of the per-example KLs
    errors = {}
    g_mu, g_lv = nv.kl_standard_normal_grad(mu_q, lv_q, dout)  # (N, J) each
    errors["kl_standard_normal: d/dmu"] = nv.rel_error(
        g_mu, nv.numerical_gradient(lambda m: dout @ nv.kl_standard_normal(m, lv_q), mu_q))
    errors["kl_standard_normal: d/dlogvar"] = nv.rel_error(
        g_lv, nv.numerical_gradient(lambda v: dout @ nv.kl_standard_normal(mu_q, v), lv_q))
    grads = nv.kl_normal_grad(mu_q, lv_q, mu_p, lv_p, dout)
    named = (("mu_q", mu_q), ("logvar_q", lv_q), ("mu_p", mu_p), ("logvar_p", lv_p))
    for i, (name, arr) in enumerate(named):
        errors[f"kl_normal: d/d{name}"] = nv.rel_error(
            grads[i],
            nv.numerical_gradient(lambda _: dout @ nv.kl_normal(mu_q, lv_q, mu_p, lv_p), arr))
    m0, s0, m1, s1 = pair["m0"], pair["s0"], pair["m1"], pair["s1"]
    dm0, ds0, dm1, ds1 = nv.kl_mvn_grad(m0, s0, m1, s1)
    # finite differences through (C + C^T) / 2 give the symmetric gradient kl_mvn_grad returns
    s0c, s1c = s0.copy(), s1.copy()  # (3, 3) each, perturbed in place

    def kl_sym():
        return float(nv.kl_mvn(m0, (s0c + s0c.T) / 2, m1, (s1c + s1c.T) / 2))

    for name, analytic, arr in (("mu0", dm0, m0), ("cov0", ds0, s0c), ("mu1", dm1, m1),
                                ("cov1", ds1, s1c)):
        errors[f"kl_mvn: d/d{name}"] = nv.rel_error(
            analytic, nv.numerical_gradient(lambda _: kl_sym(), arr))
    for name, err in errors.items():
        print(f"  {name:<24} rel. error {err:.1e}")
    check(max(errors.values()) < 1e-6, f"all {len(errors)} gradients match central differences: "
                                       f"largest rel. error {max(errors.values()):.1e}")
    zero_mu, zero_lv = nv.kl_standard_normal_grad(np.zeros((1, 2)), np.zeros((1, 2)))
    check(not np.any(zero_mu) and not np.any(zero_lv),
          "at mu = 0, sigma = 1 both gradients are exactly 0: the regulariser pulls each q(z|x) "
          "to N(0, I)")


# %% [markdown]
# ## The figure
#
# Left, the running Monte Carlo means converging to the two closed forms. Right, the
# regulariser $\mathrm{KL}(\mathcal{N}(\mu, \sigma^2) \,\|\, \mathcal{N}(0, 1))$ over
# $(\mu, \ln \sigma)$: a bowl with its bottom at $\mu = 0$, $\sigma = 1$.

# %%
def draw_figure(seed: dict, general: dict, out) -> None:
    fig, (ax_mc, ax_land) = plt.subplots(1, 2, figsize=(13, 4.5))
    steps = np.unique(np.logspace(1, math.log10(N_MC), 200).astype(int)) - 1  # (<= 200,)
    ax_mc.semilogx(steps + 1, seed["running"][steps], label="Monte Carlo, diagonal vs N(0, I)")
    ax_mc.axhline(seed["kl"], color="C0", linestyle="--", label=f"closed form {seed['kl']:.4f}")
    ax_mc.semilogx(steps + 1, general["running"][steps], label="Monte Carlo, full covariances")
    ax_mc.axhline(general["kl"], color="C1", linestyle="--",
                  label=f"closed form {general['kl']:.4f}")
    ax_mc.set_xlabel("number of draws z ~ q")
    ax_mc.set_ylabel("KL estimate (nats)")
    ax_mc.set_title("E_q[log q - log p] converges to the formula")
    ax_mc.legend(fontsize=8)
    # (121, 121) each: mu across, ln sigma up
    m_grid, ls_grid = np.meshgrid(np.linspace(-3, 3, 121), np.linspace(-2.5, 1.5, 121))
    land = nv.kl_standard_normal(m_grid.reshape(-1, 1), 2 * ls_grid.reshape(-1, 1))  # (121 * 121,)
    cs = ax_land.contourf(m_grid, ls_grid, land.reshape(m_grid.shape), levels=20, cmap="viridis")
    fig.colorbar(cs, ax=ax_land, label="nats")
    ax_land.plot(0, 0, "w+", markersize=12)
    ax_land.set_xlabel("mu")
    ax_land.set_ylabel("ln sigma")
    ax_land.set_title("KL(N(mu, sigma^2) || N(0, 1)), zero at +")
    _common.save_figure(fig, out / "05_kl.png")


# %% [markdown]
# ## Run the lesson

# %%
def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()
    seed = check_seed_formula(rng, check)
    general = check_general_formula(rng, check)
    check_properties(general, rng, check)
    check_gradients(general, rng, check)
    draw_figure(seed, general, args.out)
    return check.finish()


if __name__ == "__main__":
    _common.run(main)
