"""Numba kernels for coordinate descent on the (centred, weighted) Lasso.

Every kernel takes the design as ``X, data, indices, indptr, sparse, X_mean, q,
uniform`` (see ``LinearDesign.kernel_args``): a dense Fortran ``X`` or the CSC
arrays, a flag telling which one is live, the column means used for implicit
centring, and the normalised sample weights (``uniform`` lets the kernels use
the scalar ``q[0]`` and skip one memory stream). One compiled specialisation
then serves dense and sparse inputs, which keeps first-call compile time low.

Residuals are stored as ``r`` plus a scalar ``shift[0]``; the true centred
residual is ``r + shift``. Dense kernels keep ``shift == 0`` and subtract the
column mean element-wise (exact); sparse kernels cannot touch the zeros of a
column, so the constant part of a centred column update goes into ``shift``.
"""

import numpy as np
from numba import njit

# Re-association lets LLVM vectorise the dot-product reductions (a 4-8x
# speed-up of the inner loop); the inputs are checked finite beforehand, so
# no NaN/inf semantics are relaxed.
_FASTMATH = {"reassoc", "contract", "nsz"}


@njit(cache=True, nogil=True)
def column_sq_norms(X, data, indices, indptr, sparse, X_mean, q, n_features):
    """``L_j = sum_i q_i (X_ij - m_j)^2`` (the coordinate-wise Lipschitz constants)."""
    out = np.zeros(n_features)
    for j in range(n_features):
        m = X_mean[j]
        acc = 0.0
        if sparse:
            for k in range(indptr[j], indptr[j + 1]):
                v = data[k]
                acc += q[indices[k]] * v * v
            acc -= m * m
        else:
            for i in range(X.shape[0]):
                v = X[i, j] - m
                acc += q[i] * v * v
        out[j] = max(acc, 0.0)
    return out


@njit(cache=True, nogil=True)
def residual_from_coef(X, data, indices, indptr, sparse, X_mean, q, uniform, y, b, r, shift):
    """Write the stored residual of ``b`` into ``r`` and ``shift``."""
    n = y.shape[0]
    for i in range(n):
        r[i] = y[i]
    s = 0.0
    for j in range(b.shape[0]):
        bj = b[j]
        if bj == 0.0:
            continue
        m = X_mean[j]
        if sparse:
            for k in range(indptr[j], indptr[j + 1]):
                r[indices[k]] -= bj * data[k]
            s += bj * m
        else:
            for i in range(n):
                r[i] -= bj * (X[i, j] - m)
    shift[0] = s


@njit(cache=True, nogil=True, inline="always", fastmath=_FASTMATH)
def _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, j):
    """``sum_i q_i (X_ij - m_j) (r_i + shift)`` for one column."""
    acc = 0.0
    if sparse:
        if uniform:
            for k in range(indptr[j], indptr[j + 1]):
                acc += data[k] * r[indices[k]]
            acc *= q[0]
        else:
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                acc += q[i] * data[k] * r[i]
        # sum_i q_i X_ij shift = m_j shift; the centring term vanishes
        # because the true residual has zero weighted mean.
        acc += shift * X_mean[j]
    else:
        m = X_mean[j]
        if uniform:
            for i in range(X.shape[0]):
                acc += (X[i, j] - m) * r[i]
            acc *= q[0]
        else:
            for i in range(X.shape[0]):
                acc += q[i] * (X[i, j] - m) * r[i]
    return acc


@njit(cache=True, nogil=True, inline="always", fastmath=_FASTMATH)
def _update_residual(X, data, indices, indptr, sparse, X_mean, r, shift, j, delta):
    if sparse:
        for k in range(indptr[j], indptr[j + 1]):
            r[indices[k]] -= delta * data[k]
        shift[0] += delta * X_mean[j]
    else:
        m = X_mean[j]
        for i in range(X.shape[0]):
            r[i] -= delta * (X[i, j] - m)


@njit(cache=True, nogil=True, inline="always")
def _prox_l1(z, thr, positive):
    if positive:
        return max(z - thr, 0.0)
    if z > thr:
        return z - thr
    if z < -thr:
        return z + thr
    return 0.0


@njit(cache=True, nogil=True)
def _ws_objective(q, r, shift, b, ws, pen):
    s = shift[0]
    acc = 0.0
    for i in range(r.shape[0]):
        v = r[i] + s
        acc += q[i] * v * v
    pen_val = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        pen_val += pen[j] * abs(b[j])
    return 0.5 * acc + pen_val


@njit(cache=True, nogil=True)
def _ws_violation(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift,
                  b, ws, lips, pen, positive):
    """Largest distance of the correlation to the l1 subdifferential on ``ws``."""
    worst = 0.0
    s = shift[0]
    for jj in range(ws.shape[0]):
        j = ws[jj]
        if lips[j] == 0.0:
            continue
        c = _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, s, j)
        bj = b[j]
        if bj > 0.0:
            v = abs(c - pen[j])
        elif bj < 0.0:
            v = abs(c + pen[j])
        elif positive:
            v = max(c - pen[j], 0.0)
        else:
            v = max(abs(c) - pen[j], 0.0)
        worst = max(worst, v)
    return worst


@njit(cache=True, nogil=True)
def _anderson(last):
    """Anderson extrapolation of the iterates stored as rows of ``last``.

    Returns the extrapolated point and a flag telling whether it is usable.
    """
    K = last.shape[0] - 1
    U = last[1:] - last[:-1]
    C = U @ U.T
    reg = 1e-10 * max(np.trace(C), 1e-300)
    for k in range(K):
        C[k, k] += reg
    z = np.linalg.solve(C, np.ones(K))
    sz = z.sum()
    out = np.zeros(last.shape[1])
    if sz == 0.0 or not np.isfinite(sz):
        return out, False
    c = z / sz
    for k in range(K):
        out += c[k] * last[k + 1]
    return out, bool(np.all(np.isfinite(out)))


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def lasso_cd_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
                r, shift, b, ws, lips, pen, positive, max_epochs, tol, K):
    """Cyclic coordinate descent on the working set ``ws``.

    Minimises ``(1/2) sum_i q_i r_i^2 + sum_j pen_j |b_j|`` over ``b[ws]`` (the
    other coefficients stay fixed, in practice at zero). Every ``K + 1`` epochs
    the last iterates are Anderson-extrapolated and the extrapolated point is
    kept when it lowers the objective. ``r``, ``shift`` and ``b`` are updated
    in place. Stops when the largest subdifferential violation on ``ws`` is
    at most ``tol`` or after ``max_epochs`` epochs; returns the epoch count.
    """
    n_ws = ws.shape[0]
    last = np.zeros((K + 1, n_ws))
    r_try = np.empty_like(r)
    shift_try = np.zeros(1)
    b_try = b.copy()
    epoch = 0
    while epoch < max_epochs:
        for jj in range(n_ws):
            j = ws[jj]
            L = lips[j]
            if L == 0.0:
                continue
            old = b[j]
            c = _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift[0], j)
            new = _prox_l1(old + c / L, pen[j] / L, positive)
            if new != old:
                _update_residual(X, data, indices, indptr, sparse, X_mean, r, shift, j, new - old)
                b[j] = new
        epoch += 1

        if K > 0:
            slot = (epoch - 1) % (K + 1)
            for jj in range(n_ws):
                last[slot, jj] = b[ws[jj]]
            if slot != K:
                continue
            extrap, ok = _anderson(last)
            if ok and positive:
                ok = bool(np.all(extrap >= 0.0))
            if ok:
                for jj in range(n_ws):
                    b_try[ws[jj]] = extrap[jj]
                residual_from_coef(X, data, indices, indptr, sparse, X_mean, q, uniform,
                                   y, b_try, r_try, shift_try)
                if (_ws_objective(q, r_try, shift_try, b_try, ws, pen)
                        < _ws_objective(q, r, shift, b, ws, pen)):
                    b[:] = b_try
                    r[:] = r_try
                    shift[0] = shift_try[0]
                else:
                    b_try[:] = b
        elif epoch % 5 != 0:
            continue

        if _ws_violation(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift,
                         b, ws, lips, pen, positive) <= tol:
            break
    return epoch
