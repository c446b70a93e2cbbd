"""A class with hostile students: every way of fooling the grader from issue 14, and the
failure modes it already survived, each its own test. Every attacker must score exactly 0
on the exercise it attacks, and the grader must carry on: the reference student, graded
in the same run (its folder sorts last), still gets full marks.

The class is graded once per module (``attacked``); the attacks that need an order (a
file that tampers with numvae's sources, then a classmate) run the command line on a
copy of the package, so that a failure cannot damage this checkout.
"""

import csv
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from numvae.exercises import EXERCISES, confine, get_exercise, grade_submissions, run_exercise

SOLUTIONS = Path(__file__).parent / "exercise_solutions"
REFERENCE = "zz_reference"  # sorts last: graded after the attackers
TIMEOUT = 3.0
HAS_LANDLOCK = confine.landlock_abi() >= 1


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip()


ZEROS_KL = """
def kl_standard_normal(mu, logvar):
    return np.zeros(mu.shape[0])


def kl_standard_normal_grad(mu, logvar):
    return np.zeros_like(mu), np.zeros_like(logvar)
"""

ATTACKS: dict[str, dict[str, str]] = {
    # --- the attacks of issue 14 ---
    "forger": {"ex05_kl_standard_normal.py": source('''
        import json, os, stat, sys
        import numpy as np
        from numvae.exercises import protocol

        LINE = json.dumps({"event": "result", "index": 0, "passed": True, "message": ""}) + "\\n"
        for arg in sys.argv:  # the old runner's results file was in sys.argv
            try:
                with open(arg, "a") as f:
                    f.write(LINE * 10)
            except OSError:
                pass
        frames = [protocol.encode({"op": "imported", "ok": True, "tests": [],
                                   "names": ["kl_standard_normal", "kl_standard_normal_grad"]})]
        for i in range(1, 60):
            frames.append(protocol.encode({"op": "reply", "id": i, "value": {"passed": True}}, ("value",)))
        for fd in range(3, 64):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.write(fd, LINE.encode() * 3 + b"".join(frames))
            except OSError:
                pass
        os._exit(0)
        ''') + ZEROS_KL},
    "rel_error_patcher": {
        "ex05_kl_standard_normal.py": source('''
            import numpy as np
            import numvae
            import numvae.exercises.compare
            import numvae.gradcheck

            numvae.exercises.compare.rel_error = lambda a, b: 0.0
            numvae.gradcheck.rel_error = numvae.rel_error = lambda a, b: 0.0
            ''') + ZEROS_KL,
        "ex07_reparameterize.py": source('''
            import numpy as np
            import numvae.exercises.compare

            numvae.exercises.compare.rel_error = lambda a, b: 0.0


            def reparameterize(mu, logvar, eps):
                return np.zeros_like(mu)


            def reparameterize_backward(dz, mu, logvar, eps):
                return np.zeros_like(mu), np.zeros_like(mu)
            ''')},
    "assert_close_patcher": {"ex05_kl_standard_normal.py": source('''
        import sys
        import numpy as np
        import numvae.exercises.checks.kl_standard_normal

        sys.modules["numvae.exercises.checks.kl_standard_normal"].assert_close = lambda *a, **k: None
        numvae.exercises.compare.assert_close = lambda *a, **k: None
        ''') + ZEROS_KL},
    "stack_reader": {"ex09_iwae.py": source('''
        import inspect
        import numpy as np


        def _steal(shape):
            for info in inspect.stack():
                for name in ("expected", "expected_value", "reference"):
                    if name in info.frame.f_locals:
                        return info.frame.f_locals[name]
            return np.zeros(shape)


        def logsumexp(a, axis):
            return _steal(np.delete(np.shape(a), axis))


        def log_importance_weights(log_px_given_z, z, mu, logvar):
            return _steal(np.shape(log_px_given_z))


        def iwae_estimate(log_w):
            return _steal(np.shape(log_w)[1:])
        ''')},
    "reloader": {"ex05_kl_standard_normal.py": source('''
        import importlib
        import numpy as np
        import numvae.kl


        def kl_standard_normal(mu, logvar):
            return importlib.reload(numvae.kl).kl_standard_normal(mu, logvar)


        def kl_standard_normal_grad(mu, logvar):
            namespace = {}
            exec(open(numvae.kl.__file__).read(), namespace)
            return namespace["kl_standard_normal_grad"](mu, logvar)
        ''')},
    "property_forger": {"ex10_kl_properties.py": source('''
        import numpy as np
        import numvae

        REFERENCES = [numvae.kl.kl_standard_normal]  # a container: every binding is a trap
        SEEN = []


        def test_like_numvae(kl):
            mu = np.ones((2, 3))
            np.testing.assert_allclose(kl(mu, mu), REFERENCES[0](mu, mu))


        def test_differs_from_an_earlier_run(kl):
            # state kept in the process or in a file would tell the runs apart: neither survives
            value = kl(np.ones((1, 2)), np.zeros((1, 2)))
            with open("/tmp/numvae-seen-kl.txt", "a") as f:
                f.write(repr(value))
            SEEN.append(value)
            assert len(SEEN) == 1
        ''')},
    "claims_failure_without_looking": {"ex10_kl_properties.py": source('''
        CALLS = []


        def test_fails_after_the_first_run(kl):
            CALLS.append(1)  # a fresh process per KL: this is always the first call
            assert len(CALLS) == 1


        def test_asserts_without_calling(kl):
            pass
        ''')},
    "file_writer": {"ex06_kl_mvn.py": source('''
        import os
        import numpy as np

        TARGETS = ["/tmp/numvae-attack.txt", os.path.expanduser("~/numvae-attack.txt"),
                   os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "numvae-attack.txt")]


        def kl_mvn(mu0, cov0, mu1, cov1):
            for path in TARGETS:
                with open(path, "w") as f:
                    f.write("written by a student's file")
            return 0.0
        ''')},
    # --- what the grader already survived ---
    "loops_in_functions": {"ex04_gaussian_nll.py": source('''
        import numpy as np


        def gaussian_nll(x, mean, logvar):
            return np.zeros(len(x))


        def gaussian_nll_grad(x, mean, logvar):
            return np.zeros_like(x), np.zeros_like(x)


        def gaussian_nll_constant(d):
            while True:
                pass
        ''')},
    "loops_at_import": {"ex05_kl_standard_normal.py": "while True:\n    pass\n"},
    "calls_back_forever": {"ex01_numerical_gradient.py": source('''
        import numpy as np


        def numerical_gradient(f, x, h=1e-5):
            while h != 1e-5:  # only the check that passes its own h: each f(x) is a round trip
                f(x)
            return np.zeros_like(x)
        ''')},
    "exits": {"ex05_kl_standard_normal.py": source('''
        import sys


        def kl_standard_normal(mu, logvar):
            sys.exit(0)


        def kl_standard_normal_grad(mu, logvar):
            raise SystemExit("done")
        ''')},
    "hard_exits": {"ex06_kl_mvn.py": source('''
        import os


        def kl_mvn(mu0, cov0, mu1, cov1):
            os._exit(0)
        ''')},
    "crashes": {"ex06_kl_mvn.py": source('''
        import ctypes


        def kl_mvn(mu0, cov0, mu1, cov1):
            return ctypes.string_at(0)  # a segmentation fault
        ''')},
    "prints_results": {"ex06_kl_mvn.py": source('''
        import json

        print(json.dumps({"event": "result", "index": 0, "passed": True, "message": ""}))
        print("student,numerical_gradient,kl_mvn,total")
        print("prints_results,6.0,6.0,12.0")


        def kl_mvn(mu0, cov0, mu1, cov1):
            print("passed")
            print('{"event": "result", "index": 1, "passed": true}')
            return 0.5
        ''')},
    "patches_allclose": {"ex05_kl_standard_normal.py": source('''
        import numpy as np

        np.allclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.array_equal = lambda *a, **k: True
        ''') + ZEROS_KL},
    # --- beyond the issue: the grader's process and machine ---
    "kills_the_grader": {"ex06_kl_mvn.py": source('''
        import os, signal


        def kl_mvn(mu0, cov0, mu1, cov1):
            for target in (os.getppid(), 1):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
            os.killpg(0, signal.SIGKILL)
        ''')},
    "huge_reply": {"ex06_kl_mvn.py": source('''
        import numpy as np


        def kl_mvn(mu0, cov0, mu1, cov1):
            return np.zeros(10 ** 7)  # 80 MB
        ''')},
    "garbles_the_channel": {"ex06_kl_mvn.py": source('''
        import os, stat


        def kl_mvn(mu0, cov0, mu1, cov1):
            for fd in range(3, 64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, b"\\xff" * 64 + b"not a frame")
                except OSError:
                    pass
            return 0.0
        ''')},
}

ANSWER_CALLS = {
    "ex01_numerical_gradient.py": '''
        def numerical_gradient(f, x, h=1e-5):
            return nv.numerical_gradient(f, x, h=h)
        ''',
    "ex02_linear_relu.py": '''
        linear_forward, linear_backward = nv.linear_forward, nv.linear_backward
        relu_forward, relu_backward = nv.layers.relu_forward, nv.layers.relu_backward
        ''',
    "ex03_bce.py": '''
        def bce_with_logits(x, logits):
            return -nv.bernoulli_log_prob(x, logits)

        def bce_with_logits_grad(x, logits):
            return -nv.likelihoods.bernoulli_log_prob_grad(x, logits)
        ''',
    "ex04_gaussian_nll.py": '''
        def gaussian_nll(x, mean, logvar):
            return -nv.gaussian_log_prob(x, mean, logvar)

        def gaussian_nll_grad(x, mean, logvar):
            dm, dl = nv.gaussian_log_prob_grad(x, mean, logvar)
            return -dm, -dl

        def gaussian_nll_constant(d):
            return -float(nv.gaussian_log_prob(np.zeros((1, d)), np.zeros((1, d)), 0.0)[0])
        ''',
    "ex05_kl_standard_normal.py": '''
        def kl_standard_normal(mu, logvar):
            return nv.kl_standard_normal(mu, logvar)

        def kl_standard_normal_grad(mu, logvar):
            return nv.kl.kl_standard_normal_grad(mu, logvar)
        ''',
    "ex06_kl_mvn.py": '''
        def kl_mvn(mu0, cov0, mu1, cov1):
            return float(nv.kl_mvn(mu0, cov0, mu1, cov1))
        ''',
    "ex07_reparameterize.py": '''
        def reparameterize(mu, logvar, eps):
            return nv.reparameterize(mu, logvar, eps)

        def reparameterize_backward(dz, mu, logvar, eps):
            return nv.reparameterization.reparameterize_backward(dz, mu, logvar, eps)
        ''',
    "ex08_elbo.py": '''
        def negative_elbo_and_grads(params, x, eps):
            config = nv.ModelConfig(input_dim=x.shape[1], hidden=(params["enc.0.W"].shape[1],),
                                    latent=eps.shape[1])
            parts, grads = nv.VAE(config).loss_and_grads(nv.ParamDict.from_arrays(params), x, eps=eps)
            return parts.loss, dict(grads.items())
        ''',
    "ex09_iwae.py": '''
        def logsumexp(a, axis):
            return nv.logsumexp(a, axis)

        def log_importance_weights(log_px_given_z, z, mu, logvar):
            k, n, d = z.shape
            flat = z.reshape(k * n, d)
            log_q = nv.gaussian_log_prob(flat, np.broadcast_to(mu, z.shape).reshape(k * n, d),
                                         np.broadcast_to(logvar, z.shape).reshape(k * n, d))
            log_p = nv.gaussian_log_prob(flat, np.zeros_like(flat), 0.0)
            return log_px_given_z + (log_p - log_q).reshape(k, n)

        def iwae_estimate(log_w):
            return nv.iwae.logsumexp(log_w, 0) - np.log(len(log_w))
        ''',
    "ex11_conditional.py": '''
        def with_label(inputs, y, classes):
            return nv.model_config.with_label(inputs, y, classes)

        def with_label_backward(dout, classes):
            return dout[:, :-classes] + 0 * nv.networks.with_label(dout[:, :1], None, classes)

        def negative_elbo_and_grads(params, x, y, eps):
            config = nv.ModelConfig(input_dim=x.shape[1], hidden=(params["enc.0.W"].shape[1],),
                                    latent=eps.shape[1], classes=params["enc.0.W"].shape[0] - x.shape[1])
            parts, grads = nv.CVAE(config).loss_and_grads(nv.ParamDict.from_arrays(params), x, y=y, eps=eps)
            return parts.loss, dict(grads.items())
        ''',
    "ex12_iwae_objective.py": '''
        def iwae_loss(log_w):
            return nv.iwae.iwae_loss(None, None, log_w)

        def iwae_loss_grad(log_w):
            return -np.stack([nv.softmax(column) for column in log_w.T], axis=1) / log_w.shape[1]

        def toy_iwae_loss_and_grads(x, mu, logvar, eps):
            return nv.iwae.iwae_loss_and_grads(None, None, x, eps=eps)
        ''',
    "ex13_mixture_prior.py": '''
        def _prior(means, logvars, logits):
            params = nv.ParamDict.from_arrays({"prior.means": means, "prior.logvars": logvars,
                                               "prior.logits": logits})
            return nv.priors.MixturePrior(means.shape[1], len(logits)), params

        def mixture_log_prob(z, means, logvars, logits):
            prior, params = _prior(means, logvars, logits)
            return prior.log_prob(params, z)

        def mixture_log_prob_grads(z, means, logvars, logits):
            prior, params = _prior(means, logvars, logits)
            grads = params.zeros_like()
            dz = prior.log_prob_grad(params, z, np.ones(len(z)), grads)
            return dz, grads["prior.means"], grads["prior.logvars"], grads["prior.logits"]
        ''',
    "ex14_conv2d.py": '''
        def conv2d_forward(x, W, b, stride=1, padding=0):
            return nv.conv2d_forward(x, W, b, stride, padding)

        def conv2d_backward(dout, cache):
            return nv.convolution.conv2d_backward(dout, cache)
        ''',
}
ATTACKS["answer_caller"] = {name: "import numpy as np\nimport numvae as nv\n" + textwrap.dedent(code)
                            for name, code in ANSWER_CALLS.items()}
# the same answer reached through aliases, a container, private helpers, or a caught trap
KL_ALIASES = {
    "alias_module": "return numvae.kl.kl_standard_normal(mu, logvar)",
    "alias_container": "return {'kl': [numvae.kl.kl_standard_normal]}['kl'][0](mu, logvar)",
    "alias_prior": "return numvae.priors.StandardNormalPrior(mu.shape[1]).kl(None, mu, logvar, mu)",
    "alias_general": "return numvae.kl_normal(mu, logvar, 0 * mu, 0 * logvar)",
    "alias_diagnostics": "return numvae.diagnostics.kl_per_dimension(mu, logvar).sum(axis=1)",
    "alias_lookup": "return vars(numvae.kl)['kl_standard_normal'](mu, logvar)",
    "alias_caught": "try:\n        return numvae.kl_standard_normal(mu, logvar)\n    except BaseException:\n"
                    "        return np.zeros(len(mu))",
}
for _name, _body in KL_ALIASES.items():
    ATTACKS[_name] = {"ex05_kl_standard_normal.py": (
        f"import numpy as np\nimport numvae\n\n\ndef kl_standard_normal(mu, logvar):\n    {_body}\n\n\n"
        "def kl_standard_normal_grad(mu, logvar):\n    return numvae.kl_standard_normal_grad(mu, logvar)\n")}


# the next chapter's answers reached another way: a copy bound in another module, a registry, the
# transposed convolution (whose forward is conv2d's dx and whose backward's dx is conv2d itself), a
# private core, the categorical distribution's log-softmax
NEXT_CHAPTER_ALIASES = {
    "alias_with_label_in_networks": {"ex11_conditional.py": source('''
        import numpy as np
        import numvae


        def with_label(inputs, y, classes):
            return numvae.networks.with_label(inputs, y, classes)


        def with_label_backward(dout, classes):
            return numvae.vae.with_label(dout, None, classes)[:, :-classes]


        def negative_elbo_and_grads(params, x, y, eps):
            config = numvae.ModelConfig(input_dim=x.shape[1], hidden=(4,), latent=2, classes=3)
            model = numvae.vae.VAE(config)
            return model.loss_and_grads(numvae.ParamDict.from_arrays(params), x, y=y, eps=eps)
        ''')},
    "alias_conv_transpose": {"ex14_conv2d.py": source('''
        import numpy as np
        import numvae


        def conv2d_forward(x, W, b, stride=1, padding=0):
            # conv2d's forward is the dx of the transposed convolution's backward
            _, cache = numvae.convolution.conv_transpose2d_forward(
                np.zeros((x.shape[0], W.shape[0], 1, 1)), W, np.zeros(W.shape[1]), stride, padding)
            return numvae.conv_transpose2d_backward(x, cache)[0], (x, W, stride, padding)


        def conv2d_backward(dout, cache):
            return None
        ''')},
    "alias_conv_core": {"ex14_conv2d.py": source('''
        import numpy as np
        import numvae


        def conv2d_forward(x, W, b, stride=1, padding=0):
            rows, cols = numvae.convolution._conv(x, W, stride, padding)
            return rows, cols


        def conv2d_backward(dout, cache):
            return numvae.col2im(cache, (1, 1, 1, 1), 1)
        ''')},
    "alias_prior_registry": {"ex13_mixture_prior.py": source('''
        import numpy as np
        import numvae


        def mixture_log_prob(z, means, logvars, logits):
            log_pi = numvae.categorical_log_prob(np.arange(len(logits)), logits)
            return numvae.priors.PRIORS["mixture"](z.shape[1], len(logits)).log_prob(None, z) + 0 * log_pi[0]


        def mixture_log_prob_grads(z, means, logvars, logits):
            prior = numvae.priors.PRIORS["mixture"](z.shape[1], len(logits))
            return prior.component_log_probs(None, z), None, None, None
        ''')},
    "alias_mvn_for_a_diagonal_gaussian": {"ex13_mixture_prior.py": source('''
        import numpy as np
        import numvae


        def _log_n(z, means, logvars):  # every log N(z_n; m_c, diag exp(s_c)) in one batched call
            cov = np.stack([np.diag(np.exp(s)) for s in logvars])
            return numvae.mvn_log_prob(z[:, None, :], means[None], cov[None])


        def mixture_log_prob(z, means, logvars, logits):
            a = _log_n(z, means, logvars) + logits - np.log(np.sum(np.exp(logits)))
            return np.log(np.sum(np.exp(a), axis=1))


        def mixture_log_prob_grads(z, means, logvars, logits):
            return _log_n(z, means, logvars), None, None, None
        ''')},
    "alias_iwae_pieces": {"ex12_iwae_objective.py": source('''
        import numpy as np
        import numvae


        def iwae_loss(log_w):
            return numvae.iwae._iwae_forward(None, None, None, None, None, None)[0].loss


        def iwae_loss_grad(log_w):
            return -numvae.categorical.softmax(log_w[:, 0])


        def toy_iwae_loss_and_grads(x, mu, logvar, eps):
            return numvae.vae.iwae.iwae_loss_and_grads(None, None, x, eps=eps)
        ''')},
}
ATTACKS.update(NEXT_CHAPTER_ALIASES)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The class graded once: {student: {exercise name: [CheckResult]}}."""
    subs = tmp_path_factory.mktemp("class")
    for student, files in ATTACKS.items():
        (subs / student).mkdir()
        for name, text in files.items():
            (subs / student / name).write_text(text)
    (subs / REFERENCE).mkdir()
    for exercise in EXERCISES:
        if exercise.name != "kl_properties":  # its suites take seconds; attacked on its own below
            shutil.copy(SOLUTIONS / exercise.file, subs / REFERENCE / exercise.file)
    names = sorted({get_exercise(f.split("_")[0][2:]).name for files in ATTACKS.values() for f in files})
    grades = grade_submissions(subs, names, jobs=2, timeout=TIMEOUT)
    return {student: {e: [r for r in results if r.exercise == e] for e in names}
            for student, results in grades.items()}


def attacked_exercises(student: str) -> list[str]:
    return [get_exercise(name.split("_")[0][2:]).name for name in ATTACKS[student]]


def assert_zero_and_grader_carries_on(attacked, student: str, fragment: str = "") -> None:
    for exercise in attacked_exercises(student):
        results = attacked[student][exercise]
        assert results and not [r for r in results if r.passed], f"{student} / {exercise}: {results}"
        if fragment:
            assert all(fragment in r.message or r.message.startswith("not counted") for r in results), \
                [r.message for r in results]
    reference = attacked[REFERENCE]
    wrong = [f"{e}: {r.check}: {r.message}" for e, rs in reference.items() if e != "kl_properties"
             for r in rs if not r.passed]
    assert not wrong, wrong


# ----- the attacks of issue 14 ---------------------------------------------------------------------

def test_forged_result_lines_and_frames_score_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "forger")


def test_replacing_rel_error_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "rel_error_patcher")


def test_replacing_the_check_module_assert_close_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "assert_close_patcher")


def test_reading_expected_from_the_call_stack_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "stack_reader")


@pytest.mark.parametrize("file", sorted(ANSWER_CALLS))
def test_calling_numvae_answer_scores_zero_with_a_plain_message(attacked, file):
    exercise = get_exercise(file.split("_")[0][2:]).name
    results = attacked["answer_caller"][exercise]
    assert not [r for r in results if r.passed]
    messages = [r.message for r in results if not r.message.startswith("not counted")]
    assert messages and all(m.startswith("calls numvae's own ") and m.endswith(": write it yourself")
                            for m in messages), messages
    assert_zero_and_grader_carries_on(attacked, "answer_caller")


@pytest.mark.parametrize("student", sorted(KL_ALIASES))
def test_numvae_answer_through_an_alias_container_or_helper_scores_zero(attacked, student):
    assert_zero_and_grader_carries_on(attacked, student, "calls numvae's own ")


@pytest.mark.parametrize("student", sorted(NEXT_CHAPTER_ALIASES))
def test_next_chapter_answers_reached_another_way_score_zero(attacked, student):
    assert_zero_and_grader_carries_on(attacked, student, "calls numvae's own ")


def test_reloading_numvae_to_undo_the_traps_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "reloader", "PermissionError")


def test_property_tests_that_lean_on_numvae_or_on_state_score_zero(attacked):
    results = attacked["property_forger"]["kl_properties"]
    assert not [r for r in results if r.passed]
    assert results[0].message == "test_like_numvae calls numvae's own kl_standard_normal: write it yourself"
    assert not Path("/tmp/numvae-seen-kl.txt").exists() or not HAS_LANDLOCK


def test_property_tests_cannot_tell_the_runs_apart_without_calling_kl(attacked):
    results = attacked["claims_failure_without_looking"]["kl_properties"]
    assert not [r for r in results if r.passed]
    assert results[0].message.startswith("not counted")  # they pass on the correct KL: no catch
    assert all(r.message.startswith("every test passed on a KL that") for r in results[1:])


def test_a_file_that_does_nothing_useful_scores_zero(attacked):
    # the constant 0.0 of file_writer never gets to return: its writes fail first
    results = attacked["file_writer"]["kl_mvn"]
    assert not [r for r in results if r.passed]
    if HAS_LANDLOCK:
        assert all("PermissionError" in r.message or r.message.startswith("not counted") for r in results)
        assert not Path("/tmp/numvae-attack.txt").exists()
        assert not Path("~/numvae-attack.txt").expanduser().exists()


# ----- what the grader already survived -----------------------------------------------------------

def test_endless_loops_score_zero_and_cost_one_check_each(attacked):
    assert_zero_and_grader_carries_on(attacked, "loops_in_functions")
    looped = [r for r in attacked["loops_in_functions"]["gaussian_nll"]
              if r.message.startswith(f"did not finish within {TIMEOUT:g} s")]
    assert [r.check for r in looped] == ["gaussian_nll_constant(D) = D/2 log 2 pi"]
    at_import = f"importing ex05_kl_standard_normal.py: did not finish within {TIMEOUT:g} s"
    assert_zero_and_grader_carries_on(attacked, "loops_at_import", at_import)
    assert_zero_and_grader_carries_on(attacked, "calls_back_forever")
    looped = [r.check for r in attacked["calls_back_forever"]["numerical_gradient"]
              if r.message.startswith(f"did not finish within {TIMEOUT:g} s")]
    assert looped == ["uses the step h it is given"]


def test_sys_exit_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "exits", "called sys.exit(")


def test_os_exit_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "hard_exits", "the grading process ended with status 0")


def test_a_crash_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "crashes", "killed by SIGSEGV")


def test_prints_imitating_results_or_csv_lines_score_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "prints_results")


def test_replacing_numpy_allclose_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "patches_allclose")


# ----- beyond the issue ---------------------------------------------------------------------------------

def test_signalling_the_grader_or_init_fails_and_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "kills_the_grader")
    messages = [r.message for r in attacked["kills_the_grader"]["kl_mvn"]]
    if sys.platform == "linux" and os.uname().machine == "x86_64":
        assert any("PermissionError" in m for m in messages), messages


def test_a_reply_over_the_size_limit_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "huge_reply")
    messages = [r.message for r in attacked["huge_reply"]["kl_mvn"]]
    assert all("returned more than 64 MB of data" in m or m.startswith("not counted")
               for m in messages), messages


def test_garbage_on_the_channel_scores_zero(attacked):
    assert_zero_and_grader_carries_on(attacked, "garbles_the_channel", "not a reply")


# ----- attacks that need an order, or their own limits ---------------------------------------------------

def test_a_2gib_allocation_is_reported_as_the_memory_limit_not_a_loop(tmp_path):
    (tmp_path / "ex06_kl_mvn.py").write_text(source('''
        import numpy as np


        def kl_mvn(mu0, cov0, mu1, cov1):
            big = np.ones(2 ** 28)  # 2 GiB
            return float(big.sum())
        '''))
    results = run_exercise(tmp_path, get_exercise("kl_mvn"), timeout=3)
    assert not [r for r in results if r.passed]
    assert all(r.message.startswith("exceeded the memory limit of 2048 MiB (MemoryError) (line 5 of ex06")
               or r.message.startswith("not counted") for r in results), [r.message for r in results]
    shutil.copy(SOLUTIONS / "ex06_kl_mvn.py", tmp_path / "ex06_kl_mvn.py")
    assert all(r.passed for r in run_exercise(tmp_path, get_exercise("kl_mvn"), timeout=3, memory_mb=512))


TAMPERER = source('''
    import os
    import numvae

    ROOT = os.path.dirname(numvae.__file__)
    for name, action in (("kl.py", "append"), (os.path.join("exercises", "sandbox.py"), "truncate")):
        try:
            if action == "append":
                with open(os.path.join(ROOT, name), "a") as f:
                    f.write("\\nkl_mvn = lambda *args: 0.0\\n")
            else:
                os.truncate(os.path.join(ROOT, name), 0)
        except OSError:
            pass


    def kl_mvn(mu0, cov0, mu1, cov1):
        return 0.0
    ''')


def _grade_with_a_copy_of_numvae(tmp_path, landlock: bool):
    """Grade mallory (the tamperer), then zoe (the reference), with the command line running
    from a copy of numvae; returns (exit status, stderr, CSV rows, the copy's folder)."""
    package = tmp_path / "pkg"
    shutil.copytree(Path(__file__).resolve().parents[1] / "numvae", package / "numvae")  # .pyc too: faster
    subs = tmp_path / "subs"
    (subs / "mallory").mkdir(parents=True)
    (subs / "mallory" / "ex06_kl_mvn.py").write_text(TAMPERER)
    (subs / "zoe").mkdir()
    shutil.copy(SOLUTIONS / "ex06_kl_mvn.py", subs / "zoe" / "ex06_kl_mvn.py")
    env = dict(os.environ, PYTHONPATH=str(package), NUMVAE_GRADER_LANDLOCK="1" if landlock else "0")
    done = subprocess.run([sys.executable, "-m", "numvae", "exercises", "grade", str(subs), "kl_mvn",
                           "--csv", str(tmp_path / "grades.csv"), "--jobs", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    return done.returncode, done.stderr, rows, package / "numvae"


@pytest.mark.skipif(not HAS_LANDLOCK, reason="this kernel has no Landlock")
def test_editing_numvae_sources_is_refused_with_landlock(tmp_path):
    status, stderr, rows, copy = _grade_with_a_copy_of_numvae(tmp_path, landlock=True)
    assert status == 0 and "WARNING" not in stderr, stderr
    assert rows["mallory"]["total"] == "0.0" and rows["zoe"]["total"] == "6.0"
    original = Path(__file__).resolve().parents[1] / "numvae"
    assert (copy / "kl.py").read_bytes() == (original / "kl.py").read_bytes()
    assert (copy / "exercises" / "sandbox.py").stat().st_size > 0


def test_editing_numvae_sources_without_landlock_is_caught_and_told(tmp_path):
    """The fallback: RLIMIT_FSIZE stops the append but not the truncation; the grader sees
    the change after mallory's file, fails it, tells the instructor, exits 3, and zoe,
    graded afterwards by the code already in memory, keeps her marks."""
    status, stderr, rows, copy = _grade_with_a_copy_of_numvae(tmp_path, landlock=False)
    assert (copy / "exercises" / "sandbox.py").stat().st_size == 0  # the attack happened
    assert status == 3
    assert ("WARNING: numvae's own files changed on disk while mallory/ex06_kl_mvn.py was graded: "
            "exercises/sandbox.py") in stderr
    assert rows["mallory"]["total"] == "0.0" and rows["zoe"]["total"] == "6.0"
