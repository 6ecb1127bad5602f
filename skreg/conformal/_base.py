"""Calibration plumbing shared by the conformal meta-estimators.

``fit`` splits the data (or takes it all with ``prefit=True``), fits the
wrapped model on one part, and hands the calibration scores to
:meth:`ConformalMixin._calibrate`, which builds the exact
:class:`~skreg.conformal._risk.RiskProfile` of the loss (a grid for a
:class:`~skreg.conformal.CustomLoss`). Without covariate shift this gives one
threshold ``lambda_hat_``; with a likelihood ratio the profile is kept and
each test point gets its own threshold in :meth:`ConformalMixin.thresholds`.
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._validation import check_bool
from ._exact import loss_profile
from ._likelihood_ratio import evaluate_ratio, resolve_likelihood_ratio
from ._losses import CustomLoss
from ._risk import (
    GridProfile,
    _crc_target,
    _warn_lambda_max,
    _weighted_solve,
    check_alpha,
    check_loss_table,
)


def check_calibration_size(calibration_size, n_samples, name):
    """Number of calibration rows from a fraction in (0, 1) or a count."""
    cs = calibration_size
    if isinstance(cs, (bool, np.bool_)) or not isinstance(cs, numbers.Real):
        raise TypeError(f"calibration_size must be a float in (0, 1) or an int, got {cs!r}.")
    if isinstance(cs, numbers.Integral):
        n_cal = int(cs)
        if n_cal < 1:
            raise ValueError(f"calibration_size must be >= 1 when an int, got {n_cal}.")
    else:
        if not 0.0 < cs < 1.0:
            raise ValueError(f"calibration_size must be in (0, 1) when a float, got {cs}.")
        n_cal = int(np.ceil(cs * n_samples))
    if n_samples < 2:
        raise ValueError(f"{name} needs at least 2 samples to fit and calibrate (got "
                         f"{n_samples} sample).")
    if n_cal > n_samples - 1:
        raise ValueError(f"calibration_size={cs} leaves no training sample out of "
                         f"n_samples={n_samples}.")
    return n_cal


class ConformalMixin:
    """Split, calibration and per-point thresholds; see the module docstring."""

    def _validate_X(self, X):
        # Any input the wrapped model accepts (no dtype or finiteness checks:
        # that is the model's call).
        return validate_data(self, X, accept_sparse=["csr", "csc"], dtype=None,
                             ensure_all_finite=False, reset=False)

    def _check_common_params(self):
        self._alpha = check_alpha(self.alpha)
        check_bool(self.prefit, "prefit")

    def _split(self, n_samples, labels=None):
        """Training and calibration indices (``labels``: keep every class in training)."""
        if self.prefit:
            if n_samples < 1:
                raise ValueError("prefit=True needs at least one calibration sample.")
            return np.zeros(0, dtype=int), np.arange(n_samples)
        n_cal = check_calibration_size(self.calibration_size, n_samples, type(self).__name__)
        perm = check_random_state(self.random_state).permutation(n_samples)
        reserved = np.zeros(n_samples, dtype=bool)
        if labels is not None:
            # The first row of each class (in the random order) goes to training,
            # so that the model sees every class.
            _, first = np.unique(labels[perm], return_index=True)
            reserved[first] = True
        free = perm[~reserved]
        n_cal = min(n_cal, free.size)
        if n_cal < 1:
            raise ValueError("No calibration sample left after keeping one sample of each "
                             "class for training: give more samples.")
        return np.sort(np.r_[perm[reserved], free[n_cal:]]), np.sort(free[:n_cal])

    def _fitted_copy(self, estimator, name="estimator"):
        """The user's estimator as given (prefit) or a fresh clone (fitted later)."""
        if not self.prefit:
            return clone(estimator)
        try:
            check_is_fitted(estimator)
        except Exception as exc:
            raise ValueError(
                f"prefit=True needs a fitted {name}. Note that clone() (GridSearchCV, "
                "cross_validate) unfits it: wrap it in sklearn.frozen.FrozenEstimator to "
                "keep it fitted.") from exc
        return estimator

    def _calibrate(self, loss, truth, scores, Y, predict_at, lambda_range, X_cal,
                   X_source, X_target):
        """Store the risk profile of the calibration points and ``lambda_hat_``.

        ``truth``, ``predict_at`` are used by a :class:`CustomLoss` (its
        arguments at one ``lambda``); built-in losses use ``scores``/``Y``.
        """
        self.n_calibration_ = int(scores.shape[0])
        self.likelihood_ratio_ = resolve_likelihood_ratio(self.likelihood_ratio, X_source,
                                                          X_target)
        weights = None
        if self.likelihood_ratio_ is not None:
            weights = evaluate_ratio(self.likelihood_ratio_, X_cal)
            if not weights.sum() > 0:
                raise ValueError("likelihood_ratio is zero on every calibration point.")
        lambda_min, lambda_max = lambda_range
        if isinstance(loss, CustomLoss):
            lambdas = loss.grid(scores, lambda_max)
            table = loss.table(truth, predict_at, lambdas)
            table, lambdas = check_loss_table(table, lambdas, float(loss.B), loss.monotonize)
            self._profile = GridProfile(table, lambdas, weights)
        else:
            self._profile = loss_profile(loss, scores, Y, weights, lambda_min, lambda_max)
        self._bound = float(loss.B)
        self.lambda_hat_ = None
        if weights is None:
            n = self.n_calibration_
            lam, reached = self._profile.solve(
                np.array([_crc_target(self._alpha, self._bound, n, 1.0)]))
            if not reached[0]:
                _warn_lambda_max(self._alpha, self._bound, n,
                                 "alpha < B/(n+1)" if self._alpha * (n + 1) < self._bound
                                 else "the loss at lambda_max is too large")
            self.lambda_hat_ = float(lam[0])

    def thresholds(self, X):
        r"""Calibrated threshold :math:`\hat\lambda(x)` of each row of ``X``.

        Without a likelihood ratio all rows share ``lambda_hat_``; with one,
        each row gets the weighted threshold of its :math:`w(x)`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        lambdas : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return self._thresholds(X)

    def _thresholds(self, X):
        if self.likelihood_ratio_ is None:
            return np.full(X.shape[0], self.lambda_hat_)
        w = evaluate_ratio(self.likelihood_ratio_, X)
        return _weighted_solve(self._profile, self.n_calibration_, self._alpha, self._bound, w)
