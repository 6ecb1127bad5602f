"""The selection scores of WeightedOMP against brute-force 1-D minimisation."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize_scalar

from skreg.linear_model._omp_scores import _weighted_median, selection_scores

LOSSES = ["lasso", "sqrt_lasso", "lad_lasso"]
PENALTIES = ["l0", "l1"]


def _objective(X, y, q, b, b0, w, alpha, loss, penalty, fit_intercept):
    """G(b) with the intercept profiled out (least squares) or held at b0 (LAD)."""
    r = y - X @ b
    if loss == "lad_lasso":
        r = r - (b0 if fit_intercept else 0.0)
        data = q @ np.abs(r)
    else:
        if fit_intercept:
            r = r - q @ r
        data = 0.5 * q @ r**2 if loss == "lasso" else np.sqrt(q @ r**2)
    if penalty == "l1":
        return data + alpha * w @ np.abs(b)
    return data + alpha * np.sum(w[b != 0] ** 2)


def _min_convex(h, x, b_j, loss):
    """Minimum of a convex function of one variable (kink at 0 allowed)."""
    cands = [0.0, b_j]
    if loss == "lad_lasso":
        # piecewise linear: the minimum is at a breakpoint
        cands += list(x)
        return min(h(u) for u in cands)
    best = min(h(u) for u in cands)
    for lo, hi in [(-1e3, 0.0), (0.0, 1e3)]:
        res = minimize_scalar(h, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-13, "maxiter": 5000})
        best = min(best, res.fun)
    return best


def brute_scores(X, y, q, b, b0, w, alpha, loss, penalty, fit_intercept):
    p = X.shape[1]
    g = _objective(X, y, q, b, b0, w, alpha, loss, penalty, fit_intercept)
    out = np.empty(p)
    for j in range(p):
        def with_j(u, j=j):
            bb = b.copy()
            bb[j] = u
            return bb
        r_j = y - X @ with_j(0.0) - (b0 if fit_intercept and loss == "lad_lasso" else 0.0)
        nz = X[:, j] != 0
        breakpoints = r_j[nz] / X[nz, j]
        if penalty == "l1":
            best = _min_convex(
                lambda u: _objective(X, y, q, with_j(u), b0, w, alpha, loss, penalty,
                                     fit_intercept),
                breakpoints, b[j], loss)
        else:
            # l0: minimum over b_j = 0, and over b_j != 0 (continuous in u,
            # with the penalty of j paid)
            others = alpha * np.sum(w[np.flatnonzero(b != 0)] ** 2) - (
                alpha * w[j] ** 2 if b[j] != 0 else 0.0)

            def loss_only(u):
                return _objective(X, y, q, with_j(u), b0, w, 0.0, loss, penalty,
                                  fit_intercept)
            best = min(loss_only(0.0) + others,
                       _min_convex(loss_only, breakpoints, b[j], loss)
                       + others + alpha * w[j] ** 2)
        out[j] = g - best
    return out


def _case(seed, sparse=False, uniform=False):
    rng = np.random.default_rng(seed)
    n, p = 13, 7
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 10.0, p)  # any column norms
    if sparse:
        X[rng.random((n, p)) < 0.4] = 0.0
    y = X[:, :3] @ rng.standard_normal(3) + rng.standard_normal(n) + 0.7
    q = np.full(n, 1.0 / n) if uniform else rng.uniform(0.2, 2.0, n)
    q = q / q.sum()
    b = np.zeros(p)
    b[rng.choice(p, 3, replace=False)] = rng.standard_normal(3)   # a support
    w = rng.uniform(0.2, 2.0, p)
    w[rng.integers(p)] = 0.0
    return X, y, q, b, 0.3 * rng.standard_normal(), w


def _scale(X, y, loss, q):
    # natural size of an objective decrease, for the tolerance
    r2 = q @ (y - q @ y) ** 2
    return {"lasso": r2, "sqrt_lasso": np.sqrt(r2), "lad_lasso": q @ np.abs(y)}[loss]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_scores_match_brute_force(loss, penalty, fit_intercept, seed):
    X, y, q, b, b0, w, = _case(seed, sparse=seed == 3, uniform=seed == 2)
    scale = _scale(X, y, loss, q)
    # alphas at which the scores are positive for some features and clipped
    # to zero for others, and alpha = 0
    for alpha in [0.0, 0.02 * scale, 0.3 * scale]:
        Xs = sp.csc_matrix(X) if seed == 3 else np.asfortranarray(X)
        got = selection_scores(Xs, y, q, b, b0, w, alpha, loss, penalty, fit_intercept)
        want = np.maximum(brute_scores(X, y, q, b, b0, w, alpha, loss, penalty,
                                       fit_intercept), 0.0)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9 * scale)


@pytest.mark.parametrize("loss", ["lasso", "sqrt_lasso"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_scores_after_least_squares_refit(loss, penalty):
    # the situation inside the greedy loop: c_j = 0 on the support
    X, y, q, _, _, w = _case(7)
    S = [1, 4]
    sq = np.sqrt(q)
    b = np.zeros(X.shape[1])
    b[S] = np.linalg.lstsq(sq[:, None] * X[:, S], sq * y, rcond=None)[0]
    scale = _scale(X, y, loss, q)
    for alpha in [0.01 * scale, 0.5 * scale]:
        got = selection_scores(np.asfortranarray(X), y, q, b, 0.0, w, alpha, loss,
                               penalty, False)
        want = brute_scores(X, y, q, b, 0.0, w, alpha, loss, penalty, False)
        np.testing.assert_allclose(got, np.maximum(want, 0), rtol=1e-6, atol=1e-9 * scale)


def test_paper_closed_forms_on_unit_columns():
    # the notes' formulas (no 1/n, unit-norm columns) are the q = 1 special case
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20, 6))
    X /= np.linalg.norm(X, axis=0)
    y = rng.standard_normal(20)
    q = np.ones(20)
    lam, w = 0.3, rng.uniform(0.5, 1.5, 6)
    c = X.T @ y
    rho = np.linalg.norm(y)
    b = np.zeros(6)
    Xf = np.asfortranarray(X)
    got = selection_scores(Xf, y, q, b, 0.0, w, lam, "lasso", "l0", False)
    # the paper's LASSO loss is ||r||^2, ours (1/2)||r||^2: lambda -> lambda / 2
    np.testing.assert_allclose(2 * got, np.maximum(c**2 - 2 * lam * w**2, 0), rtol=1e-12)
    got = selection_scores(Xf, y, q, b, 0.0, w, lam, "sqrt_lasso", "l0", False)
    np.testing.assert_allclose(got, np.maximum(rho - np.sqrt(rho**2 - c**2) - lam * w**2, 0),
                               rtol=1e-12, atol=1e-14)
    got = selection_scores(Xf, y, q, b, 0.0, w, lam, "sqrt_lasso", "l1", False)
    k = lam * w
    want = np.where((k < 1) & (np.abs(c) > k * rho),
                    rho - k * np.abs(c) - np.sqrt(1 - k**2) * np.sqrt(rho**2 - c**2), 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", range(20))
def test_weighted_median_minimises(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    v = np.round(rng.standard_normal(m), 1)  # ties
    w = rng.uniform(0.0, 1.0, m)
    w[0] += 0.1
    f = [np.sum(w * np.abs(v - u)) for u in v]
    u = _weighted_median(v.copy(), w.copy(), m, 0.5 * w.sum())
    assert np.sum(w * np.abs(v - u)) <= min(f) + 1e-12
