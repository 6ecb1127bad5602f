"""Numba kernels of the square-root Lasso solver (working-set coordinate descent).

Same conventions as ``_kernels``: the design comes as ``X, data, indices,
indptr, sparse, X_mean, q, uniform`` (``LinearDesign.kernel_args``) and the
centred residual is stored as ``r`` plus a scalar ``shift[0]``.

Coordinate descent here minimises the square-root objective itself,
``sqrt(sum_i q_i r_i^2) + sum_j pen_j |b_j|``, one coordinate at a time and
exactly: along coordinate ``j`` the data term is
``sqrt(L_j (b_j - z)^2 + s^2)`` (``z``: the least-squares value of ``b_j``,
``s``: the residual norm there), a hyperbola, whose sum with ``pen_j |b_j|``
has a closed-form minimiser. No noise level is searched for: the running
``||r||_q`` plays its part.
"""

import numpy as np
from numba import njit

from ._kernels import _FASTMATH, _anderson, _corr, _corr_exact, _update_residual


@njit(cache=True, nogil=True, inline="always")
def _sqrt_coord(b_old, c, L, rr, pj):
    """Exact minimiser of ``sqrt(||r - (t - b_old) x_j||_q^2) + pj |t|`` over ``t``.

    ``c = x_j^T Q r``, ``L = x_j^T Q x_j > 0``, ``rr = ||r||_q^2``. Returns
    the minimiser and the squared residual norm there.
    """
    z = b_old + c / L
    s2 = max(rr - c * c / L, 0.0)
    if pj == 0.0:
        return z, s2
    # 0 is optimal iff |d/dt sqrt(L (t - z)^2 + s2)| at t = 0 is <= pj;
    # in particular whenever pj^2 >= L (the slope never exceeds sqrt(L)).
    if L * L * z * z <= pj * pj * (L * z * z + s2):
        return 0.0, L * z * z + s2
    d = pj * np.sqrt(s2 / (L * (L - pj * pj)))
    t = z - d if z > 0.0 else z + d
    return t, L * d * d + s2


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _sq_norm(q, r, s):
    acc = 0.0
    for i in range(r.shape[0]):
        v = r[i] + s
        acc += q[i] * v * v
    return acc


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def ws_gap(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b, ws,
           lips, pen):
    """Duality gap of the square-root Lasso restricted to the working set ``ws``.

    Coefficients outside ``ws`` are taken as fixed (at zero in practice).
    Unpenalised columns are left out of the dual scaling; their optimality
    defect enters as ``sum_j c_j^2 / (L_j ||r||)``, about twice what a step
    on them would still gain. A stopping rule, not a certificate (the outer
    loop certifies on every feature).
    """
    s = shift[0]
    rr = 0.0
    yr = 0.0
    for i in range(r.shape[0]):
        v = r[i] + s
        rr += q[i] * v * v
        yr += q[i] * y[i] * v
    norm = np.sqrt(rr)
    pen_sum = 0.0
    ratio = 0.0
    unpen = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        if lips[j] == 0.0:
            continue
        c = _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, s, j)
        pj = pen[j]
        if pj > 0.0:
            ratio = max(ratio, abs(c) / pj)
            pen_sum += pj * abs(b[j])
        else:
            unpen += c * c / lips[j]
    if norm == 0.0:
        return pen_sum
    sc = max(1.0, ratio / norm)
    return max(norm + pen_sum - yr / (norm * sc), 0.0) + unpen / norm


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def sqrt_cd_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b, ws,
               lips, pen, max_epochs, tol, K, rr_floor):
    """Exact cyclic coordinate descent of the square-root Lasso on ``ws``.

    Every ``K + 1`` epochs the last iterates are Anderson-extrapolated (kept
    when they lower the objective) and the working-set duality gap
    (:func:`ws_gap`) is compared with ``tol``; it also stops when
    ``||r||_q^2 <= rr_floor`` (the residual collapsing: see the solver).
    ``r``, ``shift`` and ``b`` are updated in place. Returns ``(epochs, gap)``
    (``gap``: the last computed working-set gap, ``inf`` if none was).
    """
    n_ws = ws.shape[0]
    n = r.shape[0]
    last = np.empty((K + 1, n_ws))
    last_r = np.empty((K + 1, n))
    last_shift = np.empty(K + 1)
    r_try = np.empty_like(r)
    b_try = np.empty(n_ws)
    epoch = 0
    gap = np.inf
    period = K + 1 if K > 0 else 5
    while epoch < max_epochs:
        rr = _sq_norm(q, r, shift[0])
        moved = False
        for jj in range(n_ws):
            j = ws[jj]
            L = lips[j]
            if L == 0.0:
                continue
            old = b[j]
            c = _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift[0], j)
            new, rr_new = _sqrt_coord(old, c, L, rr, pen[j])
            if new != old:
                _update_residual(X, data, indices, indptr, sparse, X_mean, r, shift, j,
                                 new - old)
                b[j] = new
                rr = rr_new
                moved = True
        epoch += 1
        if not moved:
            gap = ws_gap(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift,
                         b, ws, lips, pen)
            break  # an exact fixed point: more epochs cannot change anything

        if K > 0:
            slot = (epoch - 1) % (K + 1)
            for jj in range(n_ws):
                last[slot, jj] = b[ws[jj]]
            last_r[slot] = r
            last_shift[slot] = shift[0]
            if slot == K:
                weights, ok = _anderson(last)
                if ok:
                    for jj in range(n_ws):
                        acc = 0.0
                        for k in range(K):
                            acc += weights[k] * last[k + 1, jj]
                        b_try[jj] = acc
                    # The residual is affine in the coefficients.
                    r_try[:] = 0.0
                    s_try = 0.0
                    for k in range(K):
                        r_try += weights[k] * last_r[k + 1]
                        s_try += weights[k] * last_shift[k + 1]
                    obj_try = np.sqrt(_sq_norm(q, r_try, s_try))
                    obj = np.sqrt(_sq_norm(q, r, shift[0]))
                    for jj in range(n_ws):
                        j = ws[jj]
                        obj_try += pen[j] * abs(b_try[jj])
                        obj += pen[j] * abs(b[j])
                    if obj_try < obj:
                        for jj in range(n_ws):
                            b[ws[jj]] = b_try[jj]
                        r[:] = r_try
                        shift[0] = s_try
        if epoch % period != 0:
            continue
        gap = ws_gap(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b,
                     ws, lips, pen)
        if gap <= tol or _sq_norm(q, r, shift[0]) <= rr_floor:
            break
    return epoch, gap


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def corr_subset(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, idx, out):
    """``out[t] = sum_i q_i (X_ij - m_j) (r_i + shift)`` for ``j = idx[t]``.

    The weighted mean of ``r + shift`` is subtracted explicitly (it is zero
    only up to rounding), as ``LinearDesign.corr`` does: the columns of
    ``_kernels.full_corr`` restricted to ``idx``.
    """
    n = r.shape[0]
    rmean = 0.0
    for i in range(n):
        rmean += q[i] * (r[i] + shift)
    for t in range(idx.shape[0]):
        out[t] = _corr_exact(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift,
                             rmean, idx[t])
