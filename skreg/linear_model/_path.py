"""Regularisation paths, written once for every problem family."""

import numbers

import numpy as np

from ..utils._validation import check_max_iter, check_tol


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
    """
    tol = check_tol(tol)
    max_iter = check_max_iter(max_iter)
    grid = alpha_grid(problem.alpha_max(), alphas, eps)
    p = problem.n_features
    coefs = np.empty((p, grid.size))
    intercepts = np.empty(grid.size)
    gaps = np.empty(grid.size)
    n_iters = np.empty(grid.size, dtype=np.int64)
    coef = None if coef_init is None else np.asarray(coef_init, dtype=np.float64)
    for k, alpha in enumerate(grid):
        res = problem.solve(float(alpha), coef, tol, max_iter, warn=True)
        coef = res.coef
        coefs[:, k] = coef
        intercepts[k] = res.intercept
        gaps[k] = res.dual_gap
        n_iters[k] = res.n_iter
    return grid, coefs, intercepts, gaps, n_iters
