"""Bad input gets a clear error naming the parameter (or a warning when it is usable)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge

from skreg.conformal import (
    ConformalRiskClassifier,
    ConformalRiskRegressor,
    CustomLoss,
    conformal_risk_control,
    conformal_risk_control_exact,
    multi_risk_control,
    quantile_risk_control,
    weighted_conformal_risk_control,
    weighted_conformal_risk_control_exact,
)

SCORES = np.linspace(0.1, 2.0, 20)
GRID = np.linspace(0.0, 2.0, 11)
TABLE = (SCORES[:, None] > GRID).astype(float)


def data(n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, X[:, 0] + rng.normal(size=n)


@pytest.mark.parametrize("alpha, error", [
    (0.0, ValueError), (1.0, ValueError), (-0.1, ValueError), (1.5, ValueError),
    (np.nan, ValueError), ("0.1", TypeError), (True, TypeError), (None, TypeError),
])
def test_bad_alpha(alpha, error):
    with pytest.raises(error, match="alpha"):
        conformal_risk_control(TABLE, GRID, alpha)
    with pytest.raises(error, match="alpha"):
        conformal_risk_control_exact(SCORES, alpha)
    with pytest.raises(error, match="alpha"):
        weighted_conformal_risk_control_exact(SCORES, alpha, np.ones(20), [1.0])
    with pytest.raises(error, match="alpha"):
        ConformalRiskRegressor(Ridge(), alpha=alpha).fit(*data())
    with pytest.raises(error, match="beta"):
        quantile_risk_control(TABLE, GRID, 0.1, alpha)


@pytest.mark.parametrize("B, error", [(0.0, ValueError), (-1.0, ValueError),
                                      (np.inf, ValueError), ("1", TypeError)])
def test_bad_bound(B, error):
    with pytest.raises(error, match="B"):
        conformal_risk_control(TABLE, GRID, 0.1, B=B)
    with pytest.raises(error, match="B"):
        ConformalRiskRegressor(Ridge(), loss=CustomLoss(lambda y, lo, hi: 0 * y, B=B),
                               prefit=False).fit(*data())


@pytest.mark.parametrize("table, lambdas, match", [
    (TABLE[:, :5], GRID, "one entry per column"),
    (TABLE[0], GRID, "2-D"),
    (TABLE[:0], GRID, "at least one calibration sample"),
    (TABLE, GRID[::-1], "strictly increasing"),
    (np.where(TABLE == 1, np.nan, 0.0), GRID, "finite"),
    (2 * TABLE, GRID, r"\(-inf, B\] with B=1.0"),
])
def test_bad_loss_table(table, lambdas, match):
    with pytest.raises(ValueError, match=match):
        conformal_risk_control(table, lambdas, 0.2)


def test_bad_tables_in_extensions():
    with pytest.raises(ValueError, match="non-increasing"):
        quantile_risk_control(TABLE[:, ::-1], GRID, 0.1, 0.9)
    with pytest.raises(ValueError, match="one level per loss table"):
        multi_risk_control([TABLE, TABLE], GRID, [0.1])
    with pytest.raises(ValueError, match="loss_tables is empty"):
        multi_risk_control([], GRID, [])
    with pytest.raises(ValueError, match="weights must be 1-D of length 20"):
        weighted_conformal_risk_control(TABLE, GRID, 0.2, np.ones(3), [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_conformal_risk_control(TABLE, GRID, 0.2, -np.ones(20), [1.0])
    with pytest.raises(ValueError, match="test_weights"):
        weighted_conformal_risk_control(TABLE, GRID, 0.2, np.ones(20), [np.inf])
    with pytest.raises(ValueError, match="weights are all zero"):
        weighted_conformal_risk_control(TABLE, GRID, 0.2, np.zeros(20), [1.0])


def test_bad_scores():
    with pytest.raises(ValueError, match="NaN"):
        conformal_risk_control_exact(np.r_[SCORES, np.nan], 0.1)
    with pytest.raises(ValueError, match="at least one calibration sample"):
        conformal_risk_control_exact([], 0.1)
    with pytest.raises(ValueError, match="need the indicator matrix Y"):
        conformal_risk_control_exact(np.ones((5, 2)), 0.1, loss="fnr")
    with pytest.raises(ValueError, match="same shape"):
        conformal_risk_control_exact(np.ones((5, 2)), 0.1, loss="fnr", Y=np.ones((5, 3)))
    with pytest.raises(ValueError, match="0/1"):
        conformal_risk_control_exact(np.ones((5, 2)), 0.1, loss="fnr", Y=2 * np.ones((5, 2)))
    with pytest.raises(ValueError, match="loss must be one of"):
        conformal_risk_control_exact(SCORES, 0.1, loss="fnr")
    with pytest.raises(ValueError, match="loss must be one of.*CustomLoss"):
        conformal_risk_control_exact(SCORES, 0.1, loss="hinge")
    with pytest.raises(TypeError, match="grid"):
        conformal_risk_control_exact(SCORES, 0.1, loss=CustomLoss(lambda *a: 0))
    with pytest.raises(ValueError, match="lambda_min must be smaller"):
        conformal_risk_control_exact(SCORES, 0.1, lambda_min=3.0, lambda_max=1.0)
    with pytest.raises(ValueError, match="relative_miss.*lambda >= 0"):
        conformal_risk_control_exact(SCORES, 0.1, loss="relative_miss", lambda_min=-np.inf)


@pytest.mark.parametrize("params, error, match", [
    ({"loss": "fnr"}, ValueError, "loss must be one of"),
    ({"loss": lambda y, lo, hi: y}, ValueError, "CustomLoss"),
    ({"loss": 3}, ValueError, "loss must be one of"),
    ({"loss": ["x"]}, TypeError, "loss must be a string"),
    ({"conformity_score": "square"}, ValueError, "conformity_score"),
    ({"conformity_score": "cqr"}, ValueError, "quantile"),
    ({"loss": "relative_miss", "conformity_score": "cqr"}, ValueError, "quantile|lambda"),
    ({"calibration_size": 0.0}, ValueError, "calibration_size"),
    ({"calibration_size": 1.0}, ValueError, "calibration_size"),
    ({"calibration_size": 0}, ValueError, "calibration_size"),
    ({"calibration_size": 60}, ValueError, "leaves no training sample"),
    ({"calibration_size": "half"}, TypeError, "calibration_size"),
    ({"prefit": "yes"}, TypeError, "prefit"),
    ({"prefit": True}, ValueError, "prefit=True needs a fitted estimator"),
    ({"likelihood_ratio": 3.0}, TypeError, "likelihood_ratio"),
    ({"likelihood_ratio": lambda X: np.ones(3)}, ValueError, r"shape \(15,\)"),
    ({"likelihood_ratio": lambda X: -np.ones(len(X))}, ValueError, "non-negative"),
    ({"likelihood_ratio": LogisticRegression()}, ValueError, "X_target"),
])
def test_bad_regressor_parameters(params, error, match):
    with pytest.raises(error, match=match):
        ConformalRiskRegressor(Ridge(), **params).fit(*data())


def test_regressor_bad_data():
    X, y = data()
    with pytest.raises(ValueError, match="at least 2 samples"):
        ConformalRiskRegressor(Ridge()).fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="y contains infinity"):
        ConformalRiskRegressor(Ridge()).fit(X, np.r_[y[:-1], np.inf])
    with pytest.raises(ValueError, match="likelihood_ratio is None"):
        ConformalRiskRegressor(Ridge()).fit(X, y, X_target=X)
    with pytest.raises(ValueError, match="X_target must be 2-D with 2 features"):
        ConformalRiskRegressor(Ridge(), likelihood_ratio=LogisticRegression()).fit(
            X, y, X_target=np.ones((4, 3)))
    fitted = ConformalRiskRegressor(Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="2 features"):
        fitted.predict_interval(np.ones((3, 5)))


def test_small_calibration_set_warns_and_is_conservative():
    X, y = data(20)  # 5 calibration points: alpha must be >= 1/6
    with pytest.warns(UserWarning, match=r"alpha < B/\(n\+1\)"):
        model = ConformalRiskRegressor(Ridge(), alpha=0.1, random_state=0).fit(X, y)
    assert model.lambda_hat_ == np.inf
    assert np.all(np.isinf(model.predict_interval(X)))
    assert model.score(X, y) == -np.inf
    assert model.empirical_risk(X, y) == 0.0


def test_custom_loss_errors():
    X, y = data()
    too_big = CustomLoss(lambda y, lo, hi: 2.0 * (y > hi), B=1.0)
    with pytest.raises(ValueError, match=r"> B=1.0"):
        ConformalRiskRegressor(Ridge(), loss=too_big).fit(X, y)
    wrong_shape = CustomLoss(lambda y, lo, hi: np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        ConformalRiskRegressor(Ridge(), loss=wrong_shape).fit(X, y)
    def bump(y, lo, hi):
        """Miss, plus 0.3 when covered by an interval of width in (1, 2): not monotone."""
        covered = (lo <= y) & (y <= hi)
        return np.where(covered, 0.3 * ((hi - lo > 1) & (hi - lo < 2)), 1.0)

    # A fixed split: whether a calibration row meets the bump depends on it.
    with pytest.raises(ValueError, match="monotonize=True"):
        ConformalRiskRegressor(Ridge(), loss=CustomLoss(bump), random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match="monotonised"):
        ConformalRiskRegressor(Ridge(), loss=CustomLoss(bump, monotonize=True),
                               alpha=0.5, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="callable"):
        ConformalRiskRegressor(Ridge(), loss=CustomLoss("f")).fit(X, y)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ConformalRiskRegressor(Ridge(), loss=CustomLoss(lambda y, lo, hi: 0 * y,
                                                        lambdas=[])).fit(X, y)


def test_classifier_bad_input():
    X, y = make_classification(60, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="Unknown label type"):
        ConformalRiskClassifier(LogisticRegression()).fit(X, X[:, 0])
    with pytest.raises(ValueError, match='loss="fnr" needs a multilabel y'):
        ConformalRiskClassifier(LogisticRegression(), loss="fnr").fit(X, y)
    with pytest.raises(ValueError, match="loss must be one of"):
        ConformalRiskClassifier(LogisticRegression(), loss="relative_miss").fit(X, y)
    model = ConformalRiskClassifier(LogisticRegression(), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="labels not seen in fit"):
        model.empirical_risk(X, y + 5)
    with pytest.raises(ValueError, match="No calibration sample left"):
        ConformalRiskClassifier(LogisticRegression()).fit(X[:2], [0, 1])
