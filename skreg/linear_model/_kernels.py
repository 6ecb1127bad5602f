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


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _ws_objective(q, rc, s, rows, B, Qo, bw, ws, pen):
    """Objective on the working set, up to a constant.

    ``rc[t]`` is the stored residual on row ``rows[t]`` (the rows the working
    set's columns touch), ``s`` the shift, ``B`` and ``Qo`` the sums of
    ``q_i r_i`` and ``q_i`` over the other rows (whose ``r_i`` the working
    set cannot change: only their constant ``sum q_i r_i^2`` is left out).
    ``bw[jj]`` is the coefficient of ``ws[jj]``.
    """
    acc = 0.0
    for t in range(rc.shape[0]):
        v = rc[t] + s
        acc += q[rows[t]] * v * v
    acc += 2.0 * s * B + s * s * Qo
    pen_val = 0.0
    for jj in range(ws.shape[0]):
        pen_val += pen[ws[jj]] * abs(bw[jj])
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

    Solves the tiny ``K x K`` system ``(U U^T) z = 1`` (``U``: successive
    differences) by Gaussian elimination written out here: numba's
    ``np.linalg`` would add seconds of compilation for a 5 x 5 solve.
    Returns the weights ``c`` (summing to one) of the extrapolated point
    ``sum_k c_k last[k + 1]`` and a flag telling whether they are usable.
    """
    K = last.shape[0] - 1
    m = last.shape[1]
    C = np.zeros((K, K + 1))  # augmented [U U^T | 1]
    for a in range(K):
        for c in range(a, K):
            acc = 0.0
            for j in range(m):
                acc += (last[a + 1, j] - last[a, j]) * (last[c + 1, j] - last[c, j])
            C[a, c] = acc
            C[c, a] = acc
        C[a, K] = 1.0
    trace = 0.0
    for a in range(K):
        trace += C[a, a]
    for a in range(K):
        C[a, a] += 1e-10 * max(trace, 1e-300)
    for col in range(K):
        piv = col
        for row in range(col + 1, K):
            if abs(C[row, col]) > abs(C[piv, col]):
                piv = row
        if C[piv, col] == 0.0:
            return np.zeros(K), False
        if piv != col:
            for c in range(K + 1):
                C[col, c], C[piv, c] = C[piv, c], C[col, c]
        for row in range(col + 1, K):
            f = C[row, col] / C[col, col]
            for c in range(col, K + 1):
                C[row, c] -= f * C[col, c]
    z = np.zeros(K)
    for row in range(K - 1, -1, -1):
        acc = C[row, K]
        for c in range(row + 1, K):
            acc -= C[row, c] * z[c]
        z[row] = acc / C[row, row]
    sz = z.sum()
    if sz == 0.0 or not np.isfinite(sz):
        return z, False
    z /= sz
    return z, bool(np.all(np.isfinite(z)))


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def sparse_corr(data, indices, indptr, X_mean, q, uniform, r, shift, out):
    """``out_j = sum_i q_i (X_ij - m_j) (r_i + shift)`` for every CSC column."""
    dummy = np.empty((2, 2), dtype=data.dtype).T
    for j in range(out.shape[0]):
        out[j] = _corr(dummy, data, indices, indptr, True, X_mean, q, uniform, r, shift, j)


@njit(cache=True, nogil=True)
def kkt_scan(corr, b, pen, lips, positive, viol):
    """Optimality violations of every feature, written into ``viol``.

    Returns ``(max violation, max_j |corr_j| / pen_j over pen_j > 0,
    sum_j pen_j |b_j|)``: what the working-set choice and the duality gap
    need, in one pass without temporaries.
    """
    worst = 0.0
    ratio = 0.0
    pen_sum = 0.0
    for j in range(corr.shape[0]):
        c = corr[j]
        bj = b[j]
        pj = pen[j]
        if lips[j] == 0.0:
            v = 0.0
        elif bj > 0.0:
            v = abs(c - pj)
        elif bj < 0.0:
            v = abs(c + pj)
        elif positive:
            v = max(c - pj, 0.0)
        else:
            v = max(abs(c) - pj, 0.0)
        viol[j] = v
        worst = max(worst, v)
        if pj > 0.0:
            a = max(c, 0.0) if positive else abs(c)
            ratio = max(ratio, a / pj)
            pen_sum += pj * abs(bj)
    return worst, ratio, pen_sum


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
    n = r.shape[0]
    # The rows the working set's columns touch: the only entries of ``r``
    # coordinate descent changes (all of them for a dense ``X``), so the
    # extrapolation stores and combines residuals on these rows only.
    B = 0.0
    Qo = 0.0
    if sparse and K > 0:
        nnz_ws = 0
        for jj in range(n_ws):
            nnz_ws += indptr[ws[jj] + 1] - indptr[ws[jj]]
        mark = np.zeros(n, dtype=np.bool_)
        rows = np.empty(min(nnz_ws, n), dtype=np.int64)
        nr = 0
        centred = False
        for jj in range(n_ws):
            j = ws[jj]
            centred = centred or X_mean[j] != 0.0
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                if not mark[i]:
                    mark[i] = True
                    rows[nr] = i
                    nr += 1
        rows = rows[:nr]
        if centred:  # the shift moves: the other rows enter the objective
            for i in range(n):
                if not mark[i]:
                    B += q[i] * r[i]
                    Qo += q[i]
    else:
        rows = np.arange(n)
        nr = n
    # Every slot is written before it is read (see ``slot`` below). The
    # buffers are sized by the working set, never by ``p``.
    last = np.empty((K + 1, n_ws))
    last_r = np.empty((K + 1, nr))
    last_shift = np.empty(K + 1)
    r_try = np.empty(nr)
    r_cur = np.empty(nr)
    b_try = np.empty(n_ws)
    b_ws = np.empty(n_ws)
    epoch = 0
    while epoch < max_epochs:
        moved = False
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
                moved = True
        epoch += 1
        if not moved:
            break  # an exact fixed point: more epochs cannot change anything

        if K > 0:
            slot = (epoch - 1) % (K + 1)
            for jj in range(n_ws):
                last[slot, jj] = b[ws[jj]]
            # The residual is affine in the coefficients, so the residual of
            # the extrapolated point is the same combination of the stored
            # residuals: no pass over the columns is needed.
            for t in range(nr):
                last_r[slot, t] = r[rows[t]]
            last_shift[slot] = shift[0]
            if slot != K:
                continue
            weights, ok = _anderson(last)
            if ok:
                for jj in range(n_ws):
                    acc = 0.0
                    for k in range(K):
                        acc += weights[k] * last[k + 1, jj]
                    b_try[jj] = acc
                if positive:
                    for jj in range(n_ws):
                        if b_try[jj] < 0.0:
                            ok = False
            if ok:
                s_try = 0.0
                for k in range(K):
                    s_try += weights[k] * last_shift[k + 1]
                for t in range(nr):
                    acc = 0.0
                    for k in range(K):
                        acc += weights[k] * last_r[k + 1, t]
                    r_try[t] = acc
                    r_cur[t] = r[rows[t]]
                for jj in range(n_ws):
                    b_ws[jj] = b[ws[jj]]
                if (_ws_objective(q, r_try, s_try, rows, B, Qo, b_try, ws, pen)
                        < _ws_objective(q, r_cur, shift[0], rows, B, Qo, b_ws, ws, pen)):
                    for jj in range(n_ws):
                        b[ws[jj]] = b_try[jj]
                    for t in range(nr):
                        r[rows[t]] = r_try[t]
                    shift[0] = s_try
        elif epoch % 5 != 0:
            continue

        if _ws_violation(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift,
                         b, ws, lips, pen, positive) <= tol:
            break
    return epoch


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def full_corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, out):
    """``out_j = sum_i q_i (X_ij - m_j) (r_i + shift)`` for every column.

    Unlike :func:`_corr`, the residual's weighted mean is not assumed to be
    zero (it is only zero up to rounding): it is subtracted explicitly, as
    ``LinearDesign.corr`` does.
    """
    n = r.shape[0]
    rmean = 0.0
    for i in range(n):
        rmean += q[i] * (r[i] + shift)
    for j in range(out.shape[0]):
        out[j] = _corr_exact(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift,
                             rmean, j)


@njit(cache=True, nogil=True, inline="always", fastmath=_FASTMATH)
def _corr_exact(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, rmean, j):
    """Column ``j`` of :func:`full_corr` (``rmean``: weighted mean of ``r + shift``)."""
    acc = 0.0
    if sparse:
        if uniform:
            for k in range(indptr[j], indptr[j + 1]):
                acc += data[k] * (r[indices[k]] + shift)
            acc *= q[0]
        else:
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                acc += q[i] * data[k] * (r[i] + shift)
        return acc - X_mean[j] * rmean
    m = X_mean[j]
    if uniform:
        for i in range(X.shape[0]):
            acc += (X[i, j] - m) * (r[i] + shift)
        acc *= q[0]
    else:
        for i in range(X.shape[0]):
            acc += q[i] * (X[i, j] - m) * (r[i] + shift)
    return acc


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _anchor_distance(q, r, s, r_a, s_a):
    """``sum_i q_i (r_i + s - r_a_i - s_a)^2`` and ``sum_i q_i (r_i + s)``."""
    ds = s - s_a
    d2 = 0.0
    rmean = 0.0
    for i in range(r.shape[0]):
        d = r[i] - r_a[i] + ds
        d2 += q[i] * d * d
        rmean += q[i] * (r[i] + s)
    return d2, rmean


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _gap_sums(q, r, s, y, sc):
    """``sum_i q_i (r_i + s)^2`` and ``sum_i q_i (y_i - (r_i + s) / sc)^2``."""
    rr = 0.0
    dd = 0.0
    for i in range(r.shape[0]):
        rt = r[i] + s
        rr += q[i] * rt * rt
        d = y[i] - rt / sc
        dd += q[i] * d * d
    return rr, dd


@njit(cache=True, nogil=True)
def _violation(c, bj, pj, Lj, positive):
    if Lj == 0.0:
        return 0.0
    if bj > 0.0:
        return abs(c - pj)
    if bj < 0.0:
        return abs(c + pj)
    if positive:
        return max(c - pj, 0.0)
    return max(abs(c) - pj, 0.0)


@njit(cache=True, nogil=True)
def lasso_solve_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
                   r, shift, b, corr_a, r_a, shift_a, have_anchor, bnd, lips, pen,
                   positive, tol_abs, max_iter, ws_start, K, work_f, work_i, flags):
    """The whole working-set outer loop of ``solve_lasso``, compiled.

    For problems whose penalties are all positive (no unpenalised column, so
    no projection of the dual point). ``r``, ``shift`` and ``b`` are updated
    in place. Stops when the duality gap is at most ``tol_abs`` or after
    ``max_iter`` epochs. Returns ``(gap, n_epochs, converged)``; the gap is
    the same rigorous bound as ``solve_lasso``'s.

    Lazy optimality checks: ``corr_a`` holds the exact correlations of an
    anchor residual ``r_a + shift_a``. By Cauchy-Schwarz, ``|c_j(r) -
    c_j(r_a)| <= bnd_j ||r - r_a||_q`` (``bnd_j >= sqrt(L_j)``), so a zero
    coefficient whose bound stays below its penalty can neither violate the
    optimality conditions nor raise ``max_j |c_j| / pen_j`` above one, and
    the dual scaling only ever uses ``max(1, that ratio)``: its correlation
    is not needed, and the duality gap is exactly the one a full pass would
    give. A full pass (which moves the anchor) is made only when many bounds
    are inconclusive. The anchor arrays are updated in place
    (``have_anchor`` false: they are filled by a first full pass).

    Workspace: ``work_f`` (7, p) floats, ``work_i`` (3, p) ints and ``flags``
    (1, p) booleans, all false on entry and on exit.
    """
    w_max = _max(pen)
    near_state = np.array([-1.0, 0.0, 0.0])
    out = _ws_loop(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b,
                   corr_a, r_a, shift_a, have_anchor, bnd, lips, pen, 1.0, -1.0, positive,
                   tol_abs, max_iter, ws_start, K, work_f, work_i, flags,
                   np.empty(0, dtype=np.int64), 0.0, near_state, w_max)
    return out[0], out[1], out[2]


@njit(cache=True, nogil=True)
def _max(w):
    out = 0.0
    for j in range(w.shape[0]):
        out = max(out, w[j])
    return out


@njit(cache=True, nogil=True)
def _build_near(b, corr_a, bnd, w, lev, d_max, near, near_a, near_b, near_w):
    """List the features with ``|corr_a_j| + bnd_j d_max >= lev w_j`` or
    ``b_j != 0`` (those forced in with ``near_a = inf``); returns the count."""
    m = 0
    for j in range(b.shape[0]):
        # Branch-free: about half the features may be listed.
        ca = abs(corr_a[j])
        forced = b[j] != 0.0
        near[m] = j
        near_a[m] = np.inf if forced else ca
        near_b[m] = bnd[j]
        near_w[m] = w[j]
        m += forced or ca + bnd[j] * d_max >= lev * w[j]
    return m


@njit(cache=True, nogil=True)
def _scan_near(n_near, near, near_a, near_b, near_w, dist, lev, out):
    """The listed features with ``near_a + near_b dist >= lev near_w``, into
    ``out`` (in list order); returns their count."""
    m = 0
    for t in range(n_near):
        if near_a[t] + near_b[t] * dist >= lev * near_w[t]:
            out[m] = near[t]
            m += 1
    return m


@njit(cache=True, nogil=True)
def lasso_path_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
                  r, shift, b, corr_a, r_a, shift_a, have_anchor, bnd, lips, weights,
                  alphas, positive, tol_abs, max_iter, ws_start, K, work_f, work_i, flags,
                  coefs, gaps, n_iters, converged):
    """:func:`lasso_solve_ws` at every ``alphas[k]`` (decreasing), warm-started.

    ``pen = alphas[k] * weights`` must be positive. Writes the solutions into
    the columns of ``coefs`` (p x n_alphas, zero on entry: only non-zero
    coefficients are written), and ``gaps``, ``n_iters`` and ``converged``;
    ``b``, ``r``, ``shift`` and the anchor end at the last solution. Returns
    whether the anchor is set.

    Each solve but the first starts from a working set chosen at the end
    of the previous one, without an optimality check of its own: the
    support plus the features of the sequential strong rule,
    ``|c_j| >= 2 pen_new_j - pen_old_j`` (Tibshirani et al., 2012), whose
    correlations the final check of the previous alpha computes (its lazy
    bounds use ``min(pen_old_j, 2 pen_new_j - pen_old_j)`` as threshold).
    Usually this working set already holds the new support, so one check
    per alpha certifies the solution. The stopping rule and the duality
    gap are those of :func:`lasso_solve_ws` (the seeding only chooses where
    coordinate descent starts). No step costs ``O(p)`` per alpha but the
    (rare) full correlation passes and the rebuilds of the lazy checks'
    candidate list (see :func:`_ws_loop`).
    """
    p = b.shape[0]
    n_alphas = alphas.shape[0]
    w_max = _max(weights)
    near_state = np.array([-1.0, 0.0, 0.0])
    ws0 = np.empty(0, dtype=np.int64)
    tol0 = 0.0
    # The support (sorted): every non-zero of ``b`` is in it.
    n_supp = 0
    supp = np.empty(p, dtype=np.int64)
    for j in range(p):
        if b[j] != 0.0:
            supp[n_supp] = j
            n_supp += 1
    supp_new = np.empty(p, dtype=np.int64)
    for k in range(n_alphas):
        a = alphas[k]
        a_next = alphas[k + 1] if k + 1 < n_alphas and 2.0 * alphas[k + 1] > a else -1.0
        gap, n_ep, conv, have_anchor, ws0, tol0, ws = _ws_loop(
            X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b, corr_a,
            r_a, shift_a, have_anchor, bnd, lips, weights, a, a_next, positive, tol_abs,
            max_iter, ws_start, K, work_f, work_i, flags, ws0, tol0, near_state, w_max)
        # Only the working set moved: merge it into the support.
        t = 0
        u = 0
        m = 0
        while t < n_supp or u < ws.shape[0]:
            if u >= ws.shape[0] or (t < n_supp and supp[t] < ws[u]):
                j = supp[t]
                t += 1
            elif t < n_supp and supp[t] == ws[u]:
                j = supp[t]
                t += 1
                u += 1
            else:
                j = ws[u]
                u += 1
            if b[j] != 0.0:
                supp_new[m] = j
                m += 1
        supp, supp_new = supp_new, supp
        n_supp = m
        for t in range(n_supp):
            j = supp[t]
            coefs[j, k] = b[j]
        gaps[k] = gap
        n_iters[k] = n_ep
        converged[k] = conv
    return have_anchor


@njit(cache=True, nogil=True)
def _ws_loop(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
             r, shift, b, corr_a, r_a, shift_a, have_anchor, bnd, lips, w, a, a_next,
             positive, tol_abs, max_iter, ws_start, K, work_f, work_i, flags,
             ws0, tol0, near_state, w_max):
    """Body of :func:`lasso_solve_ws` and :func:`lasso_path_ws`.

    Penalties ``pen_j = a * w_j`` (positive). ``ws0`` (sorted, may be
    empty): a first working set, solved to the violation ``tol0`` before the
    first optimality check. ``a_next`` (negative: none) is the next alpha of
    a path: at convergence, also return the next solve's ``ws0`` and
    ``tol0`` (sequential strong rule, see :func:`lasso_path_ws`).

    The lazy checks (see :func:`lasso_solve_ws`) need the features whose
    bound ``|corr_a_j| + bnd_j dist`` reaches ``thr_j = c w_j`` (``c = min(a,
    2 a_next - a)``, with the margin ``1 - 1e-12``). Rather than testing all
    p features at every check, they scan a list (``work_i[2]``, with
    ``|corr_a_j|``, ``bnd_j`` and ``w_j`` copied into ``work_f[4:7]`` so the
    scan reads contiguous memory) of the features with ``|corr_a_j| + bnd_j
    d_max >= c_low w_j``, and every non-zero coefficient at the time it was
    built: it holds every feature needed by a check with ``c >= c_low`` and
    ``dist <= d_max``. It is rebuilt (one pass over p) only when a check
    falls outside that range, after a full pass (the anchor moved), or when
    a solve starts without ``ws0`` (a non-zero coefficient might be missing
    from it otherwise); the working set is merged in at each check.
    ``near_state`` holds ``(list length or -1, c_low, d_max)`` and is carried
    along a path. Features outside the list and the working set have zero
    coefficients and correlations below ``thr_j``: they cannot change the
    gap, exactly as in :func:`lasso_solve_ws`.

    ``w_max = max_j w_j`` (``a w_max`` bounds the penalties).

    Returns ``(gap, n_epochs, converged, have_anchor, next_ws0, next_tol0,
    ws)``, ``ws`` the last working set (every coefficient the solve changed
    is in it).
    """
    n = y.shape[0]
    p = b.shape[0]
    yqy = 0.0
    for i in range(n):
        yqy += q[i] * y[i] * y[i]
    pen_max = a * w_max
    cval = work_f[0]   # correlations of the listed features
    vval = work_f[1]   # their violations
    score = work_f[2]
    pen = work_f[3]    # a * w, kept up to date on the working set only
    idx = work_i[0]    # features whose correlation is computed
    cand = work_i[1]
    near = work_i[2]
    near_a = work_f[4]  # |corr_a_j| of the listed features (inf: forced in)
    near_b = work_f[5]  # their bnd_j
    near_w = work_f[6]  # their w_j
    in_ws = flags[0]
    strong = a_next >= 0.0
    c_thr = min(a, 2.0 * a_next - a) if strong else a
    n_near = int(near_state[0])
    if ws0.shape[0] == 0:
        n_near = -1  # a non-zero coefficient may be missing from the list
    ws = np.empty(0, dtype=np.int64)
    ws_size = min(ws_start, p)
    n_epochs = 0
    gap = np.inf
    converged = False
    next_ws = np.empty(0, dtype=np.int64)
    next_tol = 0.0
    fresh = tol_abs >= 1e-9 * yqy  # r need not be recomputed from b (see below)
    if ws0.shape[0] > 0 and max_iter > 0:
        ws = ws0
        for jj in range(ws.shape[0]):
            j = ws[jj]
            in_ws[j] = True
            pen[j] = a * w[j]
        ws_size = max(ws_size, ws.shape[0])
        n_epochs += lasso_cd_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
                                r, shift, b, ws, lips, pen, positive, max_iter, tol0, K)
    while True:
        s = shift[0]
        m = 0
        full = not have_anchor
        dist = 0.0
        rmean = 0.0
        if have_anchor:
            # Distance to the anchor, and which correlations are needed.
            d2, rmean = _anchor_distance(q, r, s, r_a, shift_a[0])
            dist = np.sqrt(d2) * (1.0 + 1e-12)
        if full:
            full_corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, s, corr_a)
            for i in range(n):
                r_a[i] = r[i]
            shift_a[0] = s
            have_anchor = True
            n_near = -1  # the list was for the old anchor
        for _ in range(2):
            if n_near < 0 or dist > near_state[2] or c_thr < near_state[1]:
                # (Re)build the list, for a range of distances and levels.
                # After a full pass (``dist`` zero), guess the movement
                # from that of the previous anchor.
                d_max = 4.0 * dist if dist > 0.0 else 0.5 * near_state[2]
                c_low = 0.75 * c_thr
                n_near = _build_near(b, corr_a, bnd, w, c_low * (1.0 - 1e-12), d_max,
                                     near, near_a, near_b, near_w)
                near_state[1] = c_low
                near_state[2] = d_max
            # The needed features, in increasing order: those of the list
            # whose bound reaches ``thr``, merged with the working set
            # (which holds every coefficient made non-zero since the list
            # was built).
            ns = _scan_near(n_near, near, near_a, near_b, near_w, dist,
                            c_thr * (1.0 - 1e-12), cand)
            m = 0
            t = 0
            u = 0
            n_ws = ws.shape[0]
            while t < ns or u < n_ws:
                if u >= n_ws or (t < ns and cand[t] < ws[u]):
                    idx[m] = cand[t]
                    t += 1
                elif t < ns and cand[t] == ws[u]:
                    idx[m] = cand[t]
                    t += 1
                    u += 1
                else:
                    idx[m] = ws[u]
                    u += 1
                m += 1
            if full or dist == 0.0 or m <= p // 8:
                break
            # Too many inconclusive bounds: a full pass (anchor at ``r``).
            full_corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, s, corr_a)
            for i in range(n):
                r_a[i] = r[i]
            shift_a[0] = s
            full = True
            dist = 0.0
            n_near = -1
        if full or dist == 0.0:
            # At the anchor: every correlation is known.
            for t in range(m):
                cval[t] = corr_a[idx[t]]
        else:
            for t in range(m):
                cval[t] = _corr_exact(X, data, indices, indptr, sparse, X_mean, q, uniform,
                                      r, s, rmean, idx[t])
        worst = 0.0
        ratio = 0.0
        pen_sum = 0.0
        cmax = pen_max
        for t in range(m):
            j = idx[t]
            c = cval[t]
            bj = b[j]
            pj = a * w[j]
            v = _violation(c, bj, pj, lips[j], positive)
            vval[t] = v
            worst = max(worst, v)
            ac = max(c, 0.0) if positive else abs(c)
            ratio = max(ratio, ac / pj)
            pen_sum += pj * abs(bj)
            cmax = max(cmax, abs(c))
        # Primal value and the dual value at the residual scaled into the
        # dual feasible set (``_dual_value``), in one pass.
        sc = max(1.0, ratio)
        rr, dd = _gap_sums(q, r, s, y, sc)
        primal = 0.5 * rr + pen_sum
        gap = max(primal - 0.5 * (yqy - dd), 0.0)
        if gap <= tol_abs and not fresh:
            # Certify with the residual recomputed from ``b``: the updated
            # one (coordinate and Anderson steps) carries a rounding drift,
            # about 1e-12 of ``y^T Q y`` at most, which only matters to a
            # gap that small (``fresh`` starts true for looser tolerances).
            residual_from_coef(X, data, indices, indptr, sparse, X_mean, q, uniform,
                               y, b, r, shift)
            fresh = True
            continue
        if gap <= tol_abs:
            converged = True
            if strong:
                # The next solve's working set: the support and the strong
                # rule's features (every feature it can select is listed:
                # the others have a bound below ``thr``), and its inner
                # tolerance from their violations at the next penalties:
                # a small fraction, so that the first check usually
                # certifies the solve (epochs on a working set cost far
                # less than a check).
                nn = 0
                worst_next = 0.0
                for t in range(m):
                    j = idx[t]
                    c = cval[t]
                    ac = max(c, 0.0) if positive else abs(c)
                    if b[j] != 0.0 or ac >= (2.0 * a_next - a) * w[j]:
                        cand[nn] = j
                        nn += 1
                        worst_next = max(worst_next, _violation(c, b[j], a_next * w[j],
                                                                lips[j], positive))
                next_ws = cand[:nn].copy()
                next_tol = max(0.01 * worst_next, 1e-13 * max(cmax, a_next * w_max))
            break
        if n_epochs >= max_iter:
            break
        # Candidates (every non-zero coefficient is listed).
        n_keep = 0
        n_cand = 0
        for t in range(m):
            j = idx[t]
            if b[j] != 0.0:
                n_keep += 1
                cand[n_cand] = j
                score[n_cand] = np.inf
                n_cand += 1
            elif vval[t] > 0.0:
                cand[n_cand] = j
                score[n_cand] = vval[t]
                n_cand += 1
        grow = 2 * ws_size if 2 * n_keep >= ws_size else ws_size
        ws_size = min(p, max(grow, 2 * n_keep))
        if ws_size < p:
            if n_cand > ws_size:
                order = np.argsort(-score[:n_cand])[:ws_size]
                new_ws = np.sort(cand[:n_cand][order])
            else:
                new_ws = cand[:n_cand].copy()
        else:
            new_ws = np.arange(p)
        tol_in = 0.3 * worst
        same = new_ws.shape[0] == ws.shape[0]
        if same:
            for jj in range(ws.shape[0]):
                if ws[jj] != new_ws[jj]:
                    same = False
                    break
        if same:
            tol_in *= 0.03
        tol_in = max(tol_in, 1e-13 * cmax)
        for jj in range(ws.shape[0]):
            in_ws[ws[jj]] = False
        ws = new_ws
        for jj in range(ws.shape[0]):
            j = ws[jj]
            in_ws[j] = True
            pen[j] = a * w[j]
        n_epochs += lasso_cd_ws(X, data, indices, indptr, sparse, X_mean, q, uniform, y,
                                r, shift, b, ws, lips, pen, positive, max_iter - n_epochs,
                                tol_in, K)
    for jj in range(ws.shape[0]):
        in_ws[ws[jj]] = False
    near_state[0] = n_near
    return gap, n_epochs, converged, have_anchor, next_ws, next_tol, ws


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def dense_column_stats(X, q, uniform, y, center, X_mean, lips, corr_y):
    """Column means, ``L_j`` and ``corr_y_j = sum_i q_i (X_ij - m_j) y_i``, in one pass.

    ``y`` is the centred target. Each column is read from memory once (the
    second sweep over it hits the cache), where computing the three
    separately would stream the whole matrix three times.
    """
    n, p = X.shape
    for j in range(p):
        m = 0.0
        if center:
            if uniform:
                for i in range(n):
                    m += X[i, j]
                m *= q[0]
            else:
                for i in range(n):
                    m += q[i] * X[i, j]
        L = 0.0
        c = 0.0
        if uniform:
            for i in range(n):
                v = X[i, j] - m
                L += v * v
                c += v * y[i]
            L *= q[0]
            c *= q[0]
        else:
            for i in range(n):
                v = X[i, j] - m
                L += q[i] * v * v
                c += q[i] * v * y[i]
        X_mean[j] = m
        lips[j] = max(L, 0.0)
        corr_y[j] = c
