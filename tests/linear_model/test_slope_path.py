"""SLOPE paths: strong screening never changes the answer; KKT checks repair it."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from test_slope import make_data, slope_objective

import skreg.linear_model._slope_screening as slope_screening_module
from skreg import SLOPE, slope_path
from skreg.linear_model._design import LinearDesign
from skreg.linear_model._slope_screening import solve_slope
from skreg.linear_model._slope_sequences import bh_sequence


def _wide(sparse=False):
    # p >> n, correlated columns: where the strong rule matters.
    return make_data(40, 400, sparse=sparse, seed=11, rho=0.7)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_screened_and_unscreened_paths_agree(sparse):
    X, y = _wide(sparse)
    kw = {"alphas": 30, "eps": 1e-2, "fit_intercept": True, "tol": 1e-12}
    a1, c1, g1, info1 = slope_path(X, y, screening="strong", **kw)
    a2, c2, g2, info2 = slope_path(X, y, screening=None, **kw)
    assert_allclose(a1, a2)
    assert_allclose(c1, c2, atol=1e-6)
    assert_allclose(info1["intercepts"], info2["intercepts"], atol=1e-6)
    # Screening did screen, and the unscreened path saw every feature.
    assert np.all(info2["n_screened"] == 400)
    assert np.median(info1["n_screened"]) < 400 / 4
    assert np.all(info2["n_violations"] == 0) and np.all(info2["n_refits"] == 0)
    # Every point is certified on the full problem.
    scale = 0.5 * np.var(y)
    assert np.all(g1 <= 1e-12 * scale) and np.all(g2 <= 1e-12 * scale)


def test_path_shapes_and_first_point():
    X, y = make_data(30, 12, seed=2)
    alphas, coefs, gaps, info = slope_path(X, y, alphas=7)
    assert alphas.shape == (7,) and coefs.shape == (12, 7) and gaps.shape == (7,)
    assert np.all(np.diff(alphas) < 0)
    assert np.all(coefs[:, 0] == 0)
    for key in ("intercepts", "n_iter", "n_screened", "n_violations", "n_refits"):
        assert info[key].shape == (7,)
    # Explicit grids are sorted decreasing, and each point solves SLOPE.
    grid = [0.01, 0.2, 0.05]
    alphas, coefs, _, info = slope_path(X, y, alphas=grid, fit_intercept=True, tol=1e-12)
    assert_allclose(alphas, sorted(grid, reverse=True))
    for k, alpha in enumerate(alphas):
        est = SLOPE(alpha, tol=1e-12).fit(X, y)
        assert_allclose(coefs[:, k], est.coef_, atol=1e-7)
        assert_allclose(info["intercepts"][k], est.intercept_, atol=1e-7)


def test_forced_kkt_violation_is_caught_and_fixed(monkeypatch):
    X, y = _wide()
    kw = {"alphas": 15, "eps": 5e-2, "fit_intercept": True, "tol": 1e-12}
    _, ref, _, _ = slope_path(X, y, screening=None, **kw)

    # A strong rule that predicts nothing new: every feature entering the
    # model must then be found by the KKT check on the full gradient.
    def empty_strong_set(corr, b, lam_prev, lam_next):
        return np.flatnonzero(b != 0)

    monkeypatch.setattr(slope_screening_module, "strong_set", empty_strong_set)
    _, coefs, _, info = slope_path(X, y, screening="strong", **kw)
    assert info["n_violations"].sum() > 0
    assert info["n_refits"].sum() > 0
    assert_allclose(coefs, ref, atol=1e-6)


def test_kkt_check_on_a_wrong_restricted_set():
    X, y = _wide()
    n, p = X.shape
    lam = 0.05 * bh_sequence(p, 0.1)
    design = LinearDesign(np.asfortranarray(X), y, np.full(n, 1.0 / n), center=True)
    full, _, _, ok_full, _ = solve_slope(design, lam, tol=1e-12, max_iter=100_000)
    # Start from features that are all irrelevant.
    support = np.flatnonzero(full)
    wrong = np.setdiff1d(np.arange(p), support)[:20]
    coef, _, _, ok, stats = solve_slope(design, lam, tol=1e-12, max_iter=100_000,
                                        ws_init=wrong)
    assert ok and ok_full
    assert stats.n_screened == 20
    assert stats.n_violations >= support.size and stats.n_refits >= 1
    assert_allclose(coef, full, atol=1e-6)


def test_path_objective_matches_estimator_and_bad_input():
    X, y = make_data(25, 8, seed=9)
    alphas, coefs, _, info = slope_path(X, y, alphas=4, lambdas="oscar", theta2=0.3,
                                        fit_intercept=True, tol=1e-12)
    lam = 1.0 + 0.3 * (8 - np.arange(1, 9))
    for k, alpha in enumerate(alphas):
        est = SLOPE(alpha, lambdas=lam, tol=1e-12).fit(X, y)
        f_path = slope_objective(X, y, coefs[:, k], info["intercepts"][k], alpha, lam)
        f_est = slope_objective(X, y, est.coef_, est.intercept_, alpha, lam)
        assert_allclose(f_path, f_est, rtol=1e-9)
    with pytest.raises(ValueError, match="screening"):
        slope_path(X, y, screening="safe")
    with pytest.raises(ValueError, match="non-increasing"):
        slope_path(X, y, lambdas=np.arange(8.0))
    with pytest.raises(ValueError, match="coef_init"):
        slope_path(X, y, coef_init=np.zeros(3))
    with pytest.raises(ValueError, match="alphas"):
        slope_path(X, y, alphas=0)
    Xs = sp.csc_matrix(X)
    _, cs, _, _ = slope_path(Xs, y, alphas=4, lambdas="oscar", theta2=0.3,
                             fit_intercept=True, tol=1e-12)
    assert_allclose(cs, coefs, atol=1e-7)
