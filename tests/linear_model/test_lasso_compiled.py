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
        b2, _gap2, _, conv2 = solve_lasso(ref, pen, positive=positive, tol=1e-12,
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
    alphas, coefs, _, _gaps, _ = compute_path(problem, grid, tol=1e-10, max_iter=100_000)
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


def _chain(design, w, alphas, positive, tol, coef_init=None):
    """The path alpha by alpha (``solve_weighted_lasso``, warm-started)."""
    out, gaps, b = [], [], coef_init
    state = {}
    for a in alphas:
        b, gap, _, conv = solve_weighted_lasso(design, a * w, positive=positive, coef_init=b,
                                               tol=tol, max_iter=100_000, state=state)
        assert conv
        out.append(b)
        gaps.append(gap)
    return np.column_stack(out), np.array(gaps)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("center", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["uniform", "sample-weight"])
@pytest.mark.parametrize("positive", [False, True])
def test_one_call_path_matches_alpha_by_alpha(sparse, center, weighted, positive):
    # ``LassoProblem.solve_path`` (one compiled call, strong-rule working
    # sets) against solve_weighted_lasso alpha by alpha: same solutions and
    # rigorous gaps, on a grid with small steps (seeded solves) and a large
    # one (2 * alpha_next <= alpha: no strong rule).
    X, y = _data(60, 150, sparse, seed=11)
    q = _q(X.shape[0], weighted, seed=12)
    w = np.random.default_rng(13).uniform(0.5, 2.0, X.shape[1])
    problem = LassoProblem(X, y, q, w, center, positive=positive)
    a_max = problem.alpha_max()
    grid = np.concatenate([np.geomspace(a_max, 0.2 * a_max, 12), [0.05 * a_max],
                           np.geomspace(0.045 * a_max, 0.01 * a_max, 6)])
    res = problem.solve_path(grid, None, 1e-10, 100_000)
    assert res is not None
    coefs, intercepts, gaps, n_iters = res
    ref, _ = _chain(problem.design, w, grid, positive, 1e-10)
    assert_allclose(coefs, ref, atol=1e-6)
    design = problem.design
    scale = 0.5 * float(q @ (design.y * design.y))
    assert np.all(gaps <= 1e-10 * scale)
    assert_allclose(intercepts, [design.intercept(coefs[:, k]) for k in range(grid.size)],
                    rtol=1e-12, atol=1e-12)
    assert np.all(n_iters >= 0)
    # The last solution is left in the problem's state (for a next solve).
    assert np.array_equal(problem._state["coef"], coefs[:, -1])
    # Loose tolerance: each reported gap is the one a full pass gives.
    problem = LassoProblem(X, y, q, w, center, positive=positive)
    coefs, _, gaps, _ = problem.solve_path(grid, None, 1e-5, 100_000)
    ref_design = LinearDesign(X, y, q, center)
    for k in range(grid.size):
        _, gap = _exact_gap(ref_design, coefs[:, k], grid[k] * w, positive)
        assert gaps[k] <= 1e-5 * scale
        assert abs(gaps[k] - gap) <= 1e-3 * gap + 1e-9 * scale


def test_one_call_path_coef_init_float32_and_fallback():
    X, y = _data(50, 90, True, seed=14, dtype=np.float32)
    q = _q(X.shape[0], True, seed=15)
    w = np.ones(X.shape[1])
    problem = LassoProblem(X, y, q, w, True)
    grid = np.geomspace(problem.alpha_max(), 0.02 * problem.alpha_max(), 15)
    b0 = np.zeros(X.shape[1])
    b0[:3] = [1.0, -1.0, 0.5]
    coefs, _, gaps, _ = problem.solve_path(grid, b0, 1e-10, 100_000)
    assert np.all(gaps <= 1e-10 * problem.design._lasso_scale)
    ref, _ = _chain(problem.design, w, grid, False, 1e-10, coef_init=b0)
    assert_allclose(coefs, ref, atol=1e-6)
    # An unpenalised column or alpha = 0: alpha by alpha (solve_lasso).
    assert problem.solve_path(np.array([1.0, 0.0]), None, 1e-6, 1000) is None
    w0 = w.copy()
    w0[4] = 0.0
    assert LassoProblem(X, y, q, w0, True).solve_path(grid, None, 1e-6, 1000) is None


def test_one_call_path_warns_per_alpha_and_recovers():
    X, y = _data(40, 120, True, seed=16)
    q = _q(X.shape[0], False, seed=0)
    w = np.ones(X.shape[1])
    problem = LassoProblem(X, y, q, w, False)
    grid = np.geomspace(problem.alpha_max(), 0.01 * problem.alpha_max(), 10)
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning):
        coefs, _, gaps, n_iters = problem.solve_path(grid, None, 1e-14, 2)
    assert np.all(gaps > 0.0)
    assert np.all(n_iters <= 2)
    assert np.all(np.isfinite(coefs))
