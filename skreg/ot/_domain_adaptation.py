"""Domain adaptation of a classifier by optimal transport of the source sample."""

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._mapping import OTMapping, split_domains


def _estimator_has(attr):
    def check(self):
        if hasattr(self, "estimator_"):
            return hasattr(self.estimator_, attr)
        return hasattr(self.estimator, attr)
    return check


class OTDomainAdaptationClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit a classifier on the labelled source transported onto the target domain.

    The labelled source rows :math:`(x_i, y_i)` are moved onto the
    unlabelled target sample by :class:`OTMapping` (regularised optimal
    transport, then barycentric projection
    :math:`T(x_i) = \\sum_j P_{ij} z_j / \\sum_j P_{ij}`), and a clone of
    ``estimator`` is fitted on :math:`(T(x_i), y_i)`. Predictions are for
    target-domain rows, which are given to the fitted estimator unchanged
    (Courty, Flamary, Tuia, Rakotomamonjy 2017).

    Target information is given to ``fit`` as for :class:`OTMapping`: an
    explicit ``X_target``, skada's ``sample_domain`` on one stacked ``X``
    (the labels of target rows are ignored, so they may hold anything), or
    NaN labels marking the target rows. Without any, there is no domain
    shift to correct and the classifier is ``estimator`` fitted on
    ``(X, y)``.

    Parameters
    ----------
    estimator : classifier
        The model fitted on the transported source.
    reg, penalty, max_nnz, method, metric, normalize, max_iter, tol
        The transport, see :class:`OTMapping`.

    Attributes
    ----------
    estimator_ : classifier
        Fitted clone of ``estimator``.
    mapping_ : OTMapping
        Fitted source-to-target mapping.
    classes_ : ndarray
    plan_ : ndarray of shape (n_source, n_target) or None
    cost_ : float
    n_iter_ : int
        The transport plan, its cost and the solver's iteration count
        (None, 0 and 0 when ``fit`` got no target).
    n_features_in_ : int

    References
    ----------
    N. Courty, R. Flamary, D. Tuia, A. Rakotomamonjy. Optimal transport for
    domain adaptation. IEEE TPAMI 39(9), 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skreg.ot import OTDomainAdaptationClassifier
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.normal(size=(200, 2))
    >>> ys = (Xs[:, 0] > 0).astype(int)
    >>> Xt = rng.normal(size=(200, 2)) + [4.0, 0.0]     # shifted target
    >>> yt = (Xt[:, 0] > 4.0).astype(int)
    >>> plain = LogisticRegression().fit(Xs, ys)
    >>> adapted = OTDomainAdaptationClassifier(LogisticRegression()).fit(
    ...     Xs, ys, X_target=Xt)
    >>> float(plain.score(Xt, yt)) < 0.6 < 0.9 < float(adapted.score(Xt, yt))
    True
    """

    __metadata_request__fit: ClassVar[dict] = {"sample_domain": True, "X_target": True}

    def __init__(self, estimator, *, reg=1e-2, penalty="entropy", max_nnz=None,
                 method=None, metric="sqeuclidean", normalize="max", max_iter=None,
                 tol=None):
        self.estimator = estimator
        self.reg = reg
        self.penalty = penalty
        self.max_nnz = max_nnz
        self.method = method
        self.metric = metric
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y, *, X_target=None, sample_domain=None):
        """Transport the labelled source onto the target and fit ``estimator``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labelled source rows, or source and target rows stacked.
        y : array-like of shape (n_samples,)
            Labels; only those of source rows are used. NaN marks a target
            row when neither ``X_target`` nor ``sample_domain`` is given.
        X_target : array-like of shape (n_target, n_features), default=None
            Unlabelled target sample.
        sample_domain : array-like of shape (n_samples,), default=None
            Positive for source rows, negative for target rows.

        Returns
        -------
        self : OTDomainAdaptationClassifier
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None.")
        X = validate_data(self, X, dtype=np.float64)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        source, Xt = split_domains(X, y, X_target, sample_domain, X.shape[1])
        ys = y[source]
        check_classification_targets(ys)
        self.mapping_ = OTMapping(
            self.reg, penalty=self.penalty, max_nnz=self.max_nnz, method=self.method,
            metric=self.metric, normalize=self.normalize, max_iter=self.max_iter,
            tol=self.tol)
        Xs = X[source]
        if Xt is None:
            self.mapping_.fit(Xs)
        else:
            self.mapping_.fit(Xs, X_target=Xt)
        self.estimator_ = clone(self.estimator).fit(self.mapping_.source_mapped_, ys)
        self.classes_ = self.estimator_.classes_
        self.plan_ = self.mapping_.plan_
        self.cost_ = self.mapping_.cost_
        self.n_iter_ = self.mapping_.n_iter_
        return self

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def predict(self, X):
        """Predict the class of target-domain rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._validated(X)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of target-domain rows (from ``estimator_``)."""
        X = self._validated(X)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of target-domain rows (from ``estimator_``)."""
        X = self._validated(X)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of ``estimator_`` on target-domain rows."""
        X = self._validated(X)
        return self.estimator_.decision_function(X)
