"""Conformal risk control: calibration functions and meta-estimators."""

from ._classifier import ConformalRiskClassifier
from ._exact import conformal_risk_control_exact, weighted_conformal_risk_control_exact
from ._likelihood_ratio import (
    ClassifierLikelihoodRatio,
    likelihood_ratio_from_classifier,
)
from ._losses import (
    CustomLoss,
    FalseNegativeRateLoss,
    MiscoverageLoss,
    RelativeMissLoss,
)
from ._regressor import ConformalRiskRegressor
from ._risk import (
    conformal_risk_control,
    multi_risk_control,
    quantile_risk_control,
    weighted_conformal_risk_control,
)

__all__ = [
    "ClassifierLikelihoodRatio",
    "ConformalRiskClassifier",
    "ConformalRiskRegressor",
    "CustomLoss",
    "FalseNegativeRateLoss",
    "MiscoverageLoss",
    "RelativeMissLoss",
    "conformal_risk_control",
    "conformal_risk_control_exact",
    "likelihood_ratio_from_classifier",
    "multi_risk_control",
    "quantile_risk_control",
    "weighted_conformal_risk_control",
    "weighted_conformal_risk_control_exact",
]
