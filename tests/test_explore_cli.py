"""``numvae explore DIR``: the page of a real run folder, and clear errors."""

import re

import pytest

from numvae.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "2", "--hidden", "16", "--out", str(out), "--quiet"]) == 0
    return out


def test_explore_writes_a_self_contained_page_stating_config_and_elbo(run_dir, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["explore", str(run_dir), "--out", str(out)]) == 0
    page = out.read_text()
    assert f"wrote {out}" in capsys.readouterr().out
    assert re.search(r"test -ELBO</td><td>\d+\.\d{3} nats", page)
    assert "64-16-2" in page and "digits" in page
    assert not re.search(r"<script[^>]+src=|<link|https?://", page)
    assert not list(tmp_path.glob("*.tmp")), "the page is written through a temporary file"


def test_explore_default_output_is_inside_the_run(run_dir):
    assert main(["explore", str(run_dir)]) == 0
    assert (run_dir / "explorer.html").stat().st_size > 10_000


def test_explore_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "nope")]) != 0
    assert "nope" in capsys.readouterr().err
