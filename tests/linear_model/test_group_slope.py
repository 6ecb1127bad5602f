"""Group SLOPE and Sparse-group SLOPE: input checks, paths, screening, special cases."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import (
    GroupSLOPE,
    GroupSLOPECV,
    SparseGroupSLOPE,
    SparseGroupSLOPECV,
    group_slope_path,
    sparse_group_slope_path,
)
from skreg.linear_model._group_slope_screening import _GroupProblem
from skreg.linear_model._slope import SLOPE

PATHS = {"group": (group_slope_path, {}),
         "sparse_group": (sparse_group_slope_path, {"l1_ratio": 0.5})}
ESTIMATORS = {"group": (GroupSLOPE, {}), "sparse_group": (SparseGroupSLOPE, {"l1_ratio": 0.5})}


def make_problem(n=40, p=200, n_groups=40, seed=0, sparse=False, dtype=np.float64):
    """p >> n, groups of unequal sizes, 3 active groups."""
    rng = np.random.default_rng(seed)
    labels = np.sort(np.concatenate([np.arange(n_groups),
                                     rng.integers(0, n_groups, p - n_groups)]))
    if sparse:
        X = sp.random(n, p, density=0.3, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal, dtype=dtype)
        Xd = X.toarray()
    else:
        X = rng.standard_normal((n, p)).astype(dtype)
        Xd = X
    beta = np.zeros(p)
    beta[np.isin(labels, [1, 7, 20])] = 1.0
    y = Xd @ beta + 0.5 * rng.standard_normal(n)
    return X, y, labels


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kind", ["group", "sparse_group"])
@pytest.mark.parametrize("groups, match", [
    ([[0, 1], [2]], "cover every feature"),
    ([[0, 1], [1, 2, 3]], "more than one group"),
    ([[0, 1], [], [2, 3]], "empty"),
    ([[0, 1], [2, 3, 4]], "outside"),
    ([0, 0, 1], "one entry per feature"),
    (0, "at least 1"),
])
def test_bad_groups(kind, groups, match):
    cls, extra = ESTIMATORS[kind]
    X = np.random.default_rng(0).standard_normal((10, 4))
    y = X[:, 0]
    with pytest.raises(ValueError, match=match):
        cls(groups=groups, **extra).fit(X, y)
    path, pextra = PATHS[kind]
    with pytest.raises(ValueError, match=match):
        path(X, y, groups=groups, **pextra)


@pytest.mark.parametrize("lambdas, match", [
    ([1.0, 2.0], "non-increasing"),
    ([1.0, -1.0], "non-negative"),
    ([2.0, 1.0, 0.5], "length 2"),
    ([0.0, 0.0], "all zero"),
    ("nope", "one of"),
])
def test_bad_lambdas(lambdas, match):
    X = np.random.default_rng(0).standard_normal((10, 4))
    y = X[:, 0]
    with pytest.raises(ValueError, match=match):
        GroupSLOPE(groups=2, lambdas=lambdas).fit(X, y)
    with pytest.raises(ValueError, match=match):
        SparseGroupSLOPE(groups=2, group_lambdas=lambdas).fit(X, y)
    with pytest.raises(ValueError, match="var_lambdas"):
        SparseGroupSLOPE(groups=2, var_lambdas=[1.0, 2.0, 0.5, 0.1]).fit(X, y)
    with pytest.raises(ValueError, match="var_lambdas"):
        SparseGroupSLOPE(groups=2, var_lambdas=[1.0]).fit(X, y)


@pytest.mark.parametrize("l1_ratio", [-0.1, 1.5, np.nan])
def test_bad_l1_ratio(l1_ratio):
    X = np.random.default_rng(0).standard_normal((10, 4))
    with pytest.raises(ValueError, match="l1_ratio"):
        SparseGroupSLOPE(groups=2, l1_ratio=l1_ratio).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="l1_ratio"):
        sparse_group_slope_path(X, X[:, 0], groups=2, l1_ratio=l1_ratio)
    with pytest.raises(TypeError, match="l1_ratio"):
        SparseGroupSLOPECV(groups=2, l1_ratio="0.5").fit(X, X[:, 0])


def test_bad_screening_and_alpha():
    X = np.random.default_rng(0).standard_normal((10, 4))
    with pytest.raises(ValueError, match="screening"):
        GroupSLOPE(groups=2, screening="safe").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="alpha"):
        GroupSLOPE(alpha=-1.0, groups=2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="alpha must be positive"):
        GroupSLOPE(alpha=0.0, groups=2).fit(X, X[:, 0])


def test_user_arrays_are_not_modified():
    X, y, labels = make_problem(20, 30, 8)
    X32 = np.asfortranarray(X, dtype=np.float32)
    copies = [a.copy() for a in (X, y, labels, X32)]
    lam = np.linspace(2, 1, 8)
    lam_copy = lam.copy()
    groups = [list(np.flatnonzero(labels == g)) for g in range(8)]
    GroupSLOPE(alpha=0.05, groups=labels, lambdas=lam).fit(X, y)
    SparseGroupSLOPE(alpha=0.05, groups=groups, group_lambdas=lam).fit(X32, y)
    group_slope_path(X, y, groups=labels, alphas=3)
    for a, c in zip((X, y, labels, X32), copies):
        assert_allclose(a, c)
    assert_allclose(lam, lam_copy)


# ------------------------------------------------------------- alpha_max
@pytest.mark.parametrize("kind", ["group", "sparse_group"])
@pytest.mark.parametrize("screening", ["strong", None])
def test_alpha_max_gives_zeros(kind, screening):
    X, y, labels = make_problem(30, 60, 12, seed=3)
    path, extra = PATHS[kind]
    alpha_max = path(X, y, groups=labels, alphas=1, fit_intercept=True, **extra)[0][0]
    cls, eextra = ESTIMATORS[kind]
    est = cls(alpha=alpha_max, groups=labels, screening=screening, **eextra).fit(X, y)
    assert np.all(est.coef_ == 0)
    assert_allclose(est.intercept_, y.mean())
    est.set_params(alpha=0.99 * alpha_max, tol=1e-10).fit(X, y)
    assert np.any(est.coef_ != 0)


def test_group_slope_alpha_max_is_exact():
    X, y, labels = make_problem(30, 60, 12, seed=4)
    alpha_max = group_slope_path(X, y, groups=labels, alphas=1, fit_intercept=True)[0][0]
    est = GroupSLOPE(alpha=alpha_max * (1 - 1e-6), groups=labels, tol=1e-12).fit(X, y)
    assert np.any(est.coef_ != 0)


# ------------------------------------------------------------- screening
@pytest.mark.parametrize("kind", ["group", "sparse_group"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_screening_does_not_change_the_path(kind, sparse):
    X, y, labels = make_problem(sparse=sparse, seed=5)
    path, extra = PATHS[kind]
    kw = dict(groups=labels, alphas=15, eps=0.1, fit_intercept=True, tol=1e-12,
              max_iter=1_000_000, **extra)
    a1, c1, _, info = path(X, y, screening="strong", **kw)
    a2, c2, _, info_none = path(X, y, screening=None, **kw)
    assert_allclose(a1, a2)
    assert_allclose(c1, c2, atol=1e-6)
    n_groups = labels.max() + 1
    assert np.all(info_none["n_screened"] == n_groups)
    # The strong set is a real reduction somewhere on this p >> n path.
    assert info["n_screened"].min() < n_groups / 2
    for key in ("n_screened", "n_violations", "n_refits", "n_iter", "intercepts"):
        assert info[key].shape == (15,)


@pytest.mark.parametrize("kind", ["group", "sparse_group"])
def test_kkt_violations_are_fixed(kind, monkeypatch):
    # An empty strong set (the rule replaced by one that keeps nothing) makes
    # every group that enters the model a violation of the rule; the KKT
    # checks must catch them all and give the unscreened path.
    X, y, labels = make_problem(seed=6)
    path, extra = PATHS[kind]
    kw = dict(groups=labels, alphas=8, eps=0.2, fit_intercept=True, tol=1e-12,
              max_iter=1_000_000, **extra)
    _, ref, _, _ = path(X, y, screening=None, **kw)
    monkeypatch.setattr(_GroupProblem, "_strong_size", staticmethod(lambda *a: 0))
    _, coefs, _, info = path(X, y, screening="strong", **kw)
    assert info["n_violations"].sum() > 0
    assert info["n_refits"].sum() > 0
    assert_allclose(coefs, ref, atol=1e-6)


@pytest.mark.parametrize("kind", ["group", "sparse_group"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_predicted_groups_do_not_change_the_path(kind, sparse, monkeypatch):
    # Groups predicted to enter (gradient extrapolated along the path) only
    # enlarge the working set; with and without them the path is the same,
    # and they are never groups the working set already holds.
    X, y, labels = make_problem(sparse=sparse, seed=8)
    path, extra = PATHS[kind]
    kw = dict(groups=labels, alphas=15, eps=0.05, fit_intercept=True, tol=1e-12,
              max_iter=1_000_000, screening="strong", **extra)
    predicted = _GroupProblem._predicted
    n_predicted = []

    def spy(self, alpha, work):
        out = predicted(self, alpha, work)
        assert not np.any(work[out])
        n_predicted.append(out.size)
        return out

    monkeypatch.setattr(_GroupProblem, "_predicted", spy)
    _, c1, _, _info = path(X, y, **kw)
    assert sum(n_predicted) > 0
    monkeypatch.setattr(_GroupProblem, "_predicted",
                        lambda self, alpha, work: np.empty(0, dtype=np.int64))
    _, c2, _, _info_off = path(X, y, **kw)
    assert_allclose(c1, c2, atol=1e-6)


# ----------------------------------------------------------- special cases
def test_singleton_groups_and_l1_ratio_one_are_slope():
    X, y, _ = make_problem(40, 20, 20, seed=7)
    lam = np.linspace(2.0, 0.5, 20)
    ref = SLOPE(alpha=0.05, lambdas=lam, tol=1e-12).fit(X, y)
    gs = GroupSLOPE(alpha=0.05, groups=1, lambdas=lam, tol=1e-12).fit(X, y)
    sgs = SparseGroupSLOPE(alpha=0.05, groups=4, l1_ratio=1.0, var_lambdas=lam,
                           tol=1e-12).fit(X, y)
    assert_allclose(gs.coef_, ref.coef_, atol=1e-6)
    assert_allclose(sgs.coef_, ref.coef_, atol=1e-6)


def test_l1_ratio_zero_is_group_slope():
    X, y, labels = make_problem(30, 40, 10, seed=8)
    lam = np.linspace(2.0, 1.0, 10)
    gs = GroupSLOPE(alpha=0.05, groups=labels, lambdas=lam, tol=1e-12).fit(X, y)
    sgs = SparseGroupSLOPE(alpha=0.05, groups=labels, l1_ratio=0.0, group_lambdas=lam,
                           tol=1e-12).fit(X, y)
    assert_allclose(sgs.coef_, gs.coef_, atol=1e-8)


def test_group_formats_agree():
    X, y, _ = make_problem(30, 9, 3, seed=9)
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    lists = [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    coefs = [GroupSLOPE(alpha=0.05, groups=g, tol=1e-12).fit(X, y).coef_
             for g in (labels, lists, 2)]
    assert_allclose(coefs[0], coefs[1])
    assert_allclose(coefs[0], coefs[2])


@pytest.mark.parametrize("kind", ["group", "sparse_group"])
def test_float32_sparse_and_sample_weight(kind):
    cls, extra = ESTIMATORS[kind]
    X, y, labels = make_problem(40, 30, 8, seed=10)
    sw = np.random.default_rng(1).uniform(0.5, 2, 40)
    kw = dict(alpha=0.05, groups=labels, tol=1e-12, max_iter=1_000_000, **extra)
    ref = cls(**kw).fit(X, y, sample_weight=sw)
    est32 = cls(**kw).fit(X.astype(np.float32), y, sample_weight=sw)
    assert est32.coef_.dtype == np.float32
    assert_allclose(est32.coef_, ref.coef_, atol=1e-4)
    est_sp = cls(**kw).fit(sp.csc_matrix(X), y, sample_weight=sw)
    assert_allclose(est_sp.coef_, ref.coef_, atol=1e-7)
    assert_allclose(est_sp.intercept_, ref.intercept_, atol=1e-7)
    # Integer weights are repeated rows.
    rep = np.repeat(np.arange(40), 2)
    ref2 = cls(**kw).fit(X, y, sample_weight=np.full(40, 2.0))
    est_rep = cls(**kw).fit(X[rep], y[rep])
    assert_allclose(est_rep.coef_, ref2.coef_, atol=1e-7)


def test_warm_start_and_convergence_warning():
    X, y, labels = make_problem(seed=11)
    est = SparseGroupSLOPE(alpha=0.05, groups=labels, l1_ratio=0.5, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    est.set_params(max_iter=100_000, tol=1e-10, warm_start=True).fit(X, y)
    cold = SparseGroupSLOPE(alpha=0.05, groups=labels, l1_ratio=0.5, tol=1e-10,
                            max_iter=100_000).fit(X, y)
    assert_allclose(est.coef_, cold.coef_, atol=1e-5)
    assert est.n_iter_ >= 1 and est.dual_gap_ >= 0


# -------------------------------------------------------------------- CV
@pytest.mark.parametrize("cls, extra", [(GroupSLOPECV, {}),
                                        (SparseGroupSLOPECV, {"l1_ratio": 0.5})])
def test_cv_picks_an_alpha_and_refits(cls, extra):
    X, y, labels = make_problem(60, 40, 10, seed=12)
    cv = cls(groups=labels, alphas=8, cv=3, **extra).fit(X, y)
    assert cv.mse_path_.shape == (8, 3)
    assert cv.alpha_ in cv.alphas_
    best = int(np.argmin(cv.mse_path_.mean(axis=1)))
    assert cv.alpha_ == cv.alphas_[best]
    single_cls = GroupSLOPE if cls is GroupSLOPECV else SparseGroupSLOPE
    single = single_cls(alpha=cv.alpha_, groups=labels, **extra).fit(X, y)
    assert_allclose(cv.coef_, single.coef_, atol=1e-6)
    cv_sp = cls(groups=labels, alphas=8, cv=3, **extra).fit(sp.csc_matrix(X), y)
    assert_allclose(cv_sp.alpha_, cv.alpha_)


def test_pipeline_and_grid_search():
    X, y, labels = make_problem(60, 20, 5, seed=13)
    pipe = make_pipeline(StandardScaler(), GroupSLOPE(groups=labels))
    search = GridSearchCV(pipe, {"groupslope__alpha": [0.01, 0.1]}, cv=3).fit(X, y)
    assert search.best_params_["groupslope__alpha"] in (0.01, 0.1)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["group", "sparse_group"])
def test_screening_does_not_change_a_long_path(kind):
    # The larger version of test_screening_does_not_change_the_path.
    X, y, labels = make_problem(n=80, p=1000, n_groups=100, seed=14)
    path, extra = PATHS[kind]
    kw = dict(groups=labels, alphas=30, eps=0.1, fit_intercept=True, tol=1e-11,
              max_iter=1_000_000, **extra)
    _, c1, _, info = path(X, y, screening="strong", **kw)
    _, c2, _, _ = path(X, y, screening=None, **kw)
    assert_allclose(c1, c2, atol=1e-6)
    assert info["n_screened"].mean() < 100
