"""Loss-function-based weighted orthogonal matching pursuit (the greedy side of
the Lasso family): the greedy loop, a public function and the estimator."""

import numbers
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot

from ..utils._validation import check_alpha, check_bool, check_feature_weights
from ._base import PenalisedLinearRegressor, validate_fit_data, validate_path_data
from ._design import LinearDesign

LOSSES = ("lasso", "sqrt_lasso", "lad_lasso")
PENALTIES = ("l0", "l1")
# LAD scores are computed exactly in blocks of this many candidates, in
# decreasing order of their upper bounds, until no bound beats the best score.
_LAD_BLOCK = 16
# A score below this fraction of the starting objective is rounding error
# (the scores are differences of objective values): no decrease.
_NO_DECREASE = 1e-12
# secant steps of the LAD bounds: a cheap round on every feature, then a
# longer one on the features it could not rule out
_LAD_EVALS = (0, 8)


@dataclass
class GreedyResult:
    coef: np.ndarray
    intercept: float
    support: list
    objective_path: list
    # (support, coefficients on it, intercept) after each step, if recorded
    steps: list = field(default_factory=list)


def check_omp_params(loss, penalty, alpha, n_nonzero_coefs, fit_intercept, n_features):
    """Validate the parameters of the greedy loop; return the atom budget."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}.")
    check_alpha(alpha)
    check_bool(fit_intercept, "fit_intercept")
    if n_nonzero_coefs is None:
        # scikit-learn's default: 10% of the features, at least one
        return max(int(0.1 * n_features), 1)
    if isinstance(n_nonzero_coefs, (bool, np.bool_)):
        raise TypeError("n_nonzero_coefs must be an int or None, got a bool.")
    check_scalar(n_nonzero_coefs, "n_nonzero_coefs", numbers.Integral, min_val=1)
    if n_nonzero_coefs > n_features:
        raise ValueError(
            f"n_nonzero_coefs={n_nonzero_coefs} is larger than the number of "
            f"features ({n_features}).")
    return int(n_nonzero_coefs)


def _as_float64(X):
    """Float64 CSC or Fortran-ordered ``X`` (a copy only if needed).

    The selection does one ``X^T r`` per step; a float32 ``X`` would be cast
    to float64 by BLAS at every step, so it is cast once. The numba kernels
    are compiled for Fortran-ordered dense arrays only.
    """
    if sp.issparse(X):
        return X.astype(np.float64) if X.dtype != np.float64 else X
    return np.asfortranarray(X, dtype=np.float64)


def _penalty_value(penalty, alpha, weights, b):
    nz = b != 0
    if penalty == "l1":
        return alpha * float(weights[nz] @ np.abs(b[nz]))
    return alpha * float(np.sum(weights[nz] ** 2))


def greedy_omp(X, y, q, weights, alpha, loss, penalty, fit_intercept, max_atoms,
               record=False):
    """Run the weighted OMP on validated data (see :class:`WeightedOMP`).

    ``X`` is float64, Fortran-ordered or CSC; ``q`` sums to one.
    """
    pen = alpha * (weights if penalty == "l1" else weights ** 2)
    if loss == "lad_lasso":
        return _greedy_lad(X, y, q, weights, alpha, pen, penalty, fit_intercept,
                           max_atoms, record)
    return _greedy_ls(X, y, q, weights, alpha, pen, loss, penalty, fit_intercept,
                      max_atoms, record)


def _greedy_ls(X, y, q, weights, alpha, pen, loss, penalty, fit_intercept, max_atoms,
               record):
    from ._omp_refit import IncrementalCholesky
    from ._omp_scores import ls_scores  # numba: imported on first fit
    # With an intercept the loss is minimised over b0 in closed form, i.e. the
    # columns and y are centred (weighted by q): the scores are then the exact
    # decreases with the intercept re-optimised too.
    design = LinearDesign(X, y, q, center=fit_intercept)
    n, p = X.shape
    yc = design.y
    d = design.lipschitz
    c0 = design.corr(yc)
    c = c0
    b = np.zeros(p)
    in_s = np.zeros(p, dtype=bool)
    rho2 = float(q @ (yc * yc))

    def objective():
        data = 0.5 * rho2 if loss == "lasso" else np.sqrt(rho2)
        return data + _penalty_value(penalty, alpha, weights, b)

    obj = [objective()]
    floor = _NO_DECREASE * obj[0]
    support = []
    steps = []
    # at most n columns are linearly independent
    max_atoms = min(max_atoms, n)
    chol = IncrementalCholesky(max_atoms)
    cols = np.empty((n, max_atoms), order="F")
    for k in range(max_atoms):
        scores = ls_scores(loss, penalty, c, d, b, rho2, pen)
        j = int(np.argmax(scores))
        if not scores[j] > floor or in_s[j]:
            break
        col = design.columns([j])[:, 0]
        qcol = q * col
        if not chol.add(cols[:, :k].T @ qcol, float(qcol @ col)):
            break
        cols[:, k] = col
        support.append(j)
        in_s[j] = True
        b_s = chol.solve(c0[support])
        b[support] = b_s
        r = yc - cols[:, :k + 1] @ b_s
        c = design.corr(r)
        rho2 = float(q @ (r * r))
        obj.append(objective())
        if record:
            steps.append((np.array(support), b_s.copy(), design.intercept(b)))
    return GreedyResult(b, design.intercept(b), support, obj, steps)


def _lad_candidate_scores(X, Xa, q, d, r, b, pen, l1, support, in_s):
    """Exact LAD scores where they can matter; ``-inf`` where pruned.

    Every feature outside the support gets cheap bounds of its loss decrease
    (tangents of the 1-D loss, starting from 0 and the least-squares step
    ``c_j / d_j``, see :func:`lad_bounds`); exact scores are computed in decreasing order of the
    upper bounds until no bound beats the best score known.
    """
    from ._omp_scores import lad_bounds, lad_scores  # numba: imported on first fit
    p = b.shape[0]
    scores = np.full(p, -np.inf)
    best = 0.0
    if support:
        s_idx = np.asarray(support, dtype=np.int64)
        lad_scores(*Xa, q, r, b, pen, l1, s_idx, scores)
        best = float(scores[s_idx].max())
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d > 0, np.asarray(safe_sparse_dot(X.T, q * r)).ravel() / d, 0.0)
    upper = np.full(p, -np.inf)
    lower = np.full(p, -np.inf)
    cand = np.flatnonzero(~in_s)
    # the penalty only lowers the score: l0 pays alpha w^2 on entry, l1
    # alpha w |u| (the upper bounds ignore it, the lower ones are at u = t)
    shift = np.zeros(p) if l1 else pen
    lpen = pen if l1 else np.zeros(p)
    for n_eval in _LAD_EVALS:
        lad_bounds(*Xa, q, r, t, lpen, n_eval, cand, upper, lower)
        lo = lower[cand] - shift[cand]
        best = max(best, float(lo.max(initial=0.0)))
        cand = cand[upper[cand] - shift[cand] >= best]
        if cand.size <= _LAD_BLOCK:
            break
    ub = upper[cand] - shift[cand]
    order = np.argsort(-ub, kind="stable")
    cand, ub = cand[order], ub[order]
    for start in range(0, cand.size, _LAD_BLOCK):
        block = cand[start:start + _LAD_BLOCK]
        block = block[ub[start:start + _LAD_BLOCK] >= best]
        if block.size == 0:
            break
        lad_scores(*Xa, q, r, b, pen, l1, block, scores)
        best = max(best, float(scores[block].max()))
    return scores


def _greedy_lad(X, y, q, weights, alpha, pen, penalty, fit_intercept, max_atoms, record):
    from ._omp_refit import LADRefit  # numba: imported on first fit
    # The intercept is an unpenalised column of the l1 refit; the selection
    # step moves one coefficient with the intercept held fixed.
    p = X.shape[1]
    if sp.issparse(X):
        Xa = (np.empty((2, 2), order="F"), X.data, X.indices, X.indptr, True)
    else:
        Xa = (X, np.empty(0), np.empty(0, dtype=np.int32), np.empty(0, dtype=np.int32),
              False)
    d = (np.asarray(X.multiply(X).T @ q).ravel() if sp.issparse(X)
         else np.einsum("ij,ij,i->j", X, X, q))
    refit = LADRefit(y, q, fit_intercept, max_atoms)
    b0 = refit.intercept_and_coef()[0]
    r = y - b0
    b = np.zeros(p)
    in_s = np.zeros(p, dtype=bool)

    def objective():
        return float(q @ np.abs(r)) + _penalty_value(penalty, alpha, weights, b)

    obj = [objective()]
    floor = _NO_DECREASE * obj[0]
    support = []
    steps = []
    for _ in range(max_atoms):
        scores = _lad_candidate_scores(X, Xa, q, d, r, b, pen, penalty == "l1",
                                       support, in_s)
        j = int(np.argmax(scores))
        if not scores[j] > floor or in_s[j]:
            break
        support.append(j)
        in_s[j] = True
        col = X[:, [j]].toarray().ravel() if sp.issparse(X) else X[:, j]
        b_s, b0 = refit.add(col)
        b[support] = b_s
        r = y - np.asarray(safe_sparse_dot(X[:, support], b_s)).ravel() - b0
        obj.append(objective())
        if record:
            steps.append((np.array(support), b_s.copy(), b0))
    return GreedyResult(b, b0, support, obj, steps)


def weighted_omp(X, y, *, loss="lasso", penalty="l0", alpha=0.0, weights=None,
                 n_nonzero_coefs=None, fit_intercept=True, sample_weight=None):
    """Loss-function-based weighted OMP as a function (see :class:`WeightedOMP`).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    loss, penalty, alpha, weights, n_nonzero_coefs, fit_intercept
        As in :class:`WeightedOMP`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights; the loss is normalised by their sum.

    Returns
    -------
    coef : ndarray of shape (n_features,)
    intercept : float
    support : ndarray of int
        Selected features, in the order of selection.
    objective_path : ndarray of shape (len(support) + 1,)
        Objective of the starting model and after each step.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import weighted_omp
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20))
    >>> y = 3 * X[:, 4] - 2 * X[:, 11]
    >>> coef, intercept, support, objective = weighted_omp(X, y, n_nonzero_coefs=2)
    >>> support.tolist(), coef[[4, 11]].round(6).tolist()
    ([4, 11], [3.0, -2.0])
    """
    X, y, q = validate_path_data(X, y, sample_weight)
    max_atoms = check_omp_params(loss, penalty, alpha, n_nonzero_coefs, fit_intercept,
                                 X.shape[1])
    w = check_feature_weights(weights, X.shape[1])
    res = greedy_omp(_as_float64(X), y, q, w, float(alpha), loss, penalty,
                     fit_intercept, max_atoms)
    return (res.coef, float(res.intercept), np.array(res.support, dtype=np.intp),
            np.array(res.objective_path))


class WeightedOMP(PenalisedLinearRegressor):
    r"""Loss-function-based weighted orthogonal matching pursuit.

    The greedy counterpart of :class:`WeightedLasso`, :class:`SqrtLasso` and
    :class:`LADLasso` (Taheri et al., "The greedy side of the LASSO"). With
    the objective

    .. math::

        G(b) = \mathrm{loss}(y - X b - b_0) + \alpha\,\mathrm{pen}(b),

    where the loss is :math:`\frac{1}{2n}\|r\|_2^2` (``"lasso"``),
    :math:`\frac{1}{\sqrt n}\|r\|_2` (``"sqrt_lasso"``) or
    :math:`\frac1n \|r\|_1` (``"lad_lasso"``), exactly as in the convex
    estimators (so one ``alpha`` means the same thing in both), and the
    penalty is :math:`\sum_j w_j |b_j|` (``"l1"``) or
    :math:`\sum_{j : b_j \ne 0} w_j^2` (``"l0"``), each step

    1. computes for every feature the exact decrease of :math:`G` over that
       one coordinate, :math:`R_j = G(b) - \min_t G(b + t e_j)` (closed forms
       for the least-squares losses, a weighted median for LAD, valid for
       columns of any norm; see :mod:`skreg.linear_model._omp_scores`);
    2. stops if :math:`\max_j R_j` is zero (below :math:`10^{-12}` times the
       starting objective: rounding error), if the best feature is already selected (the
       iterates would not move), or if ``n_nonzero_coefs`` features are
       selected;
    3. adds the best feature and refits on the support *without* penalty:
       least squares (incremental Cholesky) for ``"lasso"`` and
       ``"sqrt_lasso"``, an exact l1 regression for ``"lad_lasso"``.

    With ``loss="lasso"``, ``penalty="l0"`` and ``alpha=0`` this is plain
    OMP; on unit-norm columns it selects the same features, in the same order,
    as ``sklearn.linear_model.OrthogonalMatchingPursuit``. The least-squares
    refit also stops when the new column is numerically dependent on the
    support.

    Intercept: for the least-squares losses it is profiled out by (weighted)
    centring of ``X`` and ``y``, so the scores are the decreases with the
    intercept re-optimised too. For ``"lad_lasso"`` the model starts at the
    weighted median of ``y``, the scores move one coefficient with the
    intercept fixed, and the intercept is an unpenalised column of every l1
    refit.

    With ``"lad_lasso"`` the l1 refit interpolates (at least) as many samples
    as it has free coefficients, and the one-coordinate decrease of the l1
    loss can vanish for every feature before ``n_nonzero_coefs`` is reached:
    the greedy rule then stops by itself.

    With ``penalty="l0"`` the objective never increases along the steps
    (the refit minimises the loss on a support of fixed penalty). With
    ``"l1"`` the unpenalised refit may increase the l1 norm, so
    ``objective_path_`` need not be monotone.

    Parameters
    ----------
    loss : {"lasso", "sqrt_lasso", "lad_lasso"}, default="lasso"
        Data term of the objective.
    penalty : {"l0", "l1"}, default="l0"
        Penalty of the objective.
    alpha : float, default=0.0
        Regularisation strength, non-negative.
    weights : array-like of shape (n_features,), default=None
        Non-negative feature weights (``None``: all ones). A small weight
        makes a feature cheap to select (prior knowledge of the support).
    n_nonzero_coefs : int, default=None
        Largest number of selected features (``None``: 10% of the features,
        at least one, as in scikit-learn).
    fit_intercept : bool, default=True
        Whether to fit an intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients (in the dtype of ``X``).
    intercept_ : float
        Intercept (0 when ``fit_intercept=False``).
    support_ : ndarray of int
        Selected features, in the order of selection.
    n_iter_ : int
        Number of steps (``len(support_)``).
    n_nonzero_coefs_ : int
        The budget used.
    objective_path_ : ndarray of shape (n_iter + 1,)
        Objective :math:`G` of the starting model (intercept only) and after
        each step.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    WeightedOMPCV : Cross-validated ``alpha`` and number of features.
    weighted_omp : The same as a function.

    References
    ----------
    S. Taheri, A. Berk, S. Brugiapaglia et al., "The greedy side of the LASSO:
    new algorithms for weighted sparse recovery via loss function-based
    orthogonal matching pursuit", arXiv:2303.00844.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import WeightedOMP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30))
    >>> y = 2 * X[:, 3] - X[:, 7] + 0.01 * rng.standard_normal(60)
    >>> y[:5] += 50  # gross outliers
    >>> model = WeightedOMP(loss="lad_lasso", alpha=0.01).fit(X, y)
    >>> model.support_.tolist()
    [3, 7]
    >>> model.coef_[[3, 7]].round(2).tolist()
    [2.0, -1.0]
    """

    def __init__(self, *, loss="lasso", penalty="l0", alpha=0.0, weights=None,
                 n_nonzero_coefs=None, fit_intercept=True):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.weights = weights
        self.n_nonzero_coefs = n_nonzero_coefs
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight=None):
        """Run the greedy selection and refits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (sparse input is used as CSC, never densified).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights; the loss is normalised by their sum.

        Returns
        -------
        self : object
        """
        X, y, q = validate_fit_data(self, X, y, sample_weight)
        max_atoms = check_omp_params(self.loss, self.penalty, self.alpha,
                                     self.n_nonzero_coefs, self.fit_intercept, X.shape[1])
        w = check_feature_weights(self.weights, X.shape[1])
        res = greedy_omp(_as_float64(X), y, q, w, float(self.alpha), self.loss,
                         self.penalty, self.fit_intercept, max_atoms)
        self._set_greedy(res, X.dtype, max_atoms)
        return self

    def _set_greedy(self, res, dtype, max_atoms):
        self.coef_ = res.coef.astype(dtype)
        self.intercept_ = float(res.intercept)
        self.support_ = np.array(res.support, dtype=np.intp)
        self.n_iter_ = len(res.support)
        self.n_nonzero_coefs_ = max_atoms
        self.objective_path_ = np.array(res.objective_path)
