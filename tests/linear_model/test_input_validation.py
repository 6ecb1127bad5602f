"""Bad input gets a clear error naming the parameter; inputs are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp
from families import FAMILIES, make_problem

from skreg import SqrtLasso, WeightedLasso


@pytest.fixture(params=FAMILIES, ids=lambda f: f.name)
def family(request):
    return request.param


def _data():
    return make_problem(20, 5, seed=0)


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data(family, where, bad):
    X, y = _data()
    if where == "X":
        X[3, 2] = bad
    else:
        y[4] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        family.estimator().fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        family.path(X, y, alphas=3)


def test_mismatched_lengths(family):
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        family.estimator().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        family.estimator().fit(X, y, sample_weight=np.ones(3))


def test_empty_X(family):
    with pytest.raises(ValueError, match="0 sample"):
        family.estimator().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="0 feature"):
        family.estimator().fit(np.empty((5, 0)), np.zeros(5))


@pytest.mark.parametrize("weights, match", [
    ([1.0, -1.0, 1.0, 1.0, 1.0], "weights must be non-negative"),
    ([1.0, 1.0], "weights must be a 1-D array with one entry per feature"),
    ([0.0] * 5, "weights are all zero"),
    ([1.0, np.nan, 1.0, 1.0, 1.0], "weights must be finite"),
])
def test_bad_feature_weights(family, weights, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        family.estimator(weights=weights).fit(X, y)
    with pytest.raises(ValueError, match=match):
        family.path(X, y, weights=weights, alphas=3)


@pytest.mark.parametrize("params, error, match", [
    ({"alpha": -1.0}, ValueError, "alpha"),
    ({"alpha": "big"}, TypeError, "alpha"),
    ({"alpha": np.inf}, ValueError, "alpha"),
    ({"tol": 0.0}, ValueError, "tol"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"max_iter": 2.5}, TypeError, "max_iter"),
    ({"fit_intercept": "yes"}, TypeError, "fit_intercept"),
])
def test_bad_parameters(family, params, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        family.estimator(**params).fit(X, y)


@pytest.mark.parametrize("sw, match", [
    (-np.ones(20), "sample_weight must be non-negative"),
    (np.zeros(20), "sample_weight: all weights are zero"),
    (np.r_[np.nan, np.ones(19)], "sample_weight must be finite"),
])
def test_bad_sample_weight(family, sw, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        family.estimator().fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("sparse", [False, True])
def test_inputs_not_modified(family, sparse):
    X, y = _data()
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    w = np.linspace(0.0, 1.0, 5)
    sw = np.linspace(1.0, 2.0, 20)
    copies = [X.copy(), y.copy(), w.copy(), sw.copy()]
    est = family.estimator(alpha=0.01, weights=w).fit(X, y, sample_weight=sw)
    family.path(X, y, weights=w, sample_weight=sw, alphas=3)
    for before, after in zip(copies, [X, y, w, sw]):
        if sp.issparse(before):
            before, after = before.toarray(), after.toarray()
        np.testing.assert_array_equal(before, after)
    assert est.coef_ is not w


def test_dense_finite_check_through_column_statistics():
    # WeightedLasso and SqrtLasso scan a dense X for NaN/inf through the
    # design's column statistics; overflowing statistics of a finite X must
    # not be mistaken for a NaN/inf.
    from skreg.linear_model._base import check_finite_from_stats

    X = np.ones((3, 2))
    check_finite_from_stats(X, np.array([np.inf, 1.0]), WeightedLasso())  # overflow only
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        check_finite_from_stats(X, np.array([1.0, np.nan]), WeightedLasso())
    for bad in (np.nan, np.inf):
        Xb = np.asfortranarray(np.random.default_rng(0).normal(size=(20, 3)))
        Xb[4, 2] = bad
        for est in (WeightedLasso(), SqrtLasso(fit_intercept=False)):
            with pytest.raises(ValueError, match="Input X contains"):
                est.fit(Xb, np.arange(20.0))
