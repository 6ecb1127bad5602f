"""Every convex estimator against a cvxpy model of the same objective."""

import numpy as np
import pytest
from families import FAMILIES, alpha_max, make_problem
from numpy.testing import assert_allclose


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("case", ["plain", "sample_weight", "zero_weights"])
@pytest.mark.parametrize("shape", [(40, 15), (25, 50)], ids=["n>p", "p>n"])
def test_matches_cvxpy(family, sparse, fit_intercept, case, shape):
    n, p = shape
    X, y = make_problem(n, p, sparse=sparse, seed=n + p)
    rng = np.random.default_rng(1)
    sample_weight = rng.uniform(0.2, 2.0, n) if case == "sample_weight" else None
    weights = None
    if case == "zero_weights":
        weights = rng.uniform(0.5, 2.0, p)
        weights[[1, 5]] = 0.0
    kwargs = {"weights": weights, "sample_weight": sample_weight, "fit_intercept": fit_intercept}
    alpha = 0.3 * alpha_max(family, X, y, **kwargs)
    est = family.estimator(alpha=alpha, weights=weights, fit_intercept=fit_intercept,
                           tol=1e-10, max_iter=100_000)
    est.fit(X, y, sample_weight=sample_weight)
    coef_ref, intercept_ref, obj_ref = family.cvxpy(
        X, y, alpha, weights=weights, sample_weight=sample_weight, fit_intercept=fit_intercept)
    obj = family.objective(X, y, est.coef_, est.intercept_, alpha, weights, sample_weight)
    assert obj <= obj_ref * (1 + 1e-6)
    assert_allclose(obj, obj_ref, rtol=1e-6)
    assert_allclose(est.coef_, coef_ref, atol=1e-4)
    assert_allclose(est.intercept_, intercept_ref, atol=1e-4)
    # The reported gap is a certificate: the objective is within it of the optimum.
    assert 0 <= est.dual_gap_
    assert obj - est.dual_gap_ <= obj_ref * (1 + 1e-8) + 1e-12


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_fortran_and_c_order(family, dtype):
    X, y = make_problem(50, 20, seed=3)
    alpha = 0.2 * alpha_max(family, X, y, fit_intercept=True)
    ref = family.estimator(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X, y)
    for Xo in (np.ascontiguousarray(X, dtype=dtype), np.asfortranarray(X, dtype=dtype)):
        est = family.estimator(alpha=alpha, tol=1e-8, max_iter=100_000).fit(Xo, y)
        assert est.coef_.dtype == dtype
        atol = 1e-3 if dtype == np.float32 else 1e-7
        assert_allclose(est.coef_, ref.coef_, atol=atol)
