"""Sparse linear regression: weighted, square-root and LAD Lasso, and their greedy side (weighted OMP)."""

from ._cv import LADLassoCV, SqrtLassoCV, WeightedLassoCV
from ._lad import LADLasso, lad_lasso_path
from ._lasso import WeightedLasso, weighted_lasso_path
from ._omp import WeightedOMP, weighted_omp
from ._omp_cv import WeightedOMPCV
from ._sqrt_lasso import SqrtLasso, sqrt_lasso_path

__all__ = [
    "LADLasso",
    "LADLassoCV",
    "SqrtLasso",
    "SqrtLassoCV",
    "WeightedLasso",
    "WeightedLassoCV",
    "WeightedOMP",
    "WeightedOMPCV",
    "lad_lasso_path",
    "sqrt_lasso_path",
    "weighted_lasso_path",
    "weighted_omp",
]
