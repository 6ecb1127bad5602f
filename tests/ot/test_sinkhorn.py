"""``skreg.ot.sinkhorn``: the plan against POT and a cvxpy model, methods against each other."""

import warnings

import cvxpy as cp
import numpy as np
import ot
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skreg.ot import sinkhorn

METHODS = ["scaling", "log", "sns"]


def point_clouds(n, m, dim=2, seed=0, weights="random"):
    """Cost between two Gaussian clouds, normalised to [0, 1], and marginals."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim))
    Y = rng.normal(size=(m, dim)) + 0.5
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    M /= M.max()
    if weights == "uniform":
        return np.full(n, 1 / n), np.full(m, 1 / m), M
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), M


def entropic_objective(P, M, reg):
    """``<M, P> + reg sum P (log P - 1)`` with ``0 log 0 = 0``."""
    pos = P > 0
    return float((M * P).sum() + reg * (P[pos] * (np.log(P[pos]) - 1)).sum())


def marginal_error(P, a, b):
    return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("reg", [1.0, 0.1, 0.01])
@pytest.mark.parametrize("shape", [(7, 5), (40, 60)])
def test_plan_matches_pot(method, reg, shape):
    a, b, M = point_clouds(*shape, seed=shape[0])
    P_pot = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=1e-15,
                        numItermax=200_000)
    res = sinkhorn(a, b, M, reg, method=method, tol=1e-12)
    assert res.converged
    assert_allclose(res.plan, P_pot, rtol=0, atol=1e-7)
    # The reported numbers are those of the returned plan.
    assert res.marginal_error <= 1e-12
    assert_allclose(res.marginal_error, marginal_error(res.plan, a, b), rtol=1e-6, atol=1e-15)
    assert_allclose(res.cost, (M * res.plan).sum(), rtol=1e-12)
    assert_allclose(res.value, entropic_objective(res.plan, M, reg), rtol=1e-9, atol=1e-12)
    # Potentials follow P = exp((f_i + g_j - M_ij) / reg).
    assert_allclose(np.exp((res.f[:, None] + res.g[None, :] - M) / reg), res.plan,
                    rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("reg", [0.5, 0.05])
def test_plan_matches_cvxpy(reg):
    a, b, M = point_clouds(6, 5, seed=1)
    P = cp.Variable(M.shape, nonneg=True)
    objective = cp.sum(cp.multiply(M, P)) - reg * cp.sum(cp.entr(P)) - reg * cp.sum(P)
    prob = cp.Problem(cp.Minimize(objective), [cp.sum(P, axis=1) == a, cp.sum(P, axis=0) == b])
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
               max_iter=500)
    for method in METHODS:
        res = sinkhorn(a, b, M, reg, method=method, tol=1e-12)
        assert_allclose(res.plan, P.value, atol=1e-7)
        assert_allclose(res.value, prob.value, rtol=1e-7, atol=1e-9)
        # Sinkhorn's value is the optimum: never below the conic solver's by more
        # than the conic solver's tolerance.
        assert res.value <= prob.value + 1e-8


@pytest.mark.parametrize("reg", [0.05, 0.003])
def test_methods_agree(reg):
    a, b, M = point_clouds(80, 70, dim=10, seed=3)
    results = {m: sinkhorn(a, b, M, reg, method=m, tol=1e-11, max_iter=200_000)
               for m in METHODS}
    for method, res in results.items():
        assert res.converged, method
        assert res.info["method"] == method
        assert_allclose(res.plan, results["log"].plan, rtol=0, atol=1e-9)
        assert_allclose(res.value, results["log"].value, rtol=1e-9)
        # Potentials are unique up to (f + c, g - c).
        shift = np.mean(res.f - results["log"].f)
        assert_allclose(res.f - shift, results["log"].f, atol=1e-7 * reg + 1e-12)
        assert_allclose(res.g + shift, results["log"].g, atol=1e-7 * reg + 1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_small_reg_is_stable(method):
    """reg = 1e-3 on a [0, 1] cost: exp(-M / reg) underflows, the solvers do not."""
    a, b, M = point_clouds(60, 50, seed=4)
    assert np.exp(-M / 1e-3).min() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sinkhorn(a, b, M, 1e-3, method=method, tol=1e-9, max_iter=100_000)
    assert res.converged
    assert np.all(np.isfinite(res.plan)) and np.all(np.isfinite(res.f))
    assert marginal_error(res.plan, a, b) <= 1e-9
    ref = ot.sinkhorn(a, b, M, 1e-3, method="sinkhorn_log", stopThr=1e-13,
                      numItermax=1_000_000)
    assert_allclose(res.plan, ref, atol=1e-7)


def test_scaling_absorbs_where_plain_scaling_fails():
    """Plain scaling (POT's default) breaks down at reg = 1e-3; the default absorbs."""
    a, b, M = point_clouds(60, 50, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P_plain = ot.sinkhorn(a, b, M, 1e-3, method="sinkhorn", stopThr=1e-9,
                              numItermax=100_000)
    assert not (np.all(np.isfinite(P_plain)) and marginal_error(P_plain, a, b) <= 1e-9)
    res = sinkhorn(a, b, M, 1e-3, tol=1e-9, max_iter=100_000)
    assert res.converged and res.info["n_absorb"] > 0


@pytest.mark.parametrize("method", METHODS)
def test_epsilon_scaling_same_answer(method):
    a, b, M = point_clouds(50, 40, seed=5)
    plain = sinkhorn(a, b, M, 2e-3, method=method, tol=1e-11, max_iter=100_000)
    scaled = sinkhorn(a, b, M, 2e-3, method=method, tol=1e-11, max_iter=100_000,
                      epsilon_scaling=True)
    assert scaled.converged and scaled.info["n_stages"] > 1
    assert_allclose(scaled.plan, plain.plan, atol=1e-9)
    assert_allclose(scaled.value, plain.value, rtol=1e-10)


# POT takes log(0) on the zero weights (its result is still right).
@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
@pytest.mark.parametrize("method", METHODS)
def test_zero_mass_entries(method):
    a, b, M = point_clouds(9, 8, seed=6)
    a[[0, 4]] = 0.0
    b[3] = 0.0
    a /= a.sum()
    b /= b.sum()
    res = sinkhorn(a, b, M, 0.05, method=method, tol=1e-12)
    assert res.converged
    assert np.all(res.plan[[0, 4]] == 0) and np.all(res.plan[:, 3] == 0)
    assert np.all(res.f[[0, 4]] == -np.inf) and res.g[3] == -np.inf
    keep_r, keep_c = np.flatnonzero(a), np.flatnonzero(b)
    sub = sinkhorn(a[keep_r], b[keep_c], M[np.ix_(keep_r, keep_c)], 0.05, method=method,
                   tol=1e-12)
    assert_allclose(res.plan[np.ix_(keep_r, keep_c)], sub.plan, atol=1e-14)
    assert_allclose(res.plan, ot.sinkhorn(a, b, M, 0.05, method="sinkhorn_log",
                                          stopThr=1e-15, numItermax=100_000), atol=1e-7)


def test_unnormalised_equal_mass_and_negative_costs():
    a, b, M = point_clouds(10, 12, seed=7)
    res = sinkhorn(3 * a, 3 * b, M - 0.5, 0.05, tol=1e-10)
    ref = sinkhorn(a, b, M, 0.05, tol=1e-12)
    assert res.converged
    assert res.marginal_error <= 3e-10
    assert_allclose(res.plan, 3 * ref.plan, atol=1e-9)


def test_none_means_uniform_and_float32():
    _, _, M = point_clouds(6, 4, seed=8)
    res = sinkhorn(None, [], M.astype(np.float32), 0.1, tol=1e-12)
    ref = sinkhorn(np.full(6, 1 / 6), np.full(4, 1 / 4), M.astype(np.float32).astype(float),
                   0.1, tol=1e-12)
    assert res.plan.dtype == np.float64
    assert_allclose(res.plan, ref.plan, atol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_max_iter_warns(method):
    a, b, M = point_clouds(30, 30, seed=9)
    with pytest.warns(ConvergenceWarning, match="did not reach tol"):
        res = sinkhorn(a, b, M, 1e-3, method=method, max_iter=3, tol=1e-12)
    assert not res.converged
    assert res.n_iter <= 3
    assert_allclose(res.marginal_error, marginal_error(res.plan, a, b), rtol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_single_point_and_one_to_many(method):
    res = sinkhorn([1.0], [0.25, 0.75], [[0.3, 0.1]], 0.01, method=method)
    assert_allclose(res.plan, [[0.25, 0.75]], atol=1e-12)
    assert res.converged


@pytest.mark.parametrize("method", METHODS)
def test_solvers_run_with_single_threaded_blas(method, monkeypatch):
    """BLAS runs on one thread inside the solvers (spinning BLAS threads took the
    cores from the numba sweeps) and gets the caller's threads back afterwards."""
    from skreg.ot import _sinkhorn
    from skreg.utils._threads import blas_controller, blas_threads

    seen = []
    solver = _sinkhorn._solver

    def spy(*args):
        solve = solver(*args)

        def run(*solve_args, **kwargs):
            seen.append(blas_threads())
            return solve(*solve_args, **kwargs)

        return run

    monkeypatch.setattr(_sinkhorn, "_solver", spy)
    a, b, M = point_clouds(20, 30)
    with blas_controller().limit(limits=2, user_api="blas"):
        if blas_threads() < 2:
            pytest.skip("no BLAS library whose threads threadpoolctl can set")
        res = sinkhorn(a, b, M, 0.05, method=method)
        assert blas_threads() == 2
    assert res.converged
    assert seen == [1]
