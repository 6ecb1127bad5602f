"""WeightedOMP: plain OMP parity, the greedy rule, refits, input handling."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.linear_model import OrthogonalMatchingPursuit

from skreg import WeightedOMP, weighted_omp
from skreg.linear_model._omp_refit import lad_intercept
from skreg.linear_model._omp_scores import selection_scores

LOSSES = ["lasso", "sqrt_lasso", "lad_lasso"]
PENALTIES = ["l0", "l1"]


def _problem(n=60, p=40, s=5, seed=0, noise=0.1, outliers=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.3, 3.0, p)
    beta = np.zeros(p)
    beta[rng.choice(p, s, replace=False)] = rng.choice([-1, 1], s) * rng.uniform(1, 3, s)
    y = X @ beta + noise * rng.standard_normal(n) + 0.5
    if outliers:
        y[rng.choice(n, outliers, replace=False)] += 30.0
    return X, y, beta


def _unit_columns(n, p, seed, centred):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if centred:
        X -= X.mean(axis=0)
    X /= np.linalg.norm(X, axis=0)
    beta = np.zeros(p)
    beta[rng.choice(p, 8, replace=False)] = rng.standard_normal(8) * 3
    y = X @ beta + 0.05 * rng.standard_normal(n)
    if centred:
        # unit norm once centred: shift every column, as centring undoes it
        X = X + rng.standard_normal(p)
        y = y + 2.0
    return X, y


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("shape", [(80, 200), (200, 60)])   # sklearn: Cholesky / Gram
def test_plain_omp_matches_sklearn(fit_intercept, shape):
    X, y = _unit_columns(*shape, seed=1, centred=fit_intercept)
    for k in [1, 5, 15]:
        ours = WeightedOMP(n_nonzero_coefs=k, fit_intercept=fit_intercept).fit(X, y)
        ref = OrthogonalMatchingPursuit(n_nonzero_coefs=k, fit_intercept=fit_intercept)
        ref.fit(X, y)
        ref_support = np.flatnonzero(ref.coef_)
        assert sorted(ours.support_) == ref_support.tolist()
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-11)
    # the order of selection: sklearn's path (its k-atom fits are nested)
    order = [np.setdiff1d(np.flatnonzero(OrthogonalMatchingPursuit(
        n_nonzero_coefs=k, fit_intercept=fit_intercept).fit(X, y).coef_),
        np.flatnonzero(OrthogonalMatchingPursuit(
            n_nonzero_coefs=k - 1, fit_intercept=fit_intercept).fit(X, y).coef_)
        if k > 1 else [])[0] for k in range(1, 16)]
    assert ours.support_.tolist() == order


def _steps(model, X, y):
    """Refit with budgets 0..n_iter_ and return the (coef, intercept) of each."""
    out = []
    for k in range(model.n_iter_ + 1):
        if k == 0:
            out.append((np.zeros(X.shape[1]), None))
            continue
        m = WeightedOMP(**{**model.get_params(), "n_nonzero_coefs": k}).fit(X, y)
        out.append((m.coef_, m.intercept_))
    return out


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("sparse", [False, True])
def test_each_step_picks_the_best_score(loss, penalty, sparse):
    X, y, _ = _problem(seed=2, outliers=3 if loss == "lad_lasso" else 0)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    w = np.random.default_rng(0).uniform(0.5, 1.5, X.shape[1])
    alpha = 0.01
    model = WeightedOMP(loss=loss, penalty=penalty, alpha=alpha, weights=w,
                        n_nonzero_coefs=10).fit(X, y)
    assert model.n_iter_ >= 3
    q = np.full(X.shape[0], 1.0 / X.shape[0])
    Xf = X if sparse else np.asfortranarray(X)
    for k, (coef, b0) in enumerate(_steps(model, X, y)):
        if b0 is None:   # starting model: intercept only
            b0 = lad_intercept(y, q) if loss == "lad_lasso" else 0.0
        scores = selection_scores(Xf, y, q, coef, b0, w, alpha, loss, penalty, True)
        if k < model.n_iter_:
            # exhaustive exact scores (the LAD loop prunes with bounds)
            assert model.support_[k] == np.argmax(scores)
            assert scores[model.support_[k]] > 0
        elif model.n_iter_ < model.n_nonzero_coefs_:
            # stopped: no decrease, or the best index is already selected
            assert scores.max() <= 1e-12 or np.argmax(scores) in model.support_


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("sparse", [False, True])
def test_l0_objective_path_decreases_by_at_least_the_score(loss, sparse):
    X, y, _ = _problem(seed=3, outliers=4 if loss == "lad_lasso" else 0)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    alpha = 0.002
    model = WeightedOMP(loss=loss, alpha=alpha, n_nonzero_coefs=12).fit(X, y)
    path = model.objective_path_
    assert path.shape == (model.n_iter_ + 1,)
    assert np.all(np.diff(path) <= 1e-9 * path[0])
    # each step gains at least the chosen score (the 1-D move), the refit more
    q = np.full(X.shape[0], 1.0 / X.shape[0])
    Xc = sp.csc_matrix(X) if sparse else np.asfortranarray(X)
    for k, (coef, b0) in enumerate(_steps(model, X, y)[:-1]):
        b0 = (lad_intercept(y, q) if loss == "lad_lasso" else 0.0) if b0 is None else b0
        s = selection_scores(Xc, y, q, coef, b0, np.ones(X.shape[1]), alpha, loss,
                             "l0", True).max()
        assert path[k] - path[k + 1] >= s - 1e-9 * path[0]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_objective_path_values(loss, penalty):
    X, y, _ = _problem(seed=4)
    alpha = 0.01
    model = WeightedOMP(loss=loss, penalty=penalty, alpha=alpha, n_nonzero_coefs=6).fit(X, y)
    r = y - X @ model.coef_ - model.intercept_
    data = {"lasso": 0.5 * np.mean(r**2), "sqrt_lasso": np.sqrt(np.mean(r**2)),
            "lad_lasso": np.mean(np.abs(r))}[loss]
    pen = (np.abs(model.coef_).sum() if penalty == "l1"
           else np.count_nonzero(model.coef_))
    np.testing.assert_allclose(model.objective_path_[-1], data + alpha * pen, rtol=1e-10)


def _lad_lp(XS, y, fit_intercept):
    """Exact l1 regression on the columns XS, as a linear program (HiGHS)."""
    n, _k = XS.shape
    A = np.hstack([XS, np.ones((n, 1))]) if fit_intercept else XS
    m = A.shape[1]
    # variables: beta (free), t (>= 0); min sum t, -t <= y - A beta <= t
    c = np.r_[np.zeros(m), np.ones(n)]
    A_ub = np.block([[-A, -np.eye(n)], [A, -np.eye(n)]])
    b_ub = np.r_[-y, y]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * m + [(0, None)] * n,
                  method="highs")
    return res.fun / n


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_lad_refit_is_the_exact_l1_regression(fit_intercept):
    X, y, _ = _problem(seed=5, outliers=6)
    model = WeightedOMP(loss="lad_lasso", alpha=0.01, n_nonzero_coefs=8,
                        fit_intercept=fit_intercept).fit(X, y)
    S = model.support_
    r = y - X @ model.coef_ - model.intercept_
    np.testing.assert_allclose(np.mean(np.abs(r)), _lad_lp(X[:, S], y, fit_intercept),
                               rtol=1e-8)
    assert model.intercept_ == 0.0 or fit_intercept


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_sparse_float32_and_function_agree(loss, penalty):
    X, y, _ = _problem(seed=6)
    X[np.abs(X) < 0.5] = 0.0
    params = {"loss": loss, "penalty": penalty, "alpha": 0.003, "n_nonzero_coefs": 6}
    dense = WeightedOMP(**params).fit(X, y)
    for Xv in [sp.csc_matrix(X), sp.csr_matrix(X), np.ascontiguousarray(X)]:
        other = WeightedOMP(**params).fit(Xv, y)
        assert other.support_.tolist() == dense.support_.tolist()
        np.testing.assert_allclose(other.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
    f32 = WeightedOMP(**params).fit(X.astype(np.float32), y)
    assert f32.coef_.dtype == np.float32
    assert f32.support_[:3].tolist() == dense.support_[:3].tolist()
    coef, _b0, support, path = weighted_omp(X, y, **params)
    np.testing.assert_allclose(coef, dense.coef_)
    np.testing.assert_allclose(path, dense.objective_path_)
    assert support.tolist() == dense.support_.tolist()


def test_sample_weight_is_repetition():
    X, y, _ = _problem(n=30, seed=7)
    sw = np.random.default_rng(0).integers(0, 3, 30)
    for loss in LOSSES:
        a = WeightedOMP(loss=loss, alpha=0.001, n_nonzero_coefs=5).fit(X, y, sample_weight=sw)
        b = WeightedOMP(loss=loss, alpha=0.001, n_nonzero_coefs=5).fit(
            np.repeat(X, sw, axis=0), np.repeat(y, sw))
        assert a.support_.tolist() == b.support_.tolist()
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)


def test_alpha_stops_early_and_zero_weights_enter_first():
    X, y, beta = _problem(seed=8, noise=0.01)
    true = np.flatnonzero(beta)
    big = WeightedOMP(alpha=1e3, n_nonzero_coefs=10).fit(X, y)
    assert big.n_iter_ == 0 and np.all(big.coef_ == 0)
    np.testing.assert_allclose(big.intercept_, y.mean())
    some = WeightedOMP(alpha=1e-3, n_nonzero_coefs=20).fit(X, y)
    assert sorted(some.support_) == sorted(true)     # stops by itself
    # a weight of zero makes a (useless) feature free: the first step takes it
    # when its loss decrease is positive and the others pay alpha
    useless = int(np.setdiff1d(np.arange(X.shape[1]), true)[0])
    w = np.ones(X.shape[1])
    w[useless] = 0.0
    m = WeightedOMP(alpha=1e3, weights=w, n_nonzero_coefs=5).fit(X, y)
    assert m.support_.tolist() == [useless]


def test_dependent_columns_stop_cleanly():
    X, y, _ = _problem(n=10, p=30, seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = WeightedOMP(n_nonzero_coefs=30).fit(X, y)
    assert m.n_iter_ <= 9    # at most n - 1 centred columns are independent
    np.testing.assert_allclose(m.predict(X), y, atol=1e-8)
