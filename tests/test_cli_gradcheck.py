"""numvae gradcheck: a per-parameter table, exit 0 when every gradient is right, 1 when one is not."""

import pytest
from test_cli_train import run_cli

import numvae.vae

CONFIGS = {
    "default": [],
    "seed-head-gaussian": ["--variance-head", "relu", "--likelihood", "gaussian", "--hidden", "6,5"],
    "autoencoder": ["--model", "ae", "--latent", "3", "--hidden", "5"],
}


@pytest.mark.parametrize("options", CONFIGS.values(), ids=CONFIGS.keys())
def test_correct_gradients_pass_with_a_table_of_every_parameter(options):
    code, out, _ = run_cli(["gradcheck", "--hidden", "8", *options])
    assert code == 0, out
    rows = [line.split() for line in out.splitlines() if line.endswith(" ok") or line.endswith(" FAIL")]
    names = [r[0] for r in rows]
    assert names[0] == "enc.0.W" and names[-1] == "dec.out.b"
    assert ("enc.sigma.W" in names) == ("relu" in options)
    assert all(r[-1] == "ok" and float(r[-2]) < 1e-6 for r in rows)
    assert f"all {len(rows)} parameters agree" in out


def test_a_wrong_gradient_fails_and_is_named(monkeypatch):
    original = numvae.vae.VAE.loss_and_grads

    def off_by_a_little(self, params, x, **kwargs):
        parts, grads = original(self, params, x, **kwargs)
        grads["enc.mu.b"][...] *= 1.001  # a 0.1% error: far above what float64 differences allow
        return parts, grads

    monkeypatch.setattr(numvae.vae.VAE, "loss_and_grads", off_by_a_little)
    code, out, _ = run_cli(["gradcheck", "--hidden", "8"])
    assert code == 1
    failed = [line.split()[0] for line in out.splitlines() if line.endswith(" FAIL")]
    assert failed == ["enc.mu.b"]
    assert "FAILED: 1 of" in out and "enc.mu.b" in out.splitlines()[-1]
