r"""Selection scores of the loss-function-based weighted OMP.

The score of feature :math:`j` at coefficients :math:`b` is the exact decrease
of the regularised objective over one coordinate,

.. math::

    R_j = G(b) - \min_u G(b + (u - b_j) e_j),

with :math:`G(b) = \mathrm{loss}(r) + \alpha\,\mathrm{pen}(b)`, the residual
:math:`r = y - X b - b_0`, and sample weights :math:`q_i \ge 0` summing to one
(uniform: :math:`q_i = 1/n`), so that the losses are those of
:class:`WeightedLasso`, :class:`SqrtLasso` and :class:`LADLasso`:

* lasso: :math:`\frac12 \sum_i q_i r_i^2`;
* sqrt_lasso: :math:`(\sum_i q_i r_i^2)^{1/2}`;
* lad_lasso: :math:`\sum_i q_i |r_i|`;

and the penalties l1: :math:`\sum_j w_j |b_j|`, l0:
:math:`\sum_{j : b_j \ne 0} w_j^2`. Every formula below holds for any
:math:`b` (in particular for indices already in the support, where it weighs
moving the coefficient against removing it) and for columns of any norm.

Least-squares losses. With :math:`c_j = \sum_i q_i x_{ij} r_i`,
:math:`d_j = \sum_i q_i x_{ij}^2`, :math:`\rho^2 = \sum_i q_i r_i^2`, the
one-coordinate residual norm is
:math:`\|r - t x_j\|_q^2 = d_j (u - z_j)^2 + e_j^2` with :math:`u = b_j + t`,
:math:`z_j = b_j + c_j / d_j` and :math:`e_j^2 = \rho^2 - c_j^2 / d_j`
(the residual after projecting out :math:`x_j`). Hence, with
:math:`k = \alpha w_j` (l1) or :math:`k = \alpha w_j^2` (l0):

* lasso, l1: :math:`u^* = \mathrm{sign}(z)(|z| - k/d)_+`,
  :math:`R = \frac{c^2}{2d} + k|b| - \frac d2 (u^* - z)^2 - k|u^*|`
  (:math:`b = 0`: :math:`R = (|c| - k)_+^2 / (2d)`);
* lasso, l0: :math:`R = \max(\frac{c^2}{2d} - k [b = 0],\;
  [b \ne 0](k - b c - \frac d2 b^2),\; 0)` (move, or remove);
* sqrt_lasso, l0: :math:`R = \max(\rho - e - k [b = 0],\;
  [b \ne 0](k + \rho - \|r + b x\|_q),\; 0)`;
* sqrt_lasso, l1: :math:`h(u) = (d(u - z)^2 + e^2)^{1/2} + k|u|` is minimal
  at 0 when :math:`d|z| \le k \|r + b x\|_q`, else
  :math:`\min h = k|z| + e (1 - k^2/d)^{1/2}`; :math:`R = \rho + k|b| - \min h`
  (:math:`b = 0`: :math:`R = \rho - k|c|/d - e(1 - k^2/d)^{1/2}` when
  :math:`|c| > k\rho`, the paper's formula for :math:`d = 1`).

LAD loss. With :math:`a_i = r_i + b_j x_{ij}`, the loss along the coordinate is
:math:`\sum_i q_i |x_{ij}|\,|a_i / x_{ij} - u|` (rows with :math:`x_{ij} = 0`
do not move), minimised by a weighted median of :math:`a_i / x_{ij}` with
weights :math:`q_i |x_{ij}|`; the l1 penalty adds the point 0 with weight
:math:`\alpha w_j`. The median is found by a weighted quickselect, in
:math:`O(\mathrm{nnz}(x_j))` expected time.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

# Re-association lets LLVM vectorise the reductions over a column (inputs are
# checked finite, so no NaN/inf semantics are relaxed).
_FASTMATH = {"reassoc", "contract", "nsz"}


def ls_scores(loss, penalty, c, d, b, rho2, pen):
    """Scores of the least-squares losses for every feature (vectorised).

    Parameters
    ----------
    loss : {"lasso", "sqrt_lasso"}
    penalty : {"l0", "l1"}
    c, d, b : ndarray of shape (n_features,)
        Weighted correlations with the residual, weighted squared column
        norms and current coefficients (columns centred if an intercept is
        fitted).
    rho2 : float
        Weighted squared norm of the residual.
    pen : ndarray of shape (n_features,)
        ``alpha * w`` (l1) or ``alpha * w**2`` (l0).

    Returns
    -------
    scores : ndarray of shape (n_features,), non-negative
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        live = d > 0
        inv_d = np.where(live, 1.0 / np.where(live, d, 1.0), 0.0)
        move = c * c * inv_d          # twice the lasso loss decrease
        in_s = b != 0
        if loss == "lasso":
            if penalty == "l0":
                out = 0.5 * move - np.where(in_s, 0.0, pen)
                remove = pen - b * c - 0.5 * d * b * b
                out = np.where(in_s, np.maximum(out, remove), out)
            else:
                z = b + c * inv_d
                u = np.sign(z) * np.maximum(np.abs(z) - pen * inv_d, 0.0)
                out = 0.5 * move + pen * np.abs(b) - (0.5 * d * (u - z) ** 2
                                                      + pen * np.abs(u))
        else:
            rho = np.sqrt(rho2)
            e = np.sqrt(np.maximum(rho2 - move, 0.0))
            # ||r + b x||_q: the residual norm once the coefficient is removed
            a = np.sqrt(np.maximum(rho2 + 2.0 * b * c + d * b * b, 0.0))
            if penalty == "l0":
                out = rho - e - np.where(in_s, 0.0, pen)
                out = np.where(in_s, np.maximum(out, pen + rho - a), out)
            else:
                z = b + c * inv_d
                zero_best = d * np.abs(z) <= pen * a
                hmin = np.where(
                    zero_best, a,
                    pen * np.abs(z) + e * np.sqrt(np.maximum(1.0 - pen * pen * inv_d, 0.0)))
                out = rho + pen * np.abs(b) - hmin
        out = np.where(live, out, 0.0)
    return np.maximum(out, 0.0)


@njit(cache=True, nogil=True)
def _weighted_median(v, w, m, half):
    """A minimiser of ``sum_{i<m} w_i |v_i - u|`` (``half`` = half the total weight).

    Weighted quickselect with a three-way partition; ``v`` and ``w`` are
    reordered in place (work buffers).
    """
    lo = 0
    hi = m - 1
    acc = 0.0  # weight of the elements known to lie below v[lo:hi+1]
    while lo < hi:
        mid = (lo + hi) // 2
        # median of three pivot
        x0, x1, x2 = v[lo], v[mid], v[hi]
        if x0 > x1:
            x0, x1 = x1, x0
        if x1 > x2:
            x1 = x2
            x1 = max(x1, x0)
        pivot = x1
        lt = lo
        gt = hi
        i = lo
        wl = 0.0
        we = 0.0
        while i <= gt:
            vi = v[i]
            if vi < pivot:
                wl += w[i]
                v[i], v[lt] = v[lt], v[i]
                w[i], w[lt] = w[lt], w[i]
                lt += 1
                i += 1
            elif vi > pivot:
                v[i], v[gt] = v[gt], v[i]
                w[i], w[gt] = w[gt], w[i]
                gt -= 1
            else:
                we += w[i]
                i += 1
        if acc + wl >= half and lt > lo:
            hi = lt - 1
        elif acc + wl + we >= half:
            return pivot
        else:
            acc += wl + we
            lo = gt + 1
    return v[lo]


@njit(cache=True, nogil=True)
def lad_scores(X, data, indices, indptr, sparse, q, r, b, pen, l1, cand, out):
    """LAD scores of the features ``cand``, written to ``out[cand]``.

    ``pen`` is ``alpha * w`` (``l1``) or ``alpha * w**2`` (l0). ``X`` is a
    dense Fortran array, or the CSC arrays ``data, indices, indptr`` with
    ``sparse`` true. Columns are not centred: the intercept is held fixed.
    """
    n = r.shape[0]
    v = np.empty(n + 1)
    wt = np.empty(n + 1)
    for t in range(cand.shape[0]):
        j = cand[t]
        bj = b[j]
        m = 0
        f0 = 0.0      # current loss on the rows the column touches
        f_rm = 0.0    # the same with the coefficient removed (a_i = r_i + b x_ij)
        tot = 0.0
        if sparse:
            start, stop = indptr[j], indptr[j + 1]
        else:
            start, stop = 0, n
        for k in range(start, stop):
            if sparse:
                i = indices[k]
                x = data[k]
            else:
                i = k
                x = X[k, j]
            if x == 0.0 or q[i] == 0.0:
                continue
            a = r[i] + bj * x
            f0 += q[i] * abs(r[i])
            f_rm += q[i] * abs(a)
            v[m] = a / x
            wt[m] = q[i] * abs(x)
            tot += wt[m]
            m += 1
        if m == 0:
            out[j] = 0.0
            continue
        pj = pen[j]
        if l1 and pj > 0.0:
            v[m] = 0.0
            wt[m] = pj
            tot += pj
            m += 1
        # the median reorders v and wt: evaluate the objective afterwards on
        # the same (permuted) pairs
        u = _weighted_median(v, wt, m, 0.5 * tot)
        fmin = 0.0
        for k in range(m):
            fmin += wt[k] * abs(v[k] - u)
        if l1:
            # fmin includes pen * |u| through the pseudo point (0, pen)
            s = f0 + pj * abs(bj) - fmin
        elif bj != 0.0:
            s = max(f0 - fmin, f0 - f_rm + pj)  # move, or remove
        else:
            s = f0 - fmin - pj
        out[j] = max(s, 0.0)


@njit(cache=True, nogil=True, inline="always", fastmath=_FASTMATH)
def _lad_line(X, data, indices, indptr, sparse, q, r, j, u):
    """``f(u) = sum_i q_i |r_i - u x_ij|``, a subgradient of ``f`` at ``u``,
    ``f(0)`` and ``sum_i q_i |x_ij|``, over the rows where ``x_ij != 0``."""
    f = 0.0
    g = 0.0
    f0 = 0.0
    nrm = 0.0
    if sparse:
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            qx = q[i] * data[k]
            d = r[i] - u * data[k]
            sd = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)
            f += q[i] * abs(d)
            g -= qx * sd
            f0 += q[i] * abs(r[i])
            nrm += abs(qx)
    else:
        for i in range(r.shape[0]):
            x = X[i, j]
            qx = q[i] * x
            d = r[i] - u * x
            sd = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else 0.0)
            # rows with x = 0 add the same |r_i| to f and f0
            f += q[i] * abs(d)
            g -= qx * sd
            f0 += q[i] * abs(r[i])
            nrm += abs(qx)
    return f, g, f0, nrm


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def lad_bounds(X, data, indices, indptr, sparse, q, r, t, lpen, n_eval, cand, upper,
               lower):
    """Bounds of the LAD loss decrease over one coordinate from ``b_j = 0``.

    ``f(u) = sum_i q_i |r_i - u x_ij|`` is convex and its minimiser satisfies
    ``|u*| <= U = 2 f(0) / sum_i q_i |x_ij|`` (from ``f(u*) <= f(0)``), so
    ``f`` lies above its tangents at any two points ``a < c`` bracketing
    ``u*`` (slopes ``g(a) <= 0 <= g(c)``) and ``min f`` is at least the value
    where they cross. Starting from ``{0, t_j}`` (or ``+-U``), ``n_eval``
    evaluations move the bracket to the crossing point (a secant-tangent
    method), each one pass over the column. Writes, for ``j`` in ``cand``,
    ``upper_j >= f(0) - min f`` and ``lower_j = f(0) - min(f(u) + lpen_j |u|)``
    over the evaluated ``u`` (a lower bound of the score with the l1
    penalty ``lpen``; zeros for the loss alone).
    ``sign(0) = 0`` gives valid subgradients at the kinks.
    """
    for jj in range(cand.shape[0]):
        j = cand[jj]
        f0, g0, _, nrm = _lad_line(X, data, indices, indptr, sparse, q, r, j, 0.0)
        if nrm == 0.0 or g0 == 0.0:
            # a zero column, or 0 is a minimiser (its subgradient vanishes)
            upper[j] = 0.0
            lower[j] = 0.0
            continue
        big = 2.0 * f0 / nrm
        lp = lpen[j]
        # orient the problem so that u* >= 0 (g0 < 0)
        sgn = 1.0 if g0 < 0.0 else -1.0
        a, fa, ga = 0.0, f0, g0 * sgn
        tj = t[j] * sgn
        c = tj if 0.0 < tj < big else big
        fc, gc, _, _ = _lad_line(X, data, indices, indptr, sparse, q, r, j, c * sgn)
        gc *= sgn
        fbest = min(f0, fc)
        fpen = min(f0, fc + lp * c)
        if gc < 0.0 and c < big:
            a, fa, ga = c, fc, gc
            c = big
            fc, gc, _, _ = _lad_line(X, data, indices, indptr, sparse, q, r, j, c * sgn)
            gc *= sgn
            fbest = min(fbest, fc)
            fpen = min(fpen, fc + lp * c)
        model = fbest
        for _ in range(n_eval):
            if ga >= 0.0 or gc <= 0.0 or gc == ga:
                # an end is a minimiser: the bounds meet
                model = fbest
                break
            m = (fc - gc * c - fa + ga * a) / (ga - gc)
            m = min(max(m, a), c)
            model = fa + ga * (m - a)
            if fbest - model <= 1e-12 * f0 or not (a < m < c):
                break
            fm, gm, _, _ = _lad_line(X, data, indices, indptr, sparse, q, r, j, m * sgn)
            gm *= sgn
            fbest = min(fbest, fm)
            fpen = min(fpen, fm + lp * m)
            if gm == 0.0:
                model = fm
                break
            if gm < 0.0:
                a, fa, ga = m, fm, gm
            else:
                c, fc, gc = m, fm, gm
        else:
            if ga < 0.0 < gc and gc != ga:
                m = min(max((fc - gc * c - fa + ga * a) / (ga - gc), a), c)
                model = fa + ga * (m - a)
        lower[j] = f0 - fpen
        # the slack covers rounding in the two bounds
        upper[j] = max(f0 - model, f0 - fbest, 0.0) + 1e-12 * f0


def selection_scores(X, y, q, coef, intercept, weights, alpha, loss, penalty,
                     fit_intercept):
    """Exact scores of every feature at ``(coef, intercept)`` (no pruning).

    ``X`` is float64, Fortran-ordered or CSC, ``q`` sums to one. For the
    least-squares losses with ``fit_intercept`` the intercept is profiled out
    (the columns and ``y`` are centred, ``intercept`` is ignored); for LAD it
    is held at ``intercept``.
    """
    from ._design import LinearDesign

    coef = np.asarray(coef, dtype=np.float64)
    pen = alpha * (weights if penalty == "l1" else weights ** 2)
    if loss == "lad_lasso":
        sparse = sp.issparse(X)
        r = y - np.asarray(X @ coef).ravel() - (intercept if fit_intercept else 0.0)
        out = np.zeros(X.shape[1])
        if sparse:
            args = (np.empty((2, 2), order="F"), X.data, X.indices, X.indptr, True)
        else:
            args = (X, np.empty(0), np.empty(0, dtype=np.int32),
                    np.empty(0, dtype=np.int32), False)
        lad_scores(*args, q, r, coef, pen, penalty == "l1",
                   np.arange(X.shape[1], dtype=np.int64), out)
        return out
    design = LinearDesign(X, y, q, center=fit_intercept)
    r = design.y - design.matvec(coef)
    return ls_scores(loss, penalty, design.corr(r), design.lipschitz, coef,
                     float(q @ (r * r)), pen)
