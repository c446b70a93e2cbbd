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

Run:  python lessons/05_kl_divergence.py      (about 2 s)
Writes lessons/output/05_kl.png: Monte Carlo estimates converging to the closed forms, and
the regulariser KL(N(mu, sigma^2) || N(0, 1)) over (mu, ln sigma).
"""

from __future__ import annotations

import math
import sys

import _common
import matplotlib.pyplot as plt
import numpy as np

import numvae as nv

N_MC = 200_000


def random_spd(rng: np.random.Generator, k: int) -> np.ndarray:
    """A random well-conditioned covariance A A^T + 0.3 I."""
    a = rng.standard_normal((k, k)) * 0.8
    return a @ a.T + 0.3 * np.eye(k)


def monte_carlo(log_ratio: np.ndarray, exact: float, check, what: str) -> np.ndarray:
    """Compare the mean of log q(z) - log p(z) over z ~ q with the closed form; return running means."""
    mc, se = log_ratio.mean(), log_ratio.std(ddof=1) / math.sqrt(log_ratio.size)
    check(abs(mc - exact) < 4 * se, f"{what}: closed form {exact:.5f}, Monte Carlo over {log_ratio.size} "
                                    f"draws {mc:.5f} +- {se:.5f} ({abs(mc - exact) / se:.1f} std. errors)")
    return np.cumsum(log_ratio) / np.arange(1, log_ratio.size + 1)


def main(argv=None) -> int:
    args = _common.parse_args(__doc__, argv)
    rng = np.random.default_rng(args.seed)
    check = _common.Checks()

    _common.section("the seed's formula: q = N(mu, diag sigma^2) against p(z) = N(0, I), J = 2")
    mu, logvar = np.array([[1.2, -0.6]]), np.array([[np.log(0.3**2), np.log(1.7**2)]])
    kl_seed = nv.kl_standard_normal(mu, logvar)[0]
    z = nv.reparameterize(np.repeat(mu, N_MC, 0), np.repeat(logvar, N_MC, 0), rng.standard_normal((N_MC, 2)))
    log_ratio = (nv.gaussian_log_prob(z, np.repeat(mu, N_MC, 0), np.repeat(logvar, N_MC, 0))
                 - nv.gaussian_log_prob(z, np.zeros_like(z), 0.0))
    running_diag = monte_carlo(log_ratio, kl_seed, check, "diagonal q against N(0, I)")
    general = nv.kl_mvn(mu[0], np.diag(np.exp(logvar[0])), np.zeros(2), np.eye(2))
    diag_pair = nv.kl_normal(mu, logvar, np.zeros_like(mu), np.zeros_like(mu))[0]
    check(abs(general - kl_seed) < 1e-12 and abs(diag_pair - kl_seed) < 1e-12,
          f"the special case is the general formula: kl_standard_normal {kl_seed:.12f}, kl_mvn with S0 = diag "
          f"sigma^2, S1 = I {float(general):.12f}, kl_normal against (0, 0) {diag_pair:.12f}")

    _common.section("the general formula: two correlated Gaussians in k = 3 dimensions")
    m0, m1 = rng.standard_normal(3), rng.standard_normal(3)
    s0, s1 = random_spd(rng, 3), random_spd(rng, 3)
    kl_full = float(nv.kl_mvn(m0, s0, m1, s1))
    z = nv.mvn_sample(m0, s0, N_MC, rng)
    running_full = monte_carlo(nv.mvn_log_prob(z, m0, s0) - nv.mvn_log_prob(z, m1, s1), kl_full, check,
                               "full covariances")

    _common.section("properties")
    k, n = 3, 2000
    a0, a1 = rng.standard_normal((n, k, k)), rng.standard_normal((n, k, k))
    c0 = a0 @ a0.transpose(0, 2, 1) + 0.1 * np.eye(k)
    mu0 = rng.standard_normal((n, k)) * 2
    # half the pairs unrelated, half nearly equal (where a sign error in the formula would show)
    scale = np.where(np.arange(n) < n // 2, 1.0, 0.02)
    c1 = np.where(scale[:, None, None] == 1, a1 @ a1.transpose(0, 2, 1) + 0.1 * np.eye(k),
                  c0 + 0.02 * a1 @ a1.transpose(0, 2, 1))
    mu1 = np.where(scale[:, None] == 1, 0, mu0) + scale[:, None] * rng.standard_normal((n, k))
    kls = nv.kl_mvn(mu0, c0, mu1, c1)
    check(kls.min() >= 0, f"non-negative: over {n} random pairs, half of them nearly equal, the smallest "
                          f"KL is {kls.min():.2e} (the largest {kls.max():.1f})")
    self_kl = np.abs(nv.kl_mvn(mu0, c0, mu0, c0)).max()
    check(self_kl < 1e-10, f"zero when the two are equal: largest |KL(p || p)| of {n} = {self_kl:.1e}")
    forward = float(nv.kl_mvn(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1)))
    backward = float(nv.kl_mvn(np.ones(1), 4 * np.eye(1), np.zeros(1), np.eye(1)))
    check(abs(forward - backward) > 0.1,
          f"not symmetric: KL(N(0, 1) || N(1, 4)) = {forward:.4f}, KL(N(1, 4) || N(0, 1)) = {backward:.4f}")
    mu6, lv6 = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    whole = nv.kl_standard_normal(mu6, lv6)
    parts = sum(nv.kl_standard_normal(mu6[:, [j]], lv6[:, [j]]) for j in range(6))
    check(np.max(np.abs(whole - parts)) < 1e-12,
          f"additive over independent dimensions: 6-D KL {whole[0]:.6f} = sum of six 1-D KLs {parts[0]:.6f}")
    A, c = rng.standard_normal((3, 3)) + 2 * np.eye(3), rng.standard_normal(3)
    moved = float(nv.kl_mvn(A @ m0 + c, A @ s0 @ A.T, A @ m1 + c, A @ s1 @ A.T))
    check(abs(moved - kl_full) < 1e-9,
          f"unchanged by an invertible change of coordinates z -> A z + c: {kl_full:.10f} vs {moved:.10f}")

    _common.section("gradients, against central differences (float64)")
    mu_q, lv_q = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    mu_p, lv_p = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    dout = rng.standard_normal(5)
    errors = {}
    g_mu, g_lv = nv.kl_standard_normal_grad(mu_q, lv_q, dout)
    errors["kl_standard_normal: d/dmu"] = nv.rel_error(
        g_mu, nv.numerical_gradient(lambda m: dout @ nv.kl_standard_normal(m, lv_q), mu_q))
    errors["kl_standard_normal: d/dlogvar"] = nv.rel_error(
        g_lv, nv.numerical_gradient(lambda v: dout @ nv.kl_standard_normal(mu_q, v), lv_q))
    grads = nv.kl_normal_grad(mu_q, lv_q, mu_p, lv_p, dout)
    for i, (name, arr) in enumerate((("mu_q", mu_q), ("logvar_q", lv_q), ("mu_p", mu_p), ("logvar_p", lv_p))):
        errors[f"kl_normal: d/d{name}"] = nv.rel_error(
            grads[i], nv.numerical_gradient(lambda _: dout @ nv.kl_normal(mu_q, lv_q, mu_p, lv_p), arr))
    dm0, ds0, dm1, ds1 = nv.kl_mvn_grad(m0, s0, m1, s1)
    s0c, s1c = s0.copy(), s1.copy()  # finite differences through (C + C^T) / 2: the symmetric gradient

    def kl_sym():
        return float(nv.kl_mvn(m0, (s0c + s0c.T) / 2, m1, (s1c + s1c.T) / 2))

    for name, analytic, arr in (("mu0", dm0, m0), ("cov0", ds0, s0c), ("mu1", dm1, m1), ("cov1", ds1, s1c)):
        errors[f"kl_mvn: d/d{name}"] = nv.rel_error(analytic, nv.numerical_gradient(lambda _: kl_sym(), arr))
    for name, err in errors.items():
        print(f"  {name:<24} rel. error {err:.1e}")
    check(max(errors.values()) < 1e-6, f"all {len(errors)} gradients match central differences: "
                                       f"largest rel. error {max(errors.values()):.1e}")
    zero_mu, zero_lv = nv.kl_standard_normal_grad(np.zeros((1, 2)), np.zeros((1, 2)))
    check(not np.any(zero_mu) and not np.any(zero_lv),
          "at mu = 0, sigma = 1 both gradients are exactly 0: the regulariser pulls each q(z|x) to N(0, I)")

    fig, (ax_mc, ax_land) = plt.subplots(1, 2, figsize=(13, 4.5))
    steps = np.unique(np.logspace(1, math.log10(N_MC), 200).astype(int)) - 1
    ax_mc.semilogx(steps + 1, running_diag[steps], label="Monte Carlo, diagonal vs N(0, I)")
    ax_mc.axhline(kl_seed, color="C0", linestyle="--", label=f"closed form {kl_seed:.4f}")
    ax_mc.semilogx(steps + 1, running_full[steps], label="Monte Carlo, full covariances")
    ax_mc.axhline(kl_full, color="C1", linestyle="--", label=f"closed form {kl_full:.4f}")
    ax_mc.set_xlabel("number of draws z ~ q")
    ax_mc.set_ylabel("KL estimate (nats)")
    ax_mc.set_title("E_q[log q - log p] converges to the formula")
    ax_mc.legend(fontsize=8)
    m_grid, ls_grid = np.meshgrid(np.linspace(-3, 3, 121), np.linspace(-2.5, 1.5, 121))
    land = nv.kl_standard_normal(m_grid.reshape(-1, 1), 2 * ls_grid.reshape(-1, 1)).reshape(m_grid.shape)
    cs = ax_land.contourf(m_grid, ls_grid, land, levels=20, cmap="viridis")
    fig.colorbar(cs, ax=ax_land, label="nats")
    ax_land.plot(0, 0, "w+", markersize=12)
    ax_land.set_xlabel("mu")
    ax_land.set_ylabel("ln sigma")
    ax_land.set_title("KL(N(mu, sigma^2) || N(0, 1)), zero at +")
    _common.save_figure(fig, args.out / "05_kl.png")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
