"""WeightedOMPCV: grid, selection of (alpha, n_nonzero_coefs), refit."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import OrthogonalMatchingPursuitCV
from sklearn.model_selection import KFold

from skreg import WeightedOMP, WeightedOMPCV
from skreg.linear_model._omp_cv import omp_alpha_max

LOSSES = ["lasso", "sqrt_lasso", "lad_lasso"]
PENALTIES = ["l0", "l1"]


def _data(seed=0, n=80, p=30):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p)
    y = 2 * X[:, 1] - 1.5 * X[:, 7] + X[:, 20] + 0.2 * rng.standard_normal(n) + 1.0
    return X, y


def test_plain_omp_cv_matches_sklearn():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 40))
    X /= np.linalg.norm(X, axis=0)
    y = X[:, :6] @ rng.uniform(2, 4, 6) + 0.3 * rng.standard_normal(90)
    ours = WeightedOMPCV(alphas=[0.0], fit_intercept=False, max_n_nonzero_coefs=12).fit(X, y)
    ref = OrthogonalMatchingPursuitCV(fit_intercept=False, max_iter=12).fit(X, y)
    assert ours.n_nonzero_coefs_ == ref.n_nonzero_coefs_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_alpha_max_is_where_selection_starts(loss, penalty):
    X, y = _data(2)
    q = np.full(X.shape[0], 1.0 / X.shape[0])
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[1])
    top = omp_alpha_max(np.asfortranarray(X), y, q, w, loss, penalty, True)
    assert top > 0
    above = WeightedOMP(loss=loss, penalty=penalty, alpha=top * 1.001, weights=w).fit(X, y)
    below = WeightedOMP(loss=loss, penalty=penalty, alpha=top * 0.999, weights=w).fit(X, y)
    assert above.n_iter_ == 0
    assert below.n_iter_ >= 1


@pytest.mark.parametrize("loss", LOSSES)
def test_choice_is_the_best_mean_held_out_loss(loss):
    X, y = _data(3)
    cv = KFold(4, shuffle=True, random_state=0)
    model = WeightedOMPCV(loss=loss, alphas=4, cv=cv, max_n_nonzero_coefs=6).fit(X, y)
    assert model.cv_loss_path_.shape == (4, 6, 4)
    mean = model.cv_loss_path_.mean(axis=-1)
    a, k = np.unravel_index(np.argmin(mean), mean.shape)
    assert model.alpha_ == model.alphas_[a] and model.n_nonzero_coefs_ == k + 1
    # one cell of the path, recomputed by hand
    train, test = next(cv.split(X))
    m = WeightedOMP(loss=loss, alpha=model.alphas_[1], n_nonzero_coefs=3).fit(X[train], y[train])
    r = y[test] - m.predict(X[test])
    want = np.mean(np.abs(r)) if loss == "lad_lasso" else np.mean(r ** 2)
    np.testing.assert_allclose(model.cv_loss_path_[1, 2, 0], want, rtol=1e-8)
    # the final model is the refit on all data
    final = WeightedOMP(loss=loss, alpha=model.alpha_,
                        n_nonzero_coefs=model.n_nonzero_coefs_).fit(X, y)
    np.testing.assert_allclose(model.coef_, final.coef_)
    assert sorted(model.support_) == [1, 7, 20]


def test_cv_threads_sparse_and_explicit_grid():
    X, y = _data(4)
    X[np.abs(X) < 0.4] = 0.0
    a = WeightedOMPCV(loss="sqrt_lasso", penalty="l1", alphas=[0.1, 0.01, 0.0], cv=3).fit(X, y)
    b = WeightedOMPCV(loss="sqrt_lasso", penalty="l1", alphas=[0.0, 0.01, 0.1], cv=3,
                      n_jobs=2).fit(sp.csc_matrix(X), y)
    np.testing.assert_allclose(a.alphas_, [0.1, 0.01, 0.0])
    np.testing.assert_allclose(a.cv_loss_path_, b.cv_loss_path_, rtol=1e-8)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("params, error, match", [
    ({"loss": "huber"}, ValueError, "loss"),
    ({"penalty": "l2"}, ValueError, "penalty"),
    ({"alphas": 0}, ValueError, "alphas"),
    ({"alphas": [0.1, -1.0]}, ValueError, "alphas"),
    ({"alphas": "many"}, TypeError, "alphas"),
    ({"eps": 2.0}, ValueError, "eps"),
    ({"max_n_nonzero_coefs": 0}, ValueError, "max_n_nonzero_coefs"),
    ({"fit_intercept": 1}, TypeError, "fit_intercept"),
])
def test_cv_bad_parameters(params, error, match):
    X, y = _data(5)
    with pytest.raises(error, match=match):
        WeightedOMPCV(**params).fit(X, y)
