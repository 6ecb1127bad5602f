"""Refits of the weighted OMP: incremental Cholesky and the exact LAD refit."""

import numpy as np
import pytest
from scipy.optimize import linprog

from skreg.linear_model._omp_refit import IncrementalCholesky, LADRefit


def test_incremental_cholesky_matches_numpy():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 8))
    G = A.T @ A
    chol = IncrementalCholesky(8)
    for k in range(8):
        assert chol.add(G[k, :k], G[k, k])
    np.testing.assert_allclose(chol.L[:8, :8], np.linalg.cholesky(G), rtol=1e-10)
    rhs = rng.standard_normal(8)
    np.testing.assert_allclose(chol.solve(rhs), np.linalg.solve(G, rhs), rtol=1e-9)
    # a dependent column is refused and leaves the factor unchanged
    v = A[:, :3] @ [1.0, -2.0, 0.5]
    assert not chol.add(A.T @ v, v @ v)
    assert chol.size == 8


def _lp_objective(A, y, q):
    """min_beta sum_i q_i |y_i - A_i beta| as a linear program (HiGHS)."""
    n, m = A.shape
    c = np.r_[np.zeros(m), q]
    A_ub = np.block([[-A, -np.eye(n)], [A, -np.eye(n)]])
    res = linprog(c, A_ub=A_ub, b_ub=np.r_[-y, y],
                  bounds=[(None, None)] * m + [(0, None)] * n, method="highs")
    return res.fun


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("seed, n, k", [(0, 40, 12), (1, 40, 12), (2, 90, 36)])
def test_lad_refit_is_exact_at_every_size(fit_intercept, seed, n, k):
    # k = 36 crosses from the pivots to the interior-point solver
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) * rng.uniform(0.2, 5.0, k)
    y = X[:, :3] @ [1.0, -2.0, 3.0] + rng.standard_t(2, n)
    q = rng.uniform(0.0, 1.0, n)
    q[:4] = 0.0                       # rows without weight are ignored
    q /= q.sum()
    refit = LADRefit(y, q, fit_intercept, k)
    for j in range(k):
        coef, b0 = refit.add(X[:, j])
        A = X[:, :j + 1]
        if fit_intercept:
            A = np.hstack([A, np.ones((n, 1))])
        got = q @ np.abs(y - X[:, :j + 1] @ coef - b0)
        np.testing.assert_allclose(got, _lp_objective(A, y, q), rtol=1e-9, atol=1e-12)
    # the pivots did the work: the interior-point fallback was not needed
    assert refit.n_fallbacks == 0


def test_lad_refit_more_columns_than_samples():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 9))
    y = rng.standard_normal(6)
    q = np.full(6, 1 / 6)
    refit = LADRefit(y, q, True, 9)
    for j in range(9):
        coef, b0 = refit.add(X[:, j])
    # 6 samples, 10 coefficients: interpolation
    np.testing.assert_allclose(X @ coef + b0, y, atol=1e-9)
