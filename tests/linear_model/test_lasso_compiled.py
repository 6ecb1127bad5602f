"""The compiled working-set loop of WeightedLasso against the Python one.

``solve_weighted_lasso`` runs the outer loop in numba (with lazy optimality
checks and, for dense ``X``, the correlations of ``y`` from ``LassoDesign``)
when every penalty is positive; ``solve_lasso`` is the reference loop. Both
must reach the same optimum with a rigorous duality gap.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skreg.linear_model._design import LassoDesign, LinearDesign
from skreg.linear_model._lasso import LassoProblem
from skreg.linear_model._lasso_solver import (
    _UnpenalisedProjector,
    lasso_dual_gap,
    solve_lasso,
    solve_weighted_lasso,
)
from skreg.linear_model._path import compute_path


def _data(n, p, sparse, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.2, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal).astype(dtype)
        Xd = X.toarray()
    else:
        X = np.asfortranarray(rng.standard_normal((n, p)).astype(dtype))
        X[:, 1] += 3.0  # a column with a large mean
        Xd = X
    beta = np.zeros(p)
    beta[:5] = [2.0, -1.5, 1.0, 0.5, -0.7]
    y = Xd @ beta + 0.3 * rng.standard_normal(n) + 2.0
    return X, y


def _q(n, weighted, seed):
    if not weighted:
        return np.full(n, 1.0 / n)
    sw = np.random.default_rng(seed).uniform(0.2, 2.0, n)
    sw[::7] = 0.0  # zero sample weights
    return sw / sw.sum()


def _exact_gap(design, b, pen, positive):
    r, shift = design.residual(b)
    r_true = r + shift[0]
    corr = design.corr(r_true)
    projector = _UnpenalisedProjector(design, pen)
    return lasso_dual_gap(design, r_true, corr, b, pen, positive, projector)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("center", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["uniform", "sample-weight"])
@pytest.mark.parametrize("positive", [False, True])
def test_compiled_loop_matches_python_loop(sparse, center, weighted, positive):
    X, y = _data(60, 120, sparse, seed=3)
    q = _q(X.shape[0], weighted, seed=4)
    w = np.linspace(0.5, 2.0, X.shape[1])
    design = LassoDesign(X, y, q, center)
    ref = LinearDesign(X, y, q, center)
    assert_allclose(design.X_mean, ref.X_mean, rtol=1e-12, atol=1e-14)
    assert_allclose(design.lipschitz, ref.lipschitz, rtol=1e-10)
    if not sparse:
        assert_allclose(design.corr_y, ref.corr(ref.y), rtol=1e-10, atol=1e-14)
    for frac in (0.5, 0.1, 0.01):
        pen = frac * 1.0 * w
        b1, gap1, _, conv1 = solve_weighted_lasso(design, pen, positive=positive,
                                                  tol=1e-12, max_iter=100_000)
        b2, gap2, _, conv2 = solve_lasso(ref, pen, positive=positive, tol=1e-12,
                                         max_iter=100_000)
        assert conv1 and conv2
        assert_allclose(b1, b2, atol=1e-6)
        # At a loose tolerance the reported gap is the one a full pass
        # gives (lazy checks skip only correlations that cannot change it),
        # up to the rounding of the incrementally updated residual (which
        # solve_lasso's gap has too).
        scale = 0.5 * float(q @ (design.y * design.y))
        b1, gap1, _, _ = solve_weighted_lasso(design, pen, positive=positive, tol=1e-6,
                                              max_iter=100_000)
        _, gap = _exact_gap(ref, b1, pen, positive)
        assert gap1 <= 1e-6 * scale
        assert abs(gap1 - gap) <= 1e-3 * gap + 1e-9 * scale


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True], ids=["uniform", "sample-weight"])
def test_compiled_path_matches_python_solves(sparse, weighted):
    X, y = _data(50, 200, sparse, seed=5)
    q = _q(X.shape[0], weighted, seed=6)
    w = np.random.default_rng(7).uniform(0.5, 1.5, X.shape[1])
    problem = LassoProblem(X, y, q, w, True)
    alphas, coefs, _, gaps, _ = compute_path(problem, 30, 1e-3, tol=1e-10,
                                             max_iter=100_000)
    ref = LinearDesign(X, y, q, True)
    for k in range(alphas.size):
        pen = alphas[k] * w
        b, _, _, conv = solve_lasso(ref, pen, tol=1e-10, max_iter=100_000)
        assert conv
        assert_allclose(coefs[:, k], b, atol=1e-5)
        assert gaps[k] <= 1e-10 * 0.5 * float(q @ (ref.y * ref.y))
    # Loose path: every reported gap is the full-pass gap (see above).
    scale = 0.5 * float(q @ (ref.y * ref.y))
    problem = LassoProblem(X, y, q, w, True)
    alphas, coefs, _, gaps, _ = compute_path(problem, 30, 1e-3, tol=1e-6, max_iter=100_000)
    for k in range(alphas.size):
        _, gap = _exact_gap(ref, coefs[:, k], alphas[k] * w, False)
        assert gaps[k] <= 1e-6 * scale
        assert abs(gaps[k] - gap) <= 1e-3 * gap + 1e-9 * scale


def test_zero_weight_falls_back_and_path_state_is_shared():
    # An unpenalised feature takes the Python loop (projected dual point);
    # alpha = 0 in a grid switches loops along one path.
    X, y = _data(40, 30, False, seed=8)
    q = _q(X.shape[0], False, seed=0)
    w = np.ones(X.shape[1])
    problem = LassoProblem(X, y, q, w, True)
    grid = np.array([0.5, 0.1, 0.0]) * problem.alpha_max()
    alphas, coefs, _, gaps, _ = compute_path(problem, grid, tol=1e-10, max_iter=100_000)
    ref = LinearDesign(X, y, q, True)
    for k in range(3):
        b, _, _, _ = solve_lasso(ref, alphas[k] * w, tol=1e-12, max_iter=100_000,
                                 warn=False)
        assert_allclose(ref.matvec(coefs[:, k]), ref.matvec(b), atol=1e-6)
    w[2] = 0.0
    problem = LassoProblem(X, y, q, w, True)
    _, coefs_w, _, _, _ = compute_path(problem, 5, 0.05, tol=1e-10, max_iter=100_000)
    assert np.all(coefs_w[2] != 0.0)


def test_float32_dense_and_sparse():
    for sparse in (False, True):
        X, y = _data(50, 80, sparse, seed=9, dtype=np.float32)
        q = _q(X.shape[0], True, seed=1)
        w = np.ones(X.shape[1])
        design = LassoDesign(X, y, q, True)
        ref = LinearDesign(X, y, q, True)
        pen = 0.05 * w
        b1, _, _, c1 = solve_weighted_lasso(design, pen, tol=1e-12, max_iter=100_000)
        b2, _, _, c2 = solve_lasso(ref, pen, tol=1e-12, max_iter=100_000)
        assert c1 and c2
        assert_allclose(b1, b2, atol=1e-6)
