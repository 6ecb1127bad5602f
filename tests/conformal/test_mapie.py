"""Agreement with MAPIE's multilabel recall controller (CRC), where the problems coincide.

MAPIE (``mapie.risk_control.MultiLabelClassificationController``, method
"crc") uses sets ``{k : p_k > t}`` on a grid of ``t``, per-sample loss
``1 - recall`` (the false-negative rate), the bound
``n/(n+1) R_n(t) + 1/(n+1)`` and keeps the largest grid ``t`` whose bound is
below ``alpha``. skreg's sets are ``{k : 1 - p_k <= lambda}``: the same family
with ``lambda`` playing ``-t``.
"""

import numpy as np
import pytest
from multilabel import make_multilabel
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from skreg.conformal import conformal_risk_control, conformal_risk_control_exact

risk_control = pytest.importorskip("mapie.risk_control")


def identity(P):
    """MAPIE's predict_function: the probabilities are passed as X."""
    return P


@pytest.fixture(scope="module")
def probabilities():
    X, Y = make_multilabel(900, n_features=10, n_classes=4, seed=1)
    clf = OneVsRestClassifier(LogisticRegression(max_iter=500)).fit(X[:300], Y[:300])
    return clf.predict_proba(X[300:]), Y[300:].astype(bool)


def mapie_threshold(P, Y, alpha, grid):
    ctrl = risk_control.MultiLabelClassificationController(
        predict_function=identity, risk="recall", method="crc",
        target_level=1 - alpha, predict_params=grid)
    ctrl.calibrate(P, Y.astype(int))
    return float(ctrl.best_predict_param[0]), ctrl


def fnr_table(P, Y, grid):
    """FNR of the sets {p > t}, for every t of the grid (columns)."""
    return ((P[:, :, None] <= grid) & Y[:, :, None]).sum(1) / Y.sum(1)[:, None]


@pytest.mark.parametrize("alpha", [0.0731, 0.1234, 0.2017])
def test_same_threshold_on_mapie_grid(probabilities, alpha):
    P, Y = probabilities[0][:300], probabilities[1][:300]
    grid = np.arange(0, 1, 0.01)
    t_hat, _ = mapie_threshold(P, Y, alpha, grid)
    # lambda = -t makes the losses non-increasing in lambda.
    ours = conformal_risk_control(fnr_table(P, Y, grid)[:, ::-1], -grid[::-1], alpha)
    assert -ours == t_hat


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_exact_equals_mapie_on_a_grid_with_every_breakpoint(probabilities, alpha):
    """On a grid between all distinct probabilities MAPIE is exact too: same sets."""
    P, Y = probabilities[0][:120], probabilities[1][:120]
    u = np.unique(P)
    grid = np.r_[u[0] / 2, (u[:-1] + u[1:]) / 2]  # {p > grid_j} = {p >= u_j}
    _t_hat, ctrl = mapie_threshold(P, Y, alpha, grid)
    lam = conformal_risk_control_exact(1 - P, alpha, loss="fnr", Y=Y, lambda_max=1.0)
    np.testing.assert_array_equal(ctrl.predict(P)[:, :, 0], (1 - P) <= lam)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_mapie_default_grid_is_a_rounding_of_the_exact_threshold(probabilities, alpha):
    """MAPIE's gridded threshold is the grid point just below skreg's exact one."""
    P, Y = probabilities
    cal, test = slice(0, 400), slice(400, None)
    t_hat, ctrl = mapie_threshold(P[cal], Y[cal], alpha, np.arange(0, 1, 0.01))
    tau = 1 - conformal_risk_control_exact(1 - P[cal], alpha, loss="fnr", Y=Y[cal],
                                           lambda_max=1.0)
    assert tau - 0.01 - 1e-12 <= t_hat < tau
    mapie_sets = ctrl.predict(P[test])[:, :, 0]
    ours = (1 - P[test]) <= 1 - tau
    assert np.all(mapie_sets >= ours)  # MAPIE's sets contain the exact ones
