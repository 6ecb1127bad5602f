"""Cross-validated choice of ``alpha`` along the regularisation path.

One base class serves every family: the grid is computed once on the whole
data (from the family's exact ``alpha_max``), each fold computes a
warm-started path on its training part and scores it on its held-out part,
and the model is refitted on all the data at the alpha with the best mean
held-out loss. Folds run in threads (the numba kernels release the GIL).
"""

import numpy as np

from ..utils._validation import (
    check_bool,
    check_feature_weights,
    check_max_iter,
    check_tol,
)
from ._base import PenalisedLinearRegressor, validate_fit_data
from ._lad import LADProblem
from ._lasso import LassoProblem
from ._path import alpha_grid, compute_path
from ._sqrt_lasso import SqrtLassoProblem


def _fold_losses(problem_cls, options, X, y, q, weights, fit_intercept, grid,
                 train, test, tol, max_iter, loss):
    q_train = q[train] / q[train].sum()
    problem = problem_cls(X[train], y[train], q_train, weights, fit_intercept, **options)
    _, coefs, intercepts, _, _ = compute_path(problem, grid, tol=tol, max_iter=max_iter)
    pred = np.asarray(X[test] @ coefs) + intercepts
    q_test = q[test] / q[test].sum()
    return q_test @ loss(y[test][:, None] - pred)


class PathCV(PenalisedLinearRegressor):
    """Base of the ``*CV`` estimators (see :class:`WeightedLassoCV`)."""

    # Name of the held-out loss attribute and the loss of a residual.
    _path_attribute = "mse_path_"

    @staticmethod
    def _loss(residual):
        return residual ** 2

    def _check_params(self):
        check_tol(self.tol)
        check_max_iter(self.max_iter)
        check_bool(self.fit_intercept, "fit_intercept")

    def _make_problem(self, X, y, q):
        """The problem on the whole data, and how to build it on each fold.

        Returns ``(problem, fold_problem, options, weights)``: each fold's
        problem is ``fold_problem(X, y, q, weights, fit_intercept, **options)``,
        so what was validated on the whole data is not validated again.
        """
        weights = check_feature_weights(self.weights, X.shape[1])
        options = self._problem_options()
        problem = self._problem(X, y, q, weights, self.fit_intercept, **options)
        return problem, self._problem, options, weights

    def _set_penalty_attributes(self, problem):
        """Fitted attributes of the penalty at ``alpha_`` (none by default)."""

    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha`` by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Used in every fit and to weight the held-out losses.

        Returns
        -------
        self : object
        """
        self._check_params()
        X, y, q = validate_fit_data(self, X, y, sample_weight)
        problem, fold_problem, options, weights = self._make_problem(X, y, q)
        grid = alpha_grid(problem.alpha_max(), self.alphas, self.eps)
        # Imported here: both are heavy and only needed by the CV estimators.
        from joblib import Parallel, delayed
        from sklearn.model_selection import check_cv

        folds = list(check_cv(self.cv).split(X, y))
        losses = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_losses)(fold_problem, options, X, y, q, weights,
                                  self.fit_intercept, grid, train, test,
                                  self.tol, self.max_iter, self._loss)
            for train, test in folds
        )
        path = np.column_stack(losses)
        best = int(np.argmin(path.mean(axis=1)))
        self.alphas_ = grid
        setattr(self, self._path_attribute, path)
        self.alpha_ = float(grid[best])
        res = problem.solve(self.alpha_, None, float(self.tol), int(self.max_iter), warn=True)
        self._set_result(res, X.dtype)
        self._set_penalty_attributes(problem)
        return self


_CV_DOC = """Cross-validated {name}: ``alpha`` chosen along the path.

    The grid runs from the exact ``alpha_max`` of the whole data down to
    ``eps * alpha_max``; every fold fits a warm-started path and the alpha
    with the lowest mean held-out loss ({loss_name}) wins. The model is then refitted
    on all the data. The objective is that of :class:`{name}`.

    Parameters
    ----------
    alphas : int or array-like, default=100
        Number of alphas on the automatic log grid, or the grid itself.
    eps : float, default=1e-3
        Length of the automatic grid (``alpha_min / alpha_max``).
    weights : array-like of shape (n_features,), default=None
        Non-negative penalty weights (see :class:`{name}`).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Iteration budget of every solve (see :class:`{name}`).
    tol : float, default={tol}
        Stopping tolerance of every solve (see :class:`{name}`).
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``None``: 5-fold).
    n_jobs : int, default=None
        Number of folds computed in parallel (threads).{extra_params}

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    alphas_ : ndarray of shape (n_alphas,)
        The grid.
    {path_attr} : ndarray of shape (n_alphas, n_folds)
        Held-out loss for every alpha and fold (weighted by ``sample_weight``
        when given).
    coef_ : ndarray of shape (n_features,)
        Coefficients of the final fit on all the data at ``alpha_``.
    intercept_ : float
        Intercept of the final fit.
    dual_gap_ : float
        Duality gap of the final fit.
    n_iter_ : int
        Iterations of the final fit.
    n_features_in_ : int
        Number of features seen in ``fit``.
    """


class WeightedLassoCV(PathCV):
    __doc__ = _CV_DOC.format(
        name="WeightedLasso", loss_name="mean squared error", path_attr="mse_path_", tol="1e-4",
        extra_params="\n    positive : bool, default=False\n        Non-negative coefficients.")
    _problem = LassoProblem

    def __init__(self, *, alphas=100, eps=1e-3, weights=None, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, n_jobs=None, positive=False):
        self.alphas = alphas
        self.eps = eps
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs
        self.positive = positive

    def _check_params(self):
        super()._check_params()
        check_bool(self.positive, "positive")

    def _problem_options(self):
        return {"positive": self.positive}


class SqrtLassoCV(PathCV):
    __doc__ = _CV_DOC.format(name="SqrtLasso", loss_name="mean squared error",
                             path_attr="mse_path_", tol="1e-4", extra_params="")
    _problem = SqrtLassoProblem

    def __init__(self, *, alphas=100, eps=1e-3, weights=None, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, n_jobs=None):
        self.alphas = alphas
        self.eps = eps
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs


class LADLassoCV(SqrtLassoCV):
    __doc__ = _CV_DOC.format(
        name="LADLasso", loss_name="mean absolute error: the LAD data term, "
        "robust to the outliers LAD is used for", path_attr="mae_path_", tol="1e-6",
        extra_params="")
    _problem = LADProblem
    _path_attribute = "mae_path_"

    def __init__(self, *, alphas=100, eps=1e-3, weights=None, fit_intercept=True,
                 max_iter=1000, tol=1e-6, cv=None, n_jobs=None):
        super().__init__(alphas=alphas, eps=eps, weights=weights,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                         cv=cv, n_jobs=n_jobs)

    @staticmethod
    def _loss(residual):
        return np.abs(residual)
