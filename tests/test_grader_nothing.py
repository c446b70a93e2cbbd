"""No marks for doing nothing: files whose functions return zeros, a constant, one of their
inputs unchanged, or raise NotImplementedError score exactly 0 on every exercise.

The do-nothing files are built from the reference solutions so that every output has
exactly the right structure and shape (the strongest lazy answer: it passes every shape
check): each public function calls the reference to learn the shape of its answer, then
returns zeros, ones, or the first input of that shape instead. Exercise 10's do-nothing
tests assert nothing, call kl and ignore it, or raise NotImplementedError.
"""

import ast
import shutil
import textwrap
from pathlib import Path

import pytest

from numvae.exercises import EXERCISES, grade_submissions

SOLUTIONS = Path(__file__).parent / "exercise_solutions"
VARIANTS = ("zeros", "constant", "identity", "not_implemented")

HEADER = textwrap.dedent('''
    import importlib.util
    import os

    import numpy as np

    _spec = importlib.util.spec_from_file_location(
        "_reference", os.path.join(os.path.dirname(os.path.abspath(__file__)), "_reference_{stem}.py"))
    _reference = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_reference)


    def _leaves(value):
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            return [leaf for item in value for leaf in _leaves(item)]
        return [value]


    def _replace(value, make):
        """The same structure, every array or number replaced by make(it)."""
        if isinstance(value, dict):
            return {{key: _replace(item, make) for key, item in value.items()}}
        if isinstance(value, (list, tuple)):
            return type(value)(_replace(item, make) for item in value)
        if isinstance(value, (np.ndarray, float, int, np.floating)) and not isinstance(value, bool):
            return make(value)
        return value


    def _nothing(value, args):
        variant = "{variant}"
        if variant == "zeros":
            return _replace(value, lambda v: np.zeros_like(v, dtype=float) if np.ndim(v) else 0.0)
        if variant == "constant":
            return _replace(value, lambda v: np.full(np.shape(v), 0.5) if np.ndim(v) else 0.5)
        inputs = [a for a in _leaves(args) if isinstance(a, (np.ndarray, float, int))]

        def first_input_like(v):  # an input of the same shape, handed back unchanged
            same = [a for a in inputs if np.shape(a) == np.shape(v)]
            return same[0] if same else inputs[0]
        return _replace(value, first_input_like)
    ''')

WRAPPER = textwrap.dedent('''

    def {name}(*args, **kwargs):
        if "{variant}" == "not_implemented":
            raise NotImplementedError("{name}")
        return _nothing(_reference.{name}(*args, **kwargs), args)
    ''')

PROPERTY_TESTS = {
    "zeros": "def test_nothing(kl):\n    pass\n",
    "constant": "def test_constant(kl):\n    return 0.5\n",
    "identity": textwrap.dedent('''
        import numpy as np


        def test_calls_kl_and_asserts_nothing(kl):
            for v in np.linspace(-3, 3, 7):
                kl(np.full((1, 2), v), np.zeros((1, 2)))
        '''),
    "not_implemented": "def test_kl_is_nonnegative(kl):\n    raise NotImplementedError('exercise 10')\n",
}


def _public_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


@pytest.fixture(scope="module")
def lazy_class(tmp_path_factory):
    subs = tmp_path_factory.mktemp("lazy")
    for variant in VARIANTS:
        folder = subs / variant
        folder.mkdir()
        for exercise in EXERCISES:
            stem = exercise.file[:-3]
            if exercise.name == "kl_properties":
                (folder / exercise.file).write_text(PROPERTY_TESTS[variant])
                continue
            shutil.copy(SOLUTIONS / exercise.file, folder / f"_reference_{stem}.py")
            text = HEADER.format(stem=stem, variant=variant)
            for name in _public_functions(SOLUTIONS / exercise.file):
                text += WRAPPER.format(name=name, variant=variant)
            (folder / exercise.file).write_text(text)
    return grade_submissions(subs, jobs=2, timeout=10)


@pytest.mark.parametrize("variant", VARIANTS)
def test_doing_nothing_scores_exactly_zero_on_every_exercise(lazy_class, variant):
    results = lazy_class[variant]
    assert len(results) == sum(len(e.check_names()) for e in EXERCISES)
    passed = [f"{r.exercise} / {r.check}" for r in results if r.passed]
    assert not passed, f"{variant} earned marks for {passed}"


def test_checks_that_nothing_passes_say_they_are_not_counted(lazy_class):
    """The consistency checks a constant passes are named, with what they wait for."""
    not_counted = {(r.exercise, r.check) for results in lazy_class.values() for r in results
                   if r.message.startswith("not counted: a constant answer")}
    expected = {
        ("numerical_gradient", "returns an array shaped like x"),
        ("numerical_gradient", "leaves x unchanged"),
        ("kl_standard_normal", "kl_standard_normal is 0 when q = N(0, I)"),
        ("kl_standard_normal", "the gradients agree with finite differences of kl_standard_normal"),
        ("kl_standard_normal", "kl_standard_normal_grad: dmu, the gradient with respect to mu"),  # mu back
        ("kl_mvn", "kl_mvn is 0 for two identical Gaussians"),
        ("reparameterize", "reparameterize_backward: dmu, the gradient with respect to mu"),  # dz back
        ("elbo", "returns (loss, grads), a gradient for every parameter in its shape"),
        ("elbo", "your gradients agree with finite differences of your loss"),
        ("kl_properties", "your tests pass on the correct KL"),
        ("conditional", "returns (loss, grads), a gradient for every parameter in its shape"),
        ("conditional", "your gradients agree with finite differences of your loss"),
        ("iwae_objective", "iwae_loss_grad agrees with finite differences of iwae_loss"),
        ("iwae_objective",
         "toy_iwae_loss_and_grads: dmu and dlogvar agree with finite differences of your loss"),
        ("mixture_prior", "the gradients agree with finite differences of mixture_log_prob"),
    }
    assert expected <= not_counted, sorted(expected - not_counted)
