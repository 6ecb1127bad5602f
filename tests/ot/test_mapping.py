"""OTMapping: barycentric map, out-of-sample rule, domain conventions, sklearn use."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skreg.ot import OTMapping, cost_matrix, quadratic_ot, sinkhorn


def _clouds(n=40, m=30, seed=0, shift=(3.0, -1.0)):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n, 2))
    Xt = rng.normal(size=(m, 2)) * [1.5, 0.5] + shift
    return Xs, Xt


@pytest.mark.parametrize("penalty, kwargs", [
    ("entropy", {}), ("l2", {}), ("sparsity", {"max_nnz": 5})])
def test_barycentric_projection_of_the_plan(penalty, kwargs):
    Xs, Xt = _clouds()
    mapping = OTMapping(0.05, penalty=penalty, **kwargs).fit(Xs, X_target=Xt)
    P = mapping.plan_
    assert P.shape == (40, 30)
    assert_allclose(mapping.source_mapped_, P @ Xt / P.sum(1, keepdims=True))
    assert_allclose(mapping.cost_, np.sum(P * cost_matrix(Xs, Xt, normalize="max")))
    assert mapping.n_iter_ >= 1
    assert_allclose(mapping.fit_transform(Xs, X_target=Xt), mapping.source_mapped_)
    assert_allclose(mapping.transform(Xs, sample_domain=1), mapping.source_mapped_)


def test_plan_matches_the_solvers():
    Xs, Xt = _clouds(seed=1)
    M = cost_matrix(Xs, Xt, normalize="max")
    entropic = OTMapping(0.05).fit(Xs, X_target=Xt)
    assert_allclose(entropic.plan_, sinkhorn(None, None, M, 0.05).plan, atol=1e-12)
    quad = OTMapping(0.5, penalty="l2", normalize="max").fit(Xs, X_target=Xt)
    assert_allclose(quad.plan_, quadratic_ot(None, None, M, 0.5).plan, atol=1e-12)
    raw = OTMapping(0.5, penalty="l2", normalize=None, metric="euclidean").fit(
        Xs, X_target=Xt)
    assert_allclose(raw.plan_, quadratic_ot(None, None, cost_matrix(
        Xs, Xt, metric="euclidean"), 0.5).plan, atol=1e-12)


def test_matches_pot_domain_adaptation_transports():
    import ot

    Xs, Xt = _clouds(seed=8)
    X_new = np.random.default_rng(8).normal(size=(6, 2))
    # POT's "ferradans" out-of-sample map is the nearest-neighbour rule
    pot = ot.da.SinkhornTransport(reg_e=0.05, norm="max", max_iter=100_000, tol=1e-12,
                                  out_of_sample_map="ferradans").fit(Xs=Xs, Xt=Xt)
    ours = OTMapping(0.05).fit(Xs, X_target=Xt)
    assert_allclose(ours.plan_, pot.coupling_, atol=1e-10)
    assert_allclose(ours.transform(Xs, sample_domain=1), pot.transform(Xs=Xs), atol=1e-7)
    assert_allclose(ours.transform(X_new, sample_domain=1), pot.transform(Xs=X_new),
                    atol=1e-7)
    # near-unregularised quadratic OT against the exact (EMD) transport
    pot = ot.da.EMDTransport(norm="max").fit(Xs=Xs, Xt=Xt)
    ours = OTMapping(1e-4, penalty="l2").fit(Xs, X_target=Xt)
    assert_allclose(ours.plan_, pot.coupling_, atol=1e-9)
    assert_allclose(ours.transform(X_new, sample_domain=1), pot.transform(Xs=X_new),
                    atol=1e-9)


def test_translation_is_recovered_and_out_of_sample_rule():
    rng = np.random.default_rng(2)
    Xs = rng.normal(size=(30, 3))
    Xt = Xs + [2.0, 0.0, -1.0]
    mapping = OTMapping(1e-3, penalty="l2").fit(Xs, X_target=Xt)
    assert_allclose(mapping.transform(Xs, sample_domain=1), Xt, atol=1e-10)
    # new points move by the displacement of their nearest fitted source point
    X_new = Xs[[3, 7]] + 1e-3
    assert_allclose(mapping.transform(X_new, sample_domain=np.ones(2)),
                    X_new + [2.0, 0.0, -1.0], atol=1e-10)
    X_new = rng.normal(size=(5, 3))
    nearest = np.argmin(cost_matrix(X_new, Xs), axis=1)
    expected = X_new + mapping.source_mapped_[nearest] - Xs[nearest]
    assert_allclose(mapping.transform(X_new, sample_domain=1), expected)


def test_stacked_sample_domain_and_nan_labels():
    Xs, Xt = _clouds(seed=3)
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(40, dtype=int), -np.ones(30, dtype=int)]
    explicit = OTMapping(0.05).fit(Xs, X_target=Xt)
    stacked = OTMapping(0.05)
    out = stacked.fit_transform(X, sample_domain=sd)
    assert_allclose(stacked.plan_, explicit.plan_)
    assert_allclose(out[:40], explicit.source_mapped_)
    assert_allclose(out[40:], Xt)  # target rows are not moved
    # transform: only rows marked as source move
    assert_allclose(stacked.transform(X), X)
    assert_allclose(stacked.transform(X, sample_domain=sd), out)
    # NaN labels mark target rows (skada's masking for regression)
    y = np.r_[np.zeros(40), np.full(30, np.nan)]
    masked = OTMapping(0.05).fit(X, y)
    assert_allclose(masked.plan_, explicit.plan_)
    # other domain labels than +-1 (skada numbers domains 1, 2, ... / -1, -2, ...)
    sd2 = np.where(sd > 0, 2, -3)
    assert_allclose(OTMapping(0.05).fit(X, sample_domain=sd2).plan_, explicit.plan_)


def test_no_target_is_the_identity():
    Xs, _ = _clouds(seed=4)
    mapping = OTMapping().fit(Xs, np.arange(40))
    assert mapping.plan_ is None
    assert mapping.cost_ == 0.0 and mapping.n_iter_ == 0
    assert_allclose(mapping.fit_transform(Xs), Xs)
    assert_allclose(mapping.transform(Xs, sample_domain=1), Xs)


def test_pipeline_grid_search_selects_reg_on_target_validation():
    # Source: two Gaussian classes; target: the same classes rotated by 20
    # degrees and shifted by (3, 1). A classifier fitted on the source alone
    # is at chance level on the target; on the transported source it is good.
    rng = np.random.default_rng(5)

    def sample(n, angle, shift):
        y = rng.integers(0, 2, n)
        X = rng.normal(size=(n, 2)) * 0.6 + np.c_[2.0 * y - 1.0, np.zeros(n)]
        c, s = np.cos(angle), np.sin(angle)
        return X @ np.array([[c, s], [-s, c]]) + shift, y

    Xs, ys = sample(150, 0.0, 0.0)
    Xt, _yt = sample(150, np.deg2rad(20), [3.0, 1.0])
    Xval, yval = sample(100, np.deg2rad(20), [3.0, 1.0])

    def target_accuracy(estimator, X, y):
        return estimator.score(Xval, yval)

    baseline = LogisticRegression().fit(Xs, ys).score(Xval, yval)
    pipe = make_pipeline(OTMapping(penalty="l2"), LogisticRegression())
    search = GridSearchCV(pipe, {"otmapping__reg": [1e-2, 1.0, 100.0]}, cv=3,
                          scoring=target_accuracy)
    search.fit(Xs, ys, otmapping__X_target=Xt)
    assert baseline < 0.6
    assert search.best_score_ > 0.9
    assert search.best_estimator_.score(Xval, yval) > 0.9


def test_clone_and_pickle():
    Xs, Xt = _clouds(seed=6)
    mapping = OTMapping(0.1, penalty="sparsity", max_nnz=8).fit(Xs, X_target=Xt)
    copy = clone(mapping)
    assert copy.get_params() == mapping.get_params() and not hasattr(copy, "plan_")
    restored = pickle.loads(pickle.dumps(mapping))
    assert_allclose(restored.transform(Xs, sample_domain=1),
                    mapping.transform(Xs, sample_domain=1))


def test_inputs_not_modified():
    Xs, Xt = _clouds(seed=7)
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(40), -np.ones(30)]
    X0, sd0, Xt0 = X.copy(), sd.copy(), Xt.copy()
    OTMapping().fit_transform(X, sample_domain=sd)
    OTMapping().fit(Xs, X_target=Xt).transform(X, sample_domain=sd)
    assert np.array_equal(X, X0) and np.array_equal(sd, sd0) and np.array_equal(Xt, Xt0)


@pytest.mark.parametrize("params, error, match", [
    ({"reg": 0.0}, ValueError, "reg"),
    ({"reg": "a"}, TypeError, "reg"),
    ({"penalty": "kl"}, ValueError, "penalty must be one of"),
    ({"penalty": "sparsity"}, ValueError, "needs max_nnz"),
    ({"penalty": "sparsity", "max_nnz": 0}, ValueError, "max_nnz"),
    ({"penalty": "l2", "max_nnz": 3}, ValueError, "max_nnz applies"),
    ({"penalty": "l2", "method": "log"}, ValueError, "method applies"),
    ({"normalize": "sum"}, ValueError, "normalize must be one of"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"tol": 0.0}, ValueError, "tol"),
])
def test_bad_parameters(params, error, match):
    Xs, Xt = _clouds()
    with pytest.raises(error, match=match):
        OTMapping(**params).fit(Xs, X_target=Xt)


def test_bad_domain_input():
    Xs, Xt = _clouds()
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(40), -np.ones(30)]
    with pytest.raises(ValueError, match="either X_target or sample_domain"):
        OTMapping().fit(Xs, X_target=Xt, sample_domain=np.ones(40))
    with pytest.raises(ValueError, match="X_target has 3 features"):
        OTMapping().fit(Xs, X_target=np.ones((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        OTMapping().fit(Xs, X_target=np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match=r"sample_domain must have shape \(70,\)"):
        OTMapping().fit(X, sample_domain=sd[:-1])
    with pytest.raises(ValueError, match="must not contain 0"):
        OTMapping().fit(X, sample_domain=np.r_[sd[:-1], 0])
    with pytest.raises(ValueError, match="at least one source row"):
        OTMapping().fit(X, sample_domain=np.ones(70))
    with pytest.raises(ValueError, match="integers"):
        OTMapping().fit(X, sample_domain=sd + 0.5)
    with pytest.raises(ValueError, match="y is NaN on every row"):
        OTMapping().fit(X, np.full(70, np.nan))
    fitted = OTMapping().fit(Xs, X_target=Xt)
    with pytest.raises(ValueError, match="sample_domain must have shape"):
        fitted.transform(Xs, sample_domain=np.ones(3))
    with pytest.raises(ValueError, match="features"):
        fitted.transform(np.ones((4, 3)), sample_domain=1)
