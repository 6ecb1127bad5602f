"""Group SLOPE and Sparse-group SLOPE against cvxpy models of the same objectives.

cvxpy models of Group SLOPE and Sparse-group SLOPE (reference solvers of the tests).

A sorted-L1 term :math:`\\sum_k \\lambda_k u_{(k)}` of a non-negative vector
``u`` is written as :math:`\\sum_k (\\lambda_k - \\lambda_{k+1}) S_k(u)` with
:math:`S_k` the sum of the ``k`` largest entries (``cvxpy.sum_largest``), a
convex expression because the sequence is non-increasing.
"""

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skreg import GroupSLOPE, SparseGroupSLOPE, sparse_group_slope_path
from skreg.linear_model._group_slope_groups import check_groups
from skreg.linear_model._group_slope_prox import prox_group_slope
from skreg.linear_model._slope_sequences import bh_sequence
from skreg.linear_model._sorted_l1 import prox_sorted_l1


def partition(labels):
    labels = np.asarray(labels)
    return [np.flatnonzero(labels == g) for g in np.unique(labels)]


def _sorted_l1_expr(u, lam):
    lam = np.asarray(lam, dtype=np.float64)
    diff = lam - np.append(lam[1:], 0.0)
    k_all = lam.size
    terms = [diff[k - 1] * (cp.sum_largest(u, k) if k < k_all else cp.sum(u))
             for k in range(1, k_all + 1) if diff[k - 1] != 0]
    return sum(terms)


def _sorted_l1_value(u, lam):
    return float(np.sort(np.abs(u))[::-1] @ lam)


def penalty_value(coef, groups, alpha, var_lambdas=None, group_lambdas=None, l1_ratio=0.0):
    """``alpha [a J_v(b) + (1 - a) sum_k w_k (sqrt(p_g) ||b_g||)_(k)]``."""
    norms = np.array([np.sqrt(len(g)) * np.linalg.norm(coef[g]) for g in groups])
    value = 0.0
    if l1_ratio > 0:
        value += l1_ratio * _sorted_l1_value(coef, var_lambdas)
    if l1_ratio < 1:
        value += (1 - l1_ratio) * _sorted_l1_value(norms, group_lambdas)
    return alpha * value


def objective(X, y, coef, intercept, groups, alpha, **pen):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / X.shape[0] + penalty_value(coef, groups, alpha, **pen)


def solve(X, y, groups, alpha, var_lambdas=None, group_lambdas=None, l1_ratio=0.0,
          fit_intercept=True):
    """Solve with Clarabel at tight tolerances; returns ``(coef, intercept, objective)``."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    b = cp.Variable(p)
    b0 = cp.Variable() if fit_intercept else 0.0
    r = y - X @ b - b0
    pen = 0
    if l1_ratio > 0:
        pen = pen + l1_ratio * _sorted_l1_expr(cp.abs(b), var_lambdas)
    if l1_ratio < 1:
        norms = cp.hstack([np.sqrt(len(g)) * cp.norm(b[g]) for g in groups])
        pen = pen + (1 - l1_ratio) * _sorted_l1_expr(norms, group_lambdas)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(r) / n + alpha * pen))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10,
               max_iter=500)
    intercept = float(b0.value) if fit_intercept else 0.0
    coef = np.asarray(b.value)
    return coef, intercept, objective(X, y, coef, intercept, groups, alpha,
                                      var_lambdas=var_lambdas, group_lambdas=group_lambdas,
                                      l1_ratio=l1_ratio)


# ------------------------------------------------------------------ tests

# Unequal group sizes (3, 1, 2, 4, 2), groups interleaved.
LABELS = np.array([0, 0, 1, 2, 0, 3, 3, 2, 3, 3, 4, 4])


def make_data(n=30, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    p = LABELS.size
    if sparse:
        X = sp.random(n, p, density=0.5, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
        Xd = X.toarray()
    else:
        X = rng.standard_normal((n, p))
        Xd = X
    beta = np.zeros(p)
    beta[LABELS == 0] = [1.5, -1.0, 0.5]
    beta[LABELS == 3] = [0.8, 0.8, -0.4, 0.3]
    y = Xd @ beta + 0.3 * rng.standard_normal(n) + 2.0
    return X, y


def test_group_prox_is_exact_and_differs_from_weighted_shortcut():
    rng = np.random.default_rng(3)
    part = check_groups(LABELS, LABELS.size)
    groups = partition(LABELS)
    z = 2 * rng.standard_normal(LABELS.size)
    lam = bh_sequence(part.n_groups, 0.2)
    # prox of J(W b) = sum_k lam_k (sqrt(p_g)||b_g||)_(k): work in t = W b with
    # metric W^-2, i.e. prox of the unweighted J on t in the rescaled problem.
    b = cp.Variable(z.size)
    norms = cp.hstack([np.sqrt(len(g)) * cp.norm(b[g]) for g in groups])
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(b - z) + _sorted_l1_expr(norms, lam))).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    # The shortcut "sorted-L1 prox of the weighted group norms" is not this prox.
    wz = np.array([np.sqrt(len(g)) * np.linalg.norm(z[g]) for g in groups])
    shrunk = prox_sorted_l1(wz, lam)
    shortcut = np.empty_like(z)
    for g, s, nz in zip(groups, shrunk, wz):
        shortcut[g] = z[g] * s / nz
    assert np.max(np.abs(shortcut - b.value)) > 1e-3
    # The unweighted prox used by the solvers is exact.
    t = cp.Variable(z.size)
    tn = cp.hstack([cp.norm(t[g]) for g in groups])
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(t - z) + _sorted_l1_expr(tn, lam))).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    out = np.empty_like(z)
    prox_group_slope(z, lam, part.order, part.starts, out)
    assert_allclose(out, t.value, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_group_slope_matches_cvxpy(sparse, fit_intercept):
    X, y = make_data(sparse=sparse)
    lam = np.array([2.0, 1.5, 1.5, 1.0, 0.5])
    groups = partition(LABELS)
    for alpha in (0.5, 0.1):
        est = GroupSLOPE(alpha=alpha, groups=LABELS, lambdas=lam, tol=1e-12,
                         max_iter=200_000, fit_intercept=fit_intercept).fit(X, y)
        coef, intercept, f_ref = solve(X, y, groups, alpha, group_lambdas=lam,
                                       fit_intercept=fit_intercept)
        f = objective(X, y, est.coef_, est.intercept_, groups, alpha, group_lambdas=lam)
        assert abs(f - f_ref) <= 1e-6 * abs(f_ref)
        assert_allclose(est.coef_, coef, atol=1e-4)
        assert abs(est.intercept_ - intercept) <= 1e-4
        # The reported gap certifies the objective (cvxpy's optimum is within 1e-9).
        assert f - f_ref <= est.dual_gap_ + 1e-9
        assert_allclose(est.lambdas_, alpha * lam)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("l1_ratio", [0.3, 0.8])
def test_sparse_group_slope_matches_cvxpy(sparse, l1_ratio):
    X, y = make_data(sparse=sparse, seed=1)
    v = bh_sequence(LABELS.size, 0.2)
    w = np.array([2.0, 1.5, 1.5, 1.0, 0.5])
    groups = partition(LABELS)
    for alpha in (0.2, 0.05):
        est = SparseGroupSLOPE(alpha=alpha, groups=LABELS, l1_ratio=l1_ratio, var_lambdas=v,
                               group_lambdas=w, tol=1e-12, max_iter=500_000).fit(X, y)
        coef, _, f_ref = solve(X, y, groups, alpha, var_lambdas=v, group_lambdas=w,
                                       l1_ratio=l1_ratio)
        f = objective(X, y, est.coef_, est.intercept_, groups, alpha, var_lambdas=v,
                      group_lambdas=w, l1_ratio=l1_ratio)
        assert abs(f - f_ref) <= 1e-6 * abs(f_ref)
        assert_allclose(est.coef_, coef, atol=1e-4)
        assert f - f_ref <= est.dual_gap_ + 1e-9
        assert_allclose(est.var_lambdas_, alpha * l1_ratio * v)
        assert_allclose(est.group_lambdas_, alpha * (1 - l1_ratio) * w)


@pytest.mark.parametrize("l1_ratio", [0.2, 0.6, 0.95])
def test_sparse_group_slope_alpha_max_bounds_the_dual_norm(l1_ratio):
    # The exact threshold is the dual norm of the penalty at X_c^T y_c / n: the
    # smallest alpha with c = c1 + c2, J_v^*(c1) <= alpha a and
    # J_w^*(W^-1 c2) <= alpha (1 - a), an infimal convolution computed here by
    # cvxpy. skreg's alpha_max comes from one split (the soft-thresholded
    # gradient): never below the threshold, so the fit there is exactly zero,
    # and within half a per cent of it here.
    X, y = make_data(seed=2)
    n, p = X.shape
    groups = partition(LABELS)
    v, w = bh_sequence(p, 0.1), bh_sequence(len(groups), 0.1)
    alpha_max = sparse_group_slope_path(X, y, groups=LABELS, l1_ratio=l1_ratio, alphas=1,
                                        fit_intercept=True)[0][0]
    c = (X - X.mean(0)).T @ (y - y.mean()) / n
    al = cp.Variable()
    c1 = cp.Variable(p)
    c2 = c - c1
    gn = cp.hstack([cp.norm(c2[g]) / np.sqrt(len(g)) for g in groups])
    cons = []
    for k in range(1, p + 1):
        top = cp.sum_largest(cp.abs(c1), k) if k < p else cp.sum(cp.abs(c1))
        cons.append(top <= al * l1_ratio * v[:k].sum())
    for k in range(1, len(groups) + 1):
        top = cp.sum_largest(gn, k) if k < len(groups) else cp.sum(gn)
        cons.append(top <= al * (1 - l1_ratio) * w[:k].sum())
    cp.Problem(cp.Minimize(al), cons).solve(solver=cp.CLARABEL, tol_gap_abs=1e-10,
                                             tol_gap_rel=1e-10, tol_feas=1e-10)
    assert al.value * (1 - 1e-8) <= alpha_max <= 1.005 * al.value
    est = SparseGroupSLOPE(alpha=alpha_max, groups=LABELS, l1_ratio=l1_ratio).fit(X, y)
    assert np.all(est.coef_ == 0)
    est.set_params(alpha=0.999 * al.value, tol=1e-10).fit(X, y)
    assert np.any(est.coef_ != 0)
