import numpy as np
import pytest

import numvae as nv


def test_numerical_gradient_of_a_known_function_and_restores_x(rng):
    x = rng.standard_normal((3, 2, 2))
    before = x.copy()
    g = nv.numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(g, np.cos(before) * before + np.sin(before), rtol=1e-8, atol=1e-10)
    assert np.array_equal(x, before)


def test_rel_error_values():
    a = np.array([1.0, -2.0, 3.0])
    assert nv.rel_error(a, a) == 0.0
    assert nv.rel_error(a, -a) == pytest.approx(1.0)
    assert nv.rel_error(a, 2 * a) == pytest.approx(3 / 9)
    assert nv.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_shape_mismatch_names_arguments():
    with pytest.raises(ValueError, match="a and b"):
        nv.rel_error(np.zeros(2), np.zeros(3))


def test_check_gradients_flags_a_wrong_gradient(rng):
    params = nv.ParamDict.from_arrays({"w": rng.standard_normal(4)})
    loss = lambda: float(np.sum(params["w"] ** 3))  # noqa: E731
    right = {"w": 3 * params["w"] ** 2}
    wrong = {"w": 2 * params["w"] ** 2}
    assert nv.check_gradients(loss, params, right)["w"] < 1e-8
    assert nv.check_gradients(loss, params, wrong)["w"] > 0.1
