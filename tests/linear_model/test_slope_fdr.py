"""False discovery rate of SLOPE with the BH sequence on orthogonal designs.

Bogdan et al. (2015, theorem 1.1): with orthogonal columns, Gaussian noise of
level sigma and lambda = sigma * lambda_BH(q), SLOPE's FDR is at most
q * p0 / p (p0: number of null features). With ``X^T X = n I`` our objective
is that of the theorem for ``alpha = sigma / sqrt(n)``: its solution is the
sorted-L1 prox of ``X^T y / n = beta + (sigma / sqrt(n)) N(0, I)``.
"""

import numpy as np
import pytest

from skreg import SLOPE


def false_discovery_proportions(n_rep, p, k, q, seed, amplitude=3.0):
    rng = np.random.default_rng(seed)
    n = 2 * p
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = np.sqrt(n) * Q
    model = SLOPE(1.0 / np.sqrt(n), lambdas="bh", q=q, fit_intercept=False, tol=1e-8)
    fdp = np.empty(n_rep)
    for rep in range(n_rep):
        beta = np.zeros(p)
        support = rng.choice(p, k, replace=False)
        beta[support] = amplitude * rng.choice([-1.0, 1.0], k)
        y = X @ beta + rng.standard_normal(n)
        selected = np.flatnonzero(model.fit(X, y).coef_)
        false = np.setdiff1d(selected, support).size
        fdp[rep] = false / max(selected.size, 1)
    return fdp


def _check(fdp, p, k, q):
    bound = q * (p - k) / p
    se = fdp.std(ddof=1) / np.sqrt(fdp.size)
    assert fdp.mean() <= bound + 3 * se
    # Sanity in the other direction: the bound is nearly attained for
    # orthogonal designs, so a solver that selects too little would show.
    assert fdp.mean() >= 0.5 * bound


def test_fdr_bh_orthogonal_quick():
    p, k, q = 50, 5, 0.1
    _check(false_discovery_proportions(150, p, k, q, seed=0), p, k, q)


@pytest.mark.slow
@pytest.mark.parametrize("q", [0.1, 0.2])
def test_fdr_bh_orthogonal_long(q):
    p, k = 100, 10
    _check(false_discovery_proportions(3000, p, k, q, seed=1), p, k, q)
