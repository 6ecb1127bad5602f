"""Conformal risk control for classification: calibrated prediction sets."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._base import ConformalMixin
from ._losses import CustomLoss, get_loss


class ConformalRiskClassifier(ConformalMixin, ClassifierMixin, BaseEstimator):
    r"""Prediction sets calibrated by conformal risk control.

    Sets are :math:`C_\lambda(x) = \{k : p_k(x) \ge 1 - \lambda\}`, with
    :math:`p_k` the ``predict_proba`` of ``estimator``; they grow with
    :math:`\lambda \in [0, 1]` and contain every class at :math:`\lambda = 1`.
    The data given to ``fit`` is split: ``estimator`` is fitted on one part
    and :math:`\lambda` calibrated on the other (``n`` points), exactly (by
    sorting the scores :math:`1 - p_k`), so that for exchangeable data

    .. math::

        E[L(C_{\hat\lambda}(X_{n+1}), Y_{n+1})] \le \alpha,\qquad
        \hat\lambda = \inf\Big\{\lambda : \frac{n}{n+1}\hat R_n(\lambda)
        + \frac{B}{n+1} \le \alpha\Big\}.

    ``y`` is either a vector of labels (binary or multiclass) or, for
    multilabel problems, a 0/1 indicator matrix of shape (n_samples,
    n_classes) (``estimator`` then needs a multilabel ``predict_proba``, e.g.
    ``OneVsRestClassifier`` or ``MultiOutputClassifier``).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        The model to calibrate (cloned unless ``prefit=True``).
    alpha : float in (0, 1), default=0.1
        Target risk level.
    loss : {"miscoverage", "fnr"} or CustomLoss, default="miscoverage"
        ``"miscoverage"``: :math:`1\{y \notin C(x)\}` (multilabel: some true
        label missed); ``"fnr"``: the multilabel false-negative rate
        :math:`|Y \setminus C(x)|/|Y|` (:class:`FalseNegativeRateLoss`); a
        :class:`CustomLoss` ``func(Y, sets)`` on boolean (n, n_classes)
        arrays, with its bound ``B``.
    calibration_size : float in (0, 1) or int, default=0.25
        Fraction (rounded up) or number of the rows used for calibration.
        One row of each class is always kept for training.
    prefit : bool, default=False
        ``estimator`` is already fitted: calibrate on all the data given to
        ``fit`` (wrap it in ``sklearn.frozen.FrozenEstimator`` for
        ``clone``).
    likelihood_ratio : callable, classifier or None, default=None
        Covariate shift, as in :class:`ConformalRiskRegressor`.
    random_state : int, RandomState instance or None, default=None
        Seed of the training/calibration split.

    Attributes
    ----------
    estimator_ : classifier
        The fitted model.
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_classes)`` for multilabel ``y``), the
        columns of :meth:`predict_set`.
    multilabel_ : bool
        Whether ``y`` was an indicator matrix.
    lambda_hat_ : float or None
        Calibrated threshold (``None`` with a likelihood ratio).
    n_calibration_ : int
    likelihood_ratio_ : callable or None
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skreg.conformal import ConformalRiskClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = ConformalRiskClassifier(LogisticRegression(max_iter=1000), alpha=0.1,
    ...                                 random_state=0).fit(X, y)
    >>> round(model.lambda_hat_, 3)          # sets {k : p_k(x) >= 0.648}
    0.352
    >>> model.predict_set(X[[0, 70]])        # the second: no class is likely enough
    array([[ True, False, False],
           [False, False, False]])
    """

    def __init__(self, estimator, *, alpha=0.1, loss="miscoverage", calibration_size=0.25,
                 prefit=False, likelihood_ratio=None, random_state=None):
        self.estimator = estimator
        self.alpha = alpha
        self.loss = loss
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.likelihood_ratio = likelihood_ratio
        self.random_state = random_state

    def fit(self, X, y, *, X_target=None):
        """Fit the model on one part of the data and calibrate on the other.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or a 0/1 indicator matrix (multilabel).
        X_target : array-like of shape (n_target, n_features), default=None
            Unlabelled rows of the test distribution, used when
            ``likelihood_ratio`` is a classifier.

        Returns
        -------
        self : object
        """
        self._check_common_params()
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=None,
                             ensure_all_finite=False, multi_output=True)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.multilabel_ = type_of_target(y) == "multilabel-indicator"
        self._loss = get_loss(self.loss, "set")
        if self.loss == "fnr" and not self.multilabel_:
            raise ValueError('loss="fnr" needs a multilabel y (an indicator matrix); with one '
                             'label per sample it equals loss="miscoverage".')
        labels = None if self.multilabel_ else np.unique(y, return_inverse=True)[1]
        train, cal = self._split(X.shape[0], labels)
        self.estimator_ = self._fitted_copy(self.estimator)
        if not self.prefit:
            self.estimator_.fit(X[train], y[train])
        if self.multilabel_:
            self.classes_ = np.arange(y.shape[1])
        else:
            self.classes_ = np.unique(np.r_[y, getattr(self.estimator_, "classes_", y)])
        Y = self._indicator(y[cal])
        scores = 1.0 - self._proba(X[cal])

        def predict_at(lam):
            return (Y, scores <= lam)

        X_source = X[train] if train.size else X
        self._calibrate(self._loss, Y, scores, Y, predict_at, (0.0, 1.0), X[cal],
                        X_source, X_target)
        return self

    def _indicator(self, y):
        """Boolean (n, n_classes) indicator of the true labels."""
        y = np.asarray(y)
        if self.multilabel_:
            if y.ndim != 2 or y.shape[1] != self.classes_.size:
                raise ValueError(f"y must be an indicator matrix with {self.classes_.size} "
                                 f"columns, got shape {y.shape}.")
            return y.astype(bool)
        y = column_or_1d(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.minimum(idx, self.classes_.size - 1)
        if not np.all(self.classes_[idx] == y):
            raise ValueError(f"y contains labels not seen in fit: "
                             f"{np.setdiff1d(y, self.classes_)[:5]}.")
        return np.eye(self.classes_.size, dtype=bool)[idx]

    def _proba(self, X):
        P = self.estimator_.predict_proba(X)
        if isinstance(P, list):  # MultiOutputClassifier: one (n, 2) array per label
            P = np.column_stack([p[:, -1] if p.shape[1] > 1 else np.zeros(p.shape[0])
                                 for p in P])
        P = np.asarray(P, dtype=np.float64)
        if self.multilabel_:
            return P
        out = np.zeros((P.shape[0], self.classes_.size))
        out[:, np.searchsorted(self.classes_, self.estimator_.classes_)] = P
        return out

    def predict_proba(self, X):
        """Class probabilities of the fitted model, in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._proba(self._validate_X(X))

    def predict(self, X):
        """Most probable class (multilabel: the fitted model's own prediction).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        if self.multilabel_:
            return self.estimator_.predict(X)
        return self.classes_[np.argmax(self._proba(X), axis=1)]

    def predict_set(self, X):
        r"""Calibrated prediction sets :math:`\{k : p_k(x) \ge 1 - \hat\lambda(x)\}`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        sets : ndarray of bool of shape (n_samples, n_classes)
            ``sets[i, k]``: class ``classes_[k]`` is in the set of row ``i``.
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return (1.0 - self._proba(X)) <= self._thresholds(X)[:, None]

    def empirical_risk(self, X, y):
        """Mean loss of the calibrated sets on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)

        Returns
        -------
        risk : float
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        Y = self._indicator(y)
        scores = 1.0 - self._proba(X)
        lam = self._thresholds(X)
        if isinstance(self._loss, CustomLoss):
            return float(self._loss.values(Y, (Y, scores <= lam[:, None])).mean())
        return float(self._loss.values(scores, Y, lam).mean())

    def score(self, X, y):
        """Negative mean set size: higher is more efficient.

        All settings compared by ``GridSearchCV`` are calibrated to the same
        risk level ``alpha`` on each training fold, so their guarantee is the
        same and the smallest sets win. ``y`` is only checked for its length
        (use :meth:`empirical_risk` to check the risk itself).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)

        Returns
        -------
        score : float
        """
        sets = self.predict_set(X)
        if np.shape(y)[0] != sets.shape[0]:
            raise ValueError(f"y has {np.shape(y)[0]} rows, X has {sets.shape[0]}.")
        return -float(sets.sum(axis=1).mean())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
