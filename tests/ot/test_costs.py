"""cost_matrix and wasserstein_distance."""

import numpy as np
import ot
import pytest
from numpy.testing import assert_allclose
from scipy.spatial.distance import cdist

from skreg.ot import cost_matrix, quadratic_ot, sinkhorn, wasserstein_distance


def _samples(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(15, 3)), rng.normal(size=(11, 3)) + 1.0


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock", "cosine"])
def test_cost_matrix_matches_scipy(metric):
    X, Y = _samples()
    assert_allclose(cost_matrix(X, Y, metric=metric), cdist(X, Y, metric=metric),
                    atol=1e-12)


def test_cost_matrix_normalisation_and_default_Y():
    X, Y = _samples(1)
    M = cdist(X, Y, "sqeuclidean")
    assert_allclose(cost_matrix(X, Y, normalize="max"), M / M.max(), atol=1e-14)
    assert_allclose(cost_matrix(X, Y, normalize="median"), M / np.median(M), atol=1e-13)
    assert_allclose(cost_matrix(X, Y, normalize="mean"), M / M.mean(), atol=1e-13)
    C = cost_matrix(X)
    assert C.shape == (15, 15) and np.all(np.diag(C) == 0) and np.all(C >= 0)
    # identical points: no scale, the zero matrix is returned unchanged
    assert np.all(cost_matrix(np.ones((3, 2)), normalize="max") == 0)


def test_cost_matrix_callable_metric():
    X, Y = _samples(2)
    M = cost_matrix(X, Y, metric=lambda u, v: np.abs(u - v).max())
    assert_allclose(M, cdist(X, Y, "chebyshev"))


@pytest.mark.parametrize("bad, error, match", [
    ({"normalize": "sum"}, ValueError, "normalize must be one of"),
    ({"Y": np.ones((4, 2))}, ValueError, "Y has 2 features"),
    ({"X": np.array([[np.nan, 1.0, 1.0]])}, ValueError, "NaN"),
    ({"metric": "nonsense"}, ValueError, "nonsense"),
])
def test_cost_matrix_bad_input(bad, error, match):
    X, Y = _samples()
    kwargs = {"X": X, "Y": Y, **bad}
    X = kwargs.pop("X")
    with pytest.raises(error, match=match):
        cost_matrix(X, **kwargs)


def test_wasserstein_distance_is_the_plan_cost():
    X, Y = _samples(3)
    M = cost_matrix(X, Y, normalize="max")
    d = wasserstein_distance(X, Y, reg=0.5, penalty="l2", normalize="max")
    assert_allclose(d, quadratic_ot(None, None, M, 0.5).cost)
    d = wasserstein_distance(X, Y, reg=0.05, normalize="max")
    assert_allclose(d, sinkhorn(None, None, M, 0.05).cost)


def test_wasserstein_distance_tends_to_exact_w2():
    X, Y = _samples(4)
    w22 = ot.emd2([], [], ot.dist(X, Y))
    d = wasserstein_distance(X, Y, reg=1e-4, penalty="l2")
    assert d >= w22 - 1e-9
    assert_allclose(d, w22, rtol=1e-3)
    # a translation by t: W2^2 = ||t||^2 exactly
    assert_allclose(wasserstein_distance(X, X + [1.0, 2.0, 2.0], reg=1e-3, penalty="l2"),
                    9.0, rtol=1e-9)


def test_wasserstein_distance_weights_and_sparsity():
    X, Y = _samples(5)
    a = np.r_[np.zeros(5), np.full(10, 0.1)]
    # Zero weights drop points; with max_nnz >= n the sparsity constraint is
    # inactive and the sparse solver solves the quadratic problem.
    d = wasserstein_distance(X, Y, a=a, reg=1.0, penalty="sparsity", max_nnz=15,
                             tol=1e-7)
    d_sub = wasserstein_distance(X[5:], Y, reg=1.0, penalty="l2")
    assert_allclose(d, d_sub, rtol=1e-5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"penalty": "kl"}, ValueError, "penalty must be one of"),
    ({"penalty": "sparsity"}, ValueError, "needs max_nnz"),
    ({"reg": -1.0}, ValueError, "reg"),
    ({"a": np.ones(3)}, ValueError, "a has 3 entries"),
    ({"metric": "nonsense"}, ValueError, "nonsense"),
])
def test_wasserstein_distance_bad_input(kwargs, error, match):
    X, Y = _samples()
    with pytest.raises(error, match=match):
        wasserstein_distance(X, Y, **kwargs)


def test_method_only_with_entropy():
    from skreg.ot._costs import solve_regularized

    M = cost_matrix(*_samples())
    with pytest.raises(ValueError, match="method applies to penalty='entropy' only"):
        solve_regularized(None, None, M, 1.0, "l2", method="log")


def test_inputs_not_modified():
    X, Y = _samples(6)
    X0, Y0 = X.copy(), Y.copy()
    cost_matrix(X, Y, normalize="max")
    wasserstein_distance(X, Y, reg=0.1, penalty="l2", normalize="max")
    assert np.array_equal(X, X0) and np.array_equal(Y, Y0)
