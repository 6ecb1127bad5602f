"""WeightedOMP: bad input gets a clear error; inputs are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import WeightedOMP, WeightedOMPCV, weighted_omp


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 5))
    return X, X[:, 0] - X[:, 2] + 0.1 * rng.standard_normal(20)


@pytest.mark.parametrize("params, error, match", [
    ({"loss": "huber"}, ValueError, "loss must be one of"),
    ({"loss": None}, ValueError, "loss must be one of"),
    ({"penalty": "l2"}, ValueError, "penalty must be one of"),
    ({"alpha": -1.0}, ValueError, "alpha"),
    ({"alpha": np.nan}, ValueError, "alpha"),
    ({"alpha": np.inf}, ValueError, "alpha"),
    ({"alpha": "big"}, TypeError, "alpha"),
    ({"n_nonzero_coefs": 0}, ValueError, "n_nonzero_coefs"),
    ({"n_nonzero_coefs": 2.5}, TypeError, "n_nonzero_coefs"),
    ({"n_nonzero_coefs": 6}, ValueError, "n_nonzero_coefs=6 is larger"),
    ({"n_nonzero_coefs": True}, TypeError, "n_nonzero_coefs"),
    ({"fit_intercept": "yes"}, TypeError, "fit_intercept"),
    ({"weights": [1.0, -1.0, 1.0, 1.0, 1.0]}, ValueError, "weights must be non-negative"),
    ({"weights": [1.0, 1.0]}, ValueError, "weights must be a 1-D array"),
    ({"weights": [1.0, np.inf, 1.0, 1.0, 1.0]}, ValueError, "weights must be finite"),
])
@pytest.mark.parametrize("loss", ["lasso", "lad_lasso"])
def test_bad_parameters(params, error, match, loss):
    X, y = _data()
    params = {"loss": loss, **params}
    with pytest.raises(error, match=match):
        WeightedOMP(**params).fit(X, y)
    with pytest.raises(error, match=match):
        weighted_omp(X, y, **params)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data(where, bad):
    X, y = _data()
    sw = np.ones(20)
    {"X": X[3], "y": y, "sample_weight": sw}[where][2] = bad
    for loss in ["sqrt_lasso", "lad_lasso"]:
        with pytest.raises(ValueError, match="NaN|infinity|finite"):
            WeightedOMP(loss=loss).fit(X, y, sample_weight=sw)
        with pytest.raises(ValueError, match="NaN|infinity|finite"):
            WeightedOMPCV(loss=loss, cv=2, alphas=2).fit(X, y, sample_weight=sw)


def test_shapes_and_sample_weight():
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        WeightedOMP().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        WeightedOMP().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        WeightedOMP(loss="lad_lasso").fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="0 feature"):
        WeightedOMP().fit(np.empty((5, 0)), np.zeros(5))


@pytest.mark.parametrize("loss", ["lasso", "sqrt_lasso", "lad_lasso"])
@pytest.mark.parametrize("sparse", [False, True])
def test_inputs_not_modified(loss, sparse):
    X, y = _data()
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    w = np.linspace(0.1, 1.0, 5)
    sw = np.linspace(1.0, 2.0, 20)
    copies = [X.copy(), y.copy(), w.copy(), sw.copy()]
    WeightedOMP(loss=loss, alpha=0.01, weights=w).fit(X, y, sample_weight=sw)
    WeightedOMPCV(loss=loss, weights=w, cv=2, alphas=2).fit(X, y, sample_weight=sw)
    for before, after in zip(copies, [X, y, w, sw]):
        if sp.issparse(before):
            before, after = before.toarray(), after.toarray()
        np.testing.assert_array_equal(before, after)


def test_pipeline_gridsearch_clone_pickle():
    import pickle

    X, y = _data()
    pipe = make_pipeline(StandardScaler(), WeightedOMP(loss="sqrt_lasso"))
    grid = GridSearchCV(pipe, {"weightedomp__n_nonzero_coefs": [1, 2, 3]}, cv=3).fit(X, y)
    assert grid.best_params_["weightedomp__n_nonzero_coefs"] in (1, 2, 3)
    model = WeightedOMP(loss="lad_lasso", n_nonzero_coefs=2).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params() == model.get_params()


# scikit-learn's checks on the non-default losses (tests/test_common.py runs
# them on the defaults)
@parametrize_with_checks([
    WeightedOMP(loss="sqrt_lasso", penalty="l1", alpha=0.01),
    WeightedOMP(loss="lad_lasso", penalty="l0", alpha=0.001),
])
def test_sklearn_checks_other_losses(estimator, check):
    check(estimator)
