"""Square-root Lasso solver internals: exact coordinate steps, lazy checks, passes."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

from skreg import SqrtLasso, sqrt_lasso_path
from skreg.linear_model import _design
from skreg.linear_model._lasso_solver import _UnpenalisedProjector
from skreg.linear_model._sqrt_lasso import SqrtLassoProblem
from skreg.linear_model._sqrt_lasso_kernels import _sqrt_coord
from skreg.linear_model._sqrt_lasso_solver import (
    _solve_sqrt_lasso_secant,
    solve_sqrt_lasso,
    sqrt_lasso_dual_gap,
)


def _correlated(n, p, rho=0.6, k=10, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p), order="F")
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * Z[:, j]
    beta = np.zeros(p)
    beta[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    y = X @ beta
    y += rng.standard_normal(n) * np.linalg.norm(y) / (5 * np.sqrt(n))
    return X, y


def _alpha_max(X, y, fit_intercept=True):
    return sqrt_lasso_path(X, y, alphas=1, fit_intercept=fit_intercept)[0][0]


@pytest.mark.parametrize("seed", range(40))
def test_coordinate_step_is_the_exact_minimiser(seed):
    # Along one coordinate the objective is sqrt(||r - (t - b) x||^2) + pen |t|;
    # the closed form must match a numerical minimisation.
    rng = np.random.default_rng(seed)
    L = rng.uniform(0.1, 3.0)
    b_old = rng.standard_normal() * rng.choice([0.0, 1.0])
    s2 = rng.uniform(0, 2.0) * rng.choice([0.0, 1.0, 1.0])  # sometimes exactly 0
    c = rng.standard_normal() * 2.0
    rr = s2 + c * c / L  # ||r||^2 consistent with c, L and the floor s2
    pen = rng.choice([0.0, rng.uniform(0, 1.0) * np.sqrt(L), 1.5 * np.sqrt(L)])
    z = b_old + c / L  # least-squares value of the coordinate

    def f(t):
        return np.sqrt(L * (t - z) ** 2 + s2) + pen * abs(t)

    t, rr_new = _sqrt_coord(b_old, c, L, rr, pen)
    assert_allclose(rr_new, L * (t - z) ** 2 + s2, rtol=1e-12, atol=1e-14)
    lo, hi = sorted([0.0, z])
    res = minimize_scalar(f, bounds=(lo - 1, hi + 1), method="bounded",
                          options={"xatol": 1e-12})
    assert f(t) <= min(f(res.x), f(0.0), f(z)) + 1e-12


def _count_corr(monkeypatch):
    calls = []
    orig = _design.LinearDesign.corr

    def corr(self, r):
        calls.append(1)
        return orig(self, r)

    monkeypatch.setattr(_design.LinearDesign, "corr", corr)
    return calls


def test_few_full_gradient_passes(monkeypatch):
    # A sparse solution on a correlated design is found with at most three
    # full X^T r passes (the noise-level search made about ten).
    X, y = _correlated(300, 3000)
    alpha = _alpha_max(X, y) / 3
    calls = _count_corr(monkeypatch)
    est = SqrtLasso(alpha=alpha, tol=1e-6).fit(X, y)
    assert 0 < np.count_nonzero(est.coef_) < 60
    assert len(calls) <= 3
    assert est.dual_gap_ <= 1e-6 * np.std(y)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("div", [2, 3, 5])
def test_reported_gap_is_the_full_gap(sparse, div):
    # The optimality checks skip correlations a bound shows cannot matter;
    # the gap they report must equal the one computed from every feature.
    X, y = _correlated(200, 600, seed=div)
    if sparse:
        X = sp.csc_matrix(X * (np.random.default_rng(1).random(X.shape) < 0.3))
    alpha = _alpha_max(X, y) / div
    for tol in (1e-3, 1e-6, 1e-10):
        est = SqrtLasso(alpha=alpha, tol=tol, max_iter=100_000).fit(X, y)
        q = np.full(len(y), 1.0 / len(y))
        design = _design.LinearDesign(X, y.astype(float), q, center=True)
        r_true = y - design.y_mean - design.matvec(est.coef_)
        pen = np.full(X.shape[1], alpha)
        _, gap = sqrt_lasso_dual_gap(design, r_true, design.corr(r_true), est.coef_, pen,
                                     _UnpenalisedProjector(design, pen))
        scale = np.std(y)
        assert np.sqrt(np.mean(r_true ** 2)) > 0.05 * scale  # not interpolating
        assert gap <= tol * scale * (1 + 1e-9)
        assert_allclose(est.dual_gap_, gap, rtol=1e-6, atol=1e-13 * scale)


def test_path_reuses_the_previous_residual(monkeypatch):
    # Along a path, each alpha starts from the previous residual and anchor:
    # fewer full passes than independent fits, same solutions.
    X, y = _correlated(200, 1500, seed=3)
    alphas = _alpha_max(X, y) * np.geomspace(1, 0.1, 8)
    calls = _count_corr(monkeypatch)
    _, coefs, _ = sqrt_lasso_path(X, y, alphas=alphas, fit_intercept=True, tol=1e-8)
    n_path = len(calls)
    del calls[:]
    for k, a in enumerate(alphas):
        est = SqrtLasso(alpha=a, tol=1e-8).fit(X, y)
        assert_allclose(est.coef_, coefs[:, k], atol=1e-5)
    assert n_path < len(calls)


def test_secant_fallback_agrees():
    # The noise-level search (the fallback near interpolation) and the
    # coordinate-descent solver reach the same certified optimum.
    X, y = _correlated(80, 200, seed=5)
    problem = SqrtLassoProblem(X, y, np.full(80, 1 / 80), np.ones(200), True)
    pen = np.full(200, problem.alpha_max() / 4)
    pen[:3] = 0.0  # unpenalised columns: projected dual point
    design = problem.design
    b1, _, _, ok1 = solve_sqrt_lasso(design, pen, tol=1e-10, max_iter=100_000)
    b2, _, _, ok2 = _solve_sqrt_lasso_secant(design, pen, tol=1e-10, max_iter=100_000)
    assert ok1 and ok2
    assert_allclose(b1, b2, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.3, 0.03, 0.001])
def test_exact_fit_with_fewer_features_than_samples(alpha):
    # y is an exact linear function of one column (p < n, so this is not the
    # interpolation regime of p >= n): the optimal residual is zero, where
    # r / ||r|| gives no dual point. The fit must still be certified.
    X = np.array([[1, 3], [2, 1], [3, 3], [4, 1], [5, 2]] * 2, dtype=float)
    y = 2.5 - 0.5 * X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = SqrtLasso(alpha=alpha, tol=1e-8).fit(X, y)
    assert_allclose(est.coef_, [0.0, -0.5], atol=1e-9)
    assert est.dual_gap_ <= 1e-8 * np.std(y)


def test_basis_pursuit_solves_respect_the_size_limit(monkeypatch):
    # Deep in the interpolation regime of a wide design the solver may try a
    # basis pursuit; a full-width one on a large X took about a minute per
    # alpha (1000 x 5000), so no attempt may exceed _BP_FULL_SIZE entries.
    import skreg.linear_model._sqrt_lasso_solver as solver

    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 200))
    y = X[:, :5] @ np.ones(5) + 0.5 * rng.standard_normal(40)
    original = solver._basis_pursuit

    def run(limit):
        monkeypatch.setattr(solver, "_BP_FULL_SIZE", limit)
        sizes = []

        def spy(design, pen, projector, coef_init=None, cols=None):
            sizes.append(solver._bp_size(design, cols))
            return original(design, pen, projector, coef_init=coef_init, cols=cols)

        monkeypatch.setattr(solver, "_basis_pursuit", spy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, coefs, _ = sqrt_lasso_path(X, y, alphas=15, eps=1e-3, max_iter=300)
        assert np.isfinite(coefs).all()
        return sizes

    # This path does reach a basis-pursuit attempt ...
    assert run(10**9)
    # ... and none is made when every attempt would exceed the limit.
    assert run(0) == []
