"""Recovery experiments in the spirit of the paper (Gaussian design, m=150,
N=300, 10-sparse): noise-blind tuning of the sqrt variant, robustness of the
LAD variant, and the benefit of small weights on known support indices.

The fast versions run a few fixed seeds; ``-m slow`` runs more."""

import numpy as np
import pytest

from skreg import WeightedOMP

N, S = 300, 10


def _problem(seed, m=150, eta=1e-3, outliers=0.0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, N)) / np.sqrt(m)     # columns of norm about 1
    x = np.zeros(N)
    support = rng.choice(N, S, replace=False)
    x[support] = rng.standard_normal(S)
    e = rng.standard_normal(m)
    y = A @ x + eta * e / np.linalg.norm(e)           # ||noise|| = eta
    if outliers:
        k = int(outliers * m)
        idx = rng.choice(m, k, replace=False)
        y[idx] += 100 * np.abs(y).max() * rng.standard_normal(k)
    return A, y, x, support


def _rel_error(model, x):
    return np.linalg.norm(model.coef_ - x) / np.linalg.norm(x)


def _best_alphas(A, y, x, grid, **params):
    errs = np.array([_rel_error(WeightedOMP(alpha=a, n_nonzero_coefs=30, fit_intercept=False,
                                            **params).fit(A, y), x) for a in grid])
    # alphas that give the same (best) model are all "best"
    return set(np.flatnonzero(errs <= errs.min() * (1 + 1e-6))), errs


def _check_noise_blind(seeds):
    grid = np.logspace(-4, 0, 17)
    for seed in seeds:
        best = []
        for eta in [1e-3, 1e-2, 1e-1]:
            A, y, x, _ = _problem(seed, eta=eta)
            b, errs = _best_alphas(A, y, x, grid, loss="sqrt_lasso", penalty="l1")
            # the optimum is sharp: both ends of the grid are much worse
            assert errs[0] > 2 * errs.min() and errs[-1] > 2 * errs.min()
            best.append(b)
        assert set.intersection(*best), (seed, best)


def test_sqrt_variant_best_alpha_does_not_move_with_noise():
    _check_noise_blind([0, 1])


@pytest.mark.slow
def test_sqrt_variant_best_alpha_does_not_move_with_noise_long():
    _check_noise_blind(range(2, 12))


def _check_outliers(seeds):
    for seed in seeds:
        A, y, x, _ = _problem(seed, eta=1e-3, outliers=0.1)
        lad = WeightedOMP(loss="lad_lasso", alpha=1e-4, n_nonzero_coefs=30,
                          fit_intercept=False).fit(A, y)
        omp = WeightedOMP(n_nonzero_coefs=30, fit_intercept=False).fit(A, y)
        assert _rel_error(lad, x) < 1e-2
        assert _rel_error(omp, x) > 1.0


def test_lad_variant_recovers_with_outliers_where_omp_fails():
    _check_outliers([0])


@pytest.mark.slow
def test_lad_variant_recovers_with_outliers_long():
    _check_outliers(range(1, 10))


def _success_counts(seeds, m=35):
    grid = np.logspace(-4, 0, 9)
    counts = {"unweighted": 0, "weighted": 0}
    for seed in seeds:
        A, y, x, support = _problem(seed, m=m)
        w = np.ones(N)
        w[support[:5]] = 0.1       # half of the support is known (small weight)
        for name, weights in [("unweighted", None), ("weighted", w)]:
            err = min(_rel_error(WeightedOMP(loss="sqrt_lasso", penalty="l1", alpha=a,
                                             weights=weights, n_nonzero_coefs=m // 2,
                                             fit_intercept=False).fit(A, y), x)
                      for a in grid)
            counts[name] += err < 1e-2
    return counts


def test_small_weights_on_known_support_help_at_small_m():
    counts = _success_counts(range(8))
    assert counts["weighted"] >= counts["unweighted"] + 3, counts
    assert counts["weighted"] >= 6, counts


@pytest.mark.slow
def test_small_weights_help_long():
    counts = _success_counts(range(8, 48))
    assert counts["weighted"] >= counts["unweighted"] + 10, counts
