"""Shared plumbing of the penalised linear regressors.

Three layers, as in scikit-learn: a numeric solver per family, a *problem*
object per family that turns validated data into solver calls (``alpha_max``,
``solve``), and the estimators, path functions and CV classes below, which are
written once against the problem interface::

    problem = Family(X, y, q, weights, fit_intercept, **options)
    problem.alpha_max() -> float
    problem.solve(alpha, coef_init, tol, max_iter, warn) -> FitResult
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _assert_all_finite,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from ..utils._validation import (
    check_alpha,
    check_bool,
    check_feature_weights,
    check_max_iter,
    check_tol,
)


def warn_not_converged(gap, threshold, n_iter, *, unit="epochs", scale_features=True):
    """The ConvergenceWarning of every duality-gap solver (``threshold = tol * scale``)."""
    advice = "Increase max_iter or tol, or scale the features." if scale_features \
        else "Increase max_iter or tol."
    warnings.warn(
        f"Objective did not converge: duality gap {gap:.3e} > tol * scale "
        f"{threshold:.3e} after {n_iter} {unit}. {advice}",
        ConvergenceWarning,
    )


@dataclass
class FitResult:
    coef: np.ndarray
    intercept: float
    dual_gap: float
    n_iter: int
    converged: bool


def _canonical_csc(X):
    """Sum duplicate entries of a CSC matrix, on a copy (never the user's)."""
    if sp.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def check_sample_weight(sample_weight, n_samples):
    """Validate ``sample_weight`` and return it normalised to sum to one."""
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples)
    try:
        sw = np.array(sample_weight, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError("sample_weight must be an array of numbers.") from exc
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) to match X, got {sw.shape}."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight must be finite (no NaN or inf).")
    if np.any(sw < 0):
        raise ValueError("sample_weight must be non-negative.")
    total = sw.sum()
    if total <= 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive.")
    return sw / total


def validate_fit_data(estimator, X, y, sample_weight, defer_dense_finite=False):
    """Check ``X`` (dense Fortran or CSC, float32/64), ``y`` and weights.

    With ``defer_dense_finite``, a dense ``X`` is not scanned for NaN/inf
    here: the caller must do it (see :func:`check_finite_from_stats`).
    """
    X, y = validate_data(
        estimator, X, y,
        accept_sparse="csc",
        dtype=[np.float64, np.float32],
        order="F",
        y_numeric=True,
        multi_output=False,
        # Sparse X: the check only reads the stored values, keep it.
        ensure_all_finite=not defer_dense_finite or sp.issparse(X),
    )
    X = _canonical_csc(X)
    y = np.asarray(y, dtype=np.float64)
    q = check_sample_weight(sample_weight, X.shape[0])
    return X, y, q


def check_finite_from_stats(X, stats, estimator):
    """Raise scikit-learn's NaN/inf error for ``X`` unless ``stats`` are finite.

    ``stats`` is a per-column quantity computed from every entry of ``X``
    (such as ``sum_i q_i (X_ij - m_j) y_i``): a NaN or inf anywhere in ``X``
    makes it non-finite. This replaces a separate scan of a dense ``X`` (a
    sixth of a small Lasso fit). Non-finite ``stats`` from finite but huge
    entries (overflow) pass the full check below.
    """
    if not np.isfinite(stats).all():
        _assert_all_finite(X, input_name="X", estimator_name=type(estimator).__name__)


def validate_path_data(X, y, sample_weight):
    """Like :func:`validate_fit_data`, for the path functions (no estimator)."""
    X, y = check_X_y(
        X, y,
        accept_sparse="csc",
        dtype=[np.float64, np.float32],
        order="F",
        y_numeric=True,
    )
    X = _canonical_csc(X)
    y = np.asarray(y, dtype=np.float64)
    return X, y, check_sample_weight(sample_weight, X.shape[0])


class PenalisedLinearRegressor(RegressorMixin, BaseEstimator):
    """Base class: ``fit`` through a problem object, linear ``predict``.

    Subclasses set ``_problem`` (the family) and may extend
    ``_problem_options`` with family-specific constructor parameters.
    """

    _problem = None

    def _problem_options(self):
        return {}

    def _check_params(self):
        check_alpha(self.alpha)
        check_tol(self.tol)
        check_max_iter(self.max_iter)
        check_bool(self.fit_intercept, "fit_intercept")
        check_bool(self.warm_start, "warm_start")

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is converted to CSC (never densified).
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; the data term is normalised
            by their sum (like scikit-learn's ``Lasso``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        # A dense X is scanned for NaN/inf through the column statistics of
        # the problem's design when it has them (one pass less over X).
        defer = getattr(self._problem, "checks_finite", False)
        X, y, q = validate_fit_data(self, X, y, sample_weight, defer_dense_finite=defer)
        weights = check_feature_weights(self.weights, X.shape[1])
        problem = self._problem(X, y, q, weights, self.fit_intercept,
                                **self._problem_options())
        if defer and not sp.issparse(X):
            check_finite_from_stats(X, problem.design.corr_y, self)
        coef_init = None
        previous = getattr(self, "coef_", None) if self.warm_start else None
        if previous is not None and previous.shape == (X.shape[1],):
            coef_init = np.asarray(previous, dtype=np.float64)
            if hasattr(problem, "intercept_init"):
                problem.intercept_init = float(self.intercept_)
        res = problem.solve(float(self.alpha), coef_init, float(self.tol),
                            int(self.max_iter), warn=True)
        self._set_result(res, X.dtype)
        return self

    def _set_result(self, res, dtype):
        # "+ 0.0" turns the -0.0 the prox can produce into 0.0.
        self.coef_ = res.coef.astype(dtype) + dtype.type(0.0)
        self.intercept_ = float(res.intercept)
        self.dual_gap_ = float(res.dual_gap)
        self.n_iter_ = int(res.n_iter)

    def predict(self, X):
        """Predict with the fitted linear model ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], reset=False)
        return np.asarray(safe_sparse_dot(X, self.coef_)).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
