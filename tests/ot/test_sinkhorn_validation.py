"""``skreg.ot.sinkhorn``: bad input gets a clear error; inputs are never modified."""

import numpy as np
import pytest

from skreg.ot import sinkhorn


def _problem(n=5, m=4, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), rng.uniform(size=(n, m))


@pytest.mark.parametrize("where", ["a", "b", "M"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite(where, bad):
    a, b, M = _problem()
    {"a": a, "b": b, "M": M[0]}[where][1] = bad
    with pytest.raises(ValueError, match=f"{where} must be finite"):
        sinkhorn(a, b, M, 0.1)


def test_shape_mismatch():
    a, b, M = _problem()
    with pytest.raises(ValueError, match="a has 4 entries but the cost matrix M has 5 rows"):
        sinkhorn(a[:-1], b, M, 0.1)
    with pytest.raises(ValueError, match="b has 5 entries"):
        sinkhorn(a, np.full(5, 0.2), M, 0.1)
    with pytest.raises(ValueError, match="M must be a 2-D cost matrix"):
        sinkhorn(a, b, M.ravel(), 0.1)
    with pytest.raises(ValueError, match="a must be 1-D"):
        sinkhorn(a[:, None], b, M, 0.1)
    with pytest.raises(ValueError, match="at least one row"):
        sinkhorn([], b, np.empty((0, 4)), 0.1)


def test_unequal_mass():
    a, b, M = _problem()
    with pytest.raises(ValueError, match="same total mass"):
        sinkhorn(a, 2 * b, M, 0.1)


def test_negative_and_zero_marginals():
    a, b, M = _problem()
    a[0] = -a[0]
    with pytest.raises(ValueError, match="a must be non-negative"):
        sinkhorn(a, b, M, 0.1)
    with pytest.raises(ValueError, match="a has zero total mass"):
        sinkhorn(np.zeros(5), np.zeros(4), M, 0.1)


@pytest.mark.parametrize("reg", [0, -1.0, np.inf, np.nan])
def test_bad_reg(reg):
    a, b, M = _problem()
    with pytest.raises(ValueError, match="reg"):
        sinkhorn(a, b, M, reg)


def test_bad_reg_type():
    a, b, M = _problem()
    with pytest.raises(TypeError, match="reg"):
        sinkhorn(a, b, M, "0.1")


@pytest.mark.parametrize("method", ["sinkhorn", "LOG", None, "stabilized"])
def test_bad_method(method):
    a, b, M = _problem()
    with pytest.raises(ValueError, match="method must be one of"):
        sinkhorn(a, b, M, 0.1, method=method)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"max_iter": 2.5}, TypeError, "max_iter"),
    ({"tol": 0.0}, ValueError, "tol"),
    ({"tol": -1e-3}, ValueError, "tol"),
    ({"tol": "small"}, TypeError, "tol"),
    ({"epsilon_scaling": 1}, TypeError, "epsilon_scaling"),
    ({"acceleration": "yes"}, TypeError, "acceleration"),
    ({"acceleration": None}, TypeError, "acceleration"),
])
def test_bad_options(kwargs, exc, match):
    a, b, M = _problem()
    with pytest.raises(exc, match=match):
        sinkhorn(a, b, M, 0.1, **kwargs)


def test_non_numeric_input():
    a, b, M = _problem()
    with pytest.raises(TypeError, match="M must be a 2-D array of numbers"):
        sinkhorn(a, b, [["x", "y"], ["z", "w"]], 0.1)
    with pytest.raises(TypeError, match="a must be an array of numbers"):
        sinkhorn(["x"] * 5, b, M, 0.1)


@pytest.mark.parametrize("method", ["scaling", "log", "sns"])
@pytest.mark.parametrize("epsilon_scaling", [False, True])
def test_inputs_not_modified(method, epsilon_scaling):
    a, b, M = _problem(8, 6)
    a[2] = 0.0
    a /= a.sum()
    # A Fortran-ordered float64 cost and float32 marginals exercise the copies.
    M = np.asfortranarray(M)
    copies = a.copy(), b.copy(), M.copy()
    # Dyadic weights: the float32 masses are exact, so they match sum(b).
    a32 = np.array([0.25, 0, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125], dtype=np.float32)
    M32 = M.astype(np.float32)
    copy32 = a32.copy(), M32.copy()
    sinkhorn(a, b, M, 0.01, method=method, epsilon_scaling=epsilon_scaling)
    sinkhorn(a32, b, M32, 0.01, method=method)
    for before, after in zip(copies, (a, b, M)):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(a32, copy32[0])
    np.testing.assert_array_equal(M32, copy32[1])
