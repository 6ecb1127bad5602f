r"""Numba solvers of Group SLOPE and Sparse-group SLOPE.

Both solve, for a (centred, ``sqrt(q)``-weighted) operator :math:`A` and
target :math:`y`, problems of the form
:math:`\tfrac12\|y - Ab\|^2 + \text{penalty}(b)`; the screening driver in
``_group_slope_screening`` builds :math:`A` from the columns of the screened
groups only. :math:`A` is an operator tuple: a dense block
(``dense_operator``), or the CSC columns of a sparse ``X`` with the centring
and the scalings applied on the fly (``sparse_operator``).

* Group SLOPE, in the coordinates :math:`t = Wb` (:math:`W` multiplies
  group ``g`` by :math:`\sqrt{p_g}`, and the caller passes :math:`AW^{-1}`):
  the penalty becomes the unweighted group sorted-L1 norm, whose prox is
  exact, and FISTA with adaptive restart (O'Donoghue and Candes 2015)
  minimises it.
* Sparse-group SLOPE: the sorted-L1 term has an exact prox in :math:`b`,
  the group term in :math:`t = Wb`; no single metric makes both exact, so
  the Condat-Vu primal-dual method handles the group term through its
  conjugate (a projection onto its dual ball) composed with :math:`W`:

  .. math::

      b^+ = \operatorname{prox}_{\tau J_v}\big(b - \tau(\nabla f(b) + W u)\big),
      \qquad u^+ = \Pi_{\{J_w^* \le 1\}}\big(u + \sigma W(2b^+ - b)\big),

  with :math:`1/\tau - \sigma\|W\|^2 \ge L/2`. The dual iterate
  :math:`u` splits the gradient between the two penalties, which is what
  the duality gap needs (the dual norm of a sum of norms is an infimal
  convolution).

Both stop when the duality gap, checked every few iterations, is at most
``tol_abs``; the gap is rigorous for the sub-problem (a feasible dual point
is built by scaling the residual).
"""

import numpy as np
from numba import njit

from ._group_slope_prox import (
    group_dual_ratio,
    group_penalty,
    project_group_dual_ball,
    prox_group_slope,
    sorted_dual_ratio,
)
from ._sorted_l1 import _prox_sorted_l1

_FASTMATH = {"reassoc", "contract", "nsz"}
_CHECK_EVERY = 10


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _matvec_dense(A, x, out):
    out[:] = 0.0
    for j in range(A.shape[1]):
        xj = x[j]
        if xj != 0.0:
            for i in range(A.shape[0]):
                out[i] += A[i, j] * xj


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _rmatvec_dense(A, r, out):
    for j in range(A.shape[1]):
        acc = 0.0
        for i in range(A.shape[0]):
            acc += A[i, j] * r[i]
        out[j] = acc


# The sparse kernels are compiled without fastmath: with reassociation LLVM
# vectorises the short gather loops, which measured 2 to 5 times slower.
@njit(cache=True, nogil=True)
def _matvec(op, x, out):
    """``out = A x`` for the operator tuple ``op`` (``dense_operator``, ``sparse_operator``)."""
    A, data, indices, indptr, mean, sq, sparse = op
    if not sparse:
        _matvec_dense(A, x, out)
        return
    out[:] = 0.0
    shift = 0.0
    for j in range(x.shape[0]):
        xj = x[j]
        if xj != 0.0:
            shift += mean[j] * xj
            for k in range(indptr[j], indptr[j + 1]):
                out[indices[k]] += data[k] * xj
    for i in range(out.shape[0]):
        out[i] = sq[i] * (out[i] - shift)


@njit(cache=True, nogil=True)
def _rmatvec(op, r, out, work):
    """``out = A^T r``; ``work`` is a buffer of the length of ``r``."""
    A, data, indices, indptr, mean, sq, sparse = op
    if not sparse:
        _rmatvec_dense(A, r, out)
        return
    total = 0.0
    for i in range(r.shape[0]):
        work[i] = sq[i] * r[i]
        total += work[i]
    for j in range(out.shape[0]):
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * work[indices[k]]
        out[j] = acc - mean[j] * total


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _dot(a, b):
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, nogil=True)
def _gap(y, r, ratio, primal):
    """Gap at the dual point ``r / max(1, ratio)``."""
    s = max(1.0, ratio)
    acc = 0.0
    for i in range(y.shape[0]):
        d = y[i] - r[i] / s
        acc += d * d
    dual = 0.5 * (_dot(y, y) - acc)
    return max(primal - dual, 0.0)


@njit(cache=True, nogil=True)
def _fista_gap(y, Ax, gx, x, lam, order, starts, r):
    """Gap at ``x`` given ``A x`` and the gradient ``gx = A^T (y - A x)``."""
    for i in range(y.shape[0]):
        r[i] = y[i] - Ax[i]
    primal = 0.5 * _dot(r, r) + group_penalty(x, lam, order, starts)
    return _gap(y, r, group_dual_ratio(gx, lam, order, starts), primal)


@njit(cache=True, nogil=True)
def fista_group_slope(op, y, x, lam, order, starts, lipschitz, tol_abs, max_iter):
    """Minimise ``(1/2)||y - A x||^2 + J(x)`` (``J``: group sorted-L1 with ``lam``).

    ``x`` (the warm start) is overwritten by the solution. Returns
    ``(n_iter, gap)``.

    The gap at the iterate ``x`` (checked every ``_CHECK_EVERY`` iterations)
    costs no extra product: the gradient is affine, so from the one at the
    extrapolated point
    ``z = (1 + beta) x - beta x_prev`` (which FISTA computes anyway),
    ``grad(x) = (grad(z) + beta grad(x_prev)) / (1 + beta)``. The recursion
    damps rounding errors (factor ``beta / (1 + beta) < 1/2`` per step), and
    a gap below ``tol_abs`` is confirmed with the exact gradient before
    stopping.
    """
    n = y.shape[0]
    m = x.shape[0]
    step = 1.0 / lipschitz
    lam_step = lam * step
    Ax = np.empty(n)
    _matvec(op, x, Ax)
    z = x.copy()
    Az = Ax.copy()
    x_new = np.empty(m)
    Ax_new = np.empty(n)
    g = np.empty(m)
    gx = np.empty(m)
    r = np.empty(n)
    work = np.empty(n)
    t = 1.0
    beta = 0.0  # z = x + beta (x - x_prev)
    exact = False  # whether gx was computed directly (not by the recursion)
    gap = np.inf
    it = 0
    while True:
        for i in range(n):
            r[i] = y[i] - Az[i]
        _rmatvec(op, r, g, work)
        if beta == 0.0:
            for j in range(m):
                gx[j] = g[j]
            exact = True
        else:
            inv = 1.0 / (1.0 + beta)
            for j in range(m):
                gx[j] = (g[j] + beta * gx[j]) * inv
            exact = False
        if it % _CHECK_EVERY == 0 or it >= max_iter:
            gap = _fista_gap(y, Ax, gx, x, lam, order, starts, work)
        if gap <= tol_abs and not exact:
            _rmatvec(op, y - Ax, gx, work)
            gap = _fista_gap(y, Ax, gx, x, lam, order, starts, work)
            exact = True
        if gap <= tol_abs or it >= max_iter:
            break
        for j in range(m):
            x_new[j] = z[j] + step * g[j]
        prox_group_slope(x_new, lam_step, order, starts, x_new)
        _matvec(op, x_new, Ax_new)
        # Restart the momentum when it points uphill (gradient scheme).
        uphill = 0.0
        for j in range(m):
            uphill += (z[j] - x_new[j]) * (x_new[j] - x[j])
        if uphill > 0.0:
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        # gx is now the gradient at the previous iterate, as the recursion needs.
        for j in range(m):
            z[j] = x_new[j] + beta * (x_new[j] - x[j])
            x[j] = x_new[j]
        for i in range(n):
            Az[i] = Ax_new[i] + beta * (Ax_new[i] - Ax[i])
            Ax[i] = Ax_new[i]
        t = t_new
        it += 1
    if not exact:
        _rmatvec(op, y - Ax, gx, work)
        gap = _fista_gap(y, Ax, gx, x, lam, order, starts, work)
    return it, gap


@njit(cache=True, nogil=True)
def _sgs_gap(y, r, c, b, u, v_lam, w_lam, wfeat, order, starts, wb, c1):
    """Gap of the sparse-group problem with the split ``c = (c - W u) + W u``."""
    for j in range(b.shape[0]):
        wb[j] = wfeat[j] * b[j]
        c1[j] = abs(c[j] - wfeat[j] * u[j])
    srt = np.sort(np.abs(b))[::-1]
    pen_v = 0.0
    for k in range(srt.shape[0]):
        pen_v += v_lam[k] * srt[k]
    primal = 0.5 * _dot(r, r) + pen_v + group_penalty(wb, w_lam, order, starts)
    ratio = max(sorted_dual_ratio(c1, v_lam), group_dual_ratio(u, w_lam, order, starts))
    return _gap(y, r, ratio, primal)


@njit(cache=True, nogil=True)
def pd_sparse_group_slope(op, y, b, u, v_lam, w_lam, wfeat, order, starts,
                          lipschitz, tol_abs, max_iter):
    """Condat-Vu iterations for ``(1/2)||y - Ab||^2 + J_v(b) + J_w(W b)``.

    ``b`` and the dual iterate ``u`` (warm starts) are overwritten; ``W u``
    is the share of the gradient given to the group term. Returns
    ``(n_iter, gap)``.
    """
    n = y.shape[0]
    m = b.shape[0]
    w2 = 0.0
    for j in range(m):
        w2 = max(w2, wfeat[j] * wfeat[j])
    # 1/tau - sigma ||W||^2 > L/2 (Condat 2013, thm 3.1). Of the splits
    # sigma ||W||^2 = 0.05 L to 8 L tried on p > n problems, 0.2 L needed the
    # fewest iterations overall (up to 1.5 times fewer than 0.5 L).
    sigma = 0.2 * lipschitz / w2
    tau = 1.0 / (1.01 * 0.7 * lipschitz)
    v_step = v_lam * tau
    Ab = np.empty(n)
    r = np.empty(n)
    work = np.empty(n)
    c = np.empty(m)
    b_new = np.empty(m)
    wb = np.empty(m)
    c1 = np.empty(m)
    # A warm start from another alpha may lie outside this dual ball.
    project_group_dual_ball(u.copy(), w_lam, order, starts, u)
    gap = np.inf
    it = 0
    _matvec(op, b, Ab)
    while True:
        for i in range(n):
            r[i] = y[i] - Ab[i]
        _rmatvec(op, r, c, work)
        if it % _CHECK_EVERY == 0 or it == max_iter:
            gap = _sgs_gap(y, r, c, b, u, v_lam, w_lam, wfeat, order, starts, wb, c1)
            if gap <= tol_abs or it == max_iter:
                break
        for j in range(m):
            b_new[j] = b[j] + tau * (c[j] - wfeat[j] * u[j])
        _prox_sorted_l1(b_new, v_step, b_new)
        for j in range(m):
            wb[j] = u[j] + sigma * wfeat[j] * (2.0 * b_new[j] - b[j])
            b[j] = b_new[j]
        project_group_dual_ball(wb, w_lam, order, starts, u)
        _matvec(op, b, Ab)
        it += 1
    return it, gap


_NO_FLOAT = np.empty(0)
_NO_INT = np.empty(0, dtype=np.int64)
_NO_MATRIX = np.empty((2, 2), order="F")


def dense_operator(A):
    """Operator tuple of the kernels for a dense (Fortran, float64) block ``A``."""
    return (A, _NO_FLOAT, _NO_INT, _NO_INT, _NO_FLOAT, _NO_FLOAT, False)


def sparse_operator(cols, mean, sq, scale):
    r"""Operator tuple of ``A = diag(sq) (X - 1 mean^T) diag(scale)`` for CSC ``X``.

    ``cols`` holds the (uncentred) columns; the kernels run on its
    ``indptr/indices/data`` and apply the centring and the row and column
    scalings on the fly, so no dense block is formed.
    """
    counts = np.diff(cols.indptr)
    data = np.asarray(cols.data, dtype=np.float64) * np.repeat(scale, counts)
    return (_NO_MATRIX, data, cols.indices.astype(np.int64),
            cols.indptr.astype(np.int64), mean * scale, np.asarray(sq, dtype=np.float64),
            True)


def top_eigenvalue(gram):
    """Largest eigenvalue of a symmetric positive semi-definite matrix (at least 1e-300)."""
    # (LAPACK's subset driver, syevr, measured slower than the full syevd here.)
    return max(float(np.linalg.eigvalsh(gram)[-1]), 1e-300)


def sparse_row_gram(op, n_rows):
    """``A A^T`` (dense, ``n_rows`` square) of a ``sparse_operator``."""
    import scipy.sparse as sp

    _, data, indices, indptr, mean, sq, _ = op
    Xs = sp.csc_matrix((data, indices, indptr), shape=(n_rows, indptr.size - 1))
    v = np.asarray(Xs @ mean).ravel()
    gram = np.asarray((Xs @ Xs.T).toarray())
    gram -= v[:, None] + v[None, :] - float(mean @ mean)
    gram *= sq[:, None] * sq[None, :]
    return gram


def sparse_lipschitz(op, cols, scale):
    """``||A||_2^2`` of a ``sparse_operator`` (exact through the smaller Gram matrix)."""
    _, _data, _indices, _indptr, mean, sq, _ = op
    n, m = cols.shape
    if min(n, m) <= 2000:
        if m <= n:
            A = (np.asarray(cols.toarray(), dtype=np.float64) - mean / scale) * scale
            return lipschitz_constant(sq[:, None] * A)
        return top_eigenvalue(sparse_row_gram(op, n))
    x = np.random.default_rng(0).standard_normal(m)
    Ax = np.empty(n)
    work = np.empty(n)
    for _ in range(100):
        _matvec(op, x, Ax)
        _rmatvec(op, Ax, x, work)
        x /= np.linalg.norm(x)
    _matvec(op, x, Ax)
    return max(1.05 * float(np.linalg.norm(Ax)) ** 2, 1e-300)


def lipschitz_constant(A):
    """``||A||_2^2``, the Lipschitz constant of the gradient of ``(1/2)||y - Ax||^2``.

    Exact (an eigenvalue of the smaller Gram matrix) when one side of ``A``
    is at most 2000; otherwise 100 power iterations, inflated by 5 per cent
    (an underestimate would make the gradient steps diverge).
    """
    n, m = A.shape
    if min(n, m) == 0:
        return 1.0
    if min(n, m) <= 2000:
        return top_eigenvalue(A.T @ A if m <= n else A @ A.T)
    v = np.random.default_rng(0).standard_normal(m)
    for _ in range(100):
        v = A.T @ (A @ v)
        v /= np.linalg.norm(v)
    return max(1.05 * float(np.linalg.norm(A @ v)) ** 2, 1e-300)
