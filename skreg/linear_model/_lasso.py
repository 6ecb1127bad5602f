"""Weighted Lasso: estimator, problem object and path."""

import numpy as np

from ..utils._validation import check_bool
from ._base import FitResult, PenalisedLinearRegressor
from ._design import LassoDesign
from ._lasso_solver import (
    _UnpenalisedProjector,
    lasso_alpha_max,
    solve_weighted_lasso,
    solve_weighted_lasso_path,
)
from ._path import PATH_PARAMETERS, run_path


class LassoProblem:
    """``(1/2) sum_i q_i (y_i - x_i b - b0)^2 + alpha sum_j w_j |b_j|``."""

    # The design's ``corr_y`` reads every entry of a dense X: estimators use
    # it as the NaN/inf check instead of a separate scan.
    checks_finite = True

    def __init__(self, X, y, q, weights, fit_intercept, positive=False):
        self.design = LassoDesign(X, y, q, center=fit_intercept)
        self.weights = weights
        self.positive = positive
        self.n_features = X.shape[1]
        self._projectors = {}
        self._state = {}  # residual and correlations of the last solution

    def _projector(self, pen):
        # Every penalty positive (the usual case): no per-alpha key to hash.
        key = "none" if pen.min() > 0 else (pen == 0).tobytes()
        if key not in self._projectors:
            self._projectors[key] = _UnpenalisedProjector(self.design, pen)
        return self._projectors[key]

    def alpha_max(self):
        return lasso_alpha_max(self.design, self.weights, self.positive,
                               self._projector(self.weights))

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        pen = alpha * self.weights
        coef, gap, n_iter, converged = solve_weighted_lasso(
            self.design, pen, positive=self.positive, coef_init=coef_init,
            tol=tol, max_iter=max_iter, projector=self._projector(pen), warn=warn,
            state=self._state)
        return FitResult(coef, self.design.intercept(coef), gap, n_iter, converged)

    def solve_path(self, alphas, coef_init, tol, max_iter):
        """Every solve of a warm-started path in one compiled call.

        Used by ``compute_path`` when every penalty of the grid is positive
        (otherwise ``None``: the path is solved alpha by alpha). Returns
        ``(coefs, intercepts, dual_gaps, n_iters)``.
        """
        if alphas.size == 0 or alphas.min() <= 0 or self.weights.min() <= 0:
            return None
        coefs, gaps, n_iters, _ = solve_weighted_lasso_path(
            self.design, self.weights, alphas, positive=self.positive, coef_init=coef_init,
            tol=tol, max_iter=max_iter, warn=True, state=self._state)
        d = self.design
        if d.center:
            intercepts = d.y_mean - d.X_mean @ coefs
        else:
            intercepts = np.zeros(alphas.size)
        return coefs, intercepts, gaps, n_iters


class WeightedLasso(PenalisedLinearRegressor):
    r"""Lasso with a per-feature penalty weight.

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{2 n} \|y - X b - b_0\|_2^2 + \alpha \sum_j w_j |b_j|

    (with ``sample_weight`` :math:`s`, the data term is
    :math:`\frac{1}{2 \sum_i s_i} \sum_i s_i (y_i - x_i b - b_0)^2`, as in
    scikit-learn's ``Lasso``). With all weights equal to one this is
    ``sklearn.linear_model.Lasso``; a weight of zero leaves a feature
    unpenalised.

    The solver is coordinate descent on a growing working set with Anderson
    extrapolation, compiled with numba; it stops when the duality gap is at
    most ``tol`` times :math:`\frac{1}{2n}\|y - \bar y\|^2`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, non-negative.
    weights : array-like of shape (n_features,), default=None
        Non-negative penalty weight of each feature (``None``: all ones).
        At least one weight must be positive.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of coordinate-descent epochs.
    tol : float, default=1e-4
        Tolerance on the relative duality gap.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients (in the dtype of ``X``).
    intercept_ : float
        Intercept (0 when ``fit_intercept=False``).
    dual_gap_ : float
        Duality gap of the returned solution (a certificate of optimality:
        the objective is within ``dual_gap_`` of the minimum).
    n_iter_ : int
        Number of coordinate-descent epochs run.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    weighted_lasso_path : Solutions along a regularisation path.
    WeightedLassoCV : Cross-validated choice of ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import WeightedLasso
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 3.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> model = WeightedLasso(alpha=0.1, weights=[1.0, 2.0]).fit(X, y)
    >>> model.coef_.round(3)
    array([0.92, 0.  ])
    """

    _problem = LassoProblem

    def __init__(self, alpha=1.0, *, weights=None, fit_intercept=True, max_iter=1000,
                 tol=1e-4, warm_start=False, positive=False):
        self.alpha = alpha
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive

    def _check_params(self):
        super()._check_params()
        check_bool(self.positive, "positive")

    def _problem_options(self):
        return {"positive": self.positive}


def weighted_lasso_path(X, y, *, weights=None, alphas=None, eps=1e-3, fit_intercept=False,
                        sample_weight=None, positive=False, tol=1e-4, max_iter=1000,
                        coef_init=None):
    r"""Weighted Lasso solutions along a decreasing grid of ``alpha``.

    Solves the :class:`WeightedLasso` problem at each ``alpha``, warm-started
    from the previous solution. The default grid starts at the exact
    ``alpha_max``, :math:`\max_{j : w_j > 0} |x_j^\top r_0| / (n w_j)` with
    :math:`r_0` the residual of the unpenalised part of the model, the
    smallest ``alpha`` at which every penalised coefficient is zero.

    __PARAMS__

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import weighted_lasso_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, gaps = weighted_lasso_path(X, y, alphas=5, fit_intercept=True)
    >>> coefs.shape
    (10, 5)
    >>> bool((coefs[:, 0] == 0).all())
    True
    """
    return run_path(LassoProblem, X, y, weights=weights, alphas=alphas, eps=eps,
                    fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                    max_iter=max_iter, coef_init=coef_init,
                    positive=check_bool(positive, "positive"))


weighted_lasso_path.__doc__ = weighted_lasso_path.__doc__.replace(
    "__PARAMS__", PATH_PARAMETERS.replace("__TOL__", "1e-4").replace(
        "    coef_init :", "    positive : bool, default=False\n"
        "        Constrain the coefficients to be non-negative.\n    coef_init :"))

