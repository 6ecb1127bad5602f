"""LAD Lasso: estimator, problem object and path."""

import warnings

from sklearn.exceptions import ConvergenceWarning

from ._base import FitResult, PenalisedLinearRegressor
from ._lad_solver import lad_alpha_max, solve_lad
from ._path import PATH_PARAMETERS, run_path


class LADProblem:
    """``sum_i q_i |y_i - x_i b - b0| + alpha sum_j w_j |b_j|``."""

    def __init__(self, X, y, q, weights, fit_intercept):
        self.X, self.y, self.q = X, y, q
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.n_features = X.shape[1]
        self.intercept_init = None

    def alpha_max(self):
        return lad_alpha_max(self.X, self.y, self.q, self.weights, self.fit_intercept)

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        coef, intercept, gap, n_iter, converged = solve_lad(
            self.X, self.y, self.q, alpha * self.weights, self.fit_intercept,
            coef_init=coef_init, intercept_init=self.intercept_init, tol=tol,
            max_iter=max_iter)
        self.intercept_init = intercept
        if warn and not converged:
            warnings.warn(
                f"LAD Lasso did not converge: duality gap {gap:.3e} after {n_iter} "
                "interior-point iterations. Increase max_iter or tol.",
                ConvergenceWarning,
            )
        return FitResult(coef, intercept, gap, n_iter, converged)


class LADLasso(PenalisedLinearRegressor):
    r"""Least-absolute-deviation Lasso with per-feature penalty weights.

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{n} \|y - X b - b_0\|_1 + \alpha \sum_j w_j |b_j|

    (with ``sample_weight`` :math:`s`: :math:`\sum_i s_i |r_i| / \sum_i s_i`).
    ``LADLasso(alpha=a)`` solves the problem of
    ``sklearn.linear_model.QuantileRegressor(quantile=0.5, alpha=a / 2)``
    (the pinball loss at 0.5 is :math:`|r|/2`), much faster: the linear
    program is solved by a primal-dual interior-point method whose Newton
    systems only involve a working set of features, then polished to the
    exact vertex when the duality gap confirms it.

    The absolute loss makes the fit robust to outliers in ``y``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, non-negative.
    weights : array-like of shape (n_features,), default=None
        Non-negative penalty weights (``None``: all ones; zero: unpenalised).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept (a weighted median).
    max_iter : int, default=1000
        Maximum number of interior-point iterations per working set.
    tol : float, default=1e-6
        Stop when the duality gap is at most ``tol`` times the objective of
        the intercept-only model. Interior-point iterations converge fast, so
        the default is tighter than for the other estimators.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        Duality gap of the returned solution (a certificate of optimality).
    n_iter_ : int
        Total number of interior-point iterations.
    n_features_in_ : int

    See Also
    --------
    lad_lasso_path, LADLassoCV, WeightedLasso

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import LADLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 5))
    >>> y = 3 * X[:, 0] + 0.1 * rng.standard_normal(60)
    >>> y[:5] += 100  # gross outliers
    >>> model = LADLasso(alpha=0.01).fit(X, y)
    >>> round(float(model.coef_[0]), 1)
    3.0
    """

    _problem = LADProblem

    def __init__(self, alpha=1.0, *, weights=None, fit_intercept=True, max_iter=1000,
                 tol=1e-6, warm_start=False):
        self.alpha = alpha
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


def lad_lasso_path(X, y, *, weights=None, alphas=None, eps=1e-3, fit_intercept=False,
                   sample_weight=None, tol=1e-6, max_iter=1000, coef_init=None):
    r"""LAD Lasso solutions along a decreasing grid of ``alpha``.

    Solves the :class:`LADLasso` problem at each ``alpha``, warm-started from
    the previous solution. The default grid starts at the exact
    ``alpha_max``: with :math:`r_0` the residual of the unpenalised part of
    the model (intercept: weighted median), the smallest ``alpha`` such that
    some sign vector :math:`u \in \mathrm{sign}(r_0)` (free in :math:`[-1, 1]`
    where :math:`r_0 = 0`) keeps :math:`|x_j^\top u| / n \le \alpha w_j` for
    every penalised feature; ties are resolved exactly by a small linear
    program.

    __PARAMS__
    """
    return run_path(LADProblem, X, y, weights=weights, alphas=alphas, eps=eps,
                    fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                    max_iter=max_iter, coef_init=coef_init)


lad_lasso_path.__doc__ = lad_lasso_path.__doc__.replace(
    "__PARAMS__", PATH_PARAMETERS.replace("__TOL__", "1e-6"))
