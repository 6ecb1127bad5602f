"""SLOPE (sorted-L1 penalised least squares): problem object, estimator, path."""

import numpy as np

from ..utils._validation import check_bool
from ._base import (
    FitResult,
    PenalisedLinearRegressor,
    validate_fit_data,
    validate_path_data,
)
from ._design import LinearDesign
from ._path import screened_path, screened_path_doc
from ._slope_sequences import check_lambdas

SCREENING = ("strong", None)


def check_screening(screening):
    if screening not in SCREENING:
        raise ValueError(f"screening must be 'strong' or None, got {screening!r}.")
    return screening


class SLOPEProblem:
    """``(1/2) sum_i q_i (y_i - x_i b - b0)^2 + alpha sum_j lambdas_j |b|_(j)``.

    Follows the problem interface of ``_base`` (``weights`` is unused: the
    penalty is given by ``lambdas``). Successive calls of ``solve`` along a
    decreasing grid, each warm-started from the previous solution, use the
    strong rule from the previous ``alpha``; ``stats`` records what the
    screening did in every call.
    """

    def __init__(self, X, y, q, weights, fit_intercept, lambdas, screening="strong"):
        self.design = LinearDesign(X, y, q, center=fit_intercept)
        self.lambdas = lambdas
        self.screening = screening
        self.n_features = X.shape[1]
        self.stats = []
        self._state = {}
        self._alpha_prev = None

    def alpha_max(self):
        from ._sorted_l1 import _dual_norm_sorted  # numba: imported on first fit

        corr = self.design.corr(self.design.y)
        return _dual_norm_sorted(np.sort(np.abs(corr))[::-1], self.lambdas)

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        # numba: imported on first fit
        from ._slope_screening import solve_slope, strong_set

        lam = alpha * self.lambdas
        ws_init, grow = None, False
        if self.screening == "strong":
            state = self._state
            on_path = (coef_init is not None and self._alpha_prev is not None
                       and self._alpha_prev >= alpha
                       and np.array_equal(state.get("coef"), coef_init))
            if on_path:
                ws_init = strong_set(state["corr"], state["coef"],
                                     self._alpha_prev * self.lambdas, lam)
            else:
                # Far from a previous solution the strong rule keeps nearly
                # every feature: grow a working set instead.
                ws_init, grow = np.empty(0, dtype=np.int64), True
        coef, gap, n_iter, converged, stats = solve_slope(
            self.design, lam, coef_init=coef_init, tol=tol, max_iter=max_iter,
            ws_init=ws_init, grow=grow, warn=warn, state=self._state)
        self._alpha_prev = alpha
        self.stats.append(stats)
        # The first optimality check is a pass over the data: count it, so
        # that a start that is already optimal reports one epoch, not zero.
        return FitResult(coef, self.design.intercept(coef), gap, max(n_iter, 1), converged)


class ScreenedSLOPERegressor(PenalisedLinearRegressor):
    """Base of the SLOPE-family estimators: one screened solve at ``alpha``.

    Subclasses build the problem object (``_make_problem(X, y, sw)``) and
    set their ``lambdas_`` attributes from it (``_set_lambdas``).
    """

    def _check_params(self):
        super()._check_params()
        check_screening(self.screening)

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is converted to CSC (never
            densified); the solvers run on the CSC columns of the screened
            features or groups.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; the data term is normalised
            by their sum.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        X, y, sw = validate_fit_data(self, X, y, sample_weight)
        problem = self._make_problem(X, y, sw)
        coef_init = None
        previous = getattr(self, "coef_", None) if self.warm_start else None
        if previous is not None and previous.shape == (X.shape[1],):
            coef_init = np.asarray(previous, dtype=np.float64)
        res = problem.solve(float(self.alpha), coef_init, float(self.tol),
                            int(self.max_iter), warn=True)
        self._set_result(res, X.dtype)
        self._set_lambdas(problem, float(self.alpha))
        return self


class SLOPE(ScreenedSLOPERegressor):
    r"""Sorted L-One Penalised Estimation (SLOPE).

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{2 n} \|y - X b - b_0\|_2^2
        + \alpha \sum_{j=1}^p \lambda_j |b|_{(j)},

    with :math:`|b|_{(1)} \ge \dots \ge |b|_{(p)}` the sorted magnitudes and
    :math:`\lambda_1 \ge \dots \ge \lambda_p \ge 0` (with ``sample_weight``
    :math:`s`, the data term is
    :math:`\frac{1}{2 \sum_i s_i} \sum_i s_i (y_i - x_i b - b_0)^2`). Equal
    :math:`\lambda_j` give the Lasso; a decreasing sequence clusters
    correlated coefficients at equal magnitudes, and the Benjamini-Hochberg
    sequence controls the false discovery rate at level ``q`` for orthogonal
    designs (Bogdan et al. 2015). This is the problem of
    ``sortedl1.Slope(lam=lambdas, alpha=alpha)`` (whose default centring and
    scaling are off).

    The solver is hybrid coordinate descent (Larsson et al. 2023):
    coordinate descent on the common magnitude of each cluster, with a
    proximal-gradient step (exact sorted-L1 prox) every few passes to split
    and create clusters. It stops when the duality gap is at most ``tol``
    times :math:`\frac{1}{2n}\|y - \bar y\|^2`. With ``screening="strong"``
    it works on a small working set grown by checks of the optimality
    conditions on every feature; the stopping rule is always the gap of the
    full problem, so screening never changes the answer.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, non-negative. From
        :math:`\alpha_{max} = J^*_\lambda(X_c^\top y_c / n)` on, every
        coefficient is zero.
    lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_features,), default="bh"
        The sequence :math:`\lambda`: Benjamini-Hochberg
        :math:`\Phi^{-1}(1 - j q / 2p)`, its Gaussian-design correction, OSCAR
        :math:`\theta_1 + \theta_2 (p - j)`, or a non-increasing non-negative
        array (not all zero).
    q : float, default=0.1
        False discovery rate level of "bh" and "gaussian", in (0, 1).
    theta1 : float, default=1.0
        OSCAR: l1 weight (last entry of the sequence).
    theta2 : float, default=1.0
        OSCAR: slope of the sequence.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    screening : {"strong", None}, default="strong"
        "strong": solve on a working set (support plus the largest
        gradients) and add the features that violate the optimality
        conditions; None: every feature in every iteration.
    max_iter : int, default=10000
        Maximum number of epochs (cluster passes plus proximal-gradient steps).
    tol : float, default=1e-4
        Tolerance on the relative duality gap.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients (in the dtype of ``X``).
    intercept_ : float
        Intercept (0 when ``fit_intercept=False``).
    lambdas_ : ndarray of shape (n_features,)
        The scaled sequence :math:`\alpha \lambda` applied to the sorted
        magnitudes.
    dual_gap_ : float
        Duality gap of the solution (the objective is within ``dual_gap_``
        of the minimum).
    n_iter_ : int
        Number of epochs run (at least one: the first optimality check).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    slope_path : Solutions along a regularisation path, with strong screening.
    SLOPECV : Cross-validated choice of ``alpha``.

    References
    ----------
    Bogdan, van den Berg, Sabatti, Su and Candes (2015). SLOPE -- adaptive
    variable selection via convex optimization. Ann. Appl. Stat. 9(3).

    Larsson, Bogdan and Wallin (2020). The strong screening rule for SLOPE.
    NeurIPS 33.

    Larsson, Klopfenstein, Massias and Wallin (2023). Coordinate descent for
    SLOPE. AISTATS.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import SLOPE
    >>> X = np.array([[1.0, 1.1, 0.0], [2.0, 1.9, 1.0], [3.0, 3.2, 0.0], [4.0, 3.8, 1.0]])
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> model = SLOPE(alpha=0.05, lambdas=[3.0, 2.0, 1.0], tol=1e-10).fit(X, y)
    >>> model.coef_.round(4)
    array([0.4585, 0.4585, 0.0206])
    """

    def __init__(self, alpha=1.0, *, lambdas="bh", q=0.1, theta1=1.0, theta2=1.0,
                 fit_intercept=True, screening="strong", max_iter=10_000, tol=1e-4,
                 warm_start=False):
        self.alpha = alpha
        self.lambdas = lambdas
        self.q = q
        self.theta1 = theta1
        self.theta2 = theta2
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _make_problem(self, X, y, sw):
        lam = check_lambdas(self.lambdas, X.shape[1], q=self.q, n_samples=X.shape[0],
                            theta1=self.theta1, theta2=self.theta2)
        return SLOPEProblem(X, y, sw, None, self.fit_intercept, lam, self.screening)

    def _set_lambdas(self, problem, alpha):
        self.lambdas_ = alpha * problem.lambdas


def slope_path(X, y, *, lambdas="bh", q=0.1, theta1=1.0, theta2=1.0, alphas=None,
               eps=1e-3, fit_intercept=False, sample_weight=None, screening="strong",
               tol=1e-4, max_iter=10_000, coef_init=None):
    r"""SLOPE solutions along a decreasing grid of ``alpha``, with strong screening.

    Solves the :class:`SLOPE` problem at each ``alpha``, warm-started from the
    previous solution. The default grid starts at the exact
    :math:`\alpha_{max} = J^*_\lambda(X_c^\top y_c / n)` (every coefficient
    is zero there). With ``screening="strong"`` each step starts from the
    strong set of Larsson, Bogdan and Wallin (2020) -- the features whose
    sorted gradient at the previous solution, inflated by the change of
    penalty, passes the SLOPE strong-rule scan -- plus the previous support;
    features that violate the optimality conditions of the full problem are
    then added and the model refitted. Every solve stops on the duality gap
    of the full problem, so the path does not depend on ``screening``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data; sparse input is used as CSC, never densified.
    y : array-like of shape (n_samples,)
        Target values.
    lambdas : {"bh", "gaussian", "oscar"} or array-like, default="bh"
        The sorted-L1 sequence (see :class:`SLOPE`).
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences.
    theta1, theta2 : float, default=1.0
        Parameters of the "oscar" sequence.
    __PATH_DOC__

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import slope_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> alphas, coefs, gaps, info = slope_path(X, y, alphas=5, fit_intercept=True)
    >>> coefs.shape
    (10, 5)
    >>> bool((coefs[:, 0] == 0).all())
    True
    >>> sorted(info)
    ['intercepts', 'n_iter', 'n_refits', 'n_screened', 'n_violations']
    """
    X, y, sw = validate_path_data(X, y, sample_weight)
    check_screening(screening)
    lam = check_lambdas(lambdas, X.shape[1], q=q, n_samples=X.shape[0], theta1=theta1,
                        theta2=theta2)
    problem = SLOPEProblem(X, y, sw, None, check_bool(fit_intercept, "fit_intercept"),
                           lam, screening)
    return screened_path(problem, alphas, eps, tol, max_iter, coef_init)


slope_path.__doc__ = slope_path.__doc__.replace("__PATH_DOC__",
                                                screened_path_doc("feature", "features"))

