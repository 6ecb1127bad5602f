"""Quadratically regularised optimal transport by a semismooth Newton method.

The primal problem and its dual (Blondel, Seguy, Rolet 2018) are

.. math::

    \\min_{P \\ge 0,\\ P 1 = a,\\ P^T 1 = b} \\langle M, P\\rangle
        + \\frac{\\gamma}{2} \\|P\\|_F^2
    \\;=\\; \\max_{f, g}\\ a^T f + b^T g
        - \\frac{1}{2\\gamma} \\sum_{ij} [f_i + g_j - M_{ij}]_+^2,

with the plan recovered as :math:`P_{ij} = [f_i + g_j - M_{ij}]_+ / \\gamma`.
The dual is concave, piecewise quadratic and once differentiable; its
gradient is the marginal residual ``(a - P 1, b - P^T 1)`` and a generalised
Hessian is ``-(1/gamma)`` times the signless Laplacian of the bipartite graph
of the active pairs (``f_i + g_j > M_ij``), which is as sparse as the plan.

The solver (in the spirit of Lorenz, Manns, Meyer 2021) first runs a few
rounds of exact block ascent (each row, then each column potential is set so
that its marginal holds exactly, a small piecewise-linear equation), which
activates every row and column, then takes Newton steps: the regularised
Newton system is solved by Jacobi-preconditioned conjugate gradient on the
sparse active set and the step is safeguarded by a backtracking line search.
Each iteration costs two passes over ``M`` (like two Sinkhorn iterations)
and the residual converges superlinearly, so tight marginal tolerances are
cheap, whereas first-order methods on the same dual (L-BFGS, as in POT's
``smooth_ot_dual``) slow down sharply there. When ``reg`` is small for the
cost spread and sample sizes (nearly unregularised OT), the warm-started
active graph is too sparse for Newton steps to move mass between its
components; the solver then follows a continuation path from a larger
``reg`` (see :func:`solve_quadratic_dual`).
"""

import warnings

import numpy as np
from numba import get_num_threads, njit, prange
from sklearn.exceptions import ConvergenceWarning

from ..utils._validation import check_max_iter, check_tol
from ._result import OTResult
from ._validation import (
    check_ot_problem,
    check_reg,
    expand_plan,
    expand_potential,
    restrict_to_support,
)

# Exact block-ascent rounds before Newton: enough to activate every row and
# column and to get the residual to the region where full Newton steps are
# accepted; more rounds cost as much as Newton steps and gain less.
_WARMUP_ROUNDS = 3
# Cap of the Newton regularisation, relative to the largest Hessian
# diagonal (see solve_quadratic_dual); 1e-3 was
# the fastest of 1e-2 .. 1e-9 on 2-D and 10-D clouds with reg 0.1 .. 10
# (smaller values give longer steps that the line search has to cut back).
_LM_FACTOR = 1e-3
# Continuation (see solve_quadratic_dual): minimum average number of active
# pairs per row/column of the warm-started plan, and the reg ratio per stage.
_MIN_DEGREE = 3.0
_CONTINUATION_FACTOR = 10.0


@njit(cache=True, nogil=True, inline="always")
def _threshold_row(M, i, h, s):
    """Solve ``sum_j [t - (M_ij - h_j)]_+ = s`` for ``t`` (``s > 0``).

    The left side is convex, piecewise linear and increasing in ``t``;
    Newton's method started to the right of the root (``min + s``) decreases
    monotonically and stops exactly at the root after a few breakpoints.
    """
    m = M.shape[1]
    t = np.inf
    for j in range(m):
        c = M[i, j] - h[j]
        t = min(t, c)
    t += s
    while True:
        acc = 0.0
        k = 0
        for j in range(m):
            c = M[i, j] - h[j]
            if c < t:
                acc += c
                k += 1
        t_new = (s + acc) / k
        if not t_new < t:
            return t
        t = t_new


# Below this many cost entries a parallel region costs more than it saves
# (thread start-up and join, much worse on a loaded machine): run serially.
PARALLEL_MIN_SIZE = 200_000


def _n_chunks(n, size):
    return 1 if size < PARALLEL_MIN_SIZE else min(n, 4 * get_num_threads())


@njit(cache=True, nogil=True)
def _ascent_rows(M, h, mass, reg, lo, hi, out):
    for i in range(lo, hi):
        out[i] = _threshold_row(M, i, h, reg * mass[i])


@njit(cache=True, nogil=True, parallel=True)
def _ascent_parallel(M, h, mass, reg, n_chunks, out):
    n = M.shape[0]
    for c in prange(n_chunks):
        _ascent_rows(M, h, mass, reg, c * n // n_chunks, (c + 1) * n // n_chunks, out)


def block_ascent(M, h, mass, reg, out):
    """``out[i] =`` the potential making row ``i`` of the plan sum to ``mass[i]``."""
    n_chunks = _n_chunks(M.shape[0], M.size)
    if n_chunks == 1:
        _ascent_rows(M, h, mass, reg, 0, M.shape[0], out)
    else:
        _ascent_parallel(M, h, mass, reg, n_chunks, out)


@njit(cache=True, nogil=True)
def _column_ascent(M, f, mass, reg, cols, g):
    """Exact ascent on ``g[j]`` for ``j`` in ``cols`` (strided column access)."""
    MT = M.T
    for k in range(cols.shape[0]):
        j = cols[k]
        g[j] = _threshold_row(MT, j, f, reg * mass[j])


@njit(cache=True, nogil=True)
def _row_ascent(M, g, mass, reg, rows, f):
    for k in range(rows.shape[0]):
        i = rows[k]
        f[i] = _threshold_row(M, i, g, reg * mass[i])


@njit(cache=True, nogil=True)
def _count_rows(f, g, M, lo, hi, counts, sq):
    m = M.shape[1]
    for i in range(lo, hi):
        k = 0
        acc = 0.0
        fi = f[i]
        for j in range(m):
            x = fi + g[j] - M[i, j]
            if x > 0.0:
                k += 1
                acc += x * x
        counts[i] = k
        sq[i] = acc


@njit(cache=True, nogil=True)
def _fill_rows(f, g, M, reg, lo, hi, indptr, indices, data):
    m = M.shape[1]
    for i in range(lo, hi):
        p = indptr[i]
        fi = f[i]
        for j in range(m):
            x = fi + g[j] - M[i, j]
            if x > 0.0:
                indices[p] = j
                data[p] = x / reg
                p += 1


@njit(cache=True, nogil=True, parallel=True)
def _count_parallel(f, g, M, n_chunks, counts, sq):
    n = M.shape[0]
    for c in prange(n_chunks):
        _count_rows(f, g, M, c * n // n_chunks, (c + 1) * n // n_chunks, counts, sq)


@njit(cache=True, nogil=True, parallel=True)
def _fill_parallel(f, g, M, reg, n_chunks, indptr, indices, data):
    n = M.shape[0]
    for c in prange(n_chunks):
        _fill_rows(f, g, M, reg, c * n // n_chunks, (c + 1) * n // n_chunks,
                   indptr, indices, data)


def active_plan(f, g, M, reg):
    """The plan at ``(f, g)`` in CSR form and the dual objective's penalty term.

    Returns ``(indptr, indices, data, penalty)`` with
    ``penalty = sum_ij [f_i + g_j - M_ij]_+^2 / (2 reg)``.
    """
    n = M.shape[0]
    counts = np.empty(n, dtype=np.int64)
    sq = np.empty(n)
    n_chunks = _n_chunks(n, M.size)
    if n_chunks == 1:
        _count_rows(f, g, M, 0, n, counts, sq)
    else:
        _count_parallel(f, g, M, n_chunks, counts, sq)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    data = np.empty(indptr[-1])
    if n_chunks == 1:
        _fill_rows(f, g, M, reg, 0, n, indptr, indices, data)
    else:
        _fill_parallel(f, g, M, reg, n_chunks, indptr, indices, data)
    return indptr, indices, data, float(sq.sum()) / (2.0 * reg)


@njit(cache=True, nogil=True)
def _csr_sums(indptr, indices, data, m):
    n = indptr.shape[0] - 1
    rows = np.zeros(n)
    cols = np.zeros(m)
    rcount = np.zeros(n)
    ccount = np.zeros(m)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            rows[i] += data[p]
            cols[j] += data[p]
            rcount[i] += 1.0
            ccount[j] += 1.0
    return rows, cols, rcount, ccount


@njit(cache=True, nogil=True)
def _hess_vec(indptr, indices, rcount, ccount, inv_reg, delta, vf, vg, out_f, out_g):
    """``(H + delta I) v`` with ``H = (1/reg) [[diag(r), A], [A^T, diag(c)]]``."""
    n = vf.shape[0]
    for j in range(vg.shape[0]):
        out_g[j] = (inv_reg * ccount[j] + delta) * vg[j]
    for i in range(n):
        acc = 0.0
        vfi = vf[i] * inv_reg
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            acc += vg[j]
            out_g[j] += vfi
        out_f[i] = (inv_reg * rcount[i] + delta) * vf[i] + inv_reg * acc


@njit(cache=True, nogil=True)
def newton_direction(indptr, indices, rcount, ccount, reg, delta, rf, rg, rtol, max_cg):
    """Solve ``(H + delta I) d = r`` by Jacobi-preconditioned conjugate gradient."""
    n, m = rf.shape[0], rg.shape[0]
    inv_reg = 1.0 / reg
    df = np.zeros(n)
    dg = np.zeros(m)
    pre_f = 1.0 / (inv_reg * rcount + delta)
    pre_g = 1.0 / (inv_reg * ccount + delta)
    res_f = rf.copy()
    res_g = rg.copy()
    zf = pre_f * res_f
    zg = pre_g * res_g
    pf = zf.copy()
    pg = zg.copy()
    qf = np.empty(n)
    qg = np.empty(m)
    rz = res_f @ zf + res_g @ zg
    target = rtol * np.sqrt(rf @ rf + rg @ rg)
    it = 0
    while it < max_cg:
        if np.sqrt(res_f @ res_f + res_g @ res_g) <= target:
            break
        _hess_vec(indptr, indices, rcount, ccount, inv_reg, delta, pf, pg, qf, qg)
        step = rz / (pf @ qf + pg @ qg)
        df += step * pf
        dg += step * pg
        res_f -= step * qf
        res_g -= step * qg
        zf = pre_f * res_f
        zg = pre_g * res_g
        rz_new = res_f @ zf + res_g @ zg
        beta = rz_new / rz
        rz = rz_new
        pf = zf + beta * pf
        pg = zg + beta * pg
        it += 1
    return df, dg, it


class _State:
    """Dual point with everything the Newton loop needs at it."""

    def __init__(self, f, g, a, b, M, reg):
        self.f, self.g = f, g
        self.indptr, self.indices, self.data, penalty = active_plan(f, g, M, reg)
        self.value = float(a @ f + b @ g) - penalty
        rows, cols, self.rcount, self.ccount = _csr_sums(
            self.indptr, self.indices, self.data, M.shape[1])
        self.grad_f = a - rows
        self.grad_g = b - cols
        self.error = float(np.abs(self.grad_f).sum() + np.abs(self.grad_g).sum())

    def plan(self, shape):
        P = np.zeros(shape)
        rows = np.repeat(np.arange(shape[0]), np.diff(self.indptr))
        P[rows, self.indices] = self.data
        return P


def _block_ascent_rounds(a, b, M, MT, reg, f, g):
    """Exact row, then column, ..., then row ascent from ``g`` (in place)."""
    block_ascent(M, g, a, reg, f)
    for _ in range(_WARMUP_ROUNDS):
        block_ascent(MT, f, b, reg, g)
        block_ascent(M, g, a, reg, f)


def _newton(a, b, M, reg, f, g, max_iter, tol, counters):
    """Semismooth Newton from ``(f, g)`` until the l1 marginal error <= ``tol``."""
    return semismooth_newton(lambda f, g: _State(f, g, a, b, M, reg), a, b, M, reg, f, g,
                             max_iter, tol, counters)


def semismooth_newton(make_state, a, b, M, reg, f, g, max_iter, tol, counters):
    """Newton iterations on the quadratic-OT dual; returns ``(state, n_iter)``.

    ``make_state(f, g)`` evaluates a dual point: :class:`_State` for the full
    problem, or a restricted one (``_sparsity_constrained``) whose cost ``M``
    is ``inf`` outside the allowed support. ``counters`` (a dict) accumulates
    ``n_cg``, ``n_backtracks`` and ``n_line_fixes``.
    """
    state = make_state(f, g)
    n_iter = 0
    while state.error > tol and n_iter < max_iter:
        n_iter += 1
        grad_norm = np.sqrt(state.grad_f @ state.grad_f + state.grad_g @ state.grad_g)
        # Regularisation proportional to the residual (Levenberg-Marquardt
        # style): it removes the null direction (1, -1) and the empty rows
        # or columns of the active graph, and vanishes at the solution so
        # the local convergence stays superlinear.
        scale = max(state.rcount.max(), state.ccount.max()) / reg
        delta = scale * min(_LM_FACTOR, grad_norm)
        rtol = min(0.1, max(grad_norm, 1e-12))
        df, dg, it = newton_direction(
            state.indptr, state.indices, state.rcount, state.ccount, reg, delta,
            state.grad_f, state.grad_g, rtol, 10 * (M.shape[0] + M.shape[1]))
        counters["n_cg"] += it
        slope = float(state.grad_f @ df + state.grad_g @ dg)
        t = 1.0
        while True:
            trial = make_state(state.f + t * df, state.g + t * dg)
            # Armijo on the dual value; near the solution the value changes
            # by less than its rounding error, so a step that reduces the
            # marginal error is accepted as well.
            if (trial.value >= state.value + 1e-4 * t * slope
                    or trial.error < 0.9 * state.error or t < 1e-10):
                break
            t *= 0.5
            counters["n_backtracks"] += 1
        state = trial
        # A row or column without active pairs only sees the regularisation
        # in the Newton system, so its potential would creep up by tiny
        # steps; exact ascent on it instead puts it on its marginal at once
        # (this never decreases the dual).
        empty_rows = np.flatnonzero(state.rcount == 0)
        empty_cols = np.flatnonzero(state.ccount == 0)
        if empty_rows.size or empty_cols.size:
            f, g = state.f.copy(), state.g.copy()
            _column_ascent(M, f, b, reg, empty_cols, g)
            _row_ascent(M, g, a, reg, empty_rows, f)
            state = make_state(f, g)
            counters["n_line_fixes"] += empty_rows.size + empty_cols.size
    return state, n_iter


def solve_quadratic_dual(a, b, M, reg, max_iter, tol):
    """Newton solver on a problem with positive marginals; returns ``(state, n_iter, info)``.

    ``tol`` is absolute on the l1 marginal error.

    When the active graph after the warm-up is too sparse (fewer than
    ``_MIN_DEGREE`` active pairs per row and column on average: small
    ``reg`` relative to the cost spread), it splits into components whose
    relative potentials the Newton system cannot move, and progress stalls.
    The solver then follows a continuation path: it starts from a ``reg``
    ten, a hundred, ... times larger, where the graph is well connected,
    and decreases it by ``_CONTINUATION_FACTOR`` per stage, each stage
    warm-started from the previous potentials and solved to a loose
    tolerance, the last one to ``tol``.
    """
    n, m = M.shape
    MT = np.ascontiguousarray(M.T)
    f, g = np.empty(n), np.zeros(m)
    _block_ascent_rounds(a, b, M, MT, reg, f, g)
    regs = [reg]
    while True:
        counts = np.empty(n, dtype=np.int64)
        _count_rows(f, g, M, 0, n, counts, np.empty(n))
        if counts.sum() >= _MIN_DEGREE * max(n, m) or regs[-1] > 1e12 * reg:
            break
        regs.append(regs[-1] * _CONTINUATION_FACTOR)
        g[:] = 0.0
        _block_ascent_rounds(a, b, M, MT, regs[-1], f, g)
    counters = {"n_cg": 0, "n_backtracks": 0, "n_line_fixes": 0}
    n_iter = 0
    loose = max(tol, 1e-6 * float(a.sum()))
    for stage, r in enumerate(reversed(regs)):
        if stage > 0:
            _block_ascent_rounds(a, b, M, MT, r, f, g)
        last = stage == len(regs) - 1
        state, its = _newton(a, b, M, r, f, g, max_iter - n_iter, tol if last else loose,
                             counters)
        n_iter += its
        f, g = state.f.copy(), state.g.copy()
    info = dict(n_newton=n_iter, n_stages=len(regs), **counters)
    return state, n_iter, info


def quadratic_ot(a, b, M, reg, *, max_iter=1000, tol=1e-9):
    """Quadratically regularised optimal transport (sparse transport plans).

    Solves

    .. math::

        \\min_{P \\ge 0,\\ P 1 = a,\\ P^T 1 = b}
            \\langle M, P\\rangle + \\frac{\\gamma}{2} \\|P\\|_F^2,
        \\qquad \\gamma = \\texttt{reg},

    through its dual
    :math:`\\max_{f,g} a^T f + b^T g - \\frac{1}{2\\gamma}\\sum_{ij}[f_i + g_j - M_{ij}]_+^2`
    by a semismooth Newton method (sparse Hessian, conjugate gradient, line
    search). The plan :math:`P_{ij} = [f_i + g_j - M_{ij}]_+ / \\gamma` is
    sparse; it tends to an unregularised optimal plan as ``reg -> 0`` and to
    the independent coupling :math:`a b^T` as ``reg -> inf``. The same
    convention as POT's ``ot.smooth.smooth_ot_dual(..., reg_type="l2")``.

    Parameters
    ----------
    a : array-like of shape (n,) or None
        Source marginal (None: uniform). Non-negative, finite; zero entries
        give zero rows of the plan.
    b : array-like of shape (m,) or None
        Target marginal, with the same total mass as ``a``.
    M : array-like of shape (n, m)
        Finite cost matrix (negative entries allowed). Scale it (e.g. to
        ``[0, 1]``) so that ``reg`` has a meaning independent of the units.
    reg : float
        Regularisation strength :math:`\\gamma > 0`. The number of non-zeros
        per row grows with ``reg * n * m`` relative to the spread of the cost.
    max_iter : int, default=1000
        Maximum number of Newton iterations.
    tol : float, default=1e-9
        Stop when the marginal error
        ``||P 1 - a||_1 + ||P^T 1 - b||_1`` is at most ``tol * sum(a)``.

    Returns
    -------
    result : OTResult
        ``plan``, ``cost`` :math:`\\langle M, P\\rangle`, ``value`` (the
        regularised objective), ``n_iter`` (Newton iterations), the dual
        potentials ``f`` and ``g``, and in ``info`` the number of
        continuation stages (``n_stages``, 1 unless ``reg`` is small for the
        problem), conjugate-gradient iterations, line-search backtracks and
        exact updates of rows/columns that had lost every active pair.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before the tolerance.

    References
    ----------
    M. Blondel, V. Seguy, A. Rolet. Smooth and sparse optimal transport.
    AISTATS 2018.

    D. Lorenz, P. Manns, C. Meyer. Quadratically regularized optimal
    transport. Applied Mathematics & Optimization 83, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.ot import quadratic_ot
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> res = quadratic_ot([0.5, 0.5], [0.5, 0.5], M, reg=1.0)
    >>> np.round(res.plan, 4)
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> round(res.value, 6)
    0.25
    """
    reg = check_reg(reg)
    max_iter = check_max_iter(max_iter)
    tol = check_tol(tol)
    a, b, M = check_ot_problem(a, b, M)
    a_s, b_s, M_s, rows, cols = restrict_to_support(a, b, M)
    M_s = np.ascontiguousarray(M_s)
    state, n_iter, info = solve_quadratic_dual(a_s, b_s, M_s, reg, max_iter,
                                               tol * float(a.sum()))
    plan = expand_plan(state.plan(M_s.shape), rows, cols, M.shape)
    converged = state.error <= tol * float(a.sum())
    if not converged:
        warnings.warn(
            f"quadratic_ot did not converge in max_iter={max_iter} Newton "
            f"iterations (marginal error {state.error:.2e} > tol * mass = "
            f"{tol * float(a.sum()):.2e}). Increase max_iter or tol.",
            ConvergenceWarning, stacklevel=2)
    cost = float(np.sum(M * plan))
    return OTResult(
        plan=plan,
        cost=cost,
        value=cost + 0.5 * reg * float(np.sum(plan * plan)),
        n_iter=n_iter,
        marginal_error=float(np.abs(plan.sum(axis=1) - a).sum()
                             + np.abs(plan.sum(axis=0) - b).sum()),
        converged=converged,
        f=expand_potential(state.f, rows, a.shape[0]),
        g=expand_potential(state.g, cols, b.shape[0]),
        info=info,
    )
