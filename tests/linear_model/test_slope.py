"""SLOPE: cvxpy and sortedl1 references, alpha_max, input handling."""

import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_sorted_l1 import sorted_l1_cvxpy

from skreg import SLOPE
from skreg.linear_model._slope_sequences import (
    bh_sequence,
    gaussian_sequence,
    oscar_sequence,
)
from skreg.linear_model._sorted_l1 import sorted_l1_dual_norm


def make_data(n, p, *, sparse=False, seed=0, rho=0.5):
    """Correlated design with clusters of equal true coefficients."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    beta = np.zeros(p)
    beta[:3] = 2.0
    beta[5:7] = -1.0
    y = X @ beta + rng.standard_normal(n) + 1.5
    if sparse:
        X[rng.uniform(size=X.shape) < 0.6] = 0.0
        X = sp.csc_matrix(X)
    return X, y


def slope_objective(X, y, coef, intercept, alpha, lam, sample_weight=None):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    r = y - X @ coef - intercept
    return 0.5 * (s / s.sum()) @ r**2 + alpha * np.sort(np.abs(coef))[::-1] @ lam


def slope_cvxpy(X, y, alpha, lam, sample_weight=None, fit_intercept=True):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    b = cp.Variable(p)
    b0 = cp.Variable() if fit_intercept else 0.0
    r = y - X @ b - b0
    obj = 0.5 * cp.sum(cp.multiply(s / s.sum(), cp.square(r))) + alpha * sorted_l1_cvxpy(b, lam)
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10,
               max_iter=500)
    return np.asarray(b.value), float(b0.value) if fit_intercept else 0.0, float(prob.value)


def alpha_max(X, y, lam, fit_intercept=True):
    Xd = X.toarray() if sp.issparse(X) else X
    Xc = Xd - Xd.mean(0) if fit_intercept else Xd
    yc = y - y.mean() if fit_intercept else y
    return sorted_l1_dual_norm(Xc.T @ yc / len(y), lam)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("case", ["bh", "oscar", "sample_weight", "zero_tail"])
@pytest.mark.parametrize("shape", [(40, 15), (20, 30)], ids=["n>p", "p>n"])
def test_matches_cvxpy(sparse, fit_intercept, case, shape):
    n, p = shape
    X, y = make_data(n, p, sparse=sparse, seed=n + p)
    sw = None
    if case == "oscar":
        lam = oscar_sequence(p, 0.2, 0.05)
    elif case == "zero_tail":
        lam = bh_sequence(p, 0.2)
        lam[p // 2:] = 0.0
    else:
        lam = bh_sequence(p, 0.1)
    if case == "sample_weight":
        sw = np.random.default_rng(1).uniform(0.2, 2.0, n)
    alpha = 0.1 * alpha_max(X, y, lam, fit_intercept) if sw is None else 0.02
    est = SLOPE(alpha, lambdas=lam, fit_intercept=fit_intercept, tol=1e-12).fit(
        X, y, sample_weight=sw)
    coef_ref, b0_ref, obj_ref = slope_cvxpy(X, y, alpha, lam, sw, fit_intercept)
    obj = slope_objective(X, y, est.coef_, est.intercept_, alpha, lam, sw)
    assert abs(obj - obj_ref) <= 1e-6 * abs(obj_ref)
    assert obj <= obj_ref + 1e-10 * abs(obj_ref)  # never worse than the conic solver
    assert_allclose(est.coef_, coef_ref, atol=1e-4)
    assert_allclose(est.intercept_, b0_ref, atol=1e-4)
    assert est.dual_gap_ >= 0
    assert_allclose(est.lambdas_, alpha * lam)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("kind", ["array", "bh", "gaussian", "oscar"])
def test_matches_sortedl1(sparse, kind):
    sortedl1 = pytest.importorskip("sortedl1")
    X, y = make_data(50, 80, sparse=sparse, seed=3)
    n, p = X.shape
    seqs = {"array": np.linspace(2.0, 0.5, p), "bh": bh_sequence(p, 0.2),
            "gaussian": gaussian_sequence(p, 0.2, n), "oscar": oscar_sequence(p, 1.0, 0.1)}
    lam = seqs[kind]
    alpha = 0.05 * alpha_max(X, y, lam)
    if kind == "array":
        ours = SLOPE(alpha, lambdas=lam, tol=1e-12).fit(X, y)
        ref = sortedl1.Slope(lam=lam, alpha=alpha, tol=1e-12).fit(X, y)
    else:
        ours = SLOPE(alpha, lambdas=kind, q=0.2, theta1=1.0, theta2=0.1, tol=1e-12).fit(X, y)
        ref = sortedl1.Slope(lambda_type=kind, q=0.2, theta1=1.0, theta2=0.1, alpha=alpha,
                             tol=1e-12).fit(X, y)
    assert_allclose(ours.lambdas_, alpha * lam, rtol=1e-10)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    # Clusters: equal magnitudes in both solutions.
    assert np.unique(np.round(np.abs(ours.coef_), 5)).size < p


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_alpha_max_gives_zeros(fit_intercept, sparse):
    X, y = make_data(30, 40, sparse=sparse, seed=5)
    lam = bh_sequence(40, 0.1)
    amax = alpha_max(X, y, lam, fit_intercept)
    est = SLOPE(amax, lambdas=lam, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
    assert np.all(est.coef_ == 0)
    expected_b0 = y.mean() if fit_intercept else 0.0
    assert_allclose(est.intercept_, expected_b0)
    below = SLOPE(0.98 * amax, lambdas=lam, fit_intercept=fit_intercept).fit(X, y)
    assert np.any(below.coef_ != 0)


def test_constant_lambdas_is_the_lasso():
    from sklearn.linear_model import Lasso

    X, y = make_data(40, 25, seed=2)
    ours = SLOPE(0.1, lambdas=np.ones(25), tol=1e-12).fit(X, y)
    ref = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("screening", ["strong", None])
def test_dtypes_layouts_and_screening_agree(screening):
    X, y = make_data(40, 60, seed=7)
    lam = bh_sequence(60, 0.1)
    alpha = 0.1 * alpha_max(X, y, lam)
    ref = SLOPE(alpha, lambdas=lam, tol=1e-12).fit(X, y)
    for Xv in (np.ascontiguousarray(X), np.asfortranarray(X), sp.csc_matrix(X),
               sp.csr_matrix(X)):
        est = SLOPE(alpha, lambdas=lam, tol=1e-12, screening=screening).fit(Xv, y)
        assert est.coef_.dtype == np.float64
        assert_allclose(est.coef_, ref.coef_, atol=1e-7)
    est32 = SLOPE(alpha, lambdas=lam, tol=1e-10, screening=screening).fit(
        X.astype(np.float32), y)
    assert est32.coef_.dtype == np.float32
    assert_allclose(est32.coef_, ref.coef_, atol=1e-4)
    assert_allclose(est32.predict(X.astype(np.float32)), ref.predict(X), atol=1e-3)


def test_inputs_not_modified():
    X, y = make_data(30, 20, seed=1)
    lam = bh_sequence(20, 0.1)
    X0, y0, lam0 = X.copy(), y.copy(), lam.copy()
    Xs = sp.csc_matrix(X)
    data0 = Xs.data.copy()
    sw = np.linspace(0.5, 1.5, 30)
    sw0 = sw.copy()
    SLOPE(0.05, lambdas=lam).fit(X, y, sample_weight=sw)
    SLOPE(0.05, lambdas=lam).fit(Xs, y)
    assert_allclose(X, X0)
    assert_allclose(y, y0)
    assert_allclose(lam, lam0)
    assert_allclose(sw, sw0)
    assert_allclose(Xs.data, data0)


@pytest.mark.parametrize("params, match", [
    ({"lambdas": [1.0, 2.0, 0.5, 0.1]}, "non-increasing"),
    ({"lambdas": [1.0, 0.5, 0.2, -0.1]}, "non-negative"),
    ({"lambdas": [1.0, 0.5]}, "length 4"),
    ({"lambdas": [1.0, np.nan, 0.5, 0.1]}, "finite"),
    ({"lambdas": [0.0, 0.0, 0.0, 0.0]}, "all zero"),
    ({"lambdas": "lasso"}, "must be one of"),
    ({"q": 0.0}, "q"),
    ({"q": 1.2}, "q"),
    ({"lambdas": "oscar", "theta2": -1.0}, "theta2"),
    ({"alpha": -1.0}, "alpha"),
    ({"tol": 0.0}, "tol"),
    ({"max_iter": 0}, "max_iter"),
    ({"screening": "safe"}, "screening"),
])
def test_bad_parameters(params, match):
    X, y = make_data(10, 4, seed=0)
    with pytest.raises((ValueError, TypeError), match=match):
        SLOPE(**params).fit(X, y)


def test_fitted_attributes_warm_start_and_convergence_warning():
    X, y = make_data(60, 200, seed=4)
    lam = bh_sequence(200, 0.1)
    alpha = 0.02 * alpha_max(X, y, lam)
    est = SLOPE(alpha, lambdas=lam, tol=1e-8).fit(X, y)
    assert est.n_iter_ >= 1 and est.dual_gap_ >= 0
    assert est.coef_.shape == (200,) and isinstance(est.intercept_, float)
    warm = SLOPE(alpha, lambdas=lam, tol=1e-8, warm_start=True)
    warm.coef_ = est.coef_.copy()
    warm.intercept_ = est.intercept_
    warm.fit(X, y)
    assert warm.n_iter_ <= 2
    assert_allclose(warm.coef_, est.coef_, atol=1e-8)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        SLOPE(alpha, lambdas=lam, tol=1e-14, max_iter=3).fit(X, y)


def test_sklearn_integration():
    X, y = make_data(60, 10, seed=6)
    est = SLOPE(0.05, lambdas="gaussian")
    clone = pickle.loads(pickle.dumps(est.fit(X, y)))
    assert_allclose(clone.predict(X), est.predict(X))
    pipe = make_pipeline(StandardScaler(), SLOPE())
    grid = GridSearchCV(pipe, {"slope__alpha": [0.01, 0.1]}, cv=3).fit(X, y)
    assert grid.best_params_["slope__alpha"] in (0.01, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SLOPE(0.05).fit(X, y)
