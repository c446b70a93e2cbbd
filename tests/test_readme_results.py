"""The README's reproduction table says only what the result files in benchmarks/results say.

Every numvae figure in the table must be the figure of some run of
``benchmarks/reproduce.py`` whose JSON is in ``benchmarks/results/`` (same setup, same
seed), rounded to the two decimals printed; the published value and tolerance must be the
ones that run compared against; and "within?" must follow from them. A figure typed by
hand, or left behind when a longer run replaced it, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
HEADER = "| setup | figure | published | numvae | within? |"
FIGURE_KEYS = {"-ELBO": "negative_elbo", "KL": "kl", "reconstruction": "reconstruction"}


def figure_key(label: str) -> str:
    """'-L_5000' -> 'negative_L_5000'; the other labels through FIGURE_KEYS."""
    if label.startswith("-L_"):
        return "negative_L_" + label[3:]
    return FIGURE_KEYS[label]


def table_rows() -> list[dict]:
    """The reproduction table's rows, each with its setup and seed filled in."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(HEADER))
    rows, setup, seed = [], None, 0
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0]:
            setup = re.search(r"`([a-z0-9-]+)", cells[0]).group(1)
            seed_match = re.search(r"--seed (\d+)", cells[0])
            seed = int(seed_match.group(1)) if seed_match else 0
        value, tolerance = (float(part) for part in cells[2].split()[0:3:2])
        rows.append({
            "setup": setup, "seed": seed, "key": figure_key(cells[1]),
            "published": value, "tolerance": tolerance,
            "numvae": cells[3], "within": cells[4].strip("*"),
        })
    return rows


def result_files() -> list[dict]:
    found = []
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "setup" in data and isinstance(data.get("figures"), dict):
            found.append(data)
    return found


ROWS = table_rows()


def test_the_table_is_found_and_covers_every_setup() -> None:
    setups = {row["setup"] for row in ROWS}
    assert {"cs236-vae", "cs236-gmvae", "burda-vae", "pythae-rm-vae"} <= setups


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{row['setup']}-seed{row['seed']}-{row['key']}" for row in ROWS]
)
def test_each_figure_is_a_run_of_the_script(row: dict) -> None:
    matching = [
        data for data in result_files()
        if data["setup"] == row["setup"]
        and data["settings"].get("seed", 0) == row["seed"]
        and row["key"] in data["figures"]
        and f"{data['figures'][row['key']]:.2f}" == row["numvae"]
    ]
    assert matching, f"no JSON in benchmarks/results gives {row['key']} = {row['numvae']}"
    published = matching[0]["published"][row["key"]]
    assert (published["value"], published["tolerance"]) == (row["published"], row["tolerance"])
    within = abs(float(row["numvae"]) - row["published"]) <= row["tolerance"]
    assert row["within"] == ("yes" if within else "no")
