"""Unpenalised refits on the support of the weighted OMP.

* Least squares (lasso and sqrt_lasso losses): the Cholesky factor of the
  weighted Gram matrix of the support grows by one row per step (one
  triangular solve, ``O(k^2)``), and the normal equations are solved with it.
* Least absolute deviations (lad_lasso loss): an exact weighted l1 regression
  on the support columns (and the intercept). A new column is added to the
  previous optimal vertex by simplex-type pivots with exact line searches
  (:class:`LADRefit`, compiled with numba); each result carries an
  optimality certificate. The interior-point / vertex solver of
  :mod:`._lad_solver` takes over beyond ``_PIVOT_MAX`` coefficients (where
  it is faster) or when the pivots cannot produce a certificate.
"""

import numpy as np
from numba import njit
from scipy import linalg

from ._lad_solver import solve_lad
from ._omp_scores import _weighted_median

# A new column whose squared distance to the span of the support is below
# this fraction of its squared norm is taken as linearly dependent.
_DEPENDENT = 1e3 * np.finfo(np.float64).eps
# The LAD refit pivots up to this many coefficients. From a warm start it
# takes about 2m pivots of O(n m + m^3) each, against a few interior-point
# iterations of O(n m^2) (with more Python overhead).
_PIVOT_MAX = 40


class IncrementalCholesky:
    """Lower Cholesky factor ``L`` of a Gram matrix grown one row at a time.

    Parameters
    ----------
    max_size : int
        Largest number of rows.
    """

    def __init__(self, max_size):
        self.L = np.zeros((max(max_size, 1), max(max_size, 1)))
        self.size = 0

    def add(self, gram_row, diag):
        """Append a column with Gram entries ``gram_row`` (with the support) and
        squared norm ``diag``.

        Returns ``False`` (and leaves the factor unchanged) when the column is
        numerically dependent on the previous ones.
        """
        k = self.size
        if k:
            row = linalg.solve_triangular(self.L[:k, :k], gram_row, lower=True,
                                          check_finite=False)
            rest = diag - float(row @ row)
        else:
            row = gram_row[:0]
            rest = diag
        if not rest > _DEPENDENT * diag:
            return False
        self.L[k, :k] = row
        self.L[k, k] = np.sqrt(rest)
        self.size = k + 1
        return True

    def solve(self, rhs):
        """Solve ``L L^T x = rhs``."""
        return linalg.cho_solve((self.L[:self.size, :self.size], True), rhs,
                                check_finite=False)


@njit(cache=True, nogil=True)
def _lad_line_search(A, y, q, beta, d, in_basis, extra):
    """Exact minimiser ``t`` of ``sum_i q_i |y_i - a_i (beta + t d)|`` and the
    row it makes interpolated (-1: no usable row, or no progress).

    Basis rows stay interpolated (``a_i d = 0``) except ``extra``, the row
    leaving the basis (residual 0), which joins the line search.
    """
    n, m = A.shape
    z = np.zeros(n)
    r = y.copy()
    for k in range(m):
        dk = d[k]
        bk = beta[k]
        for i in range(n):
            z[i] += A[i, k] * dk
            r[i] -= A[i, k] * bk
    zmax = 0.0
    for i in range(n):
        zmax = max(zmax, abs(z[i]))
    v = np.empty(n)
    w = np.empty(n)
    idx = np.empty(n, dtype=np.int64)
    cnt = 0
    tot = 0.0
    for i in range(n):
        if i == extra:
            ri = 0.0
        elif in_basis[i] or abs(z[i]) <= 1e-14 * zmax:
            continue
        else:
            ri = r[i]
        v[cnt] = ri / z[i]
        w[cnt] = q[i] * abs(z[i])
        idx[cnt] = i
        tot += w[cnt]
        cnt += 1
    if cnt == 0:
        return 0.0, -1
    t = _weighted_median(v[:cnt].copy(), w[:cnt].copy(), cnt, 0.5 * tot)
    row = -1
    for c in range(cnt):
        if v[c] == t:
            if idx[c] == extra:
                return 0.0, -1     # the leaving row is the minimiser: no progress
            if row < 0:
                row = idx[c]
    return t, row


@njit(cache=True, nogil=True)
def lad_pivots(A, y, q, beta, basis, max_pivots):
    """Add the last column of ``A`` to the optimal vertex ``basis[:m-1]``.

    Updates ``beta`` and ``basis`` in place; returns True once the vertex is
    certified optimal (see :class:`LADRefit`), False if the pivots fail.
    Singular basis matrices raise ``numpy.linalg.LinAlgError``.
    """
    n, m = A.shape
    in_basis = np.zeros(n, dtype=np.bool_)
    for a in range(m - 1):
        in_basis[basis[a]] = True
    # move the new coefficient, keeping the basis rows interpolated
    d = np.zeros(m)
    d[m - 1] = 1.0
    if m > 1:
        M = np.empty((m - 1, m - 1))
        rhs = np.empty(m - 1)
        for a in range(m - 1):
            for b in range(m - 1):
                M[a, b] = A[basis[a], b]
            rhs[a] = -A[basis[a], m - 1]
        d[:m - 1] = np.linalg.solve(M, rhs)
    t, row = _lad_line_search(A, y, q, beta, d, in_basis, -1)
    if row < 0:
        return False
    beta += t * d
    basis[m - 1] = row
    in_basis[row] = True
    AB = np.empty((m, m))
    qs = np.empty(n)
    for _ in range(max_pivots):
        r = y.copy()
        for k in range(m):
            for i in range(n):
                r[i] -= A[i, k] * beta[k]
        for i in range(n):
            if in_basis[i] or r[i] == 0.0:
                qs[i] = 0.0
            else:
                qs[i] = q[i] if r[i] > 0.0 else -q[i]
        g = np.zeros(m)
        for k in range(m):
            acc = 0.0
            for i in range(n):
                acc += A[i, k] * qs[i]
            g[k] = -acc
        for a in range(m):
            for b in range(m):
                AB[a, b] = A[basis[a], b]
        qu = np.linalg.solve(np.ascontiguousarray(AB.T), g)
        worst = 0.0
        ell = -1
        for a in range(m):
            ua = qu[a] / q[basis[a]]
            if not np.isfinite(ua):
                return False
            if abs(ua) > worst:
                worst = abs(ua)
                ell = a
        if worst <= 1.0 + 1e-9:
            return True            # certified optimal vertex
        e = np.zeros(m)
        e[ell] = -1.0 if qu[ell] > 0.0 else 1.0
        d = np.linalg.solve(AB, e)
        for k in range(m):
            if not np.isfinite(d[k]):
                return False
        t, row = _lad_line_search(A, y, q, beta, d, in_basis, basis[ell])
        if row < 0:
            return False
        beta += t * d
        in_basis[basis[ell]] = False
        basis[ell] = row
        in_basis[row] = True
    return False


def lad_intercept(y, q):
    """A weighted median of ``y``: the LAD fit of the intercept alone."""
    keep = q > 0
    return _weighted_median(y[keep], q[keep].copy(), int(keep.sum()), 0.5 * q[keep].sum())


class LADRefit:
    r"""Exact weighted l1 regression on a growing set of columns.

    Solves :math:`\min_\beta \sum_i q_i |y_i - a_i^\top \beta|` over the
    columns added so far (plus a column of ones for the intercept). The
    problem is a linear program whose vertices interpolate ``m`` samples (the
    *basis* ``B``, ``m`` = number of coefficients); a vertex is optimal iff
    the dual ``u`` with :math:`u_i = \mathrm{sign}(r_i)` off the basis and
    :math:`A_B^\top Q_B u_B = -A_N^\top Q_N u_N` on it satisfies
    :math:`|u_B| \le 1` (then ``u`` certifies a zero duality gap).

    Adding a column to an optimal vertex: move the new coefficient with the
    basis rows kept interpolated, by an exact line search (a weighted median),
    which adds one row to the basis; then, while some :math:`|u_l| > 1`,
    release basis row ``l`` in the descent direction and line-search again
    (a Barrodale-Roberts-type pivot), about ``2 m`` pivots from the previous
    optimum. Beyond ``_PIVOT_MAX`` coefficients, or without a certificate
    after ``4 m + 10`` pivots (degenerate or ill-conditioned vertices), the
    interior-point solver :func:`solve_lad` (exact to a certified duality gap,
    then polished to a vertex) solves the problem, warm-started.

    Parameters
    ----------
    y, q : ndarray of shape (n_samples,)
        Response and sample weights (rows with ``q_i = 0`` are dropped).
    fit_intercept : bool
    max_size : int
        Largest number of columns.
    """

    def __init__(self, y, q, fit_intercept, max_size):
        self.rows = np.flatnonzero(q > 0)
        self.y = y[self.rows]
        self.q = q[self.rows]
        n = self.rows.size
        m = max_size + int(fit_intercept)
        self.A = np.empty((n, m), order="F")
        self.m = 0
        self.fit_intercept = fit_intercept
        self.beta = np.zeros(0)
        self.basis = []
        self.n_fallbacks = 0
        if fit_intercept:
            self.A[:, 0] = 1.0
            self.m = 1
            med = lad_intercept(self.y, self.q)
            self.beta = np.array([med])
            self.basis = [int(np.argmin(np.abs(self.y - med)))]

    def intercept_and_coef(self):
        if self.fit_intercept:
            return float(self.beta[0]), self.beta[1:]
        return 0.0, self.beta

    def add(self, column):
        """Add ``column`` (all samples) and refit; return ``(coef, intercept)``."""
        k = self.m
        self.A[:, k] = column[self.rows]
        self.m = k + 1
        beta = np.append(self.beta, 0.0)
        res = None
        if self.m <= _PIVOT_MAX:
            res = self._pivots(beta, max_pivots=4 * self.m + 10)
            self.n_fallbacks += res is None
        if res is None:
            res = self._interior_point(beta)
        self.beta, self.basis = res
        b0, coef = self.intercept_and_coef()
        return coef.copy(), b0

    def _pivots(self, beta, max_pivots):
        m = self.m
        if len(self.basis) != m - 1:
            return None
        basis = np.empty(m, dtype=np.int64)
        basis[:m - 1] = self.basis
        beta = beta.copy()
        try:
            ok = lad_pivots(self.A[:, :m], self.y, self.q, beta, basis, max_pivots)
        except np.linalg.LinAlgError:
            return None
        return (beta, [int(i) for i in basis]) if ok else None

    def _interior_point(self, beta):
        A = self.A[:, :self.m]
        if self.fit_intercept:
            coef, b0, _, _, _ = solve_lad(A[:, 1:], self.y, self.q, np.zeros(self.m - 1),
                                          True, coef_init=beta[1:], intercept_init=beta[0],
                                          tol=1e-10, max_iter=200)
            beta = np.r_[b0, coef]
        else:
            beta, _, _, _, _ = solve_lad(A, self.y, self.q, np.zeros(self.m), False,
                                         coef_init=beta, tol=1e-10, max_iter=200)
        # the basis of the solver's vertex: the m smallest residuals
        r = np.abs(self.y - A @ beta)
        return beta, [int(i) for i in np.argsort(r, kind="stable")[:self.m]]
