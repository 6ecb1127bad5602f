"""Cross-validated estimators, pipelines, grid search, pickling."""

import pickle

import numpy as np
import pytest
from families import FAMILIES, make_problem
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skreg

CV_CLASSES = {"lasso": skreg.WeightedLassoCV, "sqrt_lasso": skreg.SqrtLassoCV,
              "lad_lasso": skreg.LADLassoCV}


def test_weighted_lasso_cv_equals_sklearn_lasso_cv():
    X, y = make_problem(80, 30, seed=3)
    folds = KFold(4, shuffle=True, random_state=0)
    ours = skreg.WeightedLassoCV(alphas=20, cv=folds, tol=1e-12, max_iter=100_000).fit(X, y)
    theirs = LassoCV(alphas=ours.alphas_, cv=folds, tol=1e-14, max_iter=1_000_000).fit(X, y)
    assert_allclose(ours.alphas_, theirs.alphas_)
    assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)
    assert ours.alpha_ == theirs.alpha_
    assert_allclose(ours.coef_, theirs.coef_, atol=1e-7)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_cv_selects_from_path_and_refits(family):
    X, y = make_problem(60, 20, seed=4)
    cls = CV_CLASSES[family.name]
    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    cv = cls(alphas=10, eps=0.01, cv=3, tol=1e-10, max_iter=100_000).fit(X, y, sample_weight=sw)
    path = getattr(cv, cls._path_attribute)
    assert path.shape == (10, 3)
    assert cv.alpha_ == cv.alphas_[np.argmin(path.mean(axis=1))]
    single = family.estimator(alpha=cv.alpha_, tol=1e-10, max_iter=100_000)
    single.fit(X, y, sample_weight=sw)
    assert_allclose(cv.coef_, single.coef_, atol=1e-6)
    parallel = clone(cv).set_params(n_jobs=2).fit(X, y, sample_weight=sw)
    assert_allclose(getattr(parallel, cls._path_attribute), path)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_pipeline_grid_search_clone_pickle(family):
    X, y = make_problem(60, 8, seed=6)
    pipe = make_pipeline(StandardScaler(), family.estimator())
    step = pipe.steps[-1][0]
    search = GridSearchCV(pipe, {f"{step}__alpha": [0.01, 0.1, 1.0]}, cv=3).fit(X, y)
    assert search.best_params_[f"{step}__alpha"] in (0.01, 0.1, 1.0)
    model = search.best_estimator_
    restored = pickle.loads(pickle.dumps(model))
    assert_allclose(restored.predict(X), model.predict(X))
    assert clone(model[-1]).get_params() == model[-1].get_params()


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_warm_start_reuses_solution(family):
    X, y = make_problem(50, 20, seed=2)
    est = family.estimator(alpha=0.05, warm_start=True, tol=1e-10, max_iter=100_000).fit(X, y)
    first = est.coef_.copy()
    est.fit(X, y)
    assert_allclose(est.coef_, first, atol=1e-7)
    assert est.n_iter_ <= 10
