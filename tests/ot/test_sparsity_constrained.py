"""sparsity_constrained_ot: feasibility, cardinality, the k >= n limit, duals."""

import itertools
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skreg.ot import quadratic_ot, sparsity_constrained_ot
from skreg.ot._sparsity_constrained import restricted_dual, select_support, topk_dual


def _problem(n, m, d=2, seed=0, uniform=True):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    Y = rng.random((m, d)) + 0.3
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    if uniform:
        a, b = np.full(n, 1 / n), np.full(m, 1 / m)
    else:
        a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
        a, b = a / a.sum(), b / b.sum()
    return a, b, M / M.max()


def _check_feasible(res, a, b, k, tol=1e-8):
    assert res.converged
    assert res.marginal_error <= tol
    assert_allclose(res.plan.sum(axis=1), a, atol=tol)
    assert_allclose(res.plan.sum(axis=0), b, atol=tol)
    assert np.count_nonzero(res.plan, axis=0).max() <= k
    assert np.all(res.plan >= 0)


# Binding regime: k below the column support of the quadratic plan.
@pytest.mark.parametrize("n, m, d, reg, k, uniform", [
    (200, 150, 2, 0.1, 3, True),      # the case of the issue
    (60, 50, 2, 0.1, 2, True),
    (80, 80, 2, 0.05, 1, True),
    (80, 60, 10, 0.1, 2, True),
    (70, 70, 10, 1.0, 3, False),
    (60, 40, 10, 0.5, 3, False),
])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feasible_plan_when_constraint_binds(n, m, d, reg, k, uniform, seed):
    a, b, M = _problem(n, m, d, seed, uniform)
    quad = quadratic_ot(a, b, M, reg)
    assert np.count_nonzero(quad.plan, axis=0).max() > k  # the constraint binds
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = sparsity_constrained_ot(a, b, M, reg, k)
    assert res.info["method"] == "restricted"
    _check_feasible(res, a, b, k)
    assert_allclose(res.value, res.cost + reg / 2 * np.sum(res.plan**2))
    assert_allclose(res.cost, np.sum(M * res.plan))
    # lower bounds: quadratic OT is a relaxation, dual_value a dual bound
    assert quad.value <= res.info["dual_value"] + 1e-12
    assert res.info["dual_value"] <= res.value + 1e-12
    assert_allclose(res.info["gap"], res.value - res.info["dual_value"])
    # the plan solves quadratic OT on its support: it is the plan of the
    # returned potentials there, and they satisfy the restricted KKT system
    mask = res.plan > 0
    assert_allclose(res.plan[mask], (res.f[:, None] + res.g[None, :] - M)[mask] / reg,
                    atol=1e-12)


def test_small_reg_uses_continuation():
    # reg = 1e-3 on a [0, 1] cost: the quadratic solve needs a continuation
    # in reg, and so does the restricted one (without it, 1000 Newton
    # iterations left a marginal error of 1e-3 here)
    a, b, M = _problem(50, 100, 10, seed=3, uniform=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = sparsity_constrained_ot(a, b, M, 1e-3, 2)
    assert res.info["method"] == "restricted" and res.info["quadratic_stages"] > 1
    _check_feasible(res, a, b, 2)
    assert res.info["dual_value"] <= res.value


def _restricted_qp_value(a, b, M, reg, mask):
    """Quadratic OT restricted to ``mask`` by cvxpy (small problems)."""
    cp = pytest.importorskip("cvxpy")
    rows, cols = np.nonzero(mask)
    x = cp.Variable(rows.size, nonneg=True)
    R = np.zeros((M.shape[0], rows.size))
    R[rows, np.arange(rows.size)] = 1
    C = np.zeros((M.shape[1], rows.size))
    C[cols, np.arange(rows.size)] = 1
    problem = cp.Problem(cp.Minimize(M[rows, cols] @ x + reg / 2 * cp.sum_squares(x)),
                         [R @ x == a, C @ x == b])
    problem.solve()
    return problem.value


def test_optimal_on_its_support_against_cvxpy():
    a, b, M = _problem(15, 12, 2, seed=3)
    res = sparsity_constrained_ot(a, b, M, 0.1, 2)
    assert res.info["method"] == "restricted"
    # optimal on the solver's support, hence on the plan's own support
    # (a subset holding the optimum): same value as the convex QP there
    value = _restricted_qp_value(a, b, M, 0.1, res.plan > 0)
    assert_allclose(res.value, value, rtol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_against_brute_force_assignments(seed):
    # n = m, uniform, k = 1: feasible plans are permutations / n, so the
    # global optimum is the best permutation.
    n, reg = 5, 0.3
    a, b, M = _problem(n, n, 2, seed)
    best = min(np.sum(M[np.arange(n), p]) / n + reg / 2 * n / n**2
               for p in itertools.permutations(range(n)))
    res = sparsity_constrained_ot(a, b, M, reg, 1)
    _check_feasible(res, a, b, 1)
    assert res.value >= best - 1e-12
    assert res.info["dual_value"] <= best + 1e-12
    # the restricted solve recovers a permutation; here it finds the best one
    assert_allclose(res.value, best, rtol=1e-10)


@pytest.mark.parametrize("reg", [0.2, 3.0])
def test_equals_quadratic_ot_when_k_at_least_n(reg):
    a, b, M = _problem(15, 12, seed=1)
    quad = quadratic_ot(a, b, M, reg, tol=1e-12)
    for k in (15, 40):
        res = sparsity_constrained_ot(a, b, M, reg, k, tol=1e-12)
        assert res.converged and res.info["method"] == "quadratic"
        assert_allclose(res.plan, quad.plan, atol=1e-12)
        assert_allclose(res.value, quad.value, rtol=1e-12)
        assert res.info["gap"] <= 1e-12


def test_not_binding_is_quadratic_ot():
    # k at least the column support of the quadratic plan: same plan
    a, b, M = _problem(30, 25, seed=2)
    quad = quadratic_ot(a, b, M, 0.5)
    k = int(np.count_nonzero(quad.plan, axis=0).max())
    assert k < 30
    res = sparsity_constrained_ot(a, b, M, 0.5, k)
    assert res.info["method"] == "quadratic"
    assert_allclose(res.plan, quad.plan, atol=1e-12)


def _finite_differences(fun, x, h=1e-6):
    numeric = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        numeric[i] = (fun(x + e) - fun(x - e)) / (2 * h)
    return numeric


@pytest.mark.parametrize("k", [1, 2, 4])
def test_topk_dual_gradient_by_finite_differences(k):
    a, b, M = _problem(12, 10, seed=5)
    rng = np.random.default_rng(k)
    # a point where columns have more than k positive entries, away from ties
    x = np.concatenate([rng.uniform(0, 0.3, 12), rng.uniform(0.2, 0.5, 10)])
    _, gf, gg, P = topk_dual(x[:12], x[12:], a, b, M, 0.5, k, return_plan=True)
    numeric = _finite_differences(
        lambda y: topk_dual(y[:12], y[12:], a, b, M, 0.5, k)[0], x)
    assert_allclose(np.concatenate([gf, gg]), numeric, atol=1e-7)
    assert np.count_nonzero(P, axis=0).max() == k
    assert_allclose(gf, a - P.sum(axis=1), atol=1e-14)
    assert_allclose(gg, b - P.sum(axis=0), atol=1e-14)
    # k >= n: the quadratic-OT dual
    X = np.maximum(x[:12, None] + x[None, 12:] - M, 0)
    full = a @ x[:12] + b @ x[12:] - np.sum(X**2) / 1.0
    assert_allclose(topk_dual(x[:12], x[12:], a, b, M, 0.5, 12)[0], full)


def test_restricted_dual_gradient_by_finite_differences():
    a, b, M = _problem(12, 10, seed=6)
    rng = np.random.default_rng(0)
    mask = rng.random((12, 10)) < 0.4
    x = np.concatenate([rng.uniform(0, 0.3, 12), rng.uniform(0.2, 0.5, 10)])
    _, gf, gg = restricted_dual(x[:12], x[12:], a, b, M, mask, 0.5)
    numeric = _finite_differences(
        lambda y: restricted_dual(y[:12], y[12:], a, b, M, mask, 0.5)[0], x)
    assert_allclose(np.concatenate([gf, gg]), numeric, atol=1e-7)


def test_returned_potentials_solve_the_restricted_dual():
    a, b, M = _problem(40, 30, 10, seed=7)
    res = sparsity_constrained_ot(a, b, M, 0.1, 2)
    assert res.info["method"] == "restricted"
    mask = res.plan > 0
    # gradient of the restricted dual (on the plan's support) vanishes
    _, gf, gg = restricted_dual(res.f, res.g, a, b, M, mask, 0.1)
    assert np.abs(gf).sum() + np.abs(gg).sum() <= 1e-8


def test_select_support_is_feasible_and_sparse():
    a, b, M = _problem(50, 40, 2, seed=8)
    quad = quadratic_ot(a, b, M, 0.1)
    scores = quad.f[:, None] + quad.g[None, :] - M
    for k in (2, 3):
        mask, n_lp = select_support(a, b, M, scores, k)
        assert mask is not None and n_lp >= 1
        assert mask.sum(axis=0).max() <= k
        assert mask.any(axis=1).all()


def test_fallback_when_no_feasible_support():
    # generic marginals with k = 1, n = m: a feasible plan would have to be
    # a matching of equal masses, which does not exist
    a, b, M = _problem(8, 8, 2, seed=9, uniform=False)
    with pytest.warns(ConvergenceWarning, match="found no support"):
        res = sparsity_constrained_ot(a, b, M, 0.1, 1)
    assert res.info["method"] == "relaxed"
    assert not res.converged
    assert np.count_nonzero(res.plan, axis=0).max() <= 1
    assert res.info["dual_value"] <= res.value + 1e-12 or res.marginal_error > 0


def test_zero_mass_entries():
    _, _, M = _problem(8, 9, seed=7)
    a = np.full(8, 1 / 6)
    a[[0, 5]] = 0.0
    res = sparsity_constrained_ot(a, None, M, 0.05, 2)
    assert np.all(res.plan[[0, 5]] == 0)
    assert np.isneginf(res.f[[0, 5]]).all()
    assert res.marginal_error <= 1e-8
    assert np.count_nonzero(res.plan, axis=0).max() <= 2


def test_convergence_warning():
    a, b, M = _problem(60, 50, seed=8)
    # with one Newton iteration per solve the quadratic potentials are poor:
    # either the restricted solve stops early or the support search fails
    match = "sparsity_constrained_ot (did not converge|found no)"
    with pytest.warns(ConvergenceWarning, match=match):
        res = sparsity_constrained_ot(a, b, M, 0.1, 2, max_iter=1)
    assert not res.converged
    assert np.count_nonzero(res.plan, axis=0).max() <= 2


def test_inputs_not_modified():
    _, _, M = _problem(6, 7, seed=9)
    a = np.full(6, 1 / 6)
    M0, a0 = M.copy(), a.copy()
    sparsity_constrained_ot(a, None, M, 0.1, 2)
    sparsity_constrained_ot(a, None, M, 1.0, 6)
    assert np.array_equal(M, M0) and np.array_equal(a, a0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_nnz": 0}, ValueError, "max_nnz must be >= 1"),
    ({"max_nnz": 2.5}, TypeError, "max_nnz must be an int"),
    ({"max_nnz": True}, TypeError, "max_nnz must be an int"),
    ({"reg": 0.0}, ValueError, "reg"),
    ({"reg": np.inf}, ValueError, "reg"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"tol": -1.0}, ValueError, "tol"),
])
def test_bad_parameters(kwargs, error, match):
    _, _, M = _problem(4, 5)
    params = {"reg": 1.0, "max_nnz": 2, **kwargs}
    with pytest.raises(error, match=match):
        sparsity_constrained_ot(None, None, M, **params)


def test_infeasible_max_nnz():
    # two source points, one target point: the column needs two non-zeros
    with pytest.raises(ValueError, match="max_nnz=1 is too small.*max_nnz >= 2"):
        sparsity_constrained_ot(None, None, [[0.0], [1.0]], 1.0, 1)
    _, _, M = _problem(7, 3)
    with pytest.raises(ValueError, match="max_nnz >= 3"):
        sparsity_constrained_ot(None, None, M, 1.0, 2)
    res = sparsity_constrained_ot(None, None, M, 1.0, 3)
    assert np.count_nonzero(res.plan, axis=0).max() <= 3
    # a target mass larger than the k largest source masses together
    with pytest.raises(ValueError, match="more than the 1 largest source masses"):
        sparsity_constrained_ot([0.5, 0.5], [0.9, 0.1], [[0.0, 1.0], [1.0, 0.0]], 1.0, 1)


def test_bad_input():
    _, _, M = _problem(4, 5)
    M[0, 1] = np.nan
    with pytest.raises(ValueError, match="M must be finite"):
        sparsity_constrained_ot(None, None, M, 1.0, 2)
    with pytest.raises(ValueError, match="a has 3 entries"):
        sparsity_constrained_ot(np.ones(3) / 3, None, _problem(4, 5)[2], 1.0, 2)
    with pytest.raises(ValueError, match="same total mass"):
        sparsity_constrained_ot(np.ones(4), None, _problem(4, 5)[2], 1.0, 2)
