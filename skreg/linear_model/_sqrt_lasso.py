"""Square-root Lasso: estimator, problem object and path."""

from ._base import FitResult, PenalisedLinearRegressor
from ._lasso import LassoProblem
from ._path import PATH_PARAMETERS, run_path
from ._sqrt_lasso_solver import solve_sqrt_lasso, sqrt_lasso_alpha_max


class SqrtLassoProblem(LassoProblem):
    """``sqrt(sum_i q_i (y_i - x_i b - b0)^2) + alpha sum_j w_j |b_j|``."""

    def __init__(self, X, y, q, weights, fit_intercept):
        super().__init__(X, y, q, weights, fit_intercept, positive=False)
        self._sqrt_state = {}  # residual (and anchor) of the last solution

    # ``LassoProblem.solve_path`` solves a Lasso path: not this problem's.
    # ``compute_path`` then solves alpha by alpha (warm-started, see ``solve``).
    solve_path = None

    def alpha_max(self):
        return sqrt_lasso_alpha_max(self.design, self.weights, self._projector(self.weights))

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        pen = alpha * self.weights
        # The state carries the residual of the previous solution along a path.
        coef, gap, n_iter, converged = solve_sqrt_lasso(
            self.design, pen, coef_init=coef_init, tol=tol, max_iter=max_iter,
            projector=self._projector(pen), warn=warn, state=self._sqrt_state)
        return FitResult(coef, self.design.intercept(coef), gap, n_iter, converged)


class SqrtLasso(PenalisedLinearRegressor):
    r"""Square-root Lasso with per-feature penalty weights.

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{\sqrt{n}} \|y - X b - b_0\|_2 + \alpha \sum_j w_j |b_j|

    (with ``sample_weight`` :math:`s`: :math:`\sqrt{\sum_i s_i r_i^2 / \sum_i s_i}`).
    The best ``alpha`` does not depend on the noise level: a value around
    :math:`\sqrt{2 \log(p) / n}` works without knowing the noise standard
    deviation. ``SqrtLasso(alpha=a)`` solves the problem of
    ``skglm.experimental.SqrtLasso(alpha=a * sqrt(n))``.

    The solver is working-set coordinate descent on the square-root
    objective itself (each coordinate minimised exactly, Anderson
    extrapolation on the working set) and certifies the result by the
    duality gap of the square-root problem. When ``alpha`` is so small that
    the optimum interpolates the data (zero residual, possible when
    ``n_features >= n_samples``), coordinate descent detects the residual
    collapsing and the resulting basis-pursuit problem is solved exactly
    (with a noise-level search as the fallback); such fits may need a
    larger ``max_iter``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, non-negative.
    weights : array-like of shape (n_features,), default=None
        Non-negative penalty weights (``None``: all ones; zero: unpenalised).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum total number of coordinate-descent epochs.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol`` times
        :math:`\|y - \bar y\|_2 / \sqrt{n}`.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        Duality gap of the square-root problem at the solution.
    n_iter_ : int
        Total number of coordinate-descent epochs.
    n_features_in_ : int

    See Also
    --------
    sqrt_lasso_path, SqrtLassoCV, WeightedLasso

    References
    ----------
    Belloni, Chernozhukov and Wang (2011), "Square-root lasso: pivotal
    recovery of sparse signals via conic programming", Biometrika.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import SqrtLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 10))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(50)
    >>> model = SqrtLasso(alpha=0.3).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist()
    [0, 1]
    """

    _problem = SqrtLassoProblem

    def __init__(self, alpha=1.0, *, weights=None, fit_intercept=True, max_iter=1000,
                 tol=1e-4, warm_start=False):
        self.alpha = alpha
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


def sqrt_lasso_path(X, y, *, weights=None, alphas=None, eps=1e-3, fit_intercept=False,
                    sample_weight=None, tol=1e-4, max_iter=1000, coef_init=None):
    r"""Square-root Lasso solutions along a decreasing grid of ``alpha``.

    Solves the :class:`SqrtLasso` problem at each ``alpha``, warm-started
    from the previous solution. The default grid starts at the exact
    ``alpha_max``,
    :math:`\max_{j: w_j > 0} |x_j^\top r_0| / (\sqrt{n} \|r_0\|_2 w_j)` with
    :math:`r_0` the residual of the unpenalised part of the model. Below the
    interpolation threshold (``n_features >= n_samples``, small ``alpha``)
    the solutions interpolate the data: see :class:`SqrtLasso`.

    __PARAMS__
    """
    return run_path(SqrtLassoProblem, X, y, weights=weights, alphas=alphas, eps=eps,
                    fit_intercept=fit_intercept, sample_weight=sample_weight, tol=tol,
                    max_iter=max_iter, coef_init=coef_init)


sqrt_lasso_path.__doc__ = sqrt_lasso_path.__doc__.replace(
    "__PARAMS__", PATH_PARAMETERS.replace("__TOL__", "1e-4"))
