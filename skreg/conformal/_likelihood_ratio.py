r"""Likelihood ratios :math:`w(x) = dP_{\text{test}}/dP_{\text{train}}` for covariate shift.

A ratio is either given as a function of ``X`` or estimated by a
probabilistic classifier that tells source (training) rows from unlabelled
target rows: by Bayes' rule

.. math::

    w(x) = \frac{n_s}{n_t}\,\frac{p(\text{target} \mid x)}{p(\text{source} \mid x)},

with :math:`n_s, n_t` the numbers of source and target rows used to fit it.
"""

import numpy as np
from sklearn.base import clone


class ClassifierLikelihoodRatio:
    r"""Likelihood ratio estimated by a source-vs-target classifier.

    Callable: ``ratio(X)`` returns
    :math:`\frac{n_s}{n_t}\,p(\text{target}\mid x)/p(\text{source}\mid x)`,
    the probabilities clipped to ``[clip, 1 - clip]`` so that the ratio
    stays finite.

    Parameters
    ----------
    classifier : classifier with ``predict_proba``, fitted
        Trained with label 0 for source rows and 1 for target rows.
    n_source, n_target : int
        Numbers of source and target rows it was trained on.
    clip : float, default=1e-6
    """

    def __init__(self, classifier, n_source, n_target, clip=1e-6):
        self.classifier = classifier
        self.n_source = n_source
        self.n_target = n_target
        self.clip = clip

    def __call__(self, X):
        proba = self.classifier.predict_proba(X)
        col = list(self.classifier.classes_).index(1)
        p = np.clip(proba[:, col], self.clip, 1.0 - self.clip)
        return (self.n_source / self.n_target) * p / (1.0 - p)


def likelihood_ratio_from_classifier(classifier, X_source, X_target, *, clip=1e-6):
    r"""Estimate :math:`w(x) = dP_{\text{target}}/dP_{\text{source}}` with a classifier.

    A clone of ``classifier`` is fitted to tell ``X_source`` (label 0) from
    ``X_target`` (label 1); then
    :math:`w(x) = \frac{n_s}{n_t}\,\frac{p(1 \mid x)}{p(0 \mid x)}`.

    Parameters
    ----------
    classifier : estimator with ``predict_proba``
        Not modified (a clone is fitted).
    X_source : array-like of shape (n_source, n_features)
    X_target : array-like of shape (n_target, n_features)
        Unlabelled rows from the test distribution.
    clip : float, default=1e-6
        Probabilities are clipped to ``[clip, 1 - clip]``.

    Returns
    -------
    ratio : ClassifierLikelihoodRatio
        A callable ``ratio(X) -> ndarray of shape (n_samples,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skreg.conformal import likelihood_ratio_from_classifier
    >>> rng = np.random.default_rng(0)
    >>> Xs, Xt = rng.normal(0, 1, (500, 1)), rng.normal(1, 1, (500, 1))
    >>> w = likelihood_ratio_from_classifier(LogisticRegression(), Xs, Xt)
    >>> bool(w(np.array([[2.0]]))[0] > 1 > w(np.array([[-1.0]]))[0])
    True
    """
    if not hasattr(classifier, "predict_proba") or not hasattr(classifier, "fit"):
        raise TypeError("likelihood_ratio classifier must have fit and predict_proba, got "
                        f"{type(classifier).__name__}.")
    if X_target is None:
        raise ValueError("A classifier likelihood_ratio needs unlabelled target rows: pass "
                         "X_target to fit.")
    Xs, Xt = np.asarray(X_source), np.asarray(X_target)
    if Xt.ndim != 2 or Xt.shape[0] < 1 or Xt.shape[1] != Xs.shape[1]:
        raise ValueError(f"X_target must be 2-D with {Xs.shape[1]} features and at least "
                         f"one row, got shape {Xt.shape}.")
    labels = np.r_[np.zeros(Xs.shape[0], dtype=int), np.ones(Xt.shape[0], dtype=int)]
    fitted = clone(classifier).fit(np.vstack([Xs, Xt]), labels)
    return ClassifierLikelihoodRatio(fitted, Xs.shape[0], Xt.shape[0], clip)


def resolve_likelihood_ratio(likelihood_ratio, X_source, X_target):
    """The ``likelihood_ratio`` parameter of an estimator as a callable (or None)."""
    if likelihood_ratio is None:
        if X_target is not None:
            raise ValueError("X_target was given but likelihood_ratio is None: pass a "
                             "classifier as likelihood_ratio to use it.")
        return None
    if hasattr(likelihood_ratio, "predict_proba") and hasattr(likelihood_ratio, "fit"):
        return likelihood_ratio_from_classifier(likelihood_ratio, X_source, X_target)
    if callable(likelihood_ratio):
        if X_target is not None:
            raise ValueError("X_target is only used with a classifier likelihood_ratio; "
                             "a callable likelihood_ratio is used as given.")
        return likelihood_ratio
    raise TypeError("likelihood_ratio must be None, a callable w(X) or a classifier with "
                    f"predict_proba, got {type(likelihood_ratio).__name__}.")


def evaluate_ratio(ratio, X, name="likelihood_ratio"):
    """``ratio(X)`` checked: one finite non-negative value per row."""
    w = np.asarray(ratio(X), dtype=np.float64)
    n = X.shape[0]
    if w.shape != (n,):
        raise ValueError(f"{name}(X) must return an array of shape ({n},), got {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name}(X) must be finite and non-negative.")
    return w
