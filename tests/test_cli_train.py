import numpy as np
from PIL import Image

from numvae.cli import main


def test_train_writes_metrics_and_nonblank_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--out", str(out), "--quiet", "--hidden", "32"]) == 0
    text = capsys.readouterr().out
    assert "untrained: test -ELBO" in text and text.count("epoch ") >= 2
    for name in ["reconstructions", "samples", "latent", "manifold", "loss_curves"]:
        img = np.asarray(Image.open(out / "figures" / f"{name}.png").convert("L"), dtype=float)
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert img.std() > 10, f"{name}.png looks blank"


def test_bad_option_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--latent", "0", "--out", str(tmp_path)]) == 2
    assert "latent must be a positive integer" in capsys.readouterr().err
