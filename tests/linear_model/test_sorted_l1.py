"""Sorted-L1 building blocks: sequences, exact prox, dual norm, strong-rule scan."""

import cvxpy as cp
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

from skreg.linear_model._slope_sequences import (
    bh_sequence,
    check_lambdas,
    gaussian_sequence,
    oscar_sequence,
)
from skreg.linear_model._sorted_l1 import (
    prox_sorted_l1,
    sorted_l1_dual_norm,
    sorted_l1_norm,
    strong_set_size,
)


def sorted_l1_cvxpy(x, lam):
    """J_lam(x) as a convex expression: sum_k (lam_k - lam_{k+1}) * top-k sum."""
    diffs = np.append(lam[:-1] - lam[1:], lam[-1])
    return sum(d * cp.sum_largest(cp.abs(x), k + 1) for k, d in enumerate(diffs) if d > 0)


# ------------------------------------------------------------------ sequences
def test_bh_formula():
    p, q = 7, 0.2
    expected = [norm.ppf(1 - j * q / (2 * p)) for j in range(1, p + 1)]
    assert_allclose(bh_sequence(p, q), expected, rtol=1e-12)


def test_gaussian_formula():
    p, q, n = 40, 0.1, 30
    bh = bh_sequence(p, q)
    lam = np.empty(p)
    for j in range(1, p + 1):  # the published recursion, 1-based
        s = sum(lam[i - 1] ** 2 for i in range(1, j))
        lam[j - 1] = bh[j - 1] * np.sqrt(1 + s / max(1, n - j))
    # The recursion eventually increases; the sequence stays at its minimum.
    expected = np.minimum.accumulate(lam)
    assert np.any(np.diff(lam) > 0)  # the clamp is exercised
    assert_allclose(gaussian_sequence(p, q, n), expected, rtol=1e-12)
    assert np.all(np.diff(gaussian_sequence(p, q, n)) <= 0)


def test_gaussian_matches_sortedl1():
    sortedl1 = pytest.importorskip("sortedl1")
    rng = np.random.default_rng(0)
    n, p = 20, 15
    X = rng.standard_normal((n, p))
    y = X[:, 0] + rng.standard_normal(n)
    for kind in ("bh", "gaussian"):
        m = sortedl1.Slope(lambda_type=kind, q=0.2, alpha=0.5).fit(X, y)
        lam = bh_sequence(p, 0.2) if kind == "bh" else gaussian_sequence(p, 0.2, n)
        assert_allclose(m.lambda_, lam, rtol=1e-8)


def test_oscar_formula():
    assert_allclose(oscar_sequence(4, 0.5, 2.0), [6.5, 4.5, 2.5, 0.5])


@pytest.mark.parametrize("lambdas, match", [
    ([1.0, 2.0, 0.5], "non-increasing"),
    ([1.0, 0.5, -0.1], "non-negative"),
    ([1.0, np.nan, 0.5], "finite"),
    ([1.0, 0.5], "length 3"),
    ([0.0, 0.0, 0.0], "all zero"),
    ("bhq", "must be one of"),
    ([[1.0, 0.5, 0.1]], "1-D"),
])
def test_check_lambdas_errors(lambdas, match):
    with pytest.raises(ValueError, match=match):
        check_lambdas(lambdas, 3)


def test_check_lambdas_values_and_copy():
    user = np.array([3.0, 2.0, 2.0])
    lam = check_lambdas(user, 3)
    lam[0] = 10.0
    assert user[0] == 3.0
    assert_allclose(check_lambdas("bh", 3, q=0.3), bh_sequence(3, 0.3))
    assert_allclose(check_lambdas("oscar", 3, theta1=1.0, theta2=2.0), [5.0, 3.0, 1.0])
    assert_allclose(check_lambdas("gaussian", 3, q=0.3, n_samples=9),
                    gaussian_sequence(3, 0.3, 9))
    with pytest.raises(ValueError, match="q"):
        check_lambdas("bh", 3, q=1.5)
    with pytest.raises(ValueError, match="theta1"):
        check_lambdas("oscar", 3, theta1=-1.0)


# --------------------------------------------------------------------- prox
@pytest.mark.parametrize("seed", range(4))
def test_prox_matches_cvxpy(seed):
    rng = np.random.default_rng(seed)
    p = 12
    z = rng.standard_normal(p) * 2
    z[3] = -z[5]  # ties in magnitude
    lam = np.sort(rng.uniform(0, 1.5, p))[::-1]
    lam[-3:] = 0.0 if seed % 2 else lam[-3:]
    x = cp.Variable(p)
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(x - z) + sorted_l1_cvxpy(x, lam))).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    assert_allclose(prox_sorted_l1(z, lam), x.value, atol=1e-6)


def test_prox_closed_forms():
    z = np.array([3.0, -1.0, 2.5])
    # Constant lam: soft-thresholding.
    assert_allclose(prox_sorted_l1(z, [0.5, 0.5, 0.5]), np.sign(z) * (np.abs(z) - 0.5))
    # A large lam kills everything; a zero lam is the identity.
    assert_allclose(prox_sorted_l1(z, [10.0, 10.0, 10.0]), 0.0)
    assert_allclose(prox_sorted_l1(z, [0.0, 0.0, 0.0]), z)
    # Pooling: the two largest magnitudes merge into a cluster.
    assert_allclose(prox_sorted_l1(z, [1.0, 0.5, 0.5]), [2.0, -0.5, 2.0])


def test_prox_optimality_and_no_mutation():
    rng = np.random.default_rng(3)
    p = 300
    z = rng.standard_normal(p)
    lam = np.sort(rng.uniform(0, 1, p))[::-1]
    z0, lam0 = z.copy(), lam.copy()
    x = prox_sorted_l1(z, lam)
    assert_allclose(z, z0)
    assert_allclose(lam, lam0)
    # Optimality: z - x must be a subgradient of J at x, i.e. J*(z - x) <= 1 and
    # <z - x, x> = J(x).
    g = z - x
    assert sorted_l1_dual_norm(g, lam) <= 1 + 1e-10
    assert_allclose(g @ x, sorted_l1_norm(x, lam), rtol=1e-10)


def test_prox_float32_and_bad_input():
    x = prox_sorted_l1(np.array([2.0, -1.0], dtype=np.float32), [1.0, 0.5])
    assert x.dtype == np.float64
    assert_allclose(x, [1.0, -0.5])
    with pytest.raises(ValueError, match="length"):
        prox_sorted_l1([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="non-increasing"):
        prox_sorted_l1([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        prox_sorted_l1([1.0, np.nan], [1.0, 0.5])


# --------------------------------------------------------- norm and dual norm
def test_norm_and_dual_norm_brute_force():
    rng = np.random.default_rng(1)
    p = 6
    g = rng.standard_normal(p)
    lam = np.sort(rng.uniform(0.1, 1, p))[::-1]
    a = np.sort(np.abs(g))[::-1]
    assert_allclose(sorted_l1_norm(g, lam), a @ lam)
    expected = max(a[:k].sum() / lam[:k].sum() for k in range(1, p + 1))
    assert_allclose(sorted_l1_dual_norm(g, lam), expected)
    # Duality: the dual norm is the max of <g, b> over the unit ball of J.
    b = cp.Variable(p)
    prob = cp.Problem(cp.Maximize(g @ b), [sorted_l1_cvxpy(b, lam) <= 1])
    prob.solve(solver=cp.CLARABEL)
    assert_allclose(prob.value, expected, rtol=1e-6)


def test_dual_norm_characterises_zero_prox():
    rng = np.random.default_rng(2)
    lam = np.sort(rng.uniform(0.1, 1, 8))[::-1]
    for _ in range(20):
        g = rng.standard_normal(8) * 0.6
        inside = sorted_l1_dual_norm(g, lam) <= 1
        assert inside == np.all(prox_sorted_l1(g, lam) == 0)


# ---------------------------------------------------------------- strong rule
def _scan(t):
    """Algorithm 1 of Larsson, Bogdan and Wallin (2020), written literally."""
    selected, block, s = 0, 0, 0.0
    for i in range(t.shape[0]):
        block += 1
        s += t[i]
        if s >= 0:
            selected += block
            block, s = 0, 0.0
    return selected


@pytest.mark.parametrize("seed", range(30))
def test_strong_set_size_is_the_published_scan(seed):
    rng = np.random.default_rng(seed)
    p = int(rng.integers(1, 40))
    c = np.sort(rng.exponential(size=p))[::-1]
    lam_prev = np.sort(rng.uniform(0.5, 2.0, p))[::-1]
    lam_next = lam_prev * rng.uniform(0.5, 1.0)
    t = c + lam_prev - 2 * lam_next
    assert strong_set_size(c, lam_prev, lam_next) == _scan(t)


def test_strong_rule_as_kkt_check():
    lam = np.array([3.0, 2.0, 1.0])
    assert strong_set_size(np.array([2.0, 1.0, 0.5]), lam, lam) == 0
    # 2.9 < 3 alone, but 2.9 + 2.2 > 3 + 2: the top two violate jointly.
    assert strong_set_size(np.array([2.9, 2.2, 0.1]), lam, lam) == 2
