"""Regularised optimal transport: solvers and scikit-learn estimators."""

__all__ = []
