"""Exact solver for the weighted LAD-Lasso (least absolute deviations + L1).

Problem (``q``: non-negative sample weights, ``pen_j >= 0``; ``pen_j = 0``
means feature ``j`` is unpenalised; ``b0`` only when an intercept is fitted)::

    min_{b, b0}  sum_i q_i |y_i - x_i b - b0|  +  sum_j pen_j |b_j|

Dual (``|r| = max_{|u|<=1} u r`` and ``pen |b| = max_{|v|<=pen} v b``, then
minimise the Lagrangian over ``b`` and ``b0``)::

    max_u  sum_i q_i y_i u_i   s.t.  |u_i| <= 1,
                                     |sum_i q_i x_ij u_i| <= pen_j  (= 0 if pen_j = 0),
                                     sum_i q_i u_i = 0              (intercept only).

The problem is a weighted LAD regression on an augmented data set (one pseudo
row ``pen_j e_j`` with response 0 per penalised feature), hence a linear
program. It is solved by:

* a primal-dual interior-point method (Mehrotra predictor-corrector on the
  bounded dual LP, the Frisch-Newton scheme of Koenker & Portnoy for quantile
  regression) whose Newton system is the ``(k+1) x (k+1)`` matrix
  ``A^T diag(d) A + diag(pen^2 theta)`` of the ``k`` working-set columns plus
  the intercept column: ``O(n k^2)`` per iteration with BLAS;
* a vertex "polish": the rows whose IPM slack pairs say "interpolated" give a
  square system whose solution is the exact LP vertex; it is accepted only if
  its duality gap (with the matching dual vertex) is within tolerance;
* a working set over features: solve on a few features (the unpenalised ones
  always in), compute the full dual feasibility ``|X^T Q u|_j <= pen_j``, add
  the worst violators (at most doubling the set), re-solve warm-started
  (dual side). A new working set is first solved loosely, since its dual only
  ranks the outside features; once nothing violates, the same IPM run is
  continued to the tolerance.

With a sparse ``X`` and a sparse working set, the normal matrix is formed and
factorised sparse (SuperLU); otherwise the working-set columns are copied
dense. ``X`` itself is never copied or densified.

Every gap this module reports is a certificate: the primal objective of the
returned coefficients minus the dual objective of an explicitly feasible dual
point (the IPM or vertex dual, projected onto the equality constraints and
scaled into the box and the penalty constraints), both evaluated on the full
problem in float64.
"""

import contextlib
import functools
import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg.blas import dsyrk
from scipy.optimize import linprog
from scipy.sparse.csgraph import structural_rank
from scipy.sparse.linalg import splu

from ..utils._threads import blas_controller, blas_threads, single_threaded_blas

_STEP = 0.99995       # fraction of the step to the boundary (Koenker's rqfnb)
_WS_MIN = 10          # smallest number of features added to the working set
_LOOSE = 1e-3         # relative gap of the first solve of a new working set
_TINY_PEN = 1e-9      # scaled penalties below this are certified as equalities
_BLOCK = 256          # columns per float64 block when reading a float32 X
_SPARSE_WS = 0.1      # sparse working-set matrix below this density
_DENSE_FILL = 0.25    # dense factorisation of a sparse normal matrix above this fill
_POLISH_REL = 1e-3    # try the vertex polish below this relative gap
_THETA_MAX = 1e150    # cap of the IPM scaling theta (avoids overflow)
# BLAS calls below this many flops run single-threaded (see _blas_threads)
_THREAD_WORK = 2e9


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

_USER_THREADS = 1


@contextlib.contextmanager
def _blas_threads():
    """Run the solver with single-threaded BLAS.

    The interior-point method makes many mid-size BLAS/LAPACK calls
    (``K x K`` Cholesky and LU factorisations, ``n x K`` products). On a busy
    machine OpenBLAS' threads stall at every such call: a 5000 x 500 problem
    measured 25x slower with 2 threads than with 1 on a loaded 2-core box.
    Only the calls big enough to amortise the synchronisation
    (``_big_blas``) get the caller's thread count back.
    """
    global _USER_THREADS
    _USER_THREADS = blas_threads()
    with single_threaded_blas():
        yield


def _big_blas(work):
    """Context restoring the caller's BLAS threads for a call of ``work`` flops."""
    if work < _THREAD_WORK or _USER_THREADS <= 1:
        return contextlib.nullcontext()
    return blas_controller().limit(limits=_USER_THREADS, user_api="blas")


def _weighted_median(y, q):
    """Lower weighted median of ``y`` with weights ``q > 0`` (a LAD intercept)."""
    order = np.argsort(y, kind="stable")
    cw = np.cumsum(q[order])
    k = int(np.searchsorted(cw, 0.5 * cw[-1], side="left"))
    return float(y[order[min(k, y.size - 1)]])


class _Data:
    """Read-only view of the full problem (no copy of ``X``).

    ``rows`` are the samples with ``q_i > 0``; the interior-point method only
    sees those (the others contribute nothing to either objective).
    """

    def __init__(self, X, y, q, pen, fit_intercept):
        self.sparse = sp.issparse(X)
        if self.sparse:
            X = X.tocsc() if X.format != "csc" else X
        self.X = X
        self.n, self.p = X.shape
        self.y = y
        self.q = q
        self.pen = pen
        self.fit_intercept = fit_intercept
        self.rows = np.flatnonzero(q > 0)
        self.all_rows = self.rows.size == self.n
        self.yk = y[self.rows]
        self.qk = q[self.rows]
        self.col_scale = self._col_scale()

    def _col_scale(self):
        """sqrt(sum_i q_i x_ij^2); 0 marks an all-zero (useless) column."""
        if self.sparse:
            X2 = self.X.copy()
            X2.data = np.square(X2.data, dtype=np.float64)
            sq = np.asarray(X2.T @ self.q).ravel()
        else:
            sq = np.empty(self.p)
            for start in range(0, self.p, _BLOCK):
                blk = np.asarray(self.X[:, start:start + _BLOCK], dtype=np.float64)
                sq[start:start + _BLOCK] = self.q @ np.square(blk)
        out = np.sqrt(sq)
        out[~np.isfinite(out)] = 0.0
        return out

    def columns(self, idx):
        """Dense float64 Fortran copy of columns ``idx`` on the kept rows."""
        idx = np.asarray(idx, dtype=np.intp)
        if self.sparse:
            cols = self.X[:, idx].toarray()
            if not self.all_rows:
                cols = cols[self.rows]
        elif self.all_rows:
            cols = self.X[:, idx]
        else:
            cols = self.X[np.ix_(self.rows, idx)]
        return np.asfortranarray(cols, dtype=np.float64)

    def ws_matrix(self, idx, scale, intercept):
        """Scaled working-set matrix ``[X_ws / scale, 1]`` on the kept rows:
        scipy CSC when ``X`` is sparse and the block is sparse enough, else a
        dense Fortran array."""
        m = self.rows.size
        if self.sparse:
            Xw = self.X[:, np.asarray(idx, dtype=np.intp)]
            if Xw.nnz <= _SPARSE_WS * m * max(len(idx), 1):
                if not self.all_rows:
                    Xw = Xw.tocsr()[self.rows]
                Xw = sp.csc_matrix(Xw, dtype=np.float64) @ sp.diags(1.0 / scale)
                if intercept:
                    Xw = sp.hstack([Xw, np.ones((m, 1))], format="csc")
                return sp.csc_matrix(Xw)
        A = self.columns(idx) / scale
        if intercept:
            A = np.hstack([A, np.ones((m, 1))])
        return np.asfortranarray(A)

    def rmatvec(self, v_k):
        """``X^T v`` for ``v`` given on the kept rows (zero elsewhere), float64."""
        if self.all_rows:
            v = v_k
        else:
            v = np.zeros(self.n)
            v[self.rows] = v_k
        if self.sparse:
            return np.asarray(self.X.T @ v, dtype=np.float64).ravel()
        if self.X.dtype == np.float64:
            return self.X.T @ v
        out = np.empty(self.p)
        for start in range(0, self.p, _BLOCK):
            blk = np.asarray(self.X[:, start:start + _BLOCK], dtype=np.float64)
            out[start:start + _BLOCK] = blk.T @ v
        return out

    def matvec(self, coef):
        """``X coef`` on the kept rows, using only the non-zero coefficients."""
        nz = np.flatnonzero(coef)
        if nz.size == 0:
            return np.zeros(self.rows.size)
        if self.sparse:
            Xb = np.asarray(self.X[:, nz] @ coef[nz], dtype=np.float64).ravel()
            return Xb if self.all_rows else Xb[self.rows]
        return self.columns(nz) @ coef[nz]


class _EqualityProjector:
    """Q-orthogonal projection onto ``{u : E^T Q u = 0}``.

    ``E`` holds the intercept column and the unpenalised columns (on the kept
    rows): the dual equality constraints. Rank-deficient ``E`` is fine
    (pseudo-inverse of the Gram matrix).
    """

    def __init__(self, E, q):
        self.E = E
        self.q = q
        if E is None or E.shape[1] == 0:
            self.E = None
            return
        G = E.T @ (q[:, None] * E)
        G = 0.5 * (G + G.T)
        evals, evecs = np.linalg.eigh(G)
        keep = evals > evals[-1] * 1e3 * np.finfo(float).eps * max(G.shape[0], 1)
        self.V = evecs[:, keep] / np.sqrt(evals[keep])

    def __call__(self, u):
        if self.E is None:
            return u
        for _ in range(2):      # the second pass refines the rounding
            coef = self.V @ (self.V.T @ (self.E.T @ (self.q * u)))
            u = u - self.E @ coef
        return u


def _dual_feasible(u, corr_pen, pen_pos):
    """Scale making ``|u| <= 1`` and ``|corr_j| <= pen_j`` (after projection)."""
    m = float(np.max(np.abs(u))) if u.size else 0.0
    if corr_pen.size:
        m = max(m, float(np.max(np.abs(corr_pen) / pen_pos)))
    return 1.0 if m <= 1.0 else 1.0 / m


# --------------------------------------------------------------------------
# Interior-point method on a working set
# --------------------------------------------------------------------------

class _SubLP:
    """The LAD-Lasso restricted to the columns of ``A`` (already scaled).

    Columns of ``A`` carry weights ``pw`` (0: unpenalised, e.g. the
    intercept). The IPM works on the bounded LP over ``x = (1 + u) / 2``::

        min c^T x  s.t.  B^T x = B^T 1 / 2,  0 <= x <= 1,

    with rows ``q_i a_i`` (samples, ``c_i = -q_i y_i``) and ``pw_j e_j``
    (penalised columns, ``c = 0``). Its dual variable ``beta`` is minus the
    regression coefficient vector. Names: ``xs, ss, zs, ws`` are the sample
    rows' ``x``, upper slack ``s = 1 - x`` and the multipliers of ``x >= 0``
    and ``s >= 0``; ``xp, sp_, zp, wp`` the same for the penalty rows.
    """

    def __init__(self, A, q, y, pw):
        self.A = A
        self.q = q
        self.y = y
        self.pw = pw
        self.n, self.K = A.shape
        self.P = np.flatnonzero(pw > 0)
        self.pwP = pw[self.P]
        self.q2 = q * q
        self.c = -q * y
        self.sparse = sp.issparse(A)
        if self.sparse:
            self.A = A = sp.csc_matrix(A)
            self.Acsr = A.tocsr()
        self.buf = None
        self.Atq = A.T @ q
        # dual equality constraints (unpenalised columns, intercept) and the
        # columns whose penalty is below what rounding can certify: a dual
        # point is made feasible by projecting it onto A_eq^T Q u = 0
        self.eq = np.flatnonzero(pw < _TINY_PEN)
        # inequality constraints left to check (the projected ones hold as
        # equalities, exactly as for the unpenalised columns)
        self.chk = np.flatnonzero(pw >= _TINY_PEN)
        if self.eq.size:
            # projection onto {u : A_eq^T Q u = 0}, expressed on A^T Q u
            E = A[:, self.eq]
            self.E = E.toarray() if self.sparse else np.asfortranarray(E)
            self.AtQE = np.asarray(A.T @ (q[:, None] * self.E))
            G = self.AtQE[self.eq]
            G = 0.5 * (G + G.T)
            evals, evecs = np.linalg.eigh(G)
            keep = evals > max(evals[-1], 0.0) * 1e3 * np.finfo(float).eps * G.shape[0]
            self.V = evecs[:, keep] / np.sqrt(evals[keep])

    def certificate(self, r, b, u, corr):
        """Primal, gap and projected ``u`` on the restricted problem.

        ``r = y - A b`` and ``corr = A^T (q u)`` are supplied by the caller.
        """
        primal = float(self.q @ np.abs(r)) + float(self.pw @ np.abs(b))
        if self.eq.size:
            coef = self.V @ (self.V.T @ corr[self.eq])
            u = u - self.E @ coef
            corr = corr - self.AtQE @ coef
        s = _dual_feasible(u, corr[self.chk], self.pw[self.chk])
        dual = s * float(self.q @ (self.y * u))
        return primal, primal - dual, u

    def normal_matrix(self, d_s, d_p):
        """Factor ``A^T diag(d_s) A + diag_P(d_p)``; returns a solve function.

        A tiny ridge (relative ``1e-13``, grown if needed) keeps the factorisation
        defined when columns are collinear (e.g. duplicated unpenalised ones).
        """
        K = self.K
        if self.sparse:
            M = (self.A.T @ (sp.diags(d_s) @ self.A)).tocsc()
            dvec = np.zeros(K)
            dvec[self.P] = d_p
            M = M + sp.diags(dvec)
            if M.nnz > _DENSE_FILL * K * K or not np.all(np.isfinite(M.data)):
                return self._dense_factor(M.toarray())
            return self._sparse_factor(M)
        if self.buf is None:
            self.buf = np.empty_like(self.A, order="F")
        np.multiply(self.A, np.sqrt(d_s)[:, None], out=self.buf)
        with _big_blas(self.n * K * K):
            M = dsyrk(1.0, self.buf, trans=1, lower=0)
        M[self.P, self.P] += d_p
        return self._dense_factor(M)

    @staticmethod
    def _ridge(diag):
        """Per-entry base ridge: relative to each diagonal entry (a global one
        would swamp the small entries when penalties are large), absolute
        for zero entries."""
        dmax = float(np.max(diag)) if diag.size else 1.0
        if not np.isfinite(dmax) or dmax <= 0:
            dmax = 1.0
        return 1e-14 * np.where(diag > 0, diag, dmax) + 1e-300

    def _dense_factor(self, M):
        diag = np.diag_indices_from(M)
        if not np.all(np.isfinite(M)):
            M = np.nan_to_num(M, nan=0.0, posinf=np.finfo(float).max / 1e3,
                              neginf=-np.finfo(float).max / 1e3)
        ridge = self._ridge(M[diag])
        for _ in range(6):
            Mr = M.copy()
            Mr[diag] += ridge
            try:
                with _big_blas(M.shape[0] ** 3 / 3):
                    c = linalg.cho_factor(Mr, lower=False, overwrite_a=True,
                                          check_finite=False)
                break
            except (linalg.LinAlgError, ValueError):
                ridge *= 1e3
        else:
            # hopeless: a harmless diagonal system
            c = linalg.cho_factor(np.diag(np.maximum(M[diag], 1.0)), lower=False)
        return lambda rhs: linalg.cho_solve(c, rhs, check_finite=False)

    def _sparse_factor(self, M):
        ridge = self._ridge(M.diagonal())
        for _ in range(6):
            Mr = (M + sp.diags(ridge)).tocsc()
            try:
                lu = splu(Mr, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                          options={"SymmetricMode": True})
                return lu.solve
            except RuntimeError:
                ridge *= 1e3
        return self._dense_factor(M.toarray())

    # ------------------------------------------------------------------
    def polish(self, xs, ss, zs, ws, xp, sp_, zp, wp):
        """Vertex guess from the IPM iterate: ``(r, b, u, corr)`` or None."""
        n, K = self.n, self.K
        A, q = self.A, self.q
        tiny = 1e-300
        ind = np.concatenate([
            np.minimum(xs, ss) / np.maximum(np.maximum(zs, ws), tiny),
            np.minimum(xp, sp_) / np.maximum(np.maximum(zp, wp), tiny),
        ])
        if ind.size < K:
            return None
        basic = np.argpartition(-ind, K - 1)[:K]
        Z = np.sort(basic[basic < n])
        zero_cols = self.P[basic[basic >= n] - n]
        S = np.setdiff1d(np.arange(K), zero_cols)
        if S.size != Z.size or S.size == 0:
            return None
        if self.sparse:
            AZS = self.Acsr[Z][:, S].tocsc()
            AZS.eliminate_zeros()
            # SuperLU may crash (not raise) on structurally singular input
            if structural_rank(AZS) < S.size:
                return None
            try:
                lu = splu(AZS, permc_spec="COLAMD")
            except RuntimeError:
                return None
            solve = lu.solve
            solve_t = functools.partial(lu.solve, trans="T")
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", linalg.LinAlgWarning)
                    with _big_blas(2 * S.size ** 3 / 3):
                        lu = linalg.lu_factor(A[np.ix_(Z, S)], check_finite=False)
            except (linalg.LinAlgError, ValueError):
                return None
            dU = np.abs(np.diagonal(lu[0]))
            if not np.all(np.isfinite(dU)) or dU.min() <= 1e-13 * max(dU.max(), tiny):
                return None
            solve = functools.partial(linalg.lu_solve, lu, check_finite=False)
            solve_t = functools.partial(linalg.lu_solve, lu, trans=1, check_finite=False)
        b = np.zeros(K)
        b[S] = solve(self.y[Z])
        if not np.all(np.isfinite(b)):
            return None
        r = self.y - A @ b
        u = np.where(r > 0, 1.0, -1.0)
        amb = r == 0
        u[amb] = np.where(xs[amb] > ss[amb], 1.0, -1.0)
        u[Z] = 0.0
        # penalty-row duals (-sign b_j) of the non-basic penalised columns
        vP = np.where(xp > sp_, 1.0, -1.0)
        bP = b[self.P]
        vP = np.where(bP > 0, -1.0, np.where(bP < 0, 1.0, vP))
        v = np.zeros(K)
        v[self.P] = self.pwP * vP
        corr = A.T @ (q * u)
        rhs = -corr[S] - v[S]
        uZ = solve_t(rhs) / q[Z]
        if not np.all(np.isfinite(uZ)):
            return None
        u[Z] = uZ
        AZ = self.Acsr[Z] if self.sparse else A[Z]
        corr += AZ.T @ (q[Z] * uZ)
        return r, b, u, corr

    # ------------------------------------------------------------------
    def start(self, beta0):
        """Initial point: ``x = 1/2`` (primal feasible) and ``z - w = c - B beta``
        (dual feasible), ``beta`` from ``beta0`` or a least-squares fit."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore",
                         under="ignore"):
            self._start(beta0)

    def _start(self, beta0):
        n, K = self.n, self.K
        m_p = self.P.size
        A, q, P, pwP = self.A, self.q, self.P, self.pwP
        self.best = (np.zeros(K), None, np.inf)
        if K == 0:
            return
        if beta0 is None:
            solve = self.normal_matrix(self.q2, pwP ** 2)
            beta = solve(-(A.T @ (self.q2 * self.y)))
        else:
            beta = np.array(beta0, dtype=np.float64)
        Ab = A @ beta
        rs = self.c - q * Ab
        rpn = -pwP * beta[P]
        delta = float(np.mean(np.abs(np.concatenate([rs, rpn]))))
        delta = max(delta, 1e-12 * float(np.mean(q)), 1e-300)
        self.state = (
            np.full(n, 0.5), np.full(n, 0.5), np.maximum(rs, 0.0) + delta,
            np.maximum(-rs, 0.0) + delta, np.full(m_p, 0.5), np.full(m_p, 0.5),
            np.maximum(rpn, 0.0) + delta, np.maximum(-rpn, 0.0) + delta, beta, Ab)

    def _direction(self, it_state, rxz_s, rsw_s, rxz_p, rsw_p):
        """Newton direction for complementarity right-hand sides ``rxz`` (for
        ``x z``) and ``rsw`` (for ``s w``), through the normal equations."""
        solve, rp, rds, rdp, xs, ss, zs, ws, xp, sp_, zp, wp, ths, thp = it_state
        A, q, P, pwP = self.A, self.q, self.P, self.pwP
        rho_s = rds - rxz_s / xs + rsw_s / ss
        rho_p = rdp - rxz_p / xp + rsw_p / sp_
        rhs = rp + A.T @ (q * ths * rho_s)
        rhs[P] += pwP * thp * rho_p
        dbeta = solve(rhs)
        Adb = A @ dbeta
        dxs = ths * (q * Adb - rho_s)
        dxp = thp * (pwP * dbeta[P] - rho_p)
        dzs = (rxz_s - zs * dxs) / xs
        dws = (rsw_s + ws * dxs) / ss
        dzp = (rxz_p - zp * dxp) / xp
        dwp = (rsw_p + wp * dxp) / sp_
        return dbeta, Adb, dxs, dxp, dzs, dws, dzp, dwp

    def run(self, tol_abs, ref, max_iter):
        """Mehrotra predictor-corrector from the stored state until the gap of
        the best point is ``<= tol_abs`` (or ``max_iter`` iterations).

        Returns ``(b, u, gap, n_iter)``: the best point so far, ``u`` its
        projected (equality-feasible, not yet scaled) dual. ``ref`` is the
        objective scale deciding when polishing is worth trying. Can be
        called again to continue with a smaller ``tol_abs``. Overflow and
        division warnings are silenced: non-finite steps stop the iterations
        and every returned point is checked by its duality gap.
        """
        with np.errstate(over="ignore", divide="ignore", invalid="ignore",
                         under="ignore"):
            return self._run(tol_abs, ref, max_iter)

    def _run(self, tol_abs, ref, max_iter):
        n, K = self.n, self.K
        m_p = self.P.size
        A, q, P, pwP = self.A, self.q, self.P, self.pwP
        if K == 0:
            u = np.sign(self.y)
            _, gap, u = self.certificate(self.y, np.zeros(0), u, np.zeros(0))
            return np.zeros(0), u, gap, 0
        if self.best[2] <= tol_abs:
            return (*self.best, 0)
        xs, ss, zs, ws, xp, sp_, zp, wp, beta, Ab = self.state
        g = 0.5 * self.Atq
        g[P] += 0.5 * pwP
        best = self.best
        n_iter = 0
        m_tot = 2.0 * (n + m_p)

        def max_step(v, dv):
            neg = dv < 0
            if not np.any(neg):
                return np.inf
            return float(np.min(v[neg] / -dv[neg]))

        for it in range(max_iter + 1):
            t = A.T @ (q * xs)
            # certificate at the current iterate: b = -beta, u = 2x - 1
            _, gap, u_f = self.certificate(self.y + Ab, -beta, 2.0 * xs - 1.0,
                                           2.0 * t - self.Atq)
            if gap < best[2]:
                best = (-beta, u_f, gap)
            if gap <= tol_abs:
                break
            # total complementarity: twice the LP gap of a feasible iterate
            compl = 2.0 * (xs @ zs + ss @ ws + xp @ zp + sp_ @ wp)
            if min(gap, compl) <= _POLISH_REL * ref:
                pol = self.polish(xs, ss, zs, ws, xp, sp_, zp, wp)
                if pol is not None:
                    _, pgap, pu = self.certificate(*pol)
                    if pgap < best[2]:
                        best = (pol[1], pu, pgap)
                    if pgap <= tol_abs:
                        break
            if it == max_iter:
                break
            n_iter += 1
            rp = g - t
            rp[P] -= pwP * xp
            rds = self.c - q * Ab - zs + ws
            rdp = -pwP * beta[P] - zp + wp
            mu = 0.5 * compl / m_tot
            ths = np.minimum(1.0 / (zs / xs + ws / ss), _THETA_MAX)
            thp = np.minimum(1.0 / (zp / xp + wp / sp_), _THETA_MAX)
            solve = self.normal_matrix(self.q2 * ths, pwP ** 2 * thp)

            it_state = (solve, rp, rds, rdp, xs, ss, zs, ws, xp, sp_, zp, wp, ths, thp)
            # predictor (affine scaling)
            _, _, dxs, dxp, dzs, dws, dzp, dwp = self._direction(
                it_state, -xs * zs, -ss * ws, -xp * zp, -sp_ * wp)
            ap = min(1.0, max_step(xs, dxs), max_step(ss, -dxs),
                     max_step(xp, dxp), max_step(sp_, -dxp))
            ad = min(1.0, max_step(zs, dzs), max_step(ws, dws),
                     max_step(zp, dzp), max_step(wp, dwp))
            mu_aff = ((xs + ap * dxs) @ (zs + ad * dzs)
                      + (ss - ap * dxs) @ (ws + ad * dws)
                      + (xp + ap * dxp) @ (zp + ad * dzp)
                      + (sp_ - ap * dxp) @ (wp + ad * dwp)) / m_tot
            sigma = min(1.0, max(mu_aff / mu, 0.0) ** 3) if mu > 0 else 0.0
            smu = sigma * mu
            # corrector (centring + second-order term)
            dbeta, Adb, dxs2, dxp2, dzs2, dws2, dzp2, dwp2 = self._direction(
                it_state, smu - xs * zs - dxs * dzs, smu - ss * ws + dxs * dws,
                smu - xp * zp - dxp * dzp, smu - sp_ * wp + dxp * dwp)
            ap = min(1.0, _STEP * min(max_step(xs, dxs2), max_step(ss, -dxs2),
                                      max_step(xp, dxp2), max_step(sp_, -dxp2)))
            ad = min(1.0, _STEP * min(max_step(zs, dzs2), max_step(ws, dws2),
                                      max_step(zp, dzp2), max_step(wp, dwp2)))
            if not (np.isfinite(ap) and np.isfinite(ad)) or max(ap, ad) < 1e-12:
                break
            if not (np.all(np.isfinite(dbeta)) and np.all(np.isfinite(dxs2))):
                break

            xs = xs + ap * dxs2
            ss = ss - ap * dxs2
            xp = xp + ap * dxp2
            sp_ = sp_ - ap * dxp2
            beta = beta + ad * dbeta
            Ab = Ab + ad * Adb
            zs = zs + ad * dzs2
            ws = ws + ad * dws2
            zp = zp + ad * dzp2
            wp = wp + ad * dwp2
            for arr in (xs, ss, xp, sp_, zs, ws, zp, wp):
                np.maximum(arr, 1e-300, out=arr)
        self.state = (xs, ss, zs, ws, xp, sp_, zp, wp, beta, Ab)
        self.best = best
        b, u, gap = best
        return b, u, gap, n_iter


# --------------------------------------------------------------------------
# Full problem
# --------------------------------------------------------------------------

def _null_dual(data, b0):
    """Dual point of the null model (intercept only, no unpenalised columns)."""
    r = data.yk - b0
    u = np.sign(r)
    ties = r == 0
    if data.fit_intercept and np.any(ties):
        kappa = -float(data.qk[~ties] @ u[~ties]) / float(data.qk[ties].sum())
        u[ties] = np.clip(kappa, -1.0, 1.0)
    return u


def _full_certificate(data, projs, coef, intercept, u, chk):
    """Honest primal and gap on the full problem, and ``X^T Q u`` for ranking.

    ``projs = (base, strict)``: ``base`` projects onto the dual equality
    constraints; its correlations are returned (they rank the violators).
    ``strict`` (or None) also zeroes the correlations of the columns whose
    penalty is too small to certify by scaling; the gap uses it, and checks
    ``|X_j^T Q u| <= pen_j`` for the columns ``chk`` (the others hold as
    equalities by projection).
    """
    r = data.yk - data.matvec(coef) - intercept
    primal = float(data.qk @ np.abs(r)) + float(data.pen @ np.abs(coef))
    base, strict = projs
    u = base(u)
    corr = data.rmatvec(data.qk * u)
    if strict is None:
        u_c, corr_c = u, corr
    else:
        u_c = strict(u)
        corr_c = data.rmatvec(data.qk * u_c)
    s = _dual_feasible(u_c, corr_c[chk], data.pen[chk])
    dual = s * float(data.qk @ (data.yk * u_c))
    return primal, max(primal - dual, 0.0), corr


def _check_inputs(X, y, q, pen):
    if sp.issparse(X):
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
    else:
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError("X must be 2-D.")
    n, p = X.shape
    y = np.asarray(y, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    pen = np.asarray(pen, dtype=np.float64).ravel()
    if y.shape[0] != n or q.shape[0] != n:
        raise ValueError("y and q must have one entry per sample.")
    if pen.shape[0] != p:
        raise ValueError("pen must have one entry per feature.")
    for name, v in (("y", y), ("q", q), ("pen", pen)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite (no NaN or inf).")
    if np.any(q < 0) or np.any(pen < 0):
        raise ValueError("q and pen must be non-negative.")
    data = X.data if sp.issparse(X) else X
    if not np.all(np.isfinite(data)):
        raise ValueError("X must be finite (no NaN or inf).")
    return X, y, q, pen


def solve_lad(X, y, q, pen, fit_intercept, *, coef_init=None, intercept_init=None,
              tol=1e-8, max_iter=100):
    """Solve the weighted LAD-Lasso exactly (to a certified duality gap).

    ``min_{b, b0} sum_i q_i |y_i - x_i b - b0| + sum_j pen_j |b_j|``.

    Parameters
    ----------
    X : ndarray (n, p), float32/float64, or scipy.sparse CSC matrix
    y : ndarray (n,)
    q : ndarray (n,), non-negative sample weights (normally summing to one)
    pen : ndarray (p,), non-negative per-feature penalties (0: unpenalised)
    fit_intercept : bool
    coef_init, intercept_init : optional warm start (its support seeds the
        working set and its residual the interior-point start).
    tol : float
        Converged when ``dual_gap <= tol * max(P0, tiny)``, ``P0`` the primal
        objective of the zero model (``b = 0``, ``b0`` = weighted median).
    max_iter : int
        Interior-point iterations allowed per working-set sub-problem.

    Returns
    -------
    coef : ndarray (p,), float64
    intercept : float
    dual_gap : float
        Primal objective minus the dual objective of an explicitly feasible
        dual point: a rigorous bound on the sub-optimality.
    n_iter : int
        Total number of interior-point iterations.
    converged : bool
    """
    X, y, q, pen = _check_inputs(X, y, q, pen)
    with _blas_threads():
        return _solve_lad(X, y, q, pen, bool(fit_intercept), coef_init,
                          intercept_init, tol, max_iter)


def _solve_lad(X, y, q, pen, fit_intercept, coef_init, intercept_init, tol, max_iter):
    data = _Data(X, y, q, pen, fit_intercept)
    p = data.p
    coef = np.zeros(p)
    if data.rows.size == 0:
        return coef, 0.0, 0.0, 0, True
    yk, qk = data.yk, data.qk
    b0_null = _weighted_median(yk, qk) if fit_intercept else 0.0
    p0 = float(qk @ np.abs(yk - b0_null))
    tol_abs = tol * max(p0, np.finfo(np.float64).tiny)
    if p0 == 0.0:
        return coef, b0_null, 0.0, 0, True

    usable = data.col_scale > 0
    unpen = np.flatnonzero((pen == 0) & usable)
    penal_usable = (pen > 0) & usable

    # Scaling: b'_j = b_j s_j / ys, weights q * kappa (mean one), y / ys; the
    # scaled penalties are kappa * pen_j / s_j.
    ys = p0
    kappa = yk.size / float(qk.sum())

    # Equality constraints of the dual on the full problem (intercept and
    # unpenalised columns), plus the columns whose scaled penalty is too small
    # for |X_j^T Q u| <= pen_j to be certified through rounding: the dual
    # point is projected onto X_j^T Q u = 0 for them.
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny = np.flatnonzero(usable & (pen > 0)
                              & (kappa * pen < _TINY_PEN * data.col_scale))
    E_cols = []
    if fit_intercept:
        E_cols.append(np.ones((yk.size, 1)))
    if unpen.size:
        E_cols.append(data.columns(unpen))
    proj = (_EqualityProjector(np.hstack(E_cols) if E_cols else None, qk), None)
    chk = pen > 0
    if tiny.size:
        E_cols.append(data.columns(tiny))
        proj = (proj[0], _EqualityProjector(np.hstack(E_cols), qk))
        chk[tiny] = False
    qn = qk * kappa
    yt = yk / ys

    # ---------------- initial working set ----------------------------
    in_ws = np.zeros(p, dtype=bool)
    in_ws[unpen] = True
    beta_warm = None
    corr_rank = None
    best = None
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=np.float64).ravel()
        if coef_init.shape[0] != p or not np.all(np.isfinite(coef_init)):
            raise ValueError("coef_init must be finite, with one entry per feature.")
        coef_init = np.where(usable, coef_init, 0.0)
        supp = np.flatnonzero(coef_init)
        in_ws[supp] = True
        r_init = yk - data.matvec(coef_init)
        if not fit_intercept:
            b0_init = 0.0
        elif intercept_init is None:
            b0_init = _weighted_median(r_init, qk)
        else:
            b0_init = float(intercept_init)
        if supp.size or unpen.size:
            beta_warm = (coef_init, b0_init)
            # rank the candidates with the sign vector of the warm residual
            corr_rank = data.rmatvec(qk * np.sign(r_init - b0_init))
    if corr_rank is None and unpen.size == 0:
        # exact null model: weighted median (or zero) and its dual
        u = _null_dual(data, b0_null)
        primal, gap, corr_rank = _full_certificate(data, proj, coef, b0_null, u, chk)
        best = (coef.copy(), b0_null, gap, primal)
        if gap <= tol_abs:
            return coef, b0_null, float(gap), 0, True
    # a model with every penalised coefficient at zero, if one is at hand
    null_cand = (coef.copy(), b0_null, p0) if unpen.size == 0 else None

    n_iter = 0
    tol_in = 0.1 * tol_abs
    lp = lp_tol = None
    for _outer in range(2 * p + 20):
        # grow the working set with the worst violators of the current dual
        grow = lp is None
        if corr_rank is not None:
            cand = np.flatnonzero(penal_usable & ~in_ws)
            ratio = np.abs(corr_rank[cand]) / pen[cand]
            n_viol = int(np.count_nonzero(ratio > 1.0))
            n_ws = int(np.count_nonzero(in_ws & (pen > 0)))
            if n_viol == 0:
                if lp is not None and lp_tol <= tol_in:
                    # solved tightly, nothing to add: tighten further
                    if tol_in < 1e-3 * tol_abs:
                        break
                    tol_in *= 0.01
            else:
                grow = True
                # at most double the penalised part: the worst violators
                # first, then the near-violators (they tend to violate once
                # the others are in)
                n_add = max(_WS_MIN, min(n_ws, 2 * n_viol))
                if n_add < cand.size:
                    cand = cand[np.argpartition(-ratio, n_add - 1)[:n_add]]
                in_ws[cand] = True
        if grow:
            ws = np.flatnonzero(in_ws)
            scale = data.col_scale[ws]
            A = data.ws_matrix(ws, scale, fit_intercept)
            pw = kappa * pen[ws] / scale
            if fit_intercept:
                pw = np.append(pw, 0.0)
            lp = _SubLP(A, qn, yt, pw)
            beta0 = None
            if beta_warm is not None:
                cw, bw = beta_warm
                beta0 = -np.concatenate([cw[ws] * scale / ys,
                                         [bw / ys] if fit_intercept else []])
            lp.start(beta0)
            lp_iter = 0
            # a new working set is first solved loosely: its dual only has to
            # rank the features outside; it is refined once nothing is missing.
            # The null model (no penalised column yet) is solved tightly: it
            # is the answer for alpha >= alpha_max.
            lp_tol = max(tol_in, _LOOSE * p0) if np.any(pw > 0) else tol_in
        else:
            lp_tol = tol_in
        # the scaled sub-problem's objective is the original one times kappa/ys
        b_s, u, _, it = lp.run(lp_tol * kappa / ys, kappa, max_iter - lp_iter)
        n_iter += it
        lp_iter += it
        coef = np.zeros(p)
        coef[ws] = b_s[:ws.size] * ys / scale
        b0 = float(b_s[-1] * ys) if fit_intercept else 0.0
        primal, gap, corr_rank = _full_certificate(data, proj, coef, b0, u, chk)
        if best is None or gap < best[2]:
            best = (coef.copy(), b0, gap, primal)
        if not np.any(in_ws & (pen > 0)) and (null_cand is None or primal < null_cand[2]):
            null_cand = (coef.copy(), b0, primal)
        if gap <= tol_abs:
            break
        beta_warm = (coef, b0)
        if lp_iter >= max_iter:
            # the sub-problem hit max_iter: give up unless features are missing
            cand = np.flatnonzero(penal_usable & ~in_ws)
            if not np.any(np.abs(corr_rank[cand]) > pen[cand]):
                break
    coef, b0, gap, primal = best
    if null_cand is not None and np.any(coef[pen > 0] != 0):
        # The dual point certifying ``best`` certifies any primal point; if it
        # also certifies the null model (ties make the LP solution non-unique,
        # e.g. at alpha_max), return the sparser one.
        gap_null = gap + (null_cand[2] - primal)
        if gap_null <= tol_abs:
            coef, b0, gap = null_cand[0], null_cand[1], max(gap_null, 0.0)
    return coef, float(b0), float(gap), int(n_iter), bool(gap <= tol_abs)


# --------------------------------------------------------------------------
# alpha_max
# --------------------------------------------------------------------------

def lad_alpha_max(X, y, q, weights, fit_intercept):
    """Smallest ``alpha`` such that ``pen = alpha * weights`` zeroes every
    coefficient with ``weights_j > 0``.

    The null model is the LAD fit on the intercept and the unpenalised
    features; ``alpha_max = min_u max_{w_j > 0} |X_j^T Q u| / w_j`` over the
    dual points ``u`` of that null fit (``u_i = sign(r_i)`` off the
    interpolated samples, free in ``[-1, 1]`` on them subject to the dual
    equality constraints), a small LP in the free entries.
    """
    X, y, q, w = _check_inputs(X, y, q, weights)
    fit_intercept = bool(fit_intercept)
    data = _Data(X, y, q, w, fit_intercept)
    P = np.flatnonzero((w > 0) & (data.col_scale > 0))
    if P.size == 0 or data.rows.size == 0:
        return 0.0
    yk, qk = data.yk, data.qk
    U = np.flatnonzero((w == 0) & (data.col_scale > 0))
    if U.size:
        pen_null = np.full(data.p, np.inf)
        pen_null[U] = 0.0
        # null fit on U only (penalised columns dropped)
        XU = X[:, U]
        coefU, b0, _, _, _ = solve_lad(XU, y, q, np.zeros(U.size), fit_intercept,
                                       tol=1e-12)
        fit = data.columns(U) @ coefU + b0
        r = yk - fit
        scale = np.abs(yk) + np.abs(fit) + float(np.max(np.abs(yk)))
        ties = np.abs(r) <= 1e-10 * scale
    else:
        b0 = _weighted_median(yk, qk) if fit_intercept else 0.0
        r = yk - b0
        ties = r == 0
    u = np.where(ties, 0.0, np.sign(r))
    corr = data.rmatvec(qk * u)[P]
    wP = w[P]
    Z = np.flatnonzero(ties)
    if Z.size == 0:
        return float(np.max(np.abs(corr) / wP))
    if Z.size == yk.size:
        return 0.0          # exact null fit: u = 0 is a feasible dual point
    # LP in (u_Z, t): min t  s.t. |corr + C u_Z| <= t w,  equality constraints
    qZ = qk[Z]
    rowsZ = data.rows[Z]
    nz = Z.size
    if data.sparse:
        C = sp.csr_matrix(data.X.tocsr()[rowsZ][:, P].T @ sp.diags(qZ))   # |P| x |Z|
        wcol = sp.csr_matrix(-wP[:, None])
        A_ub = sp.bmat([[C, wcol], [-C, wcol]], format="csr")
    else:
        C = (np.asarray(data.X[np.ix_(rowsZ, P)], dtype=np.float64) * qZ[:, None]).T
        A_ub = np.block([[C, -wP[:, None]], [-C, -wP[:, None]]])
    b_ub = np.concatenate([-corr, corr])
    # equality constraints on u_Z: intercept and unpenalised columns
    N = ~ties
    Eq, eq_rhs = [], []
    if fit_intercept:
        Eq.append(qZ)
        eq_rhs.append(-float(qk[N] @ u[N]))
    if U.size:
        XUk = data.columns(U)
        for k in range(U.size):
            Eq.append(qZ * XUk[Z, k])
            eq_rhs.append(-float((qk * XUk[:, k])[N] @ u[N]))
    Eq = np.array(Eq).reshape(len(eq_rhs), nz)
    eq_rhs = np.array(eq_rhs)
    cost = np.zeros(nz + 1)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub,
                  A_eq=np.hstack([Eq, np.zeros((Eq.shape[0], 1))]) if Eq.size else None,
                  b_eq=eq_rhs if Eq.size else None,
                  bounds=[(-1.0, 1.0)] * nz + [(0.0, None)], method="highs",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    uZ = res.x[:nz] if res.status == 0 and res.x is not None else np.zeros(nz)
    # make u_Z satisfy the equality constraints to rounding (the LP solver's
    # tolerance is looser), staying in the box: then the value below is the
    # ratio of a genuinely feasible dual point, an upper bound of alpha_max
    if Eq.size:
        pinv = np.linalg.pinv(Eq)
        for _ in range(3):
            uZ = np.clip(uZ - pinv @ (Eq @ uZ - eq_rhs), -1.0, 1.0)
    else:
        uZ = np.clip(uZ, -1.0, 1.0)
    return float(np.max(np.abs(corr + C @ uZ) / wP))
