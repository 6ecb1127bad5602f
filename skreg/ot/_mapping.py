"""Optimal-transport mapping of a source sample onto a target sample."""

import numbers
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils import check_array, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._validation import check_max_iter, check_tol
from ._costs import NORMALIZATIONS, PENALTIES, cost_matrix, solve_regularized
from ._validation import check_reg


def check_sample_domain(sample_domain, n_samples):
    """Return ``sample_domain`` as an int array; positive = source, negative = target."""
    sd = np.asarray(sample_domain)
    if sd.ndim == 0:
        sd = np.full(n_samples, sd.item())
    if sd.shape != (n_samples,):
        raise ValueError(
            f"sample_domain must have shape ({n_samples},) to match X, got {sd.shape}.")
    if sd.dtype.kind not in "iuf" or (sd.dtype.kind == "f" and not np.all(sd == np.round(sd))):
        raise ValueError("sample_domain must hold integers (positive for source rows, "
                         "negative for target rows).")
    sd = sd.astype(np.int64)
    if np.any(sd == 0):
        raise ValueError("sample_domain must not contain 0: use positive labels for "
                         "source rows and negative labels for target rows.")
    return sd


def split_domains(X, y, X_target, sample_domain, n_features):
    """Source rows and target sample of a ``fit`` call.

    Target information, in order of precedence (at most one of the first
    two may be given):

    1. ``X_target``: all of ``X`` is source;
    2. ``sample_domain`` (skada's convention): rows with a positive label are
       source, rows with a negative label are target;
    3. ``y`` with NaN entries: those rows are unlabelled target rows (the
       label ``-1`` that skada also uses for classification is *not*
       inferred, since it is an ordinary class label in binary problems);
    4. nothing: there is no target, hence nothing to adapt to.

    Returns ``(source_mask, X_target)``, with ``X_target`` None in case 4.
    """
    n = X.shape[0]
    if X_target is not None and sample_domain is not None:
        raise ValueError("Give either X_target or sample_domain, not both.")
    if X_target is not None:
        X_target = check_array(X_target, dtype=np.float64, input_name="X_target")
        if X_target.shape[1] != n_features:
            raise ValueError(
                f"X_target has {X_target.shape[1]} features but X has {n_features}.")
        return np.ones(n, dtype=bool), X_target
    if sample_domain is not None:
        source = check_sample_domain(sample_domain, n) > 0
        if source.all() or not source.any():
            raise ValueError(
                "sample_domain must mark at least one source row (positive label) "
                f"and one target row (negative label); got {int(source.sum())} source "
                f"and {int((~source).sum())} target rows.")
        return source, X[~source]
    if y is not None:
        y = np.asarray(y)
        if y.dtype.kind == "f" and y.ndim == 1 and np.isnan(y).any():
            source = ~np.isnan(y)
            if not source.any():
                raise ValueError("y is NaN on every row: no labelled source row.")
            return source, X[~source]
    return np.ones(n, dtype=bool), None


class OTMapping(TransformerMixin, BaseEstimator):
    """Map a source sample onto a target sample by regularised optimal transport.

    ``fit`` solves, between the source rows :math:`x_i` (weights
    :math:`1/n_s`) and the target rows :math:`z_j` (weights :math:`1/n_t`),

    .. math::

        P = \\arg\\min_{P \\ge 0,\\ P 1 = 1/n_s,\\ P^T 1 = 1/n_t}
            \\langle M, P\\rangle + \\mathrm{reg}\\,\\Omega(P),
        \\qquad M_{ij} = d(x_i, z_j) / s,

    with :math:`\\Omega` the negative entropy (``penalty="entropy"``), half
    the squared Frobenius norm (``"l2"``, sparse plans) or the latter with
    at most ``max_nnz`` non-zeros per column (``"sparsity"``), and maps each
    source row to its barycentric projection
    :math:`T(x_i) = \\sum_j P_{ij} z_j / \\sum_j P_{ij}`.

    **Out-of-sample rule.** A row :math:`x` that was not in the fitted
    source sample is moved by the displacement of its nearest fitted source
    point :math:`x_k` (nearest in ``metric``): :math:`x + T(x_k) - x_k`. This
    works for every penalty (the quadratic and sparse plans have no smooth
    extension like the entropic potentials), is exact on the fitted rows,
    and keeps the local geometry of the new point (POT's ``BaseTransport``
    uses the same rule).

    **Where the target comes from** (``fit``): an explicit ``X_target``; or
    one stacked ``X`` with skada's ``sample_domain`` (positive labels: source
    rows, negative: target rows); or, when neither is given, rows whose
    label ``y`` is NaN are unlabelled target rows. With no target
    information at all there is nothing to adapt to: the mapping is the
    identity (``plan_`` is None, ``cost_ = 0``, ``n_iter_ = 0``), which lets
    a pipeline run unchanged on data without a domain shift.

    **Which rows are moved.** ``fit_transform`` moves the source rows of
    its input (all of ``X`` with ``X_target``; the source rows of stacked
    data), so inside a :class:`~sklearn.pipeline.Pipeline` the next step is
    fitted on the transported source. ``transform`` moves only the rows
    that its ``sample_domain`` marks as source (a scalar ``1`` marks them
    all): without it, rows are taken to be target-domain data, which is
    already where it belongs and is returned unchanged. This is skada's
    convention, and what makes ``pipeline.predict(X_target_new)`` correct;
    it also means that ``fit(X).transform(X)`` differs from
    ``fit_transform(X)`` when there is a target.

    Parameters
    ----------
    reg : float, default=1e-2
        Regularisation strength, in the units of the (normalised) cost.
        For ``penalty="l2"`` the plan entries are about ``1 / (n_s n_t)``,
        so a sparse-but-spread plan needs a larger ``reg`` for larger
        samples.
    penalty : {"entropy", "l2", "sparsity"}, default="entropy"
        Regulariser: :func:`sinkhorn`, :func:`quadratic_ot` or
        :func:`sparsity_constrained_ot`.
    max_nnz : int, default=None
        Maximum non-zeros per column of the plan (``penalty="sparsity"``
        only, required there).
    method : str, default=None
        Sinkhorn variant (``penalty="entropy"`` only; None: its default).
    metric : str or callable, default="sqeuclidean"
        Ground metric, see :func:`cost_matrix`.
    normalize : {"max", "median", "mean", None}, default="max"
        Cost normalisation, see :func:`cost_matrix`; with ``"max"`` the cost
        is in ``[0, 1]`` whatever the units of the features.
    max_iter : int, default=None
        Iteration limit of the solver (None: its default).
    tol : float, default=None
        Marginal tolerance of the solver (None: its default).

    Attributes
    ----------
    plan_ : ndarray of shape (n_source, n_target) or None
        Transport plan (rows: fitted source rows); None without a target.
    cost_ : float
        Transport cost :math:`\\langle M, P\\rangle` (normalised units).
    n_iter_ : int
        Solver iterations.
    source_ : ndarray of shape (n_source, n_features)
        Fitted source rows (the anchors of the out-of-sample rule).
    source_mapped_ : ndarray of shape (n_source, n_features)
        Their barycentric images.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.ot import OTMapping
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.normal(size=(50, 2))
    >>> Xt = Xs + [3.0, 0.0]
    >>> mapping = OTMapping(reg=1e-3, penalty="l2").fit(Xs, X_target=Xt)
    >>> bool(np.allclose(mapping.transform(Xs, sample_domain=1), Xt))  # translation
    True
    >>> mapping.transform([[0.0, 0.0]], sample_domain=1)  # a new source point
    array([[3., 0.]])
    >>> mapping.transform([[0.0, 0.0]])  # target-domain rows are not moved
    array([[0., 0.]])
    """

    __metadata_request__fit: ClassVar[dict] = {"sample_domain": True, "X_target": True}
    __metadata_request__transform: ClassVar[dict] = {"sample_domain": True}

    def __init__(self, reg=1e-2, *, penalty="entropy", max_nnz=None, method=None,
                 metric="sqeuclidean", normalize="max", max_iter=None, tol=None):
        self.reg = reg
        self.penalty = penalty
        self.max_nnz = max_nnz
        self.method = method
        self.metric = metric
        self.normalize = normalize
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self):
        check_reg(self.reg)
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {self.penalty!r}.")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(
                f"normalize must be one of {NORMALIZATIONS}, got {self.normalize!r}.")
        if self.penalty == "sparsity":
            if self.max_nnz is None:
                raise ValueError("penalty='sparsity' needs max_nnz (an int >= 1).")
            check_scalar(self.max_nnz, "max_nnz", numbers.Integral, min_val=1)
        elif self.max_nnz is not None:
            raise ValueError(
                f"max_nnz applies to penalty='sparsity' only, got penalty={self.penalty!r}.")
        if self.method is not None and self.penalty != "entropy":
            raise ValueError(
                f"method applies to penalty='entropy' only, got penalty={self.penalty!r}.")
        if self.max_iter is not None:
            check_max_iter(self.max_iter)
        if self.tol is not None:
            check_tol(self.tol)

    def fit(self, X, y=None, *, X_target=None, sample_domain=None):
        """Learn the transport plan from the source rows to the target sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source rows, or source and target rows stacked (then give
            ``sample_domain`` or NaN labels in ``y``).
        y : array-like of shape (n_samples,), default=None
            Ignored, except that NaN entries mark target rows when neither
            ``X_target`` nor ``sample_domain`` is given.
        X_target : array-like of shape (n_target, n_features), default=None
            Target sample.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain label of each row: positive for source, negative for target.

        Returns
        -------
        self : OTMapping
        """
        self._check_params()
        X = validate_data(self, X, dtype=np.float64)
        source, Xt = split_domains(X, y, X_target, sample_domain, X.shape[1])
        Xs = X[source]
        self.source_ = Xs
        if Xt is None:
            self.plan_ = None
            self.cost_ = 0.0
            self.n_iter_ = 0
            self.source_mapped_ = Xs.copy()
            return self
        M = cost_matrix(Xs, Xt, metric=self.metric, normalize=self.normalize)
        result = solve_regularized(None, None, M, self.reg, self.penalty,
                                   max_nnz=self.max_nnz, method=self.method,
                                   max_iter=self.max_iter, tol=self.tol)
        self.plan_ = result.plan
        self.cost_ = float(result.cost)
        self.n_iter_ = int(result.n_iter)
        mass = self.plan_.sum(axis=1)
        # A row without mass (possible only for a sparsity-constrained plan
        # that misses its marginal) stays where it is.
        safe = np.where(mass > 0, mass, 1.0)[:, None]
        self.source_mapped_ = np.where(mass[:, None] > 0, self.plan_ @ Xt / safe, Xs)
        return self

    def _move(self, X):
        metric = "euclidean" if self.metric == "sqeuclidean" else self.metric
        nearest = pairwise_distances_argmin(X, self.source_, metric=metric)
        return X + (self.source_mapped_[nearest] - self.source_[nearest])

    def transform(self, X, *, sample_domain=None):
        """Move source rows into the target domain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_domain : int or array-like of shape (n_samples,), default=None
            Rows with a positive label (source rows) are moved, the others
            returned unchanged; a scalar applies to every row. None: all
            rows are target-domain rows and none is moved.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = X.copy()
        if sample_domain is None:
            return out
        move = check_sample_domain(sample_domain, X.shape[0]) > 0
        if move.any():
            out[move] = self._move(X[move])
        return out

    def fit_transform(self, X, y=None, *, X_target=None, sample_domain=None):
        """Fit, then move the source rows of ``X`` (target rows unchanged).

        Parameters are those of :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
        """
        self.fit(X, y, X_target=X_target, sample_domain=sample_domain)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        source, _ = split_domains(X, y, X_target, sample_domain, X.shape[1])
        out = X.copy()
        if self.plan_ is not None and source.any():
            out[source] = self._move(X[source])
        return out
