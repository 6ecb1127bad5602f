"""Anderson-accelerated scaling iterations: the mixing, its guards, and the ``sns`` warm-up."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skreg.ot import _anderson, sinkhorn
from skreg.ot import _sinkhorn as sk
from skreg.ot._anderson import AndersonMixing, solve_anderson
from skreg.ot._overrelaxation import Overrelaxation
from skreg.ot._scaling import Workspace


def affine_map(dim=8, rho=0.99, seed=0):
    """``x -> A x + c`` with a non-normal ``A`` of spectral radius ``rho``."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    T = np.diag(np.linspace(-rho, rho, dim)) + np.triu(rng.normal(size=(dim, dim)) * 0.1, 1)
    A = Q @ T @ Q.T
    c = rng.normal(size=dim)
    return A, c, np.linalg.solve(np.eye(dim) - A, c)


def iterations_to(tol, next_point, x, fixed, limit):
    for k in range(limit):
        if np.abs(x - fixed).max() <= tol:
            return k
        x = next_point(x)
    return limit


def test_mixing_solves_an_affine_map_in_about_its_dimension():
    # On an affine map Anderson mixing of full depth is GMRES: it finds the
    # fixed point in about dim + 1 steps, where the plain iteration needs
    # thousands at rate 0.99.
    A, c, fixed = affine_map()
    mixing = AndersonMixing(8, 10)
    n_anderson = iterations_to(1e-9, lambda x: mixing.step(x, A @ x + c), np.zeros(8), fixed,
                               100)
    n_plain = iterations_to(1e-9, lambda x: A @ x + c, np.zeros(8), fixed, 10_000)
    assert n_anderson <= 12
    assert n_plain > 1000


def test_mixing_keeps_the_gram_matrix_of_its_ring_buffer():
    rng = np.random.default_rng(1)
    mixing = AndersonMixing(6, 4)
    for _ in range(11):
        x = rng.normal(size=6)
        mixing.step(x, rng.normal(size=6))
    k = mixing.k
    assert k == 4
    assert_allclose(mixing.gram[:k, :k], mixing.dF[:k] @ mixing.dF[:k].T, rtol=1e-12)


def test_mixing_without_history_is_the_plain_step():
    mixing = AndersonMixing(3, 5)
    x, gx = np.zeros(3), np.array([1.0, 2.0, 3.0])
    out = mixing.step(x, gx)
    assert_allclose(out, gx) and out is not gx
    # Equal pairs: zero residual differences, nothing to fit.
    assert_allclose(mixing.step(x, gx), gx)
    mixing.reset()
    assert mixing.k == 0


def clouds(n, dim, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, dim)), rng.normal(size=(n, dim)) + 0.5
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return np.full(n, 1 / n), np.full(n, 1 / n), M / M.max()


def run_warm_up(a, b, M, reg, tol_abs, max_iter=10_000):
    ws = Workspace(*M.shape)
    return solve_anderson(M, a, b, reg, np.zeros(M.shape[1]), tol_abs, max_iter, ws)


def test_warm_up_returns_the_plan_at_its_potentials():
    a, b, M = clouds(300, 2)
    reg = 5e-3
    f, g, n_iter, info, P = run_warm_up(a, b, M, reg, 1e-9)
    assert_allclose(P, np.exp((f[:, None] + g[None, :] - M) / reg), rtol=1e-9, atol=1e-300)
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    assert err <= 1e-9 and info["n_restart"] == 0
    ref = sinkhorn(a, b, M, reg, method="log", tol=1e-11, max_iter=100_000)
    assert_allclose(P, ref.plan, atol=1e-9)


def test_anderson_warm_up_beats_over_relaxation_on_clouds(monkeypatch):
    """2-D clouds: fewer iterations than the over-relaxed warm-up (22 and 57), no Newton."""
    a, b, M = clouds(300, 2)
    reg = 1e-2
    anderson = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    monkeypatch.setattr(sk, "_sns_warm_up", sk._scheduled(Overrelaxation))
    relaxed = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    assert anderson.converged and relaxed.converged
    assert anderson.info["n_newton"] == 0 and "omega" not in anderson.info
    assert 2 * anderson.n_iter < relaxed.n_iter
    assert_allclose(anderson.plan, relaxed.plan, atol=1e-9)


def test_slow_warm_up_hands_over_to_newton():
    a, b, M = clouds(200, 5, seed=1)
    f, g, n_iter, info, P = run_warm_up(a, b, M, 2e-3, 1e-9)
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    # Stopped short of tol, at its best point, without falling back.
    assert err > 1e-9 and "omega" not in info and n_iter < 200
    res = sinkhorn(a, b, M, 2e-3, method="sns", tol=1e-9)
    assert res.converged and res.info["n_newton"] > 0


@pytest.mark.parametrize("path", ["converged", "newton", "fallback", "relaxed", "plain"])
def test_warm_ups_leave_the_marginals_of_their_plan(monkeypatch, path):
    # sns reads the marginals of the warm-up's plan from the workspace
    # instead of summing the plan again: every way out of a warm-up (and of
    # the fallback) must leave them there.
    a, b, M = clouds(200, 5, seed=1) if path == "newton" else clouds(100, 3, seed=3)
    reg = 2e-3 if path == "newton" else 5e-3
    if path == "fallback":
        monkeypatch.setattr(_anderson, "_STALL", 1)
    solver = {"relaxed": sk._sns_fallback,
              "plain": sk._solver("sns", False).keywords["warm_up"]}.get(path, solve_anderson)
    ws = Workspace(*M.shape)
    ws.rows[:], ws.parts[:] = np.nan, np.nan
    f, g, n_iter, info, P = solver(M, a, b, reg, np.zeros(M.shape[1]), 1e-9, 10_000, ws)
    assert ("omega" in info) == (path in ("fallback", "relaxed", "plain"))
    assert_allclose(ws.rows, P.sum(1), rtol=1e-12)
    assert_allclose(ws.parts.sum(0), P.sum(0), rtol=1e-12)


@pytest.mark.parametrize("guard", ["_STALL", "_MAX_RESTARTS"])
def test_stalled_anderson_falls_back_to_over_relaxation(monkeypatch, guard):
    # Trip the guard at once: the over-relaxed iterations take over from the
    # best point and the result is the same plan.
    a, b, M = clouds(100, 3, seed=3)
    reg = 5e-3
    ref = sinkhorn(a, b, M, reg, method="log", tol=1e-11, max_iter=100_000)
    monkeypatch.setattr(_anderson, guard, 1 if guard == "_STALL" else -1)
    if guard == "_MAX_RESTARTS":
        monkeypatch.setattr(_anderson, "_RESTART", 0.0)
    f, g, n_iter, info, P = run_warm_up(a, b, M, reg, 1e-9)
    assert "omega" in info
    res = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    assert res.converged and "omega" in res.info
    assert_allclose(res.plan, ref.plan, atol=1e-9)


def test_restart_resumes_from_the_best_point(monkeypatch):
    # Every error above the best one restarts (up to 10 times): the warm-up
    # counts its restarts and still hands over the plan at its best point.
    a, b, M = clouds(100, 3, seed=4)
    monkeypatch.setattr(_anderson, "_RESTART", 1.0)
    monkeypatch.setattr(_anderson, "_MAX_RESTARTS", 10)
    f, g, n_iter, info, P = run_warm_up(a, b, M, 5e-3, 1e-9)
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    # One restart, then the error fell until the iterations were too slow
    # (Newton's turn) at a point of the restarted run.
    assert info["n_restart"] >= 1 and "omega" not in info
    assert_allclose(P, np.exp((f[:, None] + g[None, :] - M) / 5e-3), rtol=1e-9, atol=1e-300)
    assert err < 1e-3


def random_problems(n_problems, seed):
    """The small random problems of benchmarks/bench_overrelaxation.py, frozen here.

    A copy, not an import: the regression problems below must not change
    when the benchmark's generator does.
    """
    rng = np.random.default_rng(seed)
    for k in range(n_problems):
        n, m = rng.integers(2, 80, size=2)
        kind = k % 4
        if kind == 0:
            M = rng.uniform(size=(n, m))
        elif kind == 1:
            X, Y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3)) * 2 + 1
            M = ((X[:, None] - Y[None]) ** 2).sum(-1)
            M /= M.max()
        elif kind == 2:
            M = rng.integers(-1, 2, size=(n, m)).astype(float)
        else:
            M = rng.exponential(size=(n, m)) ** 3
            M /= M.max()
        a = rng.exponential(size=n) ** rng.uniform(0, 4)
        b = rng.exponential(size=m) ** rng.uniform(0, 4)
        reg = 10 ** rng.uniform(-3.3, 0.0)
        yield k, a / a.sum(), b / b.sum(), M, reg


@pytest.mark.parametrize("k", [121, 204, 220])
def test_sns_on_problems_where_a_first_version_failed(k):
    # Problem 204: Anderson combinations drifted along the constant shift of
    # the potentials until they lost their digits (plan off by 4e-4 at a
    # marginal error of 1e-9); 121 and 220: Anderson stalled far from the
    # optimum, Newton failed, and Anderson stalled again (did not converge in
    # 5,000 iterations). Fixed by centring and by over-relaxed fallbacks.
    a, b, M, reg = next((a, b, M, reg) for i, a, b, M, reg in random_problems(k + 1, 0)
                        if i == k)
    res = sinkhorn(a, b, M, reg, method="sns", tol=1e-9, max_iter=5000)
    ref = sinkhorn(a, b, M, reg, method="log", tol=1e-10, max_iter=200_000)
    assert res.converged and ref.converged
    assert_allclose(res.plan, ref.plan, atol=1e-7)
    assert res.value == pytest.approx(ref.value, abs=1e-9)
    assert np.abs(res.g - res.g.mean()).max() < 10.0


def test_failed_newton_step_hands_back_to_over_relaxed_iterations(failing_newton):
    a, b, M = clouds(60, 3, seed=2)
    reg = 4e-3
    ref = sinkhorn(a, b, M, reg, method="log", tol=1e-10, max_iter=200_000)
    res = sinkhorn(a, b, M, reg, method="sns", tol=1e-9, max_iter=100_000)
    # The Anderson warm-up hands over (after 31 iterations; then 3 Newton
    # steps would finish), every Newton step fails, and over-relaxed
    # iterations finish (over-relaxed scaling alone takes 994).
    assert res.converged and res.info["n_newton"] == 0
    assert res.info["n_fallback"] > 0 and "omega" in res.info
    assert_allclose(res.plan, ref.plan, atol=1e-9)
