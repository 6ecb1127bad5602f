"""Square-root Lasso specifics: the interpolating regime (zero residual)."""

import warnings

import numpy as np
import pytest
import reference_models as ref
from numpy.testing import assert_allclose

from skreg import SqrtLasso, sqrt_lasso_path


def _interpolation_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 80))
    beta = np.zeros(80)
    beta[:4] = [2.0, -2.0, 1.5, -1.0]
    return X, X @ beta + 0.1 * rng.standard_normal(40)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.02, 0.05])
def test_interpolating_optimum_matches_cvxpy(fit_intercept, alpha):
    # p > n and a small alpha: the optimum has a zero residual, where the
    # objective is not differentiable (basis pursuit).
    X, y = _interpolation_problem()
    coef_ref, intercept_ref, obj_ref = ref.sqrt_lasso_cvxpy(X, y, alpha,
                                                            fit_intercept=fit_intercept)
    r_ref = y - X @ coef_ref - intercept_ref
    assert np.sqrt(np.mean(r_ref ** 2)) < 1e-6  # the regime under test
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # certified, so no ConvergenceWarning
        est = SqrtLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-10,
                        max_iter=100_000).fit(X, y)
    obj = ref.sqrt_lasso_objective(X, y, est.coef_, est.intercept_, alpha)
    assert_allclose(obj, obj_ref, rtol=1e-6)
    assert_allclose(est.coef_, coef_ref, atol=1e-4)
    assert est.dual_gap_ <= 1e-8


def test_path_through_the_interpolation_threshold():
    X, y = _interpolation_problem()
    alphas, coefs, _gaps = sqrt_lasso_path(X, y, alphas=12, eps=0.02, tol=1e-8,
                                          max_iter=100_000)
    for k in (2, 6, 11):
        _, _, obj_ref = ref.sqrt_lasso_cvxpy(X, y, alphas[k], fit_intercept=False)
        obj = ref.sqrt_lasso_objective(X, y, coefs[:, k], 0.0, alphas[k])
        assert_allclose(obj, obj_ref, rtol=1e-6)
