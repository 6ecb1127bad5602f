"""The meta-estimators: their thresholds are the functions' thresholds on their
calibration scores, and they behave as scikit-learn estimators."""

import pickle

import numpy as np
import pytest
from multilabel import make_multilabel
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, QuantileRegressor, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from test_risk import split_conformal_quantile

from skreg.conformal import (
    ClassifierLikelihoodRatio,
    ConformalRiskClassifier,
    ConformalRiskRegressor,
    CustomLoss,
    conformal_risk_control,
    conformal_risk_control_exact,
    weighted_conformal_risk_control_exact,
)


def regression_data(n=400, seed=0, heteroscedastic=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    noise = rng.normal(size=n) * (np.exp(X[:, 0]) if heteroscedastic else 1.0)
    return X, X @ np.array([1.0, -2.0, 0.5]) + noise


def test_regressor_prefit_is_split_conformal():
    X, y = regression_data()
    ridge = Ridge().fit(X[:200], y[:200])
    coef = ridge.coef_.copy()
    model = ConformalRiskRegressor(ridge, alpha=0.1, prefit=True).fit(X[200:], y[200:])
    residuals = np.abs(y[200:] - ridge.predict(X[200:]))
    assert model.lambda_hat_ == split_conformal_quantile(residuals, 0.1)
    assert model.n_calibration_ == 200
    assert model.estimator_ is ridge
    np.testing.assert_array_equal(ridge.coef_, coef)  # not refitted
    f = ridge.predict(X[:5])
    np.testing.assert_array_equal(model.predict(X[:5]), f)
    np.testing.assert_allclose(model.predict_interval(X[:5]),
                               np.c_[f - model.lambda_hat_, f + model.lambda_hat_])
    assert model.score(X[:5], y[:5]) == pytest.approx(-2 * model.lambda_hat_)


def test_regressor_split_fits_a_clone():
    X, y = regression_data()
    ridge = Ridge()
    model = ConformalRiskRegressor(ridge, calibration_size=0.3, random_state=0).fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(ridge)
    assert model.estimator_ is not ridge
    assert model.n_calibration_ == 120
    # The same seed gives the same split, hence the same threshold.
    again = ConformalRiskRegressor(Ridge(), calibration_size=0.3, random_state=0).fit(X, y)
    assert again.lambda_hat_ == model.lambda_hat_
    other = ConformalRiskRegressor(Ridge(), calibration_size=120, random_state=0).fit(X, y)
    assert other.n_calibration_ == 120


def test_regressor_normalized_score():
    X, y = regression_data(heteroscedastic=True)
    ridge = Ridge().fit(X[:200], y[:200])
    scale = Ridge().fit(X[:200], np.abs(y[:200] - ridge.predict(X[:200])))
    model = ConformalRiskRegressor(ridge, conformity_score="normalized", prefit=True,
                                   scale_estimator=scale).fit(X[200:], y[200:])
    sigma = np.maximum(scale.predict(X[200:]), np.finfo(float).tiny)
    scores = np.abs(y[200:] - ridge.predict(X[200:])) / sigma
    assert model.lambda_hat_ == split_conformal_quantile(scores, 0.1)
    lower, upper = model.predict_interval(X[:3]).T
    np.testing.assert_allclose(upper - lower, 2 * model.lambda_hat_ * np.maximum(
        scale.predict(X[:3]), np.finfo(float).tiny))
    # Without prefit the scale model is fitted on the training residuals.
    fitted = ConformalRiskRegressor(Ridge(), conformity_score="normalized",
                                    random_state=0).fit(X, y)
    assert fitted.scale_estimator_ is not None
    widths = np.diff(fitted.predict_interval(X), axis=1).ravel()
    assert widths.std() > 0  # adaptive, unlike the absolute score


class TwoQuantiles(RegressorMixin, BaseEstimator):
    """A fitted model predicting fixed lower/upper offsets around a line."""

    def fit(self, X, y):
        self.coef_ = np.linalg.lstsq(X, y, rcond=None)[0]
        return self

    def predict(self, X):
        f = X @ self.coef_
        return np.c_[f - 1.0, f + 0.5]


def test_regressor_cqr():
    X, y = regression_data(800)
    q = TwoQuantiles().fit(X[:400], y[:400])
    model = ConformalRiskRegressor(q, conformity_score="cqr", prefit=True,
                                   alpha=0.2).fit(X[400:], y[400:])
    c = q.predict(X[400:])
    scores = np.maximum(c[:, 0] - y[400:], y[400:] - c[:, 1])
    assert model.lambda_hat_ == split_conformal_quantile(scores, 0.2)
    np.testing.assert_allclose(model.predict_interval(X[:4]),
                               q.predict(X[:4]) + [-model.lambda_hat_, model.lambda_hat_])
    qr = QuantileRegressor(quantile=0.5, alpha=0.0)
    fitted = ConformalRiskRegressor(qr, conformity_score="cqr", alpha=0.2,
                                    random_state=0).fit(X, y)
    low, high = fitted.estimator_
    assert (low.quantile, high.quantile) == (pytest.approx(0.1), pytest.approx(0.9))
    assert qr.quantile == 0.5
    Xt, yt = regression_data(2000, seed=1)
    assert abs(fitted.empirical_risk(Xt, yt) - 0.2) < 0.06


def test_regressor_relative_miss_and_custom_loss():
    X, y = regression_data()
    ridge = Ridge().fit(X[:200], y[:200])
    res = np.abs(y[200:] - ridge.predict(X[200:]))
    rel = ConformalRiskRegressor(ridge, loss="relative_miss", prefit=True,
                                 alpha=0.05).fit(X[200:], y[200:])
    assert rel.lambda_hat_ == conformal_risk_control_exact(res, 0.05, loss="relative_miss")

    def miss(y, lower, upper):
        return ((y < lower) | (y > upper)).astype(float)

    custom = ConformalRiskRegressor(ridge, loss=CustomLoss(miss), prefit=True,
                                    alpha=0.1).fit(X[200:], y[200:])
    # The default grid is the calibration scores; the loss is evaluated on the
    # intervals themselves, where f + |y - f| may round below y.
    grid = np.unique(res)
    f = ridge.predict(X[200:])
    table = np.column_stack([miss(y[200:], f - lam, f + lam) for lam in grid])
    assert custom.lambda_hat_ == conformal_risk_control(table, grid, 0.1)
    k = np.searchsorted(grid, split_conformal_quantile(res, 0.1))
    assert custom.lambda_hat_ in grid[k:k + 2]
    assert custom.empirical_risk(X[200:], y[200:]) == pytest.approx(
        np.mean(res > custom.lambda_hat_))


def test_classifier_multiclass_is_split_conformal():
    X, y = make_classification(600, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    clf = LogisticRegression().fit(X[:300], labels[:300])
    model = ConformalRiskClassifier(clf, alpha=0.1, prefit=True).fit(X[300:], labels[300:])
    p_true = clf.predict_proba(X[300:])[np.arange(300), y[300:]]
    assert model.lambda_hat_ == split_conformal_quantile(1 - p_true, 0.1)
    sets = model.predict_set(X[300:])
    np.testing.assert_array_equal(sets, 1 - clf.predict_proba(X[300:]) <= model.lambda_hat_)
    np.testing.assert_array_equal(model.predict(X[:10]), clf.predict(X[:10]))
    assert model.score(X[300:], labels[300:]) == -sets.sum(1).mean()
    assert model.empirical_risk(X[300:], labels[300:]) == pytest.approx(
        1 - sets[np.arange(300), y[300:]].mean())


@pytest.mark.parametrize("wrapper", [OneVsRestClassifier, MultiOutputClassifier])
def test_classifier_multilabel_fnr(wrapper):
    X, Y = make_multilabel(400, n_features=8, n_classes=5)
    clf = wrapper(LogisticRegression()).fit(X[:200], Y[:200])
    model = ConformalRiskClassifier(clf, alpha=0.1, loss="fnr", prefit=True)
    model.fit(X[200:], Y[200:])
    P = np.asarray(OneVsRestClassifier(LogisticRegression()).fit(X[:200], Y[:200])
                   .predict_proba(X[200:]))
    expected = conformal_risk_control_exact(1 - P, 0.1, loss="fnr", Y=Y[200:],
                                            lambda_max=1.0)
    assert model.multilabel_
    assert model.lambda_hat_ == pytest.approx(expected, abs=1e-12)
    assert model.predict_set(X[:5]).shape == (5, 5)
    assert model.predict(X[:5]).shape == (5, 5)
    fitted = ConformalRiskClassifier(wrapper(LogisticRegression()), loss="fnr",
                                     random_state=0).fit(X, Y)
    assert 0 <= fitted.lambda_hat_ <= 1


def test_pipeline_gridsearch_clone_pickle():
    X, y = regression_data(600)
    pipe = make_pipeline(StandardScaler(),
                         ConformalRiskRegressor(Ridge(), random_state=0))
    pipe.fit(X, y)
    assert pipe.predict(X[:3]).shape == (3,)
    # Heavy regularisation widens the intervals: the search must prefer alpha=1e-3.
    search = GridSearchCV(ConformalRiskRegressor(Ridge(), random_state=0),
                          {"estimator__alpha": [1e-3, 1e4]}, cv=3).fit(X, y)
    assert search.best_params_ == {"estimator__alpha": 1e-3}
    model = clone(search.best_estimator_).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_interval(X[:5]),
                                  model.predict_interval(X[:5]))
    # A frozen prefit model survives clone().
    frozen = ConformalRiskRegressor(FrozenEstimator(Ridge().fit(X, y)), prefit=True)
    clone(frozen).fit(X, y)


def test_covariate_shift_callable_and_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 1))
    y = X[:, 0] + np.exp(0.5 * X[:, 0]) * rng.normal(size=600)
    ridge = Ridge().fit(X[:300], y[:300])

    def ratio(Z):
        return np.exp(Z[:, 0] - 0.5)

    model = ConformalRiskRegressor(ridge, prefit=True, likelihood_ratio=ratio)
    model.fit(X[300:], y[300:])
    assert model.lambda_hat_ is None
    Xt = np.array([[-1.0], [0.0], [1.0]])
    res = np.abs(y[300:] - ridge.predict(X[300:]))
    expected = weighted_conformal_risk_control_exact(res, 0.1, ratio(X[300:]), ratio(Xt))
    np.testing.assert_array_equal(model.thresholds(Xt), expected)
    assert np.all(np.diff(expected) >= 0)  # more weight on larger x: wider intervals
    lower, upper = model.predict_interval(Xt).T
    np.testing.assert_allclose(upper - lower, 2 * expected)
    # Estimated from unlabelled target rows.
    X_target = rng.normal(1.0, 1.0, size=(400, 1))
    est = ConformalRiskRegressor(Ridge(), likelihood_ratio=LogisticRegression(),
                                 random_state=0).fit(X, y, X_target=X_target)
    assert isinstance(est.likelihood_ratio_, ClassifierLikelihoodRatio)
    lam = est.thresholds(np.array([[-1.0], [3.0]]))
    assert lam[0] < lam[1]
    clf = ConformalRiskClassifier(LogisticRegression(), likelihood_ratio=ratio,
                                  random_state=0).fit(X, (y > 0).astype(int))
    assert clf.thresholds(Xt).shape == (3,)


def test_estimator_inputs_not_modified():
    X, y = regression_data(200)
    Xc, yc = X.copy(), y.copy()
    ConformalRiskRegressor(Ridge(), conformity_score="normalized").fit(X, y)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    Xm, Y = make_multilabel(200, n_classes=3)
    Xm.flags.writeable = False
    Y.flags.writeable = False
    ConformalRiskClassifier(OneVsRestClassifier(LogisticRegression()),
                            loss="fnr").fit(Xm, Y)


def test_classifier_gridsearch_prefers_smaller_sets():
    X, y = make_classification(600, n_features=6, n_informative=4, n_classes=3,
                               random_state=1)
    search = GridSearchCV(ConformalRiskClassifier(LogisticRegression(), random_state=0),
                          {"estimator__C": [1e-4, 1.0]}, cv=3).fit(X, y)
    # The nearly constant model (C=1e-4) needs sets of almost all classes.
    assert search.best_params_ == {"estimator__C": 1.0}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0] and -3 <= scores[0] < scores[1] < 0
