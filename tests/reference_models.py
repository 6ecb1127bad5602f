"""cvxpy models of the skreg objectives: the reference solvers of the tests.

Each ``*_objective`` evaluates an objective exactly as documented in the
estimator; each ``*_cvxpy`` solves it with an interior-point conic solver
(Clarabel, cvxpy's default open-source solver) at tight tolerances and returns
``(coef, intercept, objective_value)``.
"""

import cvxpy as cp
import numpy as np
import scipy.sparse as sp


def _prep(X, y, sample_weight, weights):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = np.ones(p) if weights is None else np.asarray(weights, dtype=np.float64)
    return X, np.asarray(y, dtype=np.float64), s / s.sum(), w


def _residual(X, y, coef, intercept):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return y - X @ np.asarray(coef, dtype=np.float64) - intercept


def lasso_objective(X, y, coef, intercept, alpha, weights=None, sample_weight=None):
    Xd, y, q, w = _prep(X, y, sample_weight, weights)
    r = _residual(Xd, y, coef, intercept)
    return 0.5 * q @ r**2 + alpha * w @ np.abs(coef)


def sqrt_lasso_objective(X, y, coef, intercept, alpha, weights=None, sample_weight=None):
    Xd, y, q, w = _prep(X, y, sample_weight, weights)
    r = _residual(Xd, y, coef, intercept)
    return np.sqrt(q @ r**2) + alpha * w @ np.abs(coef)


def lad_lasso_objective(X, y, coef, intercept, alpha, weights=None, sample_weight=None):
    Xd, y, q, w = _prep(X, y, sample_weight, weights)
    r = _residual(Xd, y, coef, intercept)
    return q @ np.abs(r) + alpha * w @ np.abs(coef)


def _solve(data_term, X, y, alpha, weights, sample_weight, fit_intercept):
    X, y, q, w = _prep(X, y, sample_weight, weights)
    b = cp.Variable(X.shape[1])
    b0 = cp.Variable() if fit_intercept else 0.0
    r = y - X @ b - b0
    obj = data_term(r, q) + alpha * cp.sum(cp.multiply(w, cp.abs(b)))
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10,
               tol_feas=1e-10, max_iter=500)
    intercept = float(b0.value) if fit_intercept else 0.0
    return np.asarray(b.value), intercept, float(prob.value)


def lasso_cvxpy(X, y, alpha, weights=None, sample_weight=None, fit_intercept=True):
    return _solve(lambda r, q: 0.5 * cp.sum(cp.multiply(q, cp.square(r))),
                  X, y, alpha, weights, sample_weight, fit_intercept)


def sqrt_lasso_cvxpy(X, y, alpha, weights=None, sample_weight=None, fit_intercept=True):
    return _solve(lambda r, q: cp.norm2(cp.multiply(np.sqrt(q), r)),
                  X, y, alpha, weights, sample_weight, fit_intercept)


def lad_lasso_cvxpy(X, y, alpha, weights=None, sample_weight=None, fit_intercept=True):
    return _solve(lambda r, q: cp.sum(cp.multiply(q, cp.abs(r))),
                  X, y, alpha, weights, sample_weight, fit_intercept)
