"""Conformal risk control for regression: calibrated prediction intervals."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import ConformalMixin
from ._losses import CustomLoss, get_loss
from ._scores import REGRESSION_SCORES


class ConformalRiskRegressor(ConformalMixin, RegressorMixin, BaseEstimator):
    r"""Prediction intervals calibrated by conformal risk control.

    The data given to ``fit`` is split: ``estimator`` is fitted on one part
    and the intervals :math:`C_\lambda(x)` are calibrated on the other
    (``n`` points) so that, for exchangeable data and a loss :math:`L` with
    values in :math:`(-\infty, B]`, non-increasing in :math:`\lambda`,

    .. math::

        E[L(C_{\hat\lambda}(X_{n+1}), Y_{n+1})] \le \alpha,\qquad
        \hat\lambda = \inf\Big\{\lambda : \frac{n}{n+1}\hat R_n(\lambda)
        + \frac{B}{n+1} \le \alpha\Big\}.

    The threshold is exact: the built-in losses are minimised over their
    breakpoints (the calibration scores) by sorting, not over a grid. With
    ``loss="miscoverage"`` this is split conformal prediction.

    Intervals by ``conformity_score`` (:math:`f` the fitted model):

    * ``"absolute"``: :math:`f(x) \pm \lambda`, score :math:`|y - f(x)|`;
    * ``"normalized"``: :math:`f(x) \pm \lambda\sigma(x)`, score
      :math:`|y - f(x)|/\sigma(x)`, with :math:`\sigma` the ``scale_estimator``
      fitted to :math:`|y - f(x)|` on the training part;
    * ``"cqr"`` (conformalised quantile regression):
      :math:`[q_{lo}(x) - \lambda, q_{hi}(x) + \lambda]`, score
      :math:`\max(q_{lo}(x) - y, y - q_{hi}(x))`, with two clones of
      ``estimator`` fitted with ``quantile`` set to :math:`\alpha/2` and
      :math:`1 - \alpha/2` (e.g. ``QuantileRegressor``,
      ``HistGradientBoostingRegressor(loss="quantile")``).

    Parameters
    ----------
    estimator : regressor
        The model to calibrate (cloned unless ``prefit=True``).
    alpha : float in (0, 1), default=0.1
        Target risk level.
    loss : {"miscoverage", "relative_miss"} or CustomLoss, default="miscoverage"
        ``"miscoverage"``: :math:`1\{y \notin C(x)\}`; ``"relative_miss"``:
        how far ``y`` falls outside, relative to the half-width, capped at 1
        (:class:`RelativeMissLoss`, not with ``"cqr"``); a
        :class:`CustomLoss` ``func(y, lower, upper)`` with its bound ``B``.
    conformity_score : {"absolute", "normalized", "cqr"}, default="absolute"
        The family of intervals, see above. (Not named ``score``, which is
        the scikit-learn scoring method.)
    scale_estimator : regressor, default=None
        Model of :math:`\sigma(x)` for ``conformity_score="normalized"`` (``None``: a
        clone of ``estimator``). With ``prefit=True`` it must be fitted.
    calibration_size : float in (0, 1) or int, default=0.25
        Fraction (rounded up) or number of the rows used for calibration.
    prefit : bool, default=False
        ``estimator`` is already fitted: calibrate on all the data given to
        ``fit`` (for ``"cqr"``, ``estimator.predict`` must then return the
        (n, 2) lower and upper quantiles). ``clone`` unfits an estimator:
        wrap it in ``sklearn.frozen.FrozenEstimator`` for model selection.
    likelihood_ratio : callable, classifier or None, default=None
        Covariate shift: :math:`w(x) = dP_{\text{test}}/dP_{\text{train}}`
        (up to a constant), as a function ``w(X) -> (n,)``, or a
        probabilistic classifier fitted in ``fit`` to tell the training rows
        from the unlabelled ``X_target`` rows, giving
        :math:`w(x) = \frac{n_s}{n_t}\,p(\text{target}\mid x)/p(\text{source}\mid x)`.
        Each test point then gets its own threshold (:meth:`thresholds`).
    random_state : int, RandomState instance or None, default=None
        Seed of the training/calibration split.

    Attributes
    ----------
    estimator_ : regressor or tuple of two regressors
        The fitted model (for ``"cqr"``, the lower and upper quantile models).
    scale_estimator_ : regressor or None
        The fitted scale model (``conformity_score="normalized"``).
    lambda_hat_ : float or None
        Calibrated threshold (``None`` with a likelihood ratio: see
        :meth:`thresholds`).
    n_calibration_ : int
        Number of calibration points.
    likelihood_ratio_ : callable or None
        The likelihood ratio used.
    n_features_in_ : int

    References
    ----------
    A. N. Angelopoulos, S. Bates, A. Fisch, L. Lei, T. Schuster, "Conformal
    Risk Control", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skreg.conformal import ConformalRiskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(size=2000)
    >>> model = ConformalRiskRegressor(Ridge(), alpha=0.1, random_state=0).fit(X, y)
    >>> model.n_calibration_
    500
    >>> lower, upper = model.predict_interval(X[:2]).T
    >>> np.round(upper - lower, 2)
    array([3.26, 3.26])
    """

    def __init__(self, estimator, *, alpha=0.1, loss="miscoverage", conformity_score="absolute",
                 scale_estimator=None, calibration_size=0.25, prefit=False,
                 likelihood_ratio=None, random_state=None):
        self.estimator = estimator
        self.alpha = alpha
        self.loss = loss
        self.conformity_score = conformity_score
        self.scale_estimator = scale_estimator
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.likelihood_ratio = likelihood_ratio
        self.random_state = random_state

    def fit(self, X, y, *, X_target=None):
        """Fit the model on one part of the data and calibrate on the other.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        X_target : array-like of shape (n_target, n_features), default=None
            Unlabelled rows of the test distribution, used when
            ``likelihood_ratio`` is a classifier.

        Returns
        -------
        self : object
        """
        self._check_common_params()
        if not isinstance(self.conformity_score, str) or (
                self.conformity_score not in REGRESSION_SCORES):
            raise ValueError(f"conformity_score must be one of {sorted(REGRESSION_SCORES)}, "
                             f"got {self.conformity_score!r}.")
        self._loss = get_loss(self.loss, "interval")
        self._score = REGRESSION_SCORES[self.conformity_score]()
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=None,
                             ensure_all_finite=False, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        train, cal = self._split(X.shape[0])
        self.estimator_, self.scale_estimator_ = self._score.fit(
            self, X[train], y[train])
        columns = self._score.columns(self, X[cal])
        scores = self._score.scores(columns, y[cal])
        lambda_range = self._score.lambda_range

        def predict_at(lam):
            return self._score.interval(columns, np.full(cal.size, lam))

        X_source = X[train] if train.size else X
        self._calibrate(self._loss, y[cal], scores, None, predict_at, lambda_range,
                        X[cal], X_source, X_target)
        return self

    def predict(self, X):
        """Point prediction of the fitted model (the centre of the band for "cqr").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self._score.center(self._score.columns(self, self._validate_X(X)))

    def predict_interval(self, X):
        """Calibrated prediction intervals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2)
            Lower and upper bounds (infinite when the risk cannot be
            controlled, e.g. ``alpha < 1/(n_calibration_ + 1)``; lower > upper
            is an empty interval, possible with ``"cqr"``).
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        lower, upper = self._score.interval(self._score.columns(self, X), self._thresholds(X))
        return np.column_stack([lower, upper])

    def empirical_risk(self, X, y):
        """Mean loss of the calibrated intervals on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        risk : float
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        columns = self._score.columns(self, X)
        lam = self._thresholds(X)
        if isinstance(self._loss, CustomLoss):
            return float(self._loss.values(y, self._score.interval(columns, lam)).mean())
        return float(self._loss.values(self._score.scores(columns, y), None, lam).mean())

    def score(self, X, y):
        """Negative mean interval width: higher is more efficient.

        All settings compared by ``GridSearchCV`` are calibrated to the same
        risk level ``alpha`` on each training fold, so their guarantee is the
        same and the narrowest intervals win. ``y`` is only checked for its
        length (use :meth:`empirical_risk` to check the risk itself). Empty
        intervals count as width 0; an infinite width gives ``-inf``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        score : float
        """
        intervals = self.predict_interval(X)
        if np.shape(y)[0] != intervals.shape[0]:
            raise ValueError(f"y has {np.shape(y)[0]} rows, X has {intervals.shape[0]}.")
        return -float(np.mean(np.maximum(intervals[:, 1] - intervals[:, 0], 0.0)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # score() is a negative width, not an R^2.
        tags.regressor_tags.poor_score = True
        return tags

