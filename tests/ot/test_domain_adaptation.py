"""OTDomainAdaptationClassifier: adaptation gain, domain conventions, model selection."""

import pickle

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from skreg.ot import OTDomainAdaptationClassifier, OTMapping


def _task(seed=0, n_source=150, n_target=150):
    """Two Gaussian classes; the target is rotated by 20 degrees and shifted."""
    rng = np.random.default_rng(seed)

    def sample(n, angle, shift):
        y = rng.integers(0, 2, n)
        X = rng.normal(size=(n, 2)) * 0.6 + np.c_[2.0 * y - 1.0, np.zeros(n)]
        c, s = np.cos(angle), np.sin(angle)
        return X @ np.array([[c, s], [-s, c]]) + shift, y

    Xs, ys = sample(n_source, 0.0, 0.0)
    Xt, yt = sample(n_target, np.deg2rad(20), [3.0, 1.0])
    return Xs, ys, Xt, yt


@pytest.mark.parametrize("penalty, kwargs", [
    ("entropy", {}), ("l2", {"reg": 1.0}), ("sparsity", {"reg": 1.0, "max_nnz": 10})])
def test_accuracy_gain_over_unadapted(penalty, kwargs):
    Xs, ys, Xt, yt = _task()
    plain = LogisticRegression().fit(Xs, ys).score(Xt, yt)
    clf = OTDomainAdaptationClassifier(LogisticRegression(), penalty=penalty, **kwargs)
    clf.fit(Xs, ys, X_target=Xt)
    assert plain < 0.6
    assert clf.score(Xt, yt) > 0.9
    assert clf.plan_.shape == (150, 150) and clf.n_iter_ >= 1 and clf.cost_ > 0
    assert_allclose(clf.estimator_.coef_,
                    LogisticRegression().fit(clf.mapping_.source_mapped_, ys).coef_)
    assert_allclose(clf.predict_proba(Xt), clf.estimator_.predict_proba(Xt))
    assert list(clf.classes_) == [0, 1]


def test_stacked_conventions_agree_and_target_labels_are_ignored():
    Xs, ys, Xt, yt = _task(1, n_source=80, n_target=60)
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(80, dtype=int), -np.ones(60, dtype=int)]
    explicit = OTDomainAdaptationClassifier(LogisticRegression()).fit(Xs, ys, X_target=Xt)
    for y_target in (yt, np.full(60, 7), 1 - yt):
        stacked = OTDomainAdaptationClassifier(LogisticRegression()).fit(
            X, np.r_[ys, y_target], sample_domain=sd)
        assert_allclose(stacked.plan_, explicit.plan_)
        assert_allclose(stacked.decision_function(Xt), explicit.decision_function(Xt))
        assert list(stacked.classes_) == [0, 1]
    masked = OTDomainAdaptationClassifier(LogisticRegression()).fit(
        X, np.r_[ys, np.full(60, np.nan)])
    assert_allclose(masked.decision_function(Xt), explicit.decision_function(Xt))


def test_no_target_is_the_wrapped_estimator():
    Xs, ys, _, _ = _task(2)
    clf = OTDomainAdaptationClassifier(LogisticRegression()).fit(Xs, ys)
    assert_allclose(clf.decision_function(Xs),
                    LogisticRegression().fit(Xs, ys).decision_function(Xs))
    assert clf.n_iter_ == 0 and clf.plan_ is None


def _stacked_with_target_folds(seed=3):
    # Training folds: all source rows and the other target rows (their labels
    # unused); test folds: target rows only, scored with their true labels.
    Xs, ys, Xt, yt = _task(seed, n_source=120, n_target=120)
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, yt]
    sd = np.r_[np.ones(120, dtype=int), -np.ones(120, dtype=int)]
    fold = np.r_[np.full(120, -1), np.arange(120) % 3]
    return X, y, sd, PredefinedSplit(fold), (Xs, ys, Xt, yt)


def test_pipeline_grid_search_with_sample_domain():
    X, y, sd, cv, (Xs, ys, Xt, yt) = _stacked_with_target_folds()
    pipe = make_pipeline(StandardScaler(),
                         OTDomainAdaptationClassifier(LogisticRegression()))
    grid = {"otdomainadaptationclassifier__reg": [1e-2, 1e-1],
            "otdomainadaptationclassifier__penalty": ["entropy", "l2"]}
    search = GridSearchCV(pipe, grid, cv=cv).fit(
        X, y, otdomainadaptationclassifier__sample_domain=sd)
    baseline = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xs, ys)
    assert baseline.score(Xt, yt) < 0.6
    assert search.best_score_ > 0.9
    assert search.best_estimator_.score(Xt, yt) > 0.9


def test_metadata_routing_in_grid_search_and_cross_val_score():
    X, y, sd, cv, _ = _stacked_with_target_folds(4)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(),
                             OTDomainAdaptationClassifier(LogisticRegression()))
        scores = cross_val_score(pipe, X, y, cv=cv, params={"sample_domain": sd})
        search = GridSearchCV(pipe, {"otdomainadaptationclassifier__reg": [1e-2, 1e-1]},
                              cv=cv).fit(X, y, sample_domain=sd)
    # 40 target rows per test fold; the unadapted model is near 0.5
    assert scores.min() > 0.8 and scores.mean() > 0.85
    assert search.best_score_ >= scores.mean() - 0.05
    # the same scores without routing, with the parameter given to the step
    plain = cross_val_score(pipe, X, y, cv=cv,
                            params={"otdomainadaptationclassifier__sample_domain": sd})
    assert_allclose(plain, scores)


def test_mapping_then_classifier_pipeline_with_routing():
    # OTMapping inside a pipeline on stacked data: routed sample_domain at
    # fit moves the source rows; at predict, target rows pass unchanged.
    Xs, ys, Xt, yt = _task(5)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(OTMapping(), LogisticRegression())
        pipe.fit(Xs, ys, X_target=Xt)
        assert pipe.score(Xt, yt) > 0.9


def test_estimator_without_predict_proba():
    Xs, ys, Xt, yt = _task(6)
    clf = OTDomainAdaptationClassifier(LinearSVC())
    assert not hasattr(clf, "predict_proba")
    clf.fit(Xs, ys, X_target=Xt)
    assert not hasattr(clf, "predict_proba") and hasattr(clf, "decision_function")
    assert clf.score(Xt, yt) > 0.85


def test_clone_and_pickle():
    Xs, ys, Xt, _yt = _task(7)
    clf = OTDomainAdaptationClassifier(LogisticRegression(C=0.5), reg=0.05)
    clf.fit(Xs, ys, X_target=Xt)
    copy = clone(clf)
    assert copy.get_params()["estimator__C"] == 0.5 and not hasattr(copy, "estimator_")
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(Xt), clf.predict_proba(Xt))


def test_inputs_not_modified():
    Xs, ys, Xt, _ = _task(8)
    X = np.vstack([Xs, Xt])
    y = np.r_[ys.astype(float), np.full(150, np.nan)]
    X0, y0 = X.copy(), y.copy()
    OTDomainAdaptationClassifier(LogisticRegression()).fit(X, y).predict(Xt)
    assert np.array_equal(X, X0) and np.array_equal(y, y0, equal_nan=True)


def test_bad_input():
    Xs, ys, Xt, _ = _task(9)
    clf = OTDomainAdaptationClassifier(LogisticRegression())
    with pytest.raises(ValueError, match="requires y to be passed"):
        clf.fit(Xs, None)
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(Xs, np.linspace(0, 1, 150), X_target=Xt)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(Xs, ys[:-1], X_target=Xt)
    with pytest.raises(ValueError, match="reg"):
        OTDomainAdaptationClassifier(LogisticRegression(), reg=0.0).fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="penalty must be one of"):
        OTDomainAdaptationClassifier(LogisticRegression(), penalty="x").fit(
            Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="X_target has 3 features"):
        clf.fit(Xs, ys, X_target=np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.where(Xs > 2, np.nan, Xs), ys, X_target=Xt)
    clf.fit(Xs, ys, X_target=Xt)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.ones((3, 5)))
