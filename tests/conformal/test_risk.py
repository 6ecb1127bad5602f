"""The calibration functions against the definition of lambda_hat, computed by brute force."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from skreg.conformal import (
    conformal_risk_control,
    conformal_risk_control_exact,
    multi_risk_control,
    quantile_risk_control,
    weighted_conformal_risk_control,
    weighted_conformal_risk_control_exact,
)


def brute_force(table, lambdas, alpha, B=1.0):
    """First grid lambda with n/(n+1) R_n + B/(n+1) <= alpha, by the definition."""
    n = table.shape[0]
    ok = n / (n + 1) * table.mean(axis=0) + B / (n + 1) <= alpha
    return lambdas[np.argmax(ok)] if ok.any() else lambdas[-1]


def split_conformal_quantile(scores, alpha):
    """ceil((n+1)(1-alpha))-th smallest score, in exact rational arithmetic."""
    n = scores.size
    k = math.ceil((n + 1) * (1 - Fraction(str(alpha))))
    return np.sort(scores)[k - 1] if k <= n else np.inf


@pytest.mark.parametrize("n", [9, 19, 99, 100, 250, 999])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1, 0.2, 0.25, 0.5, 0.9])
def test_miscoverage_is_split_conformal_exactly(n, alpha):
    scores = np.random.default_rng(n).exponential(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # alpha < 1/(n+1): lambda_max, as expected
        lam = conformal_risk_control_exact(scores, alpha)
    assert lam == split_conformal_quantile(scores, alpha)


def test_miscoverage_with_ties_is_split_conformal():
    scores = np.random.default_rng(1).integers(0, 6, size=60).astype(float)
    for alpha in (0.05, 0.1, 0.3):
        assert conformal_risk_control_exact(scores, alpha) == split_conformal_quantile(
            scores, alpha)


@pytest.mark.parametrize("seed", range(5))
def test_grid_matches_definition(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(5, 80), rng.integers(2, 40)
    lambdas = np.sort(rng.uniform(-1, 3, m))
    lambdas = np.unique(lambdas)
    B = rng.choice([1.0, 2.5])
    # Random non-increasing rows with values in [-1, B].
    table = B - np.cumsum(rng.exponential(0.3, (n, lambdas.size)), axis=1)
    table = np.maximum(table, -1.0)
    alpha = rng.uniform(0.05, 0.9) * B
    if alpha >= 1:
        alpha = 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = conformal_risk_control(table, lambdas, alpha, B=B)
    assert got == brute_force(table, lambdas, alpha, B)


def test_exact_equals_grid_on_all_breakpoints():
    """FNR: the exact threshold is the grid threshold when the grid holds every breakpoint."""
    rng = np.random.default_rng(0)
    P = rng.uniform(size=(150, 6))
    Y = rng.uniform(size=(150, 6)) < 0.4
    Y[Y.sum(axis=1) == 0, 0] = True
    S = 1 - P
    grid = np.unique(np.r_[0.0, S.ravel(), 1.0])
    table = ((S[:, :, None] > grid) & Y[:, :, None]).sum(axis=1) / Y.sum(axis=1)[:, None]
    for alpha in (0.05, 0.1, 0.2, 0.37):
        exact = conformal_risk_control_exact(S, alpha, loss="fnr", Y=Y, lambda_max=1.0)
        assert exact == brute_force(table, grid, alpha)
        # Multilabel miscoverage: one breakpoint per row, the largest true-label score.
        exact_miss = conformal_risk_control_exact(S, alpha, Y=Y, lambda_max=1.0)
        assert exact_miss == split_conformal_quantile(np.where(Y, S, -np.inf).max(1), alpha)


def test_relative_miss_is_exact_root():
    rng = np.random.default_rng(2)
    r = rng.exponential(size=300)
    n, alpha = r.size, 0.1

    def excess(lam):
        loss = np.clip(np.where(r > lam, r / lam - 1, 0), 0, 1)
        return n / (n + 1) * loss.mean() + 1 / (n + 1) - alpha

    lam = conformal_risk_control_exact(r, alpha, loss="relative_miss")
    np.testing.assert_allclose(lam, brentq(excess, 1e-3, 50, xtol=1e-14), rtol=1e-12)
    assert excess(lam) <= 1e-15
    assert excess(lam * (1 - 1e-9)) > 0


def test_weighted_with_unit_weights_is_unweighted():
    rng = np.random.default_rng(3)
    r = rng.exponential(size=200)
    lam = weighted_conformal_risk_control_exact(r, 0.1, np.ones(200), np.ones(4))
    assert np.all(lam == conformal_risk_control_exact(r, 0.1))
    # Scaling every weight leaves the thresholds unchanged (w is known up to a constant).
    w, wt = rng.uniform(0.2, 3, 200), rng.uniform(0.2, 3, 5)
    np.testing.assert_array_equal(
        weighted_conformal_risk_control_exact(r, 0.1, w, wt),
        weighted_conformal_risk_control_exact(r, 0.1, 7 * w, 7 * wt))


def test_weighted_matches_definition():
    rng = np.random.default_rng(4)
    n = 120
    r = rng.exponential(size=n)
    w = rng.uniform(0.1, 2.0, n)
    wt = rng.uniform(0.1, 4.0, 30)
    grid = np.unique(np.r_[0.0, r])
    table = (r[:, None] > grid).astype(float)
    alpha = 0.15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = weighted_conformal_risk_control_exact(r, alpha, w, wt)
        gridded = weighted_conformal_risk_control(table, grid, alpha, w, wt)
    for lam_exact, lam_grid, wx in zip(exact, gridded, wt):
        ok = (w @ table + wx) / (w.sum() + wx) <= alpha
        expected = grid[np.argmax(ok)] if ok.any() else np.inf
        assert lam_exact == expected
        assert lam_grid == (expected if ok.any() else grid[-1])


def test_lambda_max_with_warning_when_alpha_too_small():
    scores = np.arange(1.0, 10.0)  # n = 9: alpha must be >= 1/10
    with pytest.warns(UserWarning, match=r"alpha < B/\(n\+1\)"):
        assert conformal_risk_control_exact(scores, 0.09) == np.inf
    with pytest.warns(UserWarning, match="lambda_max"):
        assert conformal_risk_control_exact(scores, 0.09, lambda_max=20.0) == 20.0
    assert conformal_risk_control_exact(scores, 0.1) == 9.0
    table = (scores[:, None] > scores).astype(float)
    with pytest.warns(UserWarning, match="lambda_max"):
        assert conformal_risk_control(table, scores, 0.09) == 9.0
    with pytest.warns(UserWarning, match="1 of 2 test points"):
        lam = weighted_conformal_risk_control_exact(scores, 0.2, np.ones(9), [1.0, 100.0])
    assert lam[0] < np.inf and lam[1] == np.inf


def test_monotonize():
    lambdas = np.array([0.0, 1.0, 2.0, 3.0])
    table = np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]] * 10)
    with pytest.raises(ValueError, match="non-increasing.*monotonize=True"):
        conformal_risk_control(table, lambdas, 0.3)
    with pytest.warns(UserWarning, match="monotonised"):
        lam = conformal_risk_control(table, lambdas, 0.3, monotonize=True)
    # sup over lambda' >= lambda turns the first row into [1, 1, 1, 0].
    assert lam == 3.0
    assert table[0, 1] == 0.0  # the user's table is not modified


def test_quantile_and_multi_risk_definitions():
    rng = np.random.default_rng(5)
    lambdas = np.linspace(0, 10, 501)
    r = rng.exponential(size=(400, 1))
    miss = (r > lambdas).astype(float)
    excess = np.clip(r - lambdas, 0, 1)
    lam_q = quantile_risk_control(excess, lambdas, 0.2, 0.8)
    assert lam_q == brute_force((excess > 0.2).astype(float), lambdas, 0.2)
    lam_m = multi_risk_control([miss, excess], lambdas, [0.2, 0.05])
    assert lam_m == max(brute_force(miss, lambdas, 0.2), brute_force(excess, lambdas, 0.05))
    # A single table in a list is plain CRC.
    assert multi_risk_control([miss], lambdas, [0.2]) == conformal_risk_control(
        miss, lambdas, 0.2)


def test_inputs_not_modified():
    rng = np.random.default_rng(6)
    r = rng.exponential(size=50)
    P = rng.uniform(size=(50, 3))
    Y = rng.uniform(size=(50, 3)) < 0.5
    w = rng.uniform(size=50)
    table = (r[:, None] > np.sort(r)).astype(float)
    copies = [a.copy() for a in (r, P, Y, w, table)]
    conformal_risk_control_exact(r, 0.2, loss="relative_miss")
    conformal_risk_control_exact(1 - P, 0.2, loss="fnr", Y=Y, lambda_max=1.0)
    weighted_conformal_risk_control_exact(r, 0.2, w, w[:3])
    conformal_risk_control(table, np.sort(r), 0.2)
    for before, after in zip(copies, (r, P, Y, w, table)):
        np.testing.assert_array_equal(before, after)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 4), seed=st.integers(0, 2**31 - 1),
       alpha=st.floats(0.01, 0.99), weighted=st.booleans(), fnr=st.booleans())
def test_exact_step_losses_match_definition(n, k, seed, alpha, weighted, fnr):
    """Random scores with ties, weights and labels: the exact threshold is the
    smallest candidate (lambda_min or a breakpoint) satisfying the CRC condition."""
    rng = np.random.default_rng(seed)
    S = rng.integers(0, 6, size=(n, k)) / 5.0
    Y = rng.uniform(size=(n, k)) < 0.5
    w = rng.uniform(0.1, 3.0, n) if weighted else np.ones(n)
    wt = rng.uniform(0.1, 3.0, 3) if weighted else np.ones(3)
    loss = "fnr" if fnr else "miscoverage"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = weighted_conformal_risk_control_exact(S, alpha, w, wt, loss=loss, Y=Y,
                                                    lambda_max=1.0)
    candidates = np.unique(np.r_[0.0, S.ravel(), 1.0])
    missed = (S[:, :, None] > candidates) & Y[:, :, None]
    if fnr:
        table = missed.sum(1) / np.maximum(Y.sum(1), 1)[:, None]
    else:
        table = missed.any(1).astype(float)
    for lam, wx in zip(got, wt):
        ok = (w @ table + wx) <= alpha * (w.sum() + wx) + 1e-9
        assert lam == (candidates[np.argmax(ok)] if ok.any() else 1.0)
