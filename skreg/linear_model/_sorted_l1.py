r"""The sorted-L1 norm: value, dual norm, exact proximal operator, strong rule.

For a non-increasing, non-negative sequence :math:`\lambda`,

.. math::

    J_\lambda(b) = \sum_j \lambda_j |b|_{(j)}, \qquad
    J^*_\lambda(g) = \max_k \frac{\sum_{i \le k} |g|_{(i)}}{\sum_{i \le k} \lambda_i},

with :math:`|b|_{(1)} \ge |b|_{(2)} \ge \dots` the sorted magnitudes.
:math:`J^*_\lambda(g) \le 1` says that :math:`g` lies in the subdifferential of
:math:`J_\lambda` at zero, which gives ``alpha_max`` and the duality gap of
SLOPE. The functions here are shared by the SLOPE, Group SLOPE and
Sparse-group SLOPE solvers; the ``_``-prefixed numba kernels are what the
solvers call, the public wrappers validate their input.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _prox_sorted_abs(w, lam, out):
    """Prox of the sorted-L1 norm on sorted data (Bogdan et al. 2015, alg. 4).

    ``w`` holds magnitudes sorted in decreasing order. The solution of
    ``min_x (1/2)||x - w||^2 + sum_i lam_i x_i`` over non-increasing ``x``
    is the isotonic (non-increasing) regression of ``w - lam``, clipped at 0.
    A stack of blocks is merged while a block's mean is not smaller than
    the mean of the block before it (pool adjacent violators), which makes
    the whole pass linear. ``out`` receives the result in the same order.
    """
    p = w.shape[0]
    start = np.empty(p, dtype=np.int64)
    total = np.empty(p)
    top = -1
    for i in range(p):
        top += 1
        start[top] = i
        total[top] = w[i] - lam[i]
        while top > 0:
            len_prev = start[top] - start[top - 1]
            len_top = i + 1 - start[top]
            # mean(prev) <= mean(top), cross-multiplied (lengths are positive).
            if total[top - 1] * len_top > total[top] * len_prev:
                break
            total[top - 1] += total[top]
            top -= 1
    end = p
    for b in range(top, -1, -1):
        v = total[b] / (end - start[b])
        v = max(v, 0.0)
        for i in range(start[b], end):
            out[i] = v
        end = start[b]


@njit(cache=True, nogil=True)
def _prox_sorted_l1(z, lam, out):
    """``out = argmin_x (1/2)||x - z||^2 + J_lam(x)`` for any ``z`` (unsorted)."""
    p = z.shape[0]
    a = np.abs(z)
    order = np.argsort(-a)
    w = np.empty(p)
    for i in range(p):
        w[i] = a[order[i]]
    x = np.empty(p)
    _prox_sorted_abs(w, lam, x)
    for i in range(p):
        j = order[i]
        out[j] = x[i] if z[j] >= 0.0 else -x[i]


def _check_vector(v, name):
    try:
        # Contiguous: one compiled specialisation of the kernels serves all.
        v = np.ascontiguousarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers.") from exc
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}.")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    return v


def _check_sequence(lam, size, name="lam"):
    lam = _check_vector(lam, name)
    if lam.shape[0] != size:
        raise ValueError(f"{name} must have length {size}, got {lam.shape[0]}.")
    if np.any(lam < 0) or np.any(np.diff(lam) > 0):
        raise ValueError(f"{name} must be non-negative and non-increasing.")
    return lam


def prox_sorted_l1(z, lam):
    r"""Exact proximal operator of the sorted-L1 norm.

    .. math::

        \operatorname{prox}_{J_\lambda}(z) = \arg\min_x \tfrac12 \|x - z\|_2^2
        + \sum_j \lambda_j |x|_{(j)}

    computed in :math:`O(p \log p)` (a sort, then one stack-based pooling pass).
    To get :math:`\operatorname{prox}_{t J_\lambda}` pass ``t * lam``.

    Parameters
    ----------
    z : array-like of shape (p,)
    lam : array-like of shape (p,)
        Non-negative, non-increasing.

    Returns
    -------
    x : ndarray of shape (p,)
        A new array: equal magnitudes of ``x`` form the clusters of SLOPE.

    Examples
    --------
    >>> prox_sorted_l1([3.0, -1.0, 2.5], [1.0, 0.5, 0.5])
    array([ 2. , -0.5,  2. ])
    """
    z = _check_vector(z, "z")
    lam = _check_sequence(lam, z.shape[0])
    out = np.empty_like(z)
    if z.shape[0]:
        _prox_sorted_l1(z, lam, out)
    return out


def sorted_l1_norm(b, lam):
    r"""Sorted-L1 norm :math:`\sum_j \lambda_j |b|_{(j)}`.

    Examples
    --------
    >>> sorted_l1_norm([1.0, -3.0], [2.0, 1.0])
    7.0
    """
    b = _check_vector(b, "b")
    lam = _check_sequence(lam, b.shape[0])
    return float(np.sort(np.abs(b))[::-1] @ lam)


def sorted_l1_dual_norm(g, lam):
    r"""Dual norm :math:`\max_k \sum_{i\le k} |g|_{(i)} / \sum_{i \le k} \lambda_i`.

    ``lam[0]`` must be positive (the ratio is then defined for every ``k``).

    Examples
    --------
    >>> sorted_l1_dual_norm([1.0, -3.0], [2.0, 1.0])
    1.5
    """
    g = _check_vector(g, "g")
    lam = _check_sequence(lam, g.shape[0])
    if g.shape[0] == 0:
        return 0.0
    if lam[0] <= 0:
        raise ValueError("lam[0] must be positive for the dual norm to be finite.")
    return _dual_norm_sorted(np.sort(np.abs(g))[::-1], lam)


def _dual_norm_sorted(c_sorted, lam):
    return float(np.max(np.cumsum(c_sorted) / np.cumsum(lam)))


def strong_set_size(c_sorted, lam_prev_scaled, lam_next_scaled):
    r"""Size of the strong set of Larsson, Bogdan and Wallin (2020, alg. 1).

    The gradient moves at most as fast as the penalty along the path (the
    unit-slope bound), so at the next step the sorted magnitudes of the
    gradient are predicted to be at most
    :math:`c + \lambda^{prev} - \lambda^{next}`. Algorithm 1 of the paper
    then scans :math:`t = c + \lambda^{prev} - 2\lambda^{next}`, growing a
    block until its sum is non-negative and accepting it. A block is
    accepted exactly when the partial sum :math:`S_k = \sum_{i \le k} t_i`
    reaches its running maximum (started at :math:`S_0 = 0`), so the
    predicted active set is the top ``k`` of ``c`` with ``k`` the last index
    attaining :math:`\max_k S_k`. Nothing here is specific to single
    features: ``c`` may hold group gradient norms.

    With ``lam_prev_scaled == lam_next_scaled`` this is the KKT check: it
    returns the number of leading entries of ``c`` that violate the
    zero-subdifferential condition (0 when ``c`` lies in the dual ball).

    Parameters
    ----------
    c_sorted : ndarray of shape (m,)
        Gradient magnitudes at the previous solution, sorted decreasing.
    lam_prev_scaled, lam_next_scaled : ndarray of shape (m,)
        Penalty sequences (times alpha) of the previous and the next step.

    Returns
    -------
    k : int
        The strong set is the ``k`` largest entries of ``c``.

    Examples
    --------
    >>> import numpy as np
    >>> lam = np.array([3.0, 2.0, 1.0])
    >>> strong_set_size(np.array([2.5, 2.0, 0.1]), lam, 0.8 * lam)
    2
    """
    t = np.asarray(c_sorted, dtype=np.float64) + lam_prev_scaled - 2.0 * lam_next_scaled
    partial = np.empty(t.shape[0] + 1)
    partial[0] = 0.0
    np.cumsum(t, out=partial[1:])
    # Last index attaining the maximum (ties go to the larger set, as the
    # ">= 0" test of the scan does).
    return int(partial.shape[0] - 1 - np.argmax(partial[::-1]))
