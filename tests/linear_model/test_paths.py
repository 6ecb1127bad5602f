"""Regularisation paths: warm-started points equal single fits; exact alpha_max."""

import numpy as np
import pytest
from families import FAMILIES, make_problem
from numpy.testing import assert_allclose


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_path_points_equal_single_fits(family, sparse):
    X, y = make_problem(40, 60, sparse=sparse, seed=8)
    w = np.linspace(0.5, 1.5, X.shape[1])
    w[3] = 0.0
    # The square-root Lasso interpolates the data below about 0.2 alpha_max
    # here (p > n); that regime has its own test.
    eps = 0.3 if family.name == "sqrt_lasso" else 0.05
    alphas, coefs, gaps = family.path(X, y, weights=w, alphas=8, eps=eps,
                                      fit_intercept=True, tol=1e-10, max_iter=100_000)
    assert coefs.shape == (X.shape[1], 8)
    assert alphas.shape == gaps.shape == (8,)
    assert np.all(np.diff(alphas) < 0)
    for k in [0, 3, 7]:
        est = family.estimator(alpha=alphas[k], weights=w, tol=1e-10, max_iter=100_000)
        est.fit(X, y)
        assert_allclose(coefs[:, k], est.coef_, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("with_zero_weight", [False, True])
def test_alpha_max_is_exact(family, fit_intercept, with_zero_weight):
    X, y = make_problem(30, 12, seed=9)
    w = np.ones(X.shape[1])
    if with_zero_weight:
        w[0] = 0.0
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    alpha_max = family.path(X, y, weights=w, alphas=1, fit_intercept=fit_intercept,
                            sample_weight=sw)[0][0]
    penalised = w > 0
    est = family.estimator(alpha=alpha_max, weights=w, fit_intercept=fit_intercept,
                           tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    # Zero up to the rounding of the correlations (with an unpenalised
    # feature they come out of a least-squares projection).
    assert np.all(np.abs(est.coef_[penalised]) <= 1e-12)
    est.set_params(alpha=alpha_max * (1 - 1e-3)).fit(X, y, sample_weight=sw)
    assert np.max(np.abs(est.coef_[penalised])) > 1e-6


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_explicit_alphas_are_sorted_decreasing(family):
    X, y = make_problem(30, 10, seed=1)
    alphas, coefs, _ = family.path(X, y, alphas=[0.01, 0.1, 0.05], fit_intercept=True)
    assert_allclose(alphas, [0.1, 0.05, 0.01])
    assert coefs.shape == (10, 3)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_path_rejects_bad_alphas(family):
    X, y = make_problem(20, 5, seed=1)
    for bad in ([-1.0], [np.nan], [], 0):
        with pytest.raises(ValueError, match="alphas"):
            family.path(X, y, alphas=bad)
