"""From samples to optimal-transport problems: cost matrices and distances."""

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_array

from ._validation import check_reg

NORMALIZATIONS = (None, "max", "median", "mean")
PENALTIES = ("entropy", "l2", "sparsity")


def _check_samples(X, name, n_features=None):
    X = check_array(X, dtype=np.float64, input_name=name)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but the other sample has "
            f"{n_features}; both must be described by the same columns.")
    return X


def normalize_cost(M, normalize):
    """Divide ``M`` by its max, median or mean (``None``: unchanged)."""
    if normalize not in NORMALIZATIONS:
        raise ValueError(
            f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}.")
    if normalize is None:
        return M
    scale = {"max": np.max, "median": np.median, "mean": np.mean}[normalize](M)
    # All-zero costs (identical samples) have no scale: leave them as they are.
    return M / scale if scale > 0 else M


def cost_matrix(X, Y=None, *, metric="sqeuclidean", normalize=None):
    """Ground cost between the rows of two samples.

    .. math::

        M_{ij} = d(x_i, y_j) / s,

    with ``d`` the ``metric`` (``"sqeuclidean"``: :math:`\\|x_i - y_j\\|_2^2`)
    and ``s`` the ``normalize`` scale of ``M`` (1 for ``None``).

    Parameters
    ----------
    X : array-like of shape (n, d)
        Source sample.
    Y : array-like of shape (m, d), default=None
        Target sample (None: ``X``).
    metric : str or callable, default="sqeuclidean"
        ``"sqeuclidean"`` (computed with BLAS and clipped at 0) or any metric
        accepted by :func:`sklearn.metrics.pairwise_distances`
        (``"euclidean"``, ``"cityblock"``, ``"cosine"``, a callable...).
    normalize : {None, "max", "median", "mean"}, default=None
        Divide the costs by their maximum, median or mean, so that an
        entropic or quadratic ``reg`` has the same meaning whatever the units
        of the data (``"max"`` puts the cost in ``[0, 1]``). All-zero costs
        are left unchanged.

    Returns
    -------
    M : ndarray of shape (n, m)

    Examples
    --------
    >>> from skreg.ot import cost_matrix
    >>> cost_matrix([[0.0, 0.0], [1.0, 0.0]], [[0.0, 2.0]])
    array([[4.],
           [5.]])
    >>> cost_matrix([[0.0, 0.0], [1.0, 0.0]], [[0.0, 2.0]], normalize="max")
    array([[0.8],
           [1. ]])
    """
    X = _check_samples(X, "X")
    Y = X if Y is None else _check_samples(Y, "Y", X.shape[1])
    if isinstance(metric, str) and metric == "sqeuclidean":
        M = euclidean_distances(X, Y, squared=True)
        np.maximum(M, 0.0, out=M)
    else:
        M = pairwise_distances(X, Y, metric=metric)
    return normalize_cost(np.asarray(M, dtype=np.float64), normalize)


def solve_regularized(a, b, M, reg, penalty, *, max_nnz=None, method=None,
                      max_iter=None, tol=None):
    """Dispatch to the solver of ``penalty``; ``None`` options take its defaults."""
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}.")
    options = {k: v for k, v in {"max_iter": max_iter, "tol": tol}.items() if v is not None}
    if penalty == "entropy":
        from ._sinkhorn import sinkhorn

        if method is not None:
            options["method"] = method
        return sinkhorn(a, b, M, reg, **options)
    if method is not None:
        raise ValueError(
            f"method applies to penalty='entropy' only, got method={method!r} "
            f"with penalty={penalty!r}.")
    if penalty == "l2":
        from ._quadratic import quadratic_ot

        return quadratic_ot(a, b, M, reg, **options)
    from ._sparsity_constrained import sparsity_constrained_ot

    if max_nnz is None:
        raise ValueError("penalty='sparsity' needs max_nnz (an int >= 1).")
    return sparsity_constrained_ot(a, b, M, reg, max_nnz, **options)


def wasserstein_distance(X, Y, *, a=None, b=None, reg=1e-2, penalty="entropy",
                         metric="sqeuclidean", normalize=None, max_nnz=None,
                         max_iter=None, tol=None):
    """Regularised Wasserstein-type transport cost between two samples.

    Returns :math:`\\langle M, P\\rangle`, the ground cost of the plan
    :math:`P` solving the regularised problem

    .. math::

        \\min_{P \\ge 0,\\ P 1 = a,\\ P^T 1 = b} \\langle M, P\\rangle
            + \\mathrm{reg}\\,\\Omega(P),
        \\qquad M = \\texttt{cost\\_matrix}(X, Y, \\text{metric}, \\text{normalize}),

    with :math:`\\Omega` the negative entropy (``penalty="entropy"``,
    :func:`sinkhorn`), :math:`\\frac12\\|P\\|_F^2` (``"l2"``,
    :func:`quadratic_ot`) or the latter with at most ``max_nnz`` non-zeros
    per column (``"sparsity"``, :func:`sparsity_constrained_ot`). With
    ``metric="sqeuclidean"`` and no normalisation this approximates the
    squared 2-Wasserstein distance :math:`W_2^2` (take the square root for
    :math:`W_2`); the approximation is from above and tightens as
    ``reg -> 0``. The regulariser is not included in the returned value.
    For the plan and the potentials, call :func:`cost_matrix` and a solver.

    Parameters
    ----------
    X : array-like of shape (n, d)
        First sample (rows are points).
    Y : array-like of shape (m, d)
        Second sample, same columns as ``X``.
    a, b : array-like of shape (n,) and (m,), default=None
        Weights of the points (None: uniform), with equal total mass.
    reg : float, default=1e-2
        Regularisation strength; its scale is that of the (normalised) cost.
    penalty : {"entropy", "l2", "sparsity"}, default="entropy"
    metric : str or callable, default="sqeuclidean"
        Ground metric, see :func:`cost_matrix`.
    normalize : {None, "max", "median", "mean"}, default=None
        Cost normalisation, see :func:`cost_matrix`; the returned value is
        then in the normalised units.
    max_nnz : int, default=None
        Non-zeros per column for ``penalty="sparsity"`` (required there).
    max_iter, tol : default=None
        Passed to the solver (None: its defaults).

    Returns
    -------
    distance : float

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.ot import wasserstein_distance
    >>> X = np.array([[0.0], [1.0]])
    >>> round(wasserstein_distance(X, X + 3.0, reg=1e-3, penalty="l2"), 6)
    9.0
    """
    X = _check_samples(X, "X")
    Y = _check_samples(Y, "Y", X.shape[1])
    reg = check_reg(reg)
    M = cost_matrix(X, Y, metric=metric, normalize=normalize)
    result = solve_regularized(a, b, M, reg, penalty, max_nnz=max_nnz,
                               max_iter=max_iter, tol=tol)
    return result.cost
