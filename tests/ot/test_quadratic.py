"""quadratic_ot against POT's smooth_ot_dual and a cvxpy QP; input handling."""

import cvxpy as cp
import numpy as np
import ot
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skreg.ot import quadratic_ot


def _problem(n, m, d=2, seed=0, shift=0.3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    Y = rng.random((m, d)) + shift
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    M /= M.max()
    a = rng.random(n) + 0.5
    b = rng.random(m) + 0.5
    return a / a.sum(), b / b.sum(), M


def _qp(a, b, M, reg):
    P = cp.Variable(M.shape, nonneg=True)
    objective = cp.Minimize(cp.sum(cp.multiply(M, P)) + reg / 2 * cp.sum_squares(P))
    problem = cp.Problem(objective, [cp.sum(P, axis=1) == a, cp.sum(P, axis=0) == b])
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12,
                  tol_feas=1e-12)
    return P.value, problem.value


@pytest.mark.parametrize("n, m, reg", [(8, 6, 0.05), (12, 12, 1.0), (5, 9, 20.0)])
def test_matches_cvxpy_qp(n, m, reg):
    a, b, M = _problem(n, m, seed=n)
    res = quadratic_ot(a, b, M, reg, tol=1e-12)
    P_ref, value_ref = _qp(a, b, M, reg)
    assert res.converged
    assert_allclose(res.plan, P_ref, atol=1e-6)
    assert_allclose(res.value, value_ref, rtol=1e-7)
    assert res.marginal_error <= 1e-12
    assert np.all(res.plan >= 0)


@pytest.mark.parametrize("reg", [0.5, 5.0])
def test_matches_pot_smooth_ot_dual(reg):
    # POT minimises <M, P> + (reg / 2) ||P||^2 too (SquaredL2: 0.5 * gamma * ||T||^2).
    a, b, M = _problem(30, 20, seed=1)
    P_pot = ot.smooth.smooth_ot_dual(a, b, M, reg, reg_type="l2", stopThr=1e-14,
                                     numItermax=20000)
    res = quadratic_ot(a, b, M, reg, tol=1e-12)
    value_pot = float(np.sum(M * P_pot) + reg / 2 * np.sum(P_pot**2))
    # POT's L-BFGS stops on a relative decrease of the dual, so its plan is
    # only accurate to about 1e-6 in the marginals; ours to 1e-12.
    err_pot = np.abs(P_pot.sum(1) - a).sum() + np.abs(P_pot.sum(0) - b).sum()
    assert res.marginal_error < err_pot
    assert_allclose(res.plan, P_pot, atol=1e-5)
    assert_allclose(res.value, value_pot, rtol=1e-5)


def test_strong_duality_and_plan_from_potentials():
    a, b, M = _problem(40, 30, seed=2)
    reg = 0.3
    res = quadratic_ot(a, b, M, reg, tol=1e-13)
    X = res.f[:, None] + res.g[None, :] - M
    assert_allclose(res.plan, np.maximum(X, 0) / reg, atol=1e-15)
    dual = a @ res.f + b @ res.g - np.sum(np.maximum(X, 0) ** 2) / (2 * reg)
    assert_allclose(dual, res.value, rtol=1e-10)
    assert_allclose(res.cost, np.sum(M * res.plan))
    assert res.info["n_newton"] == res.n_iter


def test_sparse_plan_and_limits():
    a, b, M = _problem(60, 60, seed=3)
    sparse = quadratic_ot(a, b, M, 1e-3).plan
    dense = quadratic_ot(a, b, M, 1e4).plan
    assert np.count_nonzero(sparse) < 3 * 60
    # large reg: the plan tends to the independent coupling a b^T
    assert_allclose(dense, np.outer(a, b), atol=1e-4)
    # small reg: the cost tends to the unregularised optimum
    emd = ot.emd(a, b, M)
    assert np.sum(M * sparse) - np.sum(M * emd) < 1e-3 * np.sum(M * emd)


def test_parallel_kernels_match_serial(monkeypatch):
    import skreg.ot._quadratic as quad

    _, _, M = _problem(120, 100, seed=4)
    rng = np.random.default_rng(0)
    f, g, mass = rng.uniform(0, 0.1, 120), rng.uniform(0, 0.3, 100), np.full(120, 1 / 120)
    serial = quad.active_plan(f, g, M, 0.7)
    rows_serial = np.empty(120)
    quad.block_ascent(M, g, mass, 0.7, rows_serial)
    monkeypatch.setattr(quad, "PARALLEL_MIN_SIZE", 0)
    parallel = quad.active_plan(f, g, M, 0.7)
    rows_parallel = np.empty(120)
    quad.block_ascent(M, g, mass, 0.7, rows_parallel)
    for s_part, p_part in zip(serial[:3], parallel[:3]):
        assert np.array_equal(s_part, p_part)
    assert_allclose(parallel[3], serial[3], rtol=1e-13)
    assert np.array_equal(rows_parallel, rows_serial)


def test_larger_problem_converges():
    a, b, M = _problem(400, 300, d=10, seed=5)
    res = quadratic_ot(a, b, M, 1.0)
    assert res.converged and res.marginal_error <= 1e-9


@pytest.mark.parametrize("n, reg, scale", [(100, 1e-3, 1.0), (15, 1e-4, 30.0)])
def test_small_reg_converges_by_continuation(n, reg, scale):
    # Near-unregularised problems: the warm-started active graph is too
    # sparse for Newton, so the solver goes through larger regs first.
    a, b, M = _problem(n, n - 4, d=3, seed=11)
    res = quadratic_ot(a, b, scale * M, reg)
    assert res.converged and res.marginal_error <= 1e-9
    assert res.info["n_stages"] > 1
    emd_cost = np.sum(scale * M * ot.emd(a, b, scale * M))
    assert emd_cost - 1e-9 <= res.cost <= emd_cost * (1 + 1e-3)


def test_zero_mass_entries():
    a, b, M = _problem(10, 8, seed=6)
    a[[2, 7]] = 0.0
    b[3] = 0.0
    a /= a.sum()
    b /= b.sum()
    res = quadratic_ot(a, b, M, 0.5, tol=1e-12)
    keep_r, keep_c = np.flatnonzero(a), np.flatnonzero(b)
    sub = quadratic_ot(a[keep_r], b[keep_c], M[np.ix_(keep_r, keep_c)], 0.5, tol=1e-12)
    assert np.all(res.plan[[2, 7]] == 0) and np.all(res.plan[:, 3] == 0)
    assert_allclose(res.plan[np.ix_(keep_r, keep_c)], sub.plan, atol=1e-15)
    assert np.isneginf(res.f[[2, 7]]).all() and np.isneginf(res.g[3])


def test_negative_costs_and_uniform_default():
    _, _, M = _problem(9, 7, seed=7)
    res = quadratic_ot(None, None, M, 0.2, tol=1e-12)
    shifted = quadratic_ot(np.full(9, 1 / 9), [1 / 7] * 7, M - 5.0, 0.2, tol=1e-12)
    assert_allclose(shifted.plan, res.plan, atol=1e-13)
    assert_allclose(shifted.cost, res.cost - 5.0)


def test_unnormalised_marginals():
    a, b, M = _problem(6, 6, seed=8)
    res = quadratic_ot(3 * a, 3 * b, M, 1.0, tol=1e-12)
    assert_allclose(res.plan.sum(1), 3 * a, atol=1e-11)


def test_convergence_warning():
    a, b, M = _problem(50, 50, seed=9)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        res = quadratic_ot(a, b, M, 0.01, max_iter=1)
    assert not res.converged and res.n_iter == 1


def test_inputs_not_modified():
    a, b, M = _problem(10, 12, seed=10)
    a0, b0, M0 = a.copy(), b.copy(), M.copy()
    quadratic_ot(a, b, M, 0.5)
    assert_allclose(a, a0, rtol=0, atol=0)
    assert_allclose(b, b0, rtol=0, atol=0)
    assert_allclose(M, M0, rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"reg": 0.0}, ValueError, "reg"),
    ({"reg": -1.0}, ValueError, "reg"),
    ({"reg": np.nan}, ValueError, "reg"),
    ({"reg": "1"}, TypeError, "reg"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"tol": 0.0}, ValueError, "tol"),
])
def test_bad_parameters(kwargs, error, match):
    a, b, M = _problem(4, 5)
    params = {"reg": 1.0, **kwargs}
    with pytest.raises(error, match=match):
        quadratic_ot(a, b, M, **params)


@pytest.mark.parametrize("case, match", [
    ("nan_cost", "M must be finite"),
    ("inf_cost", "M must be finite"),
    ("shape_a", "a has 3 entries"),
    ("shape_b", "b has 2 entries"),
    ("mass", "same total mass"),
    ("negative_a", "a must be non-negative"),
    ("nan_b", "b must be finite"),
    ("M_1d", "M must be a 2-D"),
])
def test_bad_input(case, match):
    a, b, M = _problem(4, 5)
    if case == "nan_cost":
        M[1, 2] = np.nan
    elif case == "inf_cost":
        M[0, 0] = np.inf
    elif case == "shape_a":
        a = a[:3]
    elif case == "shape_b":
        b = b[:2]
    elif case == "mass":
        b = 2 * b
    elif case == "negative_a":
        a[0] = -0.1
    elif case == "nan_b":
        b[1] = np.nan
    elif case == "M_1d":
        M = M[0]
    with pytest.raises(ValueError, match=match):
        quadratic_ot(a, b, M, 1.0)


@pytest.mark.parametrize("with_inf", [False, True])
def test_exact_row_and_column_ascent_meet_their_marginals(with_inf):
    """The exact line ascents put the chosen rows / columns on their marginals.

    They are what the Newton loop applies to rows or columns left without
    active pairs (``inf`` costs: outside a sparsity-constrained support).
    """
    from skreg.ot._quadratic import _column_ascent, _row_ascent

    rng = np.random.default_rng(5)
    n, m, reg = 12, 9, 0.05
    M = rng.uniform(size=(n, m))
    if with_inf:
        M[rng.uniform(size=(n, m)) < 0.4] = np.inf
        M[np.arange(n), np.arange(n) % m] = 0.5  # every row and column keeps a pair
    a, b = rng.uniform(0.5, 1.5, n) / n, rng.uniform(0.5, 1.5, m) / m
    f, g = rng.normal(scale=0.1, size=n), rng.normal(scale=0.1, size=m)
    cols, rows = np.array([0, 3, 8]), np.array([1, 2, 11])
    g_before, f_before = g.copy(), f.copy()
    _column_ascent(M, f, b, reg, cols, g)
    P = np.maximum(f[:, None] + g[None, :] - M, 0) / reg
    assert_allclose(P.sum(0)[cols], b[cols], rtol=1e-12)
    others = np.setdiff1d(np.arange(m), cols)
    assert_array_equal(g[others], g_before[others])
    _row_ascent(M, g, a, reg, rows, f)
    P = np.maximum(f[:, None] + g[None, :] - M, 0) / reg
    assert_allclose(P.sum(1)[rows], a[rows], rtol=1e-12)
    others = np.setdiff1d(np.arange(n), rows)
    assert_array_equal(f[others], f_before[others])
