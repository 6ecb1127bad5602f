"""Sparse linear regression: weighted, square-root and LAD Lasso."""

from ._lasso import WeightedLasso, weighted_lasso_path
from ._sqrt_lasso import SqrtLasso, sqrt_lasso_path

__all__ = [
    "SqrtLasso",
    "WeightedLasso",
    "sqrt_lasso_path",
    "weighted_lasso_path",
]
