r"""Hybrid coordinate descent for SLOPE on a set of features.

Problem, on a ``LinearDesign`` (centred, sample weights ``q`` summing to one),
restricted to the features ``ws`` (the others are held at zero)::

    min_b  (1/2) sum_i q_i (y_i - x_i b)^2 + sum_k lam_k |b_ws|_(k)

with ``lam`` already multiplied by ``alpha``. Zeros outside ``ws`` take the
tail ranks of the sorted norm, so the restricted penalty uses the first
``len(ws)`` entries of ``lam``.

The method is the hybrid of Larsson, Klopfenstein, Massias and Wallin (2023):

* a proximal-gradient step (exact sorted-L1 prox, backtracked step size)
  every few epochs; it is what creates, splits and reorders the clusters of
  equal magnitudes and what brings zeros into the support;
* in between, coordinate descent on the *clusters*: the common magnitude
  ``z`` of a cluster ``C`` (with fixed signs ``s``) solves the exact
  one-dimensional problem

  .. math::

      \min_{z}\ \tfrac{a}{2} z^2 - \beta z + \text{(sorted-L1 penalty at } z)

  with :math:`a = \|X_C s\|_q^2` and :math:`\beta = a z_{old} + s^\top X_C^\top Q r`.
  The penalty is convex and piecewise linear in ``z``: between the
  magnitudes of the other clusters its slope is the sum of the ``lam``
  entries at the ranks the cluster occupies there, and at another
  cluster's magnitude it has a kink (where the two merge). The minimiser
  is found by walking from the current rank towards the unconstrained
  solution.

It stops when the duality gap of the restricted problem, with the dual point
:math:`\theta = r / \max(1, J^*_{lam}(X^\top Q r))`, is at most ``tol``.
"""

import numpy as np
from numba import njit

from ._kernels import _FASTMATH, _corr, _update_residual
from ._sorted_l1 import _prox_sorted_abs


@njit(cache=True, nogil=True)
def _sorted_desc(a):
    out = np.sort(a)
    return out[::-1].copy()


@njit(cache=True, nogil=True)
def ws_gap(q, y, r, shift, b, ws, c_ws, lam):
    """Primal value and duality gap of the restricted problem.

    ``c_ws`` holds the correlations ``x_j^T Q r`` of the features in ``ws``.
    """
    s = shift[0]
    n = r.shape[0]
    m = ws.shape[0]
    absb = np.empty(m)
    absc = np.empty(m)
    for jj in range(m):
        absb[jj] = abs(b[ws[jj]])
        absc[jj] = abs(c_ws[jj])
    bs = _sorted_desc(absb)
    cs = _sorted_desc(absc)
    pen = 0.0
    ratio = 0.0
    acc_c = 0.0
    acc_l = 0.0
    for k in range(m):
        pen += lam[k] * bs[k]
        acc_c += cs[k]
        acc_l += lam[k]
        if acc_l > 0.0:
            ratio = max(ratio, acc_c / acc_l)
        elif acc_c > 0.0:
            ratio = np.inf
    scale = 1.0 / max(1.0, ratio)
    quad = 0.0
    dual = 0.0
    for i in range(n):
        ri = r[i] + s
        quad += q[i] * ri * ri
        d = y[i] - scale * ri
        dual += q[i] * (y[i] * y[i] - d * d)
    primal = 0.5 * quad + pen
    return primal, max(primal - 0.5 * dual, 0.0)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _cluster_direction(X, data, indices, indptr, sparse, X_mean, b, ws, members, lo, hi, u):
    """``u = X_C s`` (centred) for the cluster ``ws[members[lo:hi]]``, signs of ``b``."""
    n = u.shape[0]
    u[:] = 0.0
    const = 0.0
    for t in range(lo, hi):
        j = ws[members[t]]
        sj = 1.0 if b[j] > 0.0 else -1.0
        const += sj * X_mean[j]
        if sparse:
            for k in range(indptr[j], indptr[j + 1]):
                u[indices[k]] += sj * data[k]
        else:
            for i in range(n):
                u[i] += sj * X[i, j]
    for i in range(n):
        u[i] -= const


@njit(cache=True, nogil=True)
def _cluster_step(bb, a, k, cval, csize, id_at, rank_of, start_at, n_clusters, cum):
    """Exact minimiser ``z >= 0`` of the cluster-``k`` problem; moves ``k`` in the ranking.

    ``bb`` is the linear coefficient (made non-negative by the caller) and
    ``a`` the curvature; ``cum`` the cumulative sums of ``lam`` (with a
    leading 0). Clusters are kept sorted by magnitude in ``id_at``.
    """
    w = csize[k]
    t = rank_of[k]
    pos = start_at[t]
    while True:
        z = (bb - (cum[pos + w] - cum[pos])) / a
        if t > 0:
            above = id_at[t - 1]
            upper = cval[above]
            if z > upper:
                w2 = csize[above]
                up = pos - w2
                if (bb - (cum[up + w] - cum[up])) / a <= upper:
                    return upper  # merges with the cluster above
                id_at[t - 1] = k
                id_at[t] = above
                rank_of[k] = t - 1
                rank_of[above] = t
                start_at[t - 1] = up
                start_at[t] = up + w
                t -= 1
                pos = up
                continue
        if t + 1 < n_clusters:
            below = id_at[t + 1]
            lower = cval[below]
            if z < lower:
                w2 = csize[below]
                dn = pos + w2
                if (bb - (cum[dn + w] - cum[dn])) / a >= lower:
                    return lower  # merges with the cluster below
                id_at[t + 1] = k
                id_at[t] = below
                rank_of[k] = t + 1
                rank_of[below] = t
                start_at[t] = pos
                start_at[t + 1] = dn
                t += 1
                pos = dn
                continue
        return max(z, 0.0)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _cd_clusters(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, b,
                 ws, lips, cum, u):
    """One pass of coordinate descent over the non-zero clusters of ``b[ws]``."""
    m = ws.shape[0]
    absb = np.empty(m)
    for jj in range(m):
        absb[jj] = abs(b[ws[jj]])
    members = np.argsort(-absb, kind="mergesort")
    cval = np.empty(m)
    csize = np.empty(m, dtype=np.int64)
    cstart = np.empty(m + 1, dtype=np.int64)
    n_clusters = 0
    t = 0
    while t < m and absb[members[t]] > 0.0:
        v = absb[members[t]]
        cstart[n_clusters] = t
        while t < m and absb[members[t]] == v:
            t += 1
        cval[n_clusters] = v
        csize[n_clusters] = t - cstart[n_clusters]
        n_clusters += 1
    cstart[n_clusters] = t
    id_at = np.arange(n_clusters)
    rank_of = np.arange(n_clusters)
    start_at = cstart[:n_clusters].copy()
    n = r.shape[0]
    for k in range(n_clusters):
        lo = cstart[k]
        hi = cstart[k + 1]
        old = cval[k]
        sj = 1.0  # sign of a singleton before its update
        if hi - lo == 1:
            j = ws[members[lo]]
            a = lips[j]
            if a == 0.0:
                continue
            sj = 1.0 if b[j] > 0.0 else -1.0
            g = sj * _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift[0], j)
        else:
            _cluster_direction(X, data, indices, indptr, sparse, X_mean, b, ws, members,
                               lo, hi, u)
            a = 0.0
            g = 0.0
            s = shift[0]
            for i in range(n):
                a += q[i] * u[i] * u[i]
                g += q[i] * u[i] * (r[i] + s)
            if a <= 0.0:
                continue
        bb = a * old + g
        flip = bb < 0.0
        if flip:
            bb = -bb
        z = _cluster_step(bb, a, k, cval, csize, id_at, rank_of, start_at, n_clusters, cum)
        cval[k] = z
        new = -z if flip else z
        if new == old:
            continue
        delta = new - old  # along the old signs
        for tt in range(lo, hi):
            j = ws[members[tt]]
            b[j] = new if b[j] > 0.0 else -new
        if hi - lo == 1:
            j = ws[members[lo]]
            _update_residual(X, data, indices, indptr, sparse, X_mean, r, shift, j,
                             sj * delta)
        else:
            for i in range(n):
                r[i] -= delta * u[i]


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _pgd_step(X, data, indices, indptr, sparse, X_mean, q, r, shift, b, ws, c_ws,
              lam, L, u):
    """Proximal-gradient step on ``b[ws]`` with a backtracked step ``1 / L[0]``."""
    m = ws.shape[0]
    n = r.shape[0]
    z = np.empty(m)
    absz = np.empty(m)
    bn = np.empty(m)
    lam_step = np.empty(m)
    w = np.empty(m)
    x = np.empty(m)
    for _ in range(60):
        step = 1.0 / L[0]
        for jj in range(m):
            z[jj] = b[ws[jj]] + step * c_ws[jj]
            absz[jj] = abs(z[jj])
            lam_step[jj] = step * lam[jj]
        order = np.argsort(-absz)
        for t in range(m):
            w[t] = absz[order[t]]
        _prox_sorted_abs(w, lam_step, x)
        for t in range(m):
            jj = order[t]
            bn[jj] = x[t] if z[jj] >= 0.0 else -x[t]
        # u = X (bn - b), centred; the step is accepted when the quadratic
        # upper bound with constant L holds (exact test: f is quadratic).
        u[:] = 0.0
        const = 0.0
        nd = 0.0
        for jj in range(m):
            j = ws[jj]
            d = bn[jj] - b[j]
            if d == 0.0:
                continue
            nd += d * d
            const += d * X_mean[j]
            if sparse:
                for k in range(indptr[j], indptr[j + 1]):
                    u[indices[k]] += d * data[k]
            else:
                for i in range(n):
                    u[i] += d * X[i, j]
        if nd == 0.0:
            return
        quad = 0.0
        for i in range(n):
            u[i] -= const
            quad += q[i] * u[i] * u[i]
        if quad <= L[0] * nd * (1.0 + 1e-10):
            for jj in range(m):
                b[ws[jj]] = bn[jj]
            for i in range(n):
                r[i] -= u[i]
            return
        L[0] = max(2.0 * L[0], quad / nd)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def ws_correlations(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, ws, out):
    for jj in range(ws.shape[0]):
        out[jj] = _corr(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift[0],
                        ws[jj])


@njit(cache=True, nogil=True)
def slope_hybrid_cd(X, data, indices, indptr, sparse, X_mean, q, uniform, y, r, shift, b,
                    ws, lips, lam, L, max_epochs, tol, pgd_every):
    """Hybrid CD on ``b[ws]`` until the restricted duality gap is at most ``tol``.

    ``r``, ``shift``, ``b`` and the step constant ``L[0]`` are updated in
    place. Returns ``(epochs, gap)``; an epoch is one cluster pass or one
    proximal-gradient step.
    """
    m = ws.shape[0]
    cum = np.zeros(m + 1)
    for k in range(m):
        cum[k + 1] = cum[k] + lam[k]
    u = np.empty(r.shape[0])
    c_ws = np.empty(m)
    epoch = 0
    gap = np.inf
    while True:
        ws_correlations(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, ws, c_ws)
        _, gap = ws_gap(q, y, r, shift, b, ws, c_ws, lam)
        if gap <= tol or epoch >= max_epochs:
            break
        _pgd_step(X, data, indices, indptr, sparse, X_mean, q, r, shift, b, ws, c_ws,
                  lam, L, u)
        epoch += 1
        for _ in range(pgd_every):
            if epoch >= max_epochs:
                break
            _cd_clusters(X, data, indices, indptr, sparse, X_mean, q, uniform, r, shift, b,
                         ws, lips, cum, u)
            epoch += 1
    return epoch, gap
