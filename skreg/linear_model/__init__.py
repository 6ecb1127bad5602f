"""Sparse linear regression: the weighted, square-root and LAD Lasso, their
greedy side (weighted OMP), and the sorted-L1 family (SLOPE, Group SLOPE,
Sparse-group SLOPE)."""

from ._cv import LADLassoCV, SqrtLassoCV, WeightedLassoCV
from ._group_slope import (
    GroupSLOPE,
    SparseGroupSLOPE,
    group_slope_path,
    sparse_group_slope_path,
)
from ._group_slope_cv import GroupSLOPECV, SparseGroupSLOPECV
from ._lad import LADLasso, lad_lasso_path
from ._lasso import WeightedLasso, weighted_lasso_path
from ._omp import WeightedOMP, weighted_omp
from ._omp_cv import WeightedOMPCV
from ._slope import SLOPE, slope_path
from ._slope_cv import SLOPECV
from ._sqrt_lasso import SqrtLasso, sqrt_lasso_path

__all__ = [
    "SLOPE",
    "SLOPECV",
    "GroupSLOPE",
    "GroupSLOPECV",
    "LADLasso",
    "LADLassoCV",
    "SparseGroupSLOPE",
    "SparseGroupSLOPECV",
    "SqrtLasso",
    "SqrtLassoCV",
    "WeightedLasso",
    "WeightedLassoCV",
    "WeightedOMP",
    "WeightedOMPCV",
    "group_slope_path",
    "lad_lasso_path",
    "slope_path",
    "sparse_group_slope_path",
    "sqrt_lasso_path",
    "weighted_lasso_path",
    "weighted_omp",
]
