"""Cross-validated weighted OMP: ``alpha`` and the number of features."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot

from ..utils._validation import check_bool, check_feature_weights
from ._base import PenalisedLinearRegressor, validate_fit_data
from ._omp import LOSSES, PENALTIES, WeightedOMP, _as_float64, greedy_omp


def omp_alpha_max(X, y, q, weights, loss, penalty, fit_intercept):
    """Smallest ``alpha`` at which the first step of the OMP selects nothing.

    From the starting model (intercept only), the first score of feature
    ``j`` vanishes once ``alpha`` reaches: ``gain_j / w_j^2`` for l0
    (``gain_j`` its loss decrease); for l1, ``|c_j| / w_j`` (lasso),
    ``|c_j| / (rho w_j)`` (sqrt_lasso) and ``(|s_j| - z_j)_+ / w_j`` (LAD, with
    ``s_j = sum_{r_i != 0} q_i x_ij sign(r_i)`` and
    ``z_j = sum_{r_i = 0} q_i |x_ij|``), the subgradient conditions of a zero
    coefficient. Features with ``w_j = 0`` are free and do not count.
    """
    from ._omp_refit import lad_intercept  # numba: imported on first fit
    from ._omp_scores import selection_scores

    pos = weights > 0
    p = X.shape[1]
    zero = np.zeros(p)
    b0 = lad_intercept(y, q) if loss == "lad_lasso" and fit_intercept else 0.0
    if penalty == "l0":
        gain = selection_scores(X, y, q, zero, b0, weights, 0.0, loss, "l0",
                                fit_intercept)
        ratio = gain[pos] / weights[pos] ** 2
    elif loss == "lad_lasso":
        r = y - b0
        s = np.asarray(safe_sparse_dot(X.T, q * np.sign(r))).ravel()
        z = np.asarray(safe_sparse_dot(abs(X).T, q * (r == 0))).ravel()
        ratio = np.maximum(np.abs(s) - z, 0.0)[pos] / weights[pos]
    else:
        yc = y - q @ y if fit_intercept else y
        c = np.asarray(safe_sparse_dot(X.T, q * yc)).ravel()
        scale = np.sqrt(q @ yc ** 2) if loss == "sqrt_lasso" else 1.0
        ratio = np.abs(c[pos]) / (weights[pos] * max(scale, np.finfo(float).tiny))
    return float(ratio.max(initial=0.0))


def _fold_losses(X, y, q, weights, alphas, loss, penalty, fit_intercept, max_atoms,
                 train, test):
    """Held-out loss of the models with 1..max_atoms features, for every alpha."""
    Xt = X[train]
    Xt = _as_float64(sp.csc_matrix(Xt) if sp.issparse(Xt) else Xt)
    q_train = q[train] / q[train].sum()
    q_test = q[test] / q[test].sum()
    X_test, y_test = X[test], y[test]
    out = np.empty((len(alphas), max_atoms))
    for a, alpha in enumerate(alphas):
        res = greedy_omp(Xt, y[train], q_train, weights, float(alpha), loss, penalty,
                         fit_intercept, max_atoms, record=True)
        if res.steps:
            coefs = np.zeros((X.shape[1], len(res.steps)))
            for k, (support, values, _) in enumerate(res.steps):
                coefs[support, k] = values
            pred = (np.asarray(safe_sparse_dot(X_test, coefs))
                    + np.array([s[2] for s in res.steps]))
        else:
            pred = np.full((len(test), 1), res.intercept)
        resid = y_test[:, None] - pred
        err = q_test @ (np.abs(resid) if loss == "lad_lasso" else resid ** 2)
        # a run that stopped early keeps its last model for the larger budgets
        out[a, :err.size] = err
        out[a, err.size:] = err[-1]
    return out


class WeightedOMPCV(PenalisedLinearRegressor):
    r"""Weighted OMP with ``alpha`` and the number of features chosen by
    cross-validation.

    For every ``alpha`` of the grid and every fold, one greedy run with
    ``max_n_nonzero_coefs`` steps gives the models with
    :math:`1, 2, \dots` features (a run's first :math:`k` steps are the
    run with budget :math:`k`); the pair ``(alpha, n_nonzero_coefs)`` with the
    lowest mean held-out loss wins (squared error for the ``"lasso"`` and
    ``"sqrt_lasso"`` losses, absolute error for ``"lad_lasso"``; ties go to
    the larger ``alpha``, then the fewer features). The model is refitted on
    all the data. See :class:`WeightedOMP` for the objective.

    Parameters
    ----------
    loss : {"lasso", "sqrt_lasso", "lad_lasso"}, default="lasso"
    penalty : {"l0", "l1"}, default="l0"
    alphas : int or array-like, default=10
        Number of alphas on a log grid from ``alpha_max`` (the smallest alpha
        at which nothing is selected) down to ``eps * alpha_max``, or the
        alphas themselves (non-negative; 0 is plain greedy selection).
    eps : float, default=1e-3
        Length of the automatic grid.
    weights : array-like of shape (n_features,), default=None
        Non-negative feature weights (see :class:`WeightedOMP`).
    max_n_nonzero_coefs : int, default=None
        Largest number of features tried (``None``: 10% of the features but
        at least 5, capped at the number of features, as scikit-learn's
        ``OrthogonalMatchingPursuitCV``).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn (``None``: 5-fold).
    n_jobs : int, default=None
        Number of folds computed in parallel (threads).

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    n_nonzero_coefs_ : int
        The chosen number of features (budget of the final fit).
    alphas_ : ndarray of shape (n_alphas,)
        The grid.
    cv_loss_path_ : ndarray of shape (n_alphas, max_n_nonzero_coefs, n_folds)
        Held-out loss for every alpha, number of features and fold.
    coef_, intercept_, support_, n_iter_, objective_path_
        Of the final fit on all the data (see :class:`WeightedOMP`).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import WeightedOMPCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 40))
    >>> y = X[:, 0] - 2 * X[:, 5] + 0.1 * rng.standard_normal(100)
    >>> model = WeightedOMPCV(loss="sqrt_lasso", penalty="l1", alphas=5).fit(X, y)
    >>> sorted(model.support_.tolist())
    [0, 5]
    """

    def __init__(self, *, loss="lasso", penalty="l0", alphas=10, eps=1e-3, weights=None,
                 max_n_nonzero_coefs=None, fit_intercept=True, cv=None, n_jobs=None):
        self.loss = loss
        self.penalty = penalty
        self.alphas = alphas
        self.eps = eps
        self.weights = weights
        self.max_n_nonzero_coefs = max_n_nonzero_coefs
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.n_jobs = n_jobs

    def _check_params(self, n_features):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}.")
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {self.penalty!r}.")
        check_bool(self.fit_intercept, "fit_intercept")
        if self.max_n_nonzero_coefs is None:
            return min(max(int(0.1 * n_features), 5), n_features)
        check_scalar(self.max_n_nonzero_coefs, "max_n_nonzero_coefs", numbers.Integral,
                     min_val=1)
        return min(int(self.max_n_nonzero_coefs), n_features)

    def _grid(self, X, y, q, weights):
        alphas = self.alphas
        if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
            check_scalar(alphas, "alphas", numbers.Integral, min_val=1)
            check_scalar(self.eps, "eps", numbers.Real, min_val=0.0, max_val=1.0,
                         include_boundaries="neither")
            top = omp_alpha_max(X, y, q, weights, self.loss, self.penalty,
                                self.fit_intercept)
            if top <= 0:
                return np.zeros(1)
            return top * np.logspace(0, np.log10(self.eps), alphas)
        try:
            grid = np.array(alphas, dtype=np.float64).ravel()
        except (TypeError, ValueError) as exc:
            raise TypeError("alphas must be an int or an array of numbers.") from exc
        if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
            raise ValueError("alphas must be a non-empty array of finite non-negative "
                             "numbers.")
        return np.sort(grid)[::-1]

    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha`` and the number of features, then refit on all data.

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
        X, y, q = validate_fit_data(self, X, y, sample_weight)
        max_atoms = self._check_params(X.shape[1])
        weights = check_feature_weights(self.weights, X.shape[1])
        dtype = X.dtype
        X = _as_float64(X)
        grid = self._grid(X, y, q, weights)
        # Imported here: only the CV estimator needs them.
        from joblib import Parallel, delayed
        from sklearn.model_selection import check_cv

        folds = list(check_cv(self.cv).split(X, y))
        losses = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_losses)(X, y, q, weights, grid, self.loss, self.penalty,
                                  self.fit_intercept, max_atoms, train, test)
            for train, test in folds
        )
        path = np.stack(losses, axis=-1)
        a, k = np.unravel_index(int(np.argmin(path.mean(axis=-1))), path.shape[:2])
        self.alphas_ = grid
        self.cv_loss_path_ = path
        self.alpha_ = float(grid[a])
        res = greedy_omp(X, y, q, weights, self.alpha_, self.loss, self.penalty,
                         self.fit_intercept, int(k) + 1)
        WeightedOMP._set_greedy(self, res, dtype, int(k) + 1)
        return self
