"""What instructors get out of the grader: points, Gradescope's results.json, the report of
identical submissions; and the catalog data the sandbox relies on (every answer name
resolves, so a rename in numvae fails here first, and in one place)."""

import ast
import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

import numvae
from numvae.cli import main
from numvae.exercises import EXERCISES, CheckResult, get_exercise
from numvae.exercises.handout import skeleton_text
from numvae.exercises.report import exercise_scores, gradescope_json
from numvae.exercises.similarity import identical_groups, normal_form
from numvae.exercises.traps import resolve

SOLUTIONS = Path(__file__).parent / "exercise_solutions"


# ----- the catalog ------------------------------------------------------------------------------------

def test_points_are_in_the_catalog_and_elbo_is_worth_more_than_kl_mvn():
    points = {e.name: e.points for e in EXERCISES}
    assert points["elbo"] > points["kl_mvn"] and all(p > 0 for p in points.values())
    assert sum(points.values()) == 150  # 100 for the lecture's ten, 50 for the next chapter's four


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_every_answer_name_resolves_to_a_numvae_function(exercise):
    """The one place a rename of numvae must touch: this test says which line."""
    for name in exercise.answers:
        obj = resolve(name)
        assert callable(obj) and obj.__module__.startswith("numvae."), name
    assert set(exercise.may_use) <= {e.number for e in EXERCISES} - {exercise.number}


def test_what_is_trapped_while_grading_each_exercise():
    elbo, iwae, properties = get_exercise("elbo"), get_exercise("iwae"), get_exercise("kl_properties")
    assert "VAE" in elbo.trapped() and "kl_standard_normal" not in elbo.trapped()  # 8 uses 2 to 7
    assert "linear_forward" not in elbo.trapped() and "logsumexp" in elbo.trapped()
    assert "kl_mvn" not in properties.trapped() and "kl_standard_normal" in properties.trapped()
    assert {"logsumexp", "gaussian_log_prob", "VAE"} <= set(iwae.trapped())
    # the next chapter: 11 assembles 2 to 7 like 8; 12 to 14 use nothing of numvae's
    conditional = set(get_exercise("conditional").trapped())
    assert {"linear_forward", "kl_standard_normal", "reparameterize_backward"}.isdisjoint(conditional)
    assert {"model_config.with_label", "CVAE", "VAE", "networks.decoder_forward"} <= conditional
    assert {"logsumexp", "softmax", "iwae.iwae_loss_and_grads", "gaussian_log_prob"} <= set(
        get_exercise("iwae_objective").trapped())
    assert {"priors.MixturePrior.log_prob", "priors.MixturePrior.log_prob_grad", "categorical_log_prob",
            "logsumexp", "mvn_log_prob"} <= set(get_exercise("mixture_prior").trapped())
    assert {"conv2d_forward", "conv2d_backward", "conv_transpose2d_forward", "im2col", "col2im",
            "convolution._conv"} <= set(get_exercise("conv2d").trapped())
    for exercise in EXERCISES:  # every exercise's own answers are off limits in it
        assert set(exercise.answers) <= set(exercise.trapped()), exercise.name


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_numvae_names_a_skeleton_mentions_exist(exercise):
    mentioned = set(re.findall(r"\b(?:nv|numvae)\.([a-zA-Z_]\w*)", skeleton_text(exercise)))
    assert all(hasattr(numvae, name) for name in mentioned), mentioned - set(dir(numvae))


@pytest.mark.parametrize("exercise, results", [
    ("kl_standard_normal", ["mu_nj     = mu_nj", "1/2 ( exp(logvar_nj) - 1 )"]),
    ("elbo", ["(sigmoid(logits) - x) / N"]),
    ("bce", ["= sigmoid(l_nd) - x_nd"]),
    ("linear_relu", ["dout W^T", "x^T dout", "dout * [x > 0]"]),
    ("gaussian_nll", ["(m_nd - x_nd) exp(-logvar_nd)", "1/2 - 1/2 (x_nd - m_nd)^2"]),
    ("reparameterize", ["dL/dmu     = dz", "dz * 1/2 exp(logvar / 2) * eps"]),
    ("conditional", ["dout[:, :M]", "[:, :-classes]", "drop"]),
    ("iwae_objective", ["softmax", "normalised weight", "w~", "exp(log_w -"]),
    ("mixture_prior", ["responsibilit", "r_c - pi_c", "r_nc (z"]),
    ("conv2d", ["flipped kernel", "col2im(", "transposed convolution", "dout.sum"]),
])
def test_skeletons_give_the_rules_not_the_derivatives(exercise, results):
    text = skeleton_text(get_exercise(exercise))
    assert not [r for r in results if r in text]
    assert "rule" in text.lower()
    names = " ".join(get_exercise(exercise).check_names())
    assert not [r for r in results if r.replace(" ", "") in names.replace(" ", "")]


# ----- scores and Gradescope ----------------------------------------------------------------------------

def _results(exercise_name: str, passed: list[bool]) -> list[CheckResult]:
    names = get_exercise(exercise_name).check_names()
    return [CheckResult(exercise_name, n, p, "" if p else f"{n} is wrong")
            for n, p in zip(names, passed, strict=True)]


def test_points_are_an_equal_share_per_check():
    exercises = [get_exercise("kl_mvn"), get_exercise("elbo")]
    results = _results("kl_mvn", [True, False, True]) + _results("elbo", [True] * 13)
    scores = exercise_scores(results, exercises)
    assert scores["kl_mvn"]["points"] == pytest.approx(4.0) and scores["kl_mvn"]["max_points"] == 6
    assert scores["elbo"]["points"] == 20


def test_gradescope_results_have_a_test_per_check_worth_its_share():
    exercises = [get_exercise("kl_mvn")]
    report = gradescope_json(_results("kl_mvn", [True, False, True]), exercises)
    assert report["score"] == pytest.approx(4.0)
    assert [t["number"] for t in report["tests"]] == ["6.1", "6.2", "6.3"]
    assert [t["status"] for t in report["tests"]] == ["passed", "failed", "passed"]
    assert all(t["max_score"] == pytest.approx(2.0) for t in report["tests"])
    assert [t["score"] for t in report["tests"]] == pytest.approx([2.0, 0.0, 2.0])
    assert report["tests"][1]["output"].endswith("is wrong") and report["tests"][1]["name"].startswith("ex06")
    assert {"visibility", "stdout_visibility", "output"} <= set(report)
    json.dumps(report)


def test_check_writes_gradescope_results_json(tmp_path, capsys):
    out = tmp_path / "results.json"
    argv = ["exercises", "check", str(SOLUTIONS), "kl_mvn", "--gradescope", str(out), "--seed", "41"]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["score"] == pytest.approx(get_exercise("kl_mvn").points)
    assert all(t["status"] == "passed" for t in report["tests"])


# ----- identical submissions ---------------------------------------------------------------------------

ORIGINAL = textwrap.dedent('''
    """My KL."""
    import numpy as np


    def kl_standard_normal(mu, logvar):
        return 0.5 * np.sum(mu * mu + np.exp(logvar) - logvar - 1, axis=1)


    def kl_standard_normal_grad(mu, logvar):
        return mu.copy(), 0.5 * (np.exp(logvar) - 1)
    ''')

DISGUISED = textwrap.dedent('''
    import numpy as xp   # a different alias


    def kl_standard_normal_grad(m, lv):
        """Swapped order, renamed everything."""
        return m.copy(), 0.5 * (xp.exp(lv) - 1)



    def kl_standard_normal(m,   lv):
        # same formula
        return 0.5 * xp.sum(m * m + xp.exp(lv) - lv - 1, axis=1)
    ''')

DIFFERENT = ORIGINAL.replace("mu.copy()", "1.0 * mu")


def test_normal_form_ignores_comments_whitespace_names_and_order():
    assert normal_form(ORIGINAL) == normal_form(DISGUISED)
    assert normal_form(ORIGINAL) != normal_form(DIFFERENT)
    assert normal_form(ORIGINAL) != normal_form(ORIGINAL.replace("axis=1", "axis=0"))
    assert normal_form("def broken(:\n") is None


def test_grade_reports_identical_submissions(tmp_path, capsys):
    subs = tmp_path / "subs"
    exercise = get_exercise("kl_standard_normal")
    for student, text in (("alice", ORIGINAL), ("bob", DISGUISED), ("carol", DIFFERENT)):
        (subs / student).mkdir(parents=True)
        (subs / student / exercise.file).write_text(text)
    for student in ("dan", "erin"):  # untouched skeletons are alike by design: not reported
        (subs / student).mkdir()
        (subs / student / exercise.file).write_text(skeleton_text(exercise))
    shutil.copy(SOLUTIONS / "ex06_kl_mvn.py", subs / "carol" / "ex06_kl_mvn.py")
    groups = identical_groups(sorted(subs.iterdir()), EXERCISES)
    assert groups == [{"exercise": "kl_standard_normal", "file": exercise.file, "students": ["alice", "bob"]}]
    similar = tmp_path / "similar.json"
    assert main(["exercises", "grade", str(subs), "kl_standard_normal", "--csv", str(tmp_path / "g.csv"),
                 "--similar", str(similar), "--jobs", "2"]) == 0
    assert json.loads(similar.read_text()) == groups
    assert f"  {exercise.file}: alice, bob" in capsys.readouterr().out


def test_reference_solutions_parse_and_are_not_the_skeletons():
    for exercise in EXERCISES:
        form = normal_form((SOLUTIONS / exercise.file).read_text())
        assert form is not None and form != normal_form(skeleton_text(exercise))
        ast.parse(skeleton_text(exercise))
