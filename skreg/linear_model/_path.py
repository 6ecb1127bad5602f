"""Regularisation paths, written once for every problem family."""

import numbers
from dataclasses import dataclass

import numpy as np

from ..utils._validation import (
    check_bool,
    check_feature_weights,
    check_max_iter,
    check_tol,
)
from ._base import validate_path_data

_RETURNS = """    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The grid, decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
        Solutions along the grid.
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap of each solution."""

PATH_PARAMETERS = """Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data; sparse input is used as CSC, never densified.
    y : array-like of shape (n_samples,)
        Target values.
    weights : array-like of shape (n_features,), default=None
        Non-negative penalty weights (``None``: all ones; zero: unpenalised).
    alphas : int or array-like, default=None
        Number of alphas on a log grid from ``alpha_max`` down to
        ``eps * alpha_max`` (``None``: 100), or the alphas themselves (they
        are sorted in decreasing order).
    eps : float, default=1e-3
        Length of the automatic grid.
    fit_intercept : bool, default=False
        Fit an intercept (``False`` matches ``sklearn.linear_model.lasso_path``,
        which expects centred data).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; the data term is normalised by their sum.
    tol : float, default=__TOL__
        Stopping tolerance of every solve (see the estimator).
    max_iter : int, default=1000
        Iteration budget of every solve (see the estimator).
    coef_init : array-like of shape (n_features,), default=None
        Starting point for the first alpha.

""" + _RETURNS


def alpha_grid(alpha_max, alphas, eps):
    """Decreasing grid: ``alphas`` points from ``alpha_max`` to ``eps * alpha_max``.

    ``alphas`` may also be an explicit array (sorted in decreasing order, as
    ``sklearn.linear_model.lasso_path`` does).
    """
    if alphas is None:
        alphas = 100
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array, got {alphas}.")
        if not (isinstance(eps, numbers.Real) and 0 < eps < 1):
            raise ValueError(f"eps must be in (0, 1), got {eps!r}.")
        if alpha_max <= 0:
            return np.full(int(alphas), 0.0)
        return np.geomspace(alpha_max, alpha_max * eps, num=int(alphas))
    try:
        grid = np.array(alphas, dtype=np.float64, copy=True).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"alphas must be an int or an array of floats, got {alphas!r}.") from exc
    if grid.size == 0:
        raise ValueError("alphas must not be empty.")
    if not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError("alphas must be finite and non-negative.")
    return np.sort(grid)[::-1]


def compute_path(problem, alphas=None, eps=1e-3, tol=1e-4, max_iter=1000, coef_init=None):
    """Warm-started solutions of ``problem`` along a decreasing alpha grid.

    Returns ``(alphas, coefs, intercepts, dual_gaps, n_iters)`` with ``coefs``
    of shape (n_features, n_alphas) as in ``sklearn.linear_model.lasso_path``.

    A problem with a ``solve_path(alphas, coef_init, tol, max_iter)`` method
    (returning ``(coefs, intercepts, dual_gaps, n_iters)`` with the same
    meaning, or ``None`` when it cannot handle the grid) solves the whole
    path in that call; otherwise ``problem.solve`` runs alpha by alpha.
    """
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter)
    grid = alpha_grid(problem.alpha_max(), alphas, eps)
    coef = None if coef_init is None else np.asarray(coef_init, dtype=np.float64)
    # A problem may solve the whole path in one call (``solve_path``, same
    # results; ``None`` when it cannot for this grid).
    solve_path = getattr(problem, "solve_path", None)
    res = None if solve_path is None else solve_path(grid, coef, tol, max_iter)
    if res is not None:
        coefs, intercepts, gaps, n_iters = res
        return grid, coefs, intercepts, gaps, n_iters
    p = problem.n_features
    coefs = np.empty((p, grid.size), order="F")  # column writes stay contiguous
    intercepts = np.empty(grid.size)
    gaps = np.empty(grid.size)
    n_iters = np.empty(grid.size, dtype=np.int64)
    for k, alpha in enumerate(grid):
        res = problem.solve(float(alpha), coef, tol, max_iter, warn=True)
        coef = res.coef
        coefs[:, k] = coef
        intercepts[k] = res.intercept
        gaps[k] = res.dual_gap
        n_iters[k] = res.n_iter
    return grid, coefs, intercepts, gaps, n_iters


def run_path(problem_cls, X, y, *, weights, alphas, eps, fit_intercept, sample_weight,
             tol, max_iter, coef_init, **options):
    """Validate the inputs of a public path function and compute the path."""
    X, y, q = validate_path_data(X, y, sample_weight)
    w = check_feature_weights(weights, X.shape[1])
    problem = problem_cls(X, y, q, w, check_bool(fit_intercept, "fit_intercept"), **options)
    alphas, coefs, _, gaps, _ = compute_path(problem, alphas, eps, tol, max_iter, coef_init)
    return alphas, coefs, gaps


@dataclass
class ScreeningStats:
    """What screening did in one solve of a screened path (SLOPE family)."""

    n_screened: int = 0      # size of the first restricted set
    n_violations: int = 0    # features (or groups) added by KKT checks
    n_refits: int = 0        # restricted solves after the first one


_SCREENED_PATH_DOC = """alphas : int or array-like, default=None
        Number of alphas on a log grid from ``alpha_max`` down to
        ``eps * alpha_max`` (``None``: 100), or the alphas themselves (sorted
        in decreasing order, all positive).
    eps : float, default=1e-3
        Length of the automatic grid.
    fit_intercept : bool, default=False
        Fit an intercept (``False`` as the other skreg path functions).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; the data term is normalised by their sum.
    screening : {"strong", None}, default="strong"
        Strong rule with KKT checks, or every __UNIT__ at every step.
    tol : float, default=1e-4
        Relative duality-gap tolerance of every solve.
    max_iter : int, default=10000
        Iteration budget of every solve.
    coef_init : array-like of shape (n_features,), default=None
        Starting point for the first alpha.

""" + _RETURNS.replace("Duality gap of", "Duality gap (an upper bound of it) of") + """
    info : dict of ndarrays of shape (n_alphas,)
        ``"intercepts"``; ``"n_iter"``; and the screening statistics of each
        step, counted in __UNITS__: ``"n_screened"`` (size of the first
        restricted set: the strong set plus the previously active __UNITS__,
        or all __UNITS__ without screening), ``"n_violations"`` (__UNITS__
        the strong rule discarded but the KKT checks added) and
        ``"n_refits"`` (restricted solves repeated after such additions)."""


def screened_path_doc(unit, units):
    """The shared part of a screened path function's docstring, from ``alphas`` on."""
    return _SCREENED_PATH_DOC.replace("__UNITS__", units).replace("__UNIT__", unit)


def screened_path(problem, alphas, eps, tol, max_iter, coef_init):
    """Path of a problem with screening statistics (``problem.stats``).

    Returns ``(alphas, coefs, dual_gaps, info)`` as documented by
    :func:`screened_path_doc`.
    """
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter)
    p = problem.n_features
    if coef_init is not None:
        coef_init = np.array(coef_init, dtype=np.float64)
        if coef_init.shape != (p,) or not np.all(np.isfinite(coef_init)):
            raise ValueError(f"coef_init must be a finite array of shape ({p},).")
    grid, coefs, intercepts, gaps, n_iters = compute_path(
        problem, alphas, eps, tol=tol, max_iter=max_iter, coef_init=coef_init)
    stats = problem.stats
    info = {
        "intercepts": intercepts,
        "n_iter": n_iters,
        "n_screened": np.array([s.n_screened for s in stats], dtype=np.int64),
        "n_violations": np.array([s.n_violations for s in stats], dtype=np.int64),
        "n_refits": np.array([s.n_refits for s in stats], dtype=np.int64),
    }
    return grid, coefs, gaps, info
