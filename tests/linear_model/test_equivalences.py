"""Equivalences with the established libraries solving the same problems."""

import numpy as np
import pytest
import reference_models as ref
import scipy.sparse as sp
from families import make_problem
from numpy.testing import assert_allclose
from sklearn.linear_model import Lasso, lasso_path

from skreg import SqrtLasso, WeightedLasso, weighted_lasso_path


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("positive", [False, True])
def test_weighted_lasso_equals_sklearn_lasso(sparse, fit_intercept, positive):
    X, y = make_problem(60, 30, sparse=sparse, seed=5)
    sw = np.random.default_rng(0).uniform(0.1, 3.0, X.shape[0])
    for sample_weight in (None, sw):
        ours = WeightedLasso(alpha=0.05, fit_intercept=fit_intercept, positive=positive,
                             tol=1e-12, max_iter=100_000)
        theirs = Lasso(alpha=0.05, fit_intercept=fit_intercept, positive=positive,
                       tol=1e-14, max_iter=1_000_000)
        ours.fit(X, y, sample_weight=sample_weight)
        theirs.fit(X, y, sample_weight=sample_weight)
        assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
        assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-8)


def test_weighted_lasso_path_equals_sklearn_lasso_path():
    X, y = make_problem(50, 80, seed=2)
    y = y - y.mean()
    alphas, coefs, gaps = weighted_lasso_path(X, y, alphas=10, tol=1e-12, max_iter=100_000)
    alphas_sk, coefs_sk, _ = lasso_path(X, y, alphas=alphas, tol=1e-14, max_iter=1_000_000)
    assert_allclose(alphas, alphas_sk)
    assert_allclose(coefs, coefs_sk, atol=1e-7)
    assert np.all(gaps >= 0)


def test_weights_rescale_columns():
    # Penalising b_j with weight w_j is the plain Lasso on column x_j / w_j.
    X, y = make_problem(40, 10, seed=7)
    w = np.linspace(0.5, 2.0, 10)
    ours = WeightedLasso(alpha=0.05, weights=w, tol=1e-12, max_iter=100_000).fit(X, y)
    theirs = Lasso(alpha=0.05, tol=1e-14, max_iter=1_000_000).fit(X / w, y)
    assert_allclose(ours.coef_, theirs.coef_ / w, atol=1e-8)


def test_sqrt_lasso_equals_skglm():
    skglm = pytest.importorskip("skglm.experimental")
    X, y = make_problem(60, 40, seed=11)
    n = X.shape[0]
    alpha = 0.1
    ours = SqrtLasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    theirs = skglm.SqrtLasso(alpha=alpha * np.sqrt(n), fit_intercept=False, tol=1e-12).fit(X, y)
    obj = ref.sqrt_lasso_objective(X, y, ours.coef_, 0.0, alpha)
    obj_theirs = ref.sqrt_lasso_objective(X, y, theirs.coef_, 0.0, alpha)
    assert obj <= obj_theirs * (1 + 1e-9)
    assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)


def test_sparse_input_is_not_densified_and_matches_dense():
    X, y = make_problem(80, 40, sparse=True, seed=4)
    for cls in (WeightedLasso, SqrtLasso):
        a = cls(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, y)
        b = cls(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X.toarray(), y)
        assert_allclose(a.coef_, b.coef_, atol=1e-8)
        assert_allclose(a.predict(X), b.predict(X.toarray()), atol=1e-8)
    # CSR and COO are accepted (converted to CSC), duplicates are summed.
    coo = sp.coo_matrix(X)
    dup = sp.coo_matrix((np.r_[coo.data, coo.data], (np.r_[coo.row, coo.row],
                                                     np.r_[coo.col, coo.col])), shape=X.shape)
    a = WeightedLasso(alpha=0.05, tol=1e-12).fit(dup, y)
    b = WeightedLasso(alpha=0.05, tol=1e-12).fit(2 * X.toarray(), y)
    assert_allclose(a.coef_, b.coef_, atol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_lad_lasso_equals_quantile_regressor(fit_intercept, sparse):
    from sklearn.linear_model import QuantileRegressor

    from skreg import LADLasso

    X, y = make_problem(60, 12, sparse=sparse, seed=13)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0])
    for sample_weight in (None, sw):
        a = 0.02
        ours = LADLasso(alpha=a, fit_intercept=fit_intercept, tol=1e-12)
        ours.fit(X, y, sample_weight=sample_weight)
        theirs = QuantileRegressor(quantile=0.5, alpha=a / 2, fit_intercept=fit_intercept,
                                   solver="highs").fit(X, y, sample_weight=sample_weight)
        obj = ref.lad_lasso_objective(X, y, ours.coef_, ours.intercept_, a,
                                      sample_weight=sample_weight)
        obj_theirs = ref.lad_lasso_objective(X, y, theirs.coef_, theirs.intercept_, a,
                                             sample_weight=sample_weight)
        assert_allclose(obj, obj_theirs, rtol=1e-9)
        assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
        assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
