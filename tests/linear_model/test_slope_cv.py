"""SLOPECV: the chosen alpha minimises the mean held-out error of the path."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import KFold
from test_slope import make_data

from skreg import SLOPE, SLOPECV, slope_path


@pytest.mark.parametrize("lambdas", ["bh", "gaussian"])
def test_cv_matches_manual_folds(lambdas):
    X, y = make_data(60, 30, seed=8)
    folds = KFold(3, shuffle=True, random_state=0)
    cv = SLOPECV(alphas=8, lambdas=lambdas, cv=folds, tol=1e-10).fit(X, y)
    assert cv.mse_path_.shape == (8, 3)
    manual = np.empty((8, 3))
    lam = SLOPE(lambdas=lambdas).fit(X, y).lambdas_  # the full-data sequence
    for f, (train, test) in enumerate(folds.split(X)):
        _, coefs, _, info = slope_path(X[train], y[train], lambdas=lam, alphas=cv.alphas_,
                                       fit_intercept=True, tol=1e-10)
        pred = X[test] @ coefs + info["intercepts"]
        manual[:, f] = ((y[test][:, None] - pred) ** 2).mean(axis=0)
    assert_allclose(cv.mse_path_, manual, rtol=1e-6)
    assert cv.alpha_ == cv.alphas_[np.argmin(manual.mean(axis=1))]
    final = SLOPE(cv.alpha_, lambdas=lambdas, tol=1e-10).fit(X, y)
    assert_allclose(cv.coef_, final.coef_, atol=1e-7)
    assert_allclose(cv.lambdas_, final.lambdas_)


def test_cv_bad_input_and_threads():
    X, y = make_data(40, 10, seed=1)
    with pytest.raises(ValueError, match="non-increasing"):
        SLOPECV(lambdas=np.arange(10.0)).fit(X, y)
    with pytest.raises(ValueError, match="screening"):
        SLOPECV(screening="all").fit(X, y)
    a = SLOPECV(alphas=5, cv=3, n_jobs=2).fit(X, y)
    b = SLOPECV(alphas=5, cv=3, screening=None).fit(X, y)
    assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-3)
