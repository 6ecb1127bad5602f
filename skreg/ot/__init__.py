"""Regularised optimal transport: solvers and scikit-learn estimators."""

from ._costs import cost_matrix, wasserstein_distance
from ._domain_adaptation import OTDomainAdaptationClassifier
from ._mapping import OTMapping
from ._quadratic import quadratic_ot
from ._result import OTResult
from ._sinkhorn import sinkhorn
from ._sparsity_constrained import sparsity_constrained_ot

__all__ = [
    "OTDomainAdaptationClassifier",
    "OTMapping",
    "OTResult",
    "cost_matrix",
    "quadratic_ot",
    "sinkhorn",
    "sparsity_constrained_ot",
    "wasserstein_distance",
]
