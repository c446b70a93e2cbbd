"""numvae.plumbing.atomic's JSON writer: what the runs and the benchmarks write their figures with."""

import json
import os

import pytest

from numvae.plumbing.atomic import atomic_write_json


def test_json_is_written_indented_with_a_final_newline_and_reads_back(tmp_path):
    path = tmp_path / "figures.json"
    value = {"ratio": 1.025, "runs": [1, 2, 3], "cpu": "AMD EPYC"}
    assert atomic_write_json(path, value) == path
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and '\n  "ratio": 1.025,' in text  # indent 2 by default
    assert json.loads(text) == value
    atomic_write_json(path, value, indent=1)
    assert '\n "ratio": 1.025,' in path.read_text(encoding="utf-8")


def test_a_value_json_cannot_hold_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "figures.json"
    atomic_write_json(path, {"epochs": 5})
    with pytest.raises(TypeError, match="not JSON serializable"):
        atomic_write_json(path, {"epochs": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"epochs": 5}
    assert os.listdir(tmp_path) == ["figures.json"]
