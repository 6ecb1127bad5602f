"""Over-relaxed scaling iterations: the kernel, the schedule, and their use in ``sns``."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skreg.ot import _scaling, sinkhorn
from skreg.ot import _sinkhorn as sk
from skreg.ot import _sinkhorn_kernels as kern
from skreg.ot._overrelaxation import (
    _NEWTON_AFTER,
    _OMEGA_MAX,
    _PLAIN,
    _REMEASURE,
    _WINDOW,
    Overrelaxation,
    PlainSinkhorn,
)
from skreg.ot._scaling import Workspace, solve_scaling


def small_problem(n=7, m=5, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, n)
    b = rng.uniform(0.5, 1.5, m)
    b *= a.sum() / b.sum()
    K = rng.uniform(0.1, 1.0, (n, m))
    return a, b, K


@pytest.mark.parametrize("omega", [1.0, 1.5, 1.9])
def test_loop_matches_numpy(omega):
    a, b, K = small_problem()
    u, v = np.ones(7), np.linspace(0.5, 2.0, 5)
    u_ref, v_ref = u.copy(), v.copy()
    errs = np.empty(3)
    it, err, status = kern.scaling_loop(K, u, v, a, b, omega, 1e-300, 3, 1e50,
                                        np.empty((2, 5)), np.empty(5), np.empty(7),
                                        np.empty(2), errs)
    assert (it, status) == (3, 1)
    for k in range(3):
        u_ref = u_ref * (a / (u_ref * (K @ v_ref))) ** omega
        P = u_ref[:, None] * K * v_ref[None, :]
        # The error is measured at the new u and the old v.
        assert_allclose(errs[k], np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum(),
                        rtol=1e-12, atol=1e-15)
        # The column half-iteration follows every check that does not stop.
        v_ref = v_ref * (b / (v_ref * (K.T @ u_ref))) ** omega
    assert_allclose(u, u_ref, rtol=1e-12)
    assert_allclose(v, v_ref, rtol=1e-12)
    if omega == 1.0:
        # Plain Sinkhorn: the columns are exact after the column half-iteration.
        assert_allclose((u[:, None] * K * v).sum(0), b, rtol=1e-12)


def geometric(rate, n, start=1.0):
    return list(start * rate ** np.arange(1, n + 1))


def test_omega_from_the_plain_rate():
    schedule = Overrelaxation(1e-9)
    assert schedule.window() == (1.0, _PLAIN)
    assert schedule.record(geometric(0.96, _PLAIN)) is False
    # Young's optimal factor for a Gauss-Seidel rate rho.
    assert_allclose(schedule.omega, 2 / (1 + math.sqrt(1 - 0.96)))
    assert schedule.window() == (schedule.omega, _WINDOW)
    # Plain iterations that do not converge leave omega at 1; very slow ones
    # are capped.
    flat = Overrelaxation(1e-9)
    flat.record([1.0] * _PLAIN)
    assert flat.omega == 1.0
    # A plain rate above _RHO_UNSURE is measured again, window after window,
    # up to _REMEASURE times; very slow rates give the capped omega.
    slow = Overrelaxation(1e-9)
    errs = geometric(1 - 1e-6, _PLAIN)
    slow.record(errs)
    for _ in range(_REMEASURE):
        assert slow.omega == 1.0 and slow.window() == (1.0, _WINDOW)
        errs = geometric(1 - 1e-6, _WINDOW, errs[-1])
        slow.record(errs)
    assert slow.omega == _OMEGA_MAX
    # A plateau followed by fast plain convergence: omega from the fast part.
    plateau = Overrelaxation(1e-9)
    plateau.record([0.5] * _PLAIN)
    plateau.record(geometric(0.8, _WINDOW, 0.5))
    assert_allclose(plateau.omega, 2 / (1 + math.sqrt(1 - 0.8)))


def test_windows_may_be_recorded_in_pieces():
    # An absorption cuts a window short: the schedule counts what it got.
    schedule = Overrelaxation(1e-9)
    errs = geometric(0.9, _PLAIN)
    assert schedule.record(errs[:7]) is False and schedule.omega == 1.0
    assert schedule.window() == (1.0, _PLAIN - 7)
    schedule.record(errs[7:])
    assert schedule.omega > 1.0


def test_hands_over_only_when_progress_stalls():
    tol = 1e-9
    schedule = Overrelaxation(tol)
    errs = geometric(0.97, _PLAIN)
    schedule.record(errs)
    # The transient after the switch, even with a rising error, is not judged.
    errs = geometric(1.05, _WINDOW, errs[-1])
    assert schedule.record(errs) is False
    # Fast windows: keep going.
    for _ in range(3):
        errs = geometric(0.6, _WINDOW, errs[-1])
        assert schedule.record(errs) is False
    # Slower than before, but tol is near at this rate: keep going.
    rate = 0.7
    assert math.log(tol / (errs[-1] * rate**_WINDOW)) / math.log(rate) < _NEWTON_AFTER
    errs = geometric(rate, _WINDOW, errs[-1])
    assert schedule.record(errs) is False

    # A rate that worsens far from tol: stop.
    far = Overrelaxation(tol)
    errs = geometric(0.97, _PLAIN)
    far.record(errs)
    for rate, stop in [(0.95, False), (0.9, False), (0.92, True)]:
        errs = geometric(rate, _WINDOW, errs[-1])
        assert far.record(errs) is stop
    # An error that grows over a window: stop.
    grows = Overrelaxation(tol)
    errs = geometric(0.97, _PLAIN)
    grows.record(errs)
    grows.record(geometric(0.9, _WINDOW, errs[-1]))
    assert grows.record(geometric(1.01, _WINDOW, errs[-1])) is True


def test_plain_stagnation_hands_over_to_newton():
    # No rate to measure: omega stays 1, and the sns warm-up hands over
    # once a window makes no progress.
    schedule = Overrelaxation(1e-9)
    assert schedule.record([0.5] * _PLAIN) is False
    for _ in range(_REMEASURE):
        assert schedule.record([0.5] * _WINDOW) is False
    assert schedule.omega == 1.0
    assert schedule.record([0.5] * _WINDOW) is True and not schedule.diverged


def test_without_hand_over_divergence_means_plain_iterations():
    schedule = Overrelaxation(1e-9, hand_over=False)
    errs = geometric(0.97, _PLAIN)
    schedule.record(errs)
    omega = schedule.omega
    errs = geometric(0.9, _WINDOW, errs[-1])
    schedule.record(errs)
    # Stalled: go on at the same omega.
    errs = geometric(0.95, _WINDOW, errs[-1])
    assert schedule.record(errs) is False and schedule.omega == omega
    assert not schedule.diverged
    errs = geometric(0.96, _WINDOW, errs[-1])
    assert schedule.record(errs) is False and schedule.omega == omega
    # Diverged: flagged once, then plain iterations for good.
    errs = geometric(1.1, _WINDOW, errs[-1])
    assert schedule.record(errs) is False
    assert schedule.diverged and schedule.omega == 1.0
    errs = geometric(1.1, _WINDOW, errs[-1])
    assert schedule.record(errs) is False
    assert not schedule.diverged and schedule.omega == 1.0


def test_sns_without_acceleration_uses_the_plain_warm_up():
    a, b, M = clouds(200, 5, seed=1)
    res = sinkhorn(a, b, M, 2e-3, method="sns", tol=1e-9, acceleration=False)
    assert res.converged and res.info["omega"] == 1.0
    assert res.info["n_sinkhorn"] == 100 + res.info.get("n_fallback", 0)


def test_plain_schedule_counts_iterations():
    schedule = PlainSinkhorn(25)
    assert schedule.window() == (1.0, 25)
    assert schedule.record([1.0] * 20) is False
    assert schedule.window() == (1.0, 5)
    assert schedule.record([1.0] * 5) is True


def clouds(n, dim, seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, dim)), rng.normal(size=(n, dim)) + 0.5
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return np.full(n, 1 / n), np.full(n, 1 / n), M / M.max()


def test_over_relaxed_warm_up_converges_alone_on_clouds(monkeypatch):
    """On 2-D clouds the over-relaxed warm-up reaches tol without Newton."""
    a, b, M = clouds(500, 2)
    reg = 5e-3
    monkeypatch.setattr(sk, "_sns_warm_up", sk._scheduled(Overrelaxation))
    sns = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    relaxed = sinkhorn(a, b, M, reg, tol=1e-9)
    plain = sinkhorn(a, b, M, reg, tol=1e-9, acceleration=False)
    assert sns.converged and relaxed.converged and plain.converged
    assert sns.info["n_newton"] == 0 and sns.info["omega"] > 1.3
    # The default scaling method runs the same iterations.
    assert relaxed.n_iter == sns.n_iter and relaxed.info["omega"] == sns.info["omega"]
    assert "omega" not in plain.info
    # Far fewer iterations than plain scaling (48 and 145), and the same plan.
    assert 2 * sns.n_iter < plain.n_iter
    assert_allclose(sns.plan, plain.plan, atol=1e-9)
    assert_allclose(relaxed.plan, plain.plan, atol=1e-9)


def test_sns_with_the_papers_plain_warm_up(monkeypatch):
    """The warm-up schedule is pluggable; the paper's plain one gives the same plan."""
    a, b, M = clouds(200, 5, seed=1)
    reg = 2e-3
    default = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    monkeypatch.setattr(sk, "_sns_warm_up", sk._scheduled(lambda tol_abs: PlainSinkhorn(20)))
    paper = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    assert default.converged and paper.converged
    # 20 scaling iterations after the log-domain one that builds the kernel.
    assert paper.info["n_sinkhorn"] == 21
    assert paper.info["omega"] == 1.0
    assert_allclose(default.plan, paper.plan, atol=1e-9)


class Reckless:
    """omega = 1.99 from the start, for a fixed number of windows."""

    def __init__(self, n_windows):
        self.omega, self.n_windows, self.ends = 1.99, n_windows, []
        self.diverged = False

    def window(self):
        return self.omega, 10

    def record(self, errs):
        # Windows cut short by an absorption count too.
        self.ends.append(errs[-1])
        self.diverged = len(self.ends) >= self.n_windows
        return self.diverged


def test_diverging_warm_up_hands_over_its_best_point():
    rng = np.random.default_rng(92)
    a, b = rng.exponential(size=30) ** 3, rng.exponential(size=7) ** 3
    a, b = a / a.sum(), b / b.sum()
    M = rng.uniform(size=(30, 7))
    ws = Workspace(30, 7)
    schedule = Reckless(6)
    f, g, n_iter, info, P = solve_scaling(M, a, b, 1e-3, np.zeros(7), 1e-12, 1000, ws,
                                          schedule)
    ends = np.array(schedule.ends)
    err = np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()
    # This schedule diverges: its last error is far above its best ...
    assert ends[-1] > 50 * ends.min()
    # ... and the warm-up hands over a point no worse than the best window end
    # (one log-domain iteration from it).
    assert err <= ends.min()
    # The plan at the returned potentials.
    assert_allclose(P, np.exp((f[:, None] + g[None, :] - M) / 1e-3), rtol=1e-9, atol=1e-300)


def test_failed_newton_step_hands_back_to_sinkhorn(monkeypatch, failing_newton):
    a, b, M = clouds(60, 3, seed=2)
    reg = 2e-2
    ref = sinkhorn(a, b, M, reg, method="log", tol=1e-10, max_iter=100_000)
    monkeypatch.setattr(sk, "_sns_warm_up", sk._scheduled(lambda tol_abs: PlainSinkhorn(5)))
    monkeypatch.setattr(sk, "_sns_fallback", sk._scheduled(lambda tol_abs: PlainSinkhorn(5)))
    res = sinkhorn(a, b, M, reg, method="sns", tol=1e-9, max_iter=100_000)
    assert res.converged and res.info["n_newton"] == 0 and res.info["n_fallback"] > 0
    assert res.info["n_sinkhorn"] == res.n_iter
    assert_allclose(res.plan, ref.plan, atol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_sns_on_degenerate_costs(seed):
    """Integer costs (ties, negative entries), skewed weights, tiny reg."""
    rng = np.random.default_rng(seed)
    n, m = rng.integers(5, 40, size=2)
    M = rng.integers(-1, 2, size=(n, m)).astype(float)
    a, b = rng.exponential(size=n) ** 3, rng.exponential(size=m) ** 3
    a, b = a / a.sum(), b / b.sum()
    res = sinkhorn(a, b, M, 6e-4, method="sns", tol=1e-9, max_iter=20_000)
    ref = sinkhorn(a, b, M, 6e-4, method="log", tol=1e-10, max_iter=400_000)
    assert res.converged and ref.converged
    assert_allclose(res.plan, ref.plan, atol=1e-8)


@pytest.mark.parametrize("omega", [1.0, 1.7])
def test_loop_reports_an_empty_column_as_out_of_range(omega):
    # A column sum that is 0 (underflow) is an infinite scaling: status 2
    # (the caller absorbs), never a ZeroDivisionError.
    a, b, K = small_problem()
    K[:, 2] = 0.0
    u, v = np.ones(7), np.ones(5)
    it, err, status = kern.scaling_loop(K, u, v, a, b, omega, 1e-12, 10, 1e50,
                                        np.empty((2, 5)), np.empty(5), np.empty(7),
                                        np.empty(2), np.empty(10))
    assert (it, status) == (1, 2)
    assert np.all(np.isfinite(v)) and np.all(v == 1.0)


@pytest.mark.parametrize("method", ["scaling", "sns"])
def test_huge_max_iter_allocates_nothing_of_its_size(method):
    # The per-iteration errors live in a fixed-size buffer: max_iter = 10**12
    # would otherwise ask for 8 TB.
    a, b, M = clouds(30, 2, seed=3)
    res = sinkhorn(a, b, M, 1e-2, method=method, max_iter=10**12)
    assert res.converged


def test_long_plain_windows_are_cut_to_the_buffer(monkeypatch):
    monkeypatch.setattr(_scaling, "_ERRS_BUFFER", 7)
    schedule = PlainSinkhorn(30)
    a, b, M = clouds(40, 2, seed=4)
    ws = Workspace(40, 40)
    f, g, n_iter, info, P = solve_scaling(M, a, b, 1e-3, np.zeros(40), 1e-15, 1000, ws,
                                          schedule)
    # 30 scaling iterations in windows of at most 7, after the absorption.
    assert schedule._done == 30 and n_iter == 31 + info["n_absorb"]
