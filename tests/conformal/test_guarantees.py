"""Statistical validity over many random calibration/test splits (fixed seeds).

Model outputs are computed once on a fixed pool; each split only permutes the
pool, so a split costs one sort. For exchangeable losses in (-inf, B] the
mean test risk over splits must lie in

    [alpha - 2B/(n+1) - 3 s.e., alpha + 3 s.e.]

(the lower bound holds for continuous losses without ties). The default runs
use 500 splits; the ``slow`` versions 5000.
"""

import numpy as np
import pytest
from multilabel import make_multilabel
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier

from skreg.conformal import (
    conformal_risk_control,
    conformal_risk_control_exact,
    multi_risk_control,
    quantile_risk_control,
    weighted_conformal_risk_control_exact,
)

SPLITS = [500, pytest.param(5000, marks=pytest.mark.slow)]
N_CAL = 200


def assert_risk_controlled(risks, alpha, B, n, lower=True):
    risks = np.asarray(risks)
    se = risks.std(ddof=1) / np.sqrt(risks.size)
    mean = risks.mean()
    assert mean <= alpha + 3 * se, (mean, alpha, se)
    if lower:
        assert mean >= alpha - 2 * B / (n + 1) - 3 * se, (mean, alpha, se)


@pytest.fixture(scope="module")
def regression_pool():
    """Absolute residuals of a fixed Ridge model on a pool of 3000 new points."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 5))
    y = X @ rng.normal(size=5) + rng.standard_t(4, size=4000)
    model = Ridge().fit(X[:1000], y[:1000])
    return y[1000:], model.predict(X[1000:])


@pytest.fixture(scope="module")
def multilabel_pool():
    """One-vs-rest probabilities on a pool of 3000 multilabel points."""
    X, Y = make_multilabel(4000, n_features=10, n_classes=6, seed=0)
    clf = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X[:1000], Y[:1000])
    return clf.predict_proba(X[1000:]), Y[1000:].astype(bool)


def splits(n_pool, n_splits, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n_splits):
        perm = rng.permutation(n_pool)
        yield perm[:N_CAL], perm[N_CAL:]


@pytest.mark.parametrize("n_splits", SPLITS)
def test_regression_miscoverage(regression_pool, n_splits):
    y, f = regression_pool
    r = np.abs(y - f)
    alpha, risks = 0.1, []
    for cal, test in splits(r.size, n_splits, 1):
        lam = conformal_risk_control_exact(r[cal], alpha)
        risks.append(np.mean(r[test] > lam))
    assert_risk_controlled(risks, alpha, 1.0, N_CAL)


@pytest.mark.parametrize("n_splits", SPLITS)
def test_regression_relative_miss(regression_pool, n_splits):
    y, f = regression_pool
    r = np.abs(y - f)
    alpha, risks = 0.05, []
    for cal, test in splits(r.size, n_splits, 2):
        lam = conformal_risk_control_exact(r[cal], alpha, loss="relative_miss")
        risks.append(np.mean(np.clip(r[test] / lam - 1, 0, 1)))
    assert_risk_controlled(risks, alpha, 1.0, N_CAL)


@pytest.mark.parametrize("n_splits", SPLITS)
def test_multilabel_fnr(multilabel_pool, n_splits):
    P, Y = multilabel_pool
    S = 1 - P
    alpha, risks = 0.1, []
    for cal, test in splits(S.shape[0], n_splits, 3):
        lam = conformal_risk_control_exact(S[cal], alpha, loss="fnr", Y=Y[cal],
                                           lambda_max=1.0)
        missed = (Y[test] & (S[test] > lam)).sum(1) / Y[test].sum(1)
        risks.append(missed.mean())
    assert_risk_controlled(risks, alpha, 1.0, N_CAL)


def asymmetric_miss(y, lower, upper):
    """A custom loss with B = 2: missing above costs 2, missing below 1."""
    return 2.0 * (y > upper) + 1.0 * (y < lower)


@pytest.mark.parametrize("n_splits", SPLITS)
def test_custom_loss(regression_pool, n_splits):
    y, f = regression_pool
    r = np.abs(y - f)
    alpha, B, risks = 0.15, 2.0, []
    for cal, test in splits(r.size, n_splits, 4):
        grid = np.unique(r[cal])  # the default grid of CustomLoss
        lo, hi = f[cal, None] - grid, f[cal, None] + grid
        table = asymmetric_miss(y[cal, None], lo, hi)
        lam = conformal_risk_control(table, grid, alpha, B=B)
        risks.append(asymmetric_miss(y[test], f[test] - lam, f[test] + lam).mean())
    assert_risk_controlled(risks, alpha, B, N_CAL)


@pytest.mark.parametrize("n_splits", SPLITS)
def test_quantile_risk(regression_pool, n_splits):
    """The beta-quantile of the relative miss is at most alpha: P(L > alpha) <= 1 - beta."""
    y, f = regression_pool
    r = np.abs(y - f)
    alpha, beta, exceed = 0.2, 0.85, []
    for cal, test in splits(r.size, n_splits, 5):
        grid = np.unique(np.r_[r[cal], r[cal] / (1 + alpha)])
        table = np.clip(r[cal, None] / grid - 1, 0, 1)
        lam = quantile_risk_control(table, grid, alpha, beta)
        exceed.append(np.mean(np.clip(r[test] / lam - 1, 0, 1) > alpha))
    assert_risk_controlled(exceed, 1 - beta, 1.0, N_CAL)


@pytest.mark.parametrize("n_splits", SPLITS)
def test_multiple_risks(regression_pool, n_splits):
    """Miscoverage <= 0.2 and relative miss <= 0.01 at once, by the max threshold."""
    y, f = regression_pool
    r = np.abs(y - f)
    alphas = (0.2, 0.01)
    risks = []
    for cal, test in splits(r.size, n_splits, 6):
        grid = np.unique(np.r_[r[cal], r[cal] / 2])
        miss = (r[cal, None] > grid).astype(float)
        rel = np.clip(r[cal, None] / grid - 1, 0, 1)
        lam = multi_risk_control([miss, rel], grid, alphas)
        risks.append([np.mean(r[test] > lam), np.mean(np.clip(r[test] / lam - 1, 0, 1))])
    risks = np.array(risks)
    for k, alpha in enumerate(alphas):
        assert_risk_controlled(risks[:, k], alpha, 1.0, N_CAL, lower=False)
    # The binding constraint is the relative miss: its risk is at its level.
    assert_risk_controlled(risks[:, 1], alphas[1], 1.0, N_CAL)


def shifted_data(rng, n, mean):
    """x ~ N(mean, 1), y = x + exp(x/2) eps: noise grows with x."""
    x = rng.normal(mean, 1.0, n)
    return x, x + np.exp(0.5 * x) * rng.normal(size=n)


@pytest.mark.filterwarnings("ignore:The risk cannot be controlled")
@pytest.mark.parametrize("n_splits", SPLITS)
def test_covariate_shift(n_splits):
    """Known ratio w(x) = exp(x - 1/2) from N(0, 1) to N(1, 1).

    Fresh draws per split (the guarantee is for the two distributions, not
    for a fixed pool). The weighted thresholds hold the target miscoverage;
    the unweighted ones, calibrated on the source, break it.
    """
    rng = np.random.default_rng(7)
    alpha, weighted, unweighted = 0.1, [], []
    for _ in range(n_splits):
        xc, yc = shifted_data(rng, N_CAL, 0.0)
        xt, yt = shifted_data(rng, 100, 1.0)
        rc, rt = np.abs(yc - xc), np.abs(yt - xt)
        lam_w = weighted_conformal_risk_control_exact(rc, alpha, np.exp(xc - 0.5),
                                                      np.exp(xt - 0.5))
        weighted.append(np.mean(rt > lam_w))
        unweighted.append(np.mean(rt > conformal_risk_control_exact(rc, alpha)))
    assert_risk_controlled(weighted, alpha, 1.0, N_CAL, lower=False)
    se = np.std(unweighted, ddof=1) / np.sqrt(n_splits)
    assert np.mean(unweighted) > alpha + 10 * se
    assert np.mean(weighted) > alpha - 0.03  # valid without being trivially wide
