"""Sparsity-constrained optimal transport (Liu, Puigcerver, Blondel 2023).

Quadratically regularised OT with at most ``k`` non-zeros in each column of
the plan:

.. math::

    \\min_{P \\in U(a, b),\\ \\|P_{:j}\\|_0 \\le k}
        \\langle M, P\\rangle + \\frac{\\gamma}{2} \\|P\\|_F^2 .

The primal is non-convex. Its Lagrangian dual replaces, for every column,
the squared hinge of quadratic OT by the sum over the ``k`` largest entries,

.. math::

    D_k(f, g) = a^T f + b^T g - \\frac{1}{2\\gamma}\\sum_j
        \\operatorname{top}_k\\!\\left([f + g_j - M_{:j}]_+^2\\right),

concave and differentiable except where the k-th and (k+1)-th entries of a
column tie; its gradient is the marginal residual of the top-k plan
:math:`P_{ij} = [f_i + g_j - M_{ij}]_+ / \\gamma` (top ``k`` entries of each
column). By weak duality every ``D_k(f, g)`` is a lower bound on the value
of any feasible plan. But the dual solves the convex relaxation of the
primal: when the constraint binds (``k`` below the column support the
quadratic plan would have), its optimum lies on a kink and the top-k plan
of any (sub)gradient misses the marginals, typically by 1e-3 .. 1e-1 (this
is what the authors' and POT's dual solvers return).

This module returns a feasible plan instead, in three steps:

1. Solve quadratic OT (the problem without the cardinality constraint, a
   relaxation of this one) by the semismooth Newton solver of
   :mod:`skreg.ot._quadratic`. If its plan has at most ``k`` non-zeros per
   column, it is the exact solution (gap 0) and is returned.
2. Otherwise choose a support ``S`` with at most ``k`` rows per column on
   which the marginals can be met. The reduced costs ``M_ij - f_i - g_j`` of
   the quadratic potentials rank the candidate rows of each column; a
   transportation linear program (HiGHS) restricted to the best few
   candidates gives a vertex (a forest, so very sparse) plan; columns that
   still use more than ``k`` rows lose their weakest candidates and the LP
   is solved again. The support of the last LP plan is feasible by
   construction; it is filled up to ``k`` rows per column with the best
   ranked rows.
3. Solve the quadratic OT problem restricted to ``S`` exactly: a convex
   problem whose dual
   :math:`\\max a^T f + b^T g - \\frac{1}{2\\gamma}\\sum_{(i,j) \\in S}
   [f_i + g_j - M_{ij}]_+^2` is smooth, by the semismooth Newton
   iteration of :mod:`skreg.ot._quadratic` run on the edge list of ``S``
   (O(|S|) = O(k m) per iteration instead of O(n m)), warm-started from the
   quadratic potentials, with the same continuation in ``reg`` when the
   quadratic solve needed one (small ``reg``). The plan meets the marginals
   to ``tol`` and has at most ``k`` non-zeros per column by construction.

The returned plan is optimal among plans supported on ``S``; it need not be
a global optimum of the non-convex problem. ``info["dual_value"]`` is the
best dual bound ``D_k`` found (at least the quadratic-OT value), so
``value - dual_value`` bounds the sub-optimality.

Feasibility is not always attainable: with generic (non-uniform) marginals
a feasible support must connect all points (no group of rows carries
exactly the mass of a group of columns), which needs ``k * m >= n + m - 1``
non-zeros; uniform marginals allow fewer. Deciding whether a k-sparse plan
exists is combinatorial; when the search of step 2 fails the solver falls
back to the relaxed dual (L-BFGS from the quadratic potentials, the
authors' method), returns its top-k plan (cardinality holds, marginals do
not) and raises a ``ConvergenceWarning``.
"""

import warnings

import numpy as np
from scipy import sparse
from scipy.optimize import linprog, minimize
from sklearn.exceptions import ConvergenceWarning

from ..utils._validation import check_max_iter, check_tol
from ._quadratic import (
    _CONTINUATION_FACTOR,
    block_ascent,
    semismooth_newton,
    solve_quadratic_dual,
)
from ._result import OTResult
from ._validation import (
    check_ot_problem,
    check_reg,
    expand_plan,
    expand_potential,
    restrict_to_support,
)

# Candidate rows per column for the support LP, as ``_CANDIDATES_FACTOR * k
# + _CANDIDATES_EXTRA`` (doubled while the LP is infeasible).
_CANDIDATES_FACTOR = 3
_CANDIDATES_EXTRA = 2
# Maximum number of LP re-solves while pruning over-full columns.
_MAX_PRUNE_ROUNDS = 50
# L-BFGS iterations of the fallback on the relaxed dual.
_FALLBACK_ITER = 100


def check_max_nnz(max_nnz):
    if isinstance(max_nnz, (bool, np.bool_)) or not isinstance(max_nnz, (int, np.integer)):
        raise TypeError(f"max_nnz must be an int, got {type(max_nnz).__name__}.")
    if max_nnz < 1:
        raise ValueError(f"max_nnz must be >= 1, got {max_nnz}.")
    return int(max_nnz)


def _topk_index(X, k):
    """Row indices ``(k, m)`` of the ``k`` largest entries of each column."""
    n = X.shape[0]
    if k >= n:
        return np.broadcast_to(np.arange(n)[:, None], X.shape)
    return np.argpartition(X, n - k, axis=0)[n - k:]


def topk_dual(f, g, a, b, M, reg, k, return_plan=False):
    """Relaxed dual ``D_k(f, g)`` and its gradient ``(a - P 1, b - P^T 1)``.

    ``P`` is the top-k plan at ``(f, g)``: in each column the ``k`` largest
    entries of ``[f + g_j - M_:j]_+ / reg`` (ties broken arbitrarily but
    consistently). Returns ``(value, grad_f, grad_g)``, plus ``P`` if
    ``return_plan``.
    """
    n, m = M.shape
    X = f[:, None] + g[None, :] - M
    np.maximum(X, 0.0, out=X)
    idx = _topk_index(X, k)
    top = np.take_along_axis(X, idx, axis=0)
    value = float(a @ f + b @ g) - float(np.sum(top * top)) / (2.0 * reg)
    rows = np.bincount(idx.ravel(), weights=top.ravel(), minlength=n) / reg
    cols = top.sum(axis=0) / reg
    out = (value, a - rows, b - cols)
    if return_plan:
        P = np.zeros((n, m))
        np.put_along_axis(P, idx, top / reg, axis=0)
        out += (P,)
    return out


def restricted_dual(f, g, a, b, M, mask, reg):
    """Dual of quadratic OT restricted to the support ``mask``.

    Returns ``(value, grad_f, grad_g)`` of
    ``a^T f + b^T g - sum_{mask} [f_i + g_j - M_ij]_+^2 / (2 reg)``; the
    gradient is the marginal residual of ``P = mask * [f + g - M]_+ / reg``.
    """
    X = np.where(mask, f[:, None] + g[None, :] - M, 0.0)
    np.maximum(X, 0.0, out=X)
    value = float(a @ f + b @ g) - float(np.sum(X * X)) / (2.0 * reg)
    return value, a - X.sum(axis=1) / reg, b - X.sum(axis=0) / reg


def _support_lp(mask, a, b, M):
    """Vertex solution of the transportation LP restricted to ``mask`` (or None)."""
    n, m = mask.shape
    r, c = np.nonzero(mask)
    e = np.arange(r.size)
    ones = np.ones(r.size)
    A = sparse.vstack([sparse.csr_matrix((ones, (r, e)), shape=(n, r.size)),
                       sparse.csr_matrix((ones, (c, e)), shape=(m, r.size))]).tocsc()
    # interior point with crossover: a vertex, several times faster than
    # the dual simplex on these problems
    res = linprog(M[r, c], A_eq=A, b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs-ipm")
    if res.status != 0:
        return None
    X = np.zeros((n, m))
    X[r, c] = res.x
    X[X <= 1e-12 * X.max()] = 0.0
    return X


def select_support(a, b, M, scores, k):
    """A support with at most ``k`` rows per column that admits the marginals.

    ``scores`` ranks the rows of each column (larger is better). Returns
    ``(mask, n_lp)`` with ``mask`` None when the search fails (see the
    module docstring).
    """
    n, m = M.shape
    cols = np.arange(m)[None, :]
    n_lp = 0
    n_cand = min(n, _CANDIDATES_FACTOR * k + _CANDIDATES_EXTRA)
    while True:
        cand = np.zeros((n, m), dtype=bool)
        cand[_topk_index(scores, n_cand), cols] = True
        X = _support_lp(cand, a, b, M)
        n_lp += 1
        if X is not None or n_cand == n:
            break
        n_cand = min(n, 2 * n_cand)
    if X is None:
        return None, n_lp
    # Over-full columns keep only their k candidates carrying the most mass;
    # solve again until no column is over-full (or the LP is infeasible).
    for _ in range(_MAX_PRUNE_ROUNDS):
        over = np.flatnonzero((X > 0.0).sum(axis=0) > k)
        if over.size == 0:
            break
        for j in over:
            rows = np.flatnonzero(cand[:, j])
            order = np.lexsort((-scores[rows, j], -X[rows, j]))
            cand[rows[order[k:]], j] = False
        X = _support_lp(cand, a, b, M)
        n_lp += 1
        if X is None:
            return None, n_lp
    else:
        return None, n_lp
    support = X > 0.0
    # fill every column up to k rows with the best ranked ones
    fill = np.where(support, np.inf, scores)
    support[_topk_index(fill, k), cols] = True
    return support, n_lp


class _RestrictedState:
    """Dual point of quadratic OT restricted to the edges ``(r[e], c[e])``.

    Everything is computed on the edge list (``|S| <= k m`` entries, sorted
    by row), so a Newton iteration costs O(|S|) instead of O(n m).
    """

    def __init__(self, f, g, a, b, r, c, cost, reg):
        n, m = a.shape[0], b.shape[0]
        self.f, self.g = f, g
        x = f[r] + g[c] - cost
        act = x > 0.0
        xa = x[act]
        ra, ca = r[act], c[act]
        data = xa / reg
        self.value = float(a @ f + b @ g) - float(xa @ xa) / (2.0 * reg)
        rcount = np.bincount(ra, minlength=n)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(rcount, out=self.indptr[1:])
        self.indices = ca.astype(np.int64)
        self.rows, self.data = ra, data
        self.rcount = rcount.astype(np.float64)
        self.ccount = np.bincount(ca, minlength=m).astype(np.float64)
        self.grad_f = a - np.bincount(ra, weights=data, minlength=n)
        self.grad_g = b - np.bincount(ca, weights=data, minlength=m)
        self.error = float(np.abs(self.grad_f).sum() + np.abs(self.grad_g).sum())

    def plan(self, shape):
        P = np.zeros(shape)
        P[self.rows, self.indices] = self.data
        return P


def _solve_restricted(a, b, M, mask, reg, f, g, max_iter, tol, counters):
    """Semismooth Newton on the dual of quadratic OT restricted to ``mask``.

    :func:`skreg.ot._quadratic.semismooth_newton` (regularised Newton
    system by conjugate gradient, Armijo line search, exact ascent on
    rows/columns without active pairs) on the edge list of ``mask``.
    Returns ``(state, n_iter)``.
    """
    M_inf = np.where(mask, M, np.inf)
    r, c = np.nonzero(mask)
    cost = M[r, c]
    f, g = f.copy(), g.copy()
    # exact column then row ascent: every row and column gets active pairs
    block_ascent(np.ascontiguousarray(M_inf.T), f, b, reg, g)
    block_ascent(M_inf, g, a, reg, f)
    return semismooth_newton(
        lambda f, g: _RestrictedState(f, g, a, b, r, c, cost, reg), a, b, M_inf, reg, f, g,
        max_iter, tol, counters)


def _relaxed_fallback(a, b, M, reg, k, f, g, max_iter):
    """L-BFGS on the relaxed dual D_k from ``(f, g)``; returns ``(f, g, nit)``."""
    n = a.shape[0]

    def fun(x):
        value, gf, gg = topk_dual(x[:n], x[n:], a, b, M, reg, k)
        return -value, -np.concatenate([gf, gg])

    opt = minimize(fun, np.concatenate([f, g]), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "maxcor": 20, "ftol": 0.0, "gtol": 0.0})
    return opt.x[:n].copy(), opt.x[n:].copy(), int(opt.nit)


def sparsity_constrained_ot(a, b, M, reg, max_nnz, *, max_iter=1000, tol=1e-9):
    """Quadratically regularised OT with at most ``max_nnz`` non-zeros per column.

    Looks for a plan solving the non-convex problem

    .. math::

        \\min_{P \\ge 0,\\ P 1 = a,\\ P^T 1 = b,\\ \\|P_{:j}\\|_0 \\le k}
            \\langle M, P\\rangle + \\frac{\\gamma}{2} \\|P\\|_F^2,
        \\qquad \\gamma = \\texttt{reg},\\ k = \\texttt{max\\_nnz}.

    When the quadratic-OT plan (:func:`quadratic_ot`) already has at most
    ``k`` non-zeros per column it is returned (the exact solution; always
    the case for ``max_nnz >= n``). Otherwise a support with at most ``k``
    rows per column that admits the marginals is chosen from the
    quadratic-OT potentials and a transportation LP, and quadratic OT
    restricted to that support is solved exactly by a semismooth Newton
    method: the plan meets the marginals to ``tol`` and is optimal on its
    support, with ``info["dual_value"]`` (a lower bound on the value of
    every feasible plan) to measure the remaining gap. Every column of the
    returned plan has at most ``max_nnz`` non-zeros in all cases.

    Parameters
    ----------
    a : array-like of shape (n,) or None
        Source marginal (None: uniform).
    b : array-like of shape (m,) or None
        Target marginal, with the same total mass as ``a``.
    M : array-like of shape (n, m)
        Finite cost matrix.
    reg : float
        Regularisation strength :math:`\\gamma > 0`.
    max_nnz : int
        Maximum number of non-zeros in each column of the plan (>= 1).
        Necessary for a plan to exist: ``max_nnz * m >= n`` and every
        ``b_j`` at most the sum of the ``max_nnz`` largest ``a_i`` (counting
        points with mass); a ``ValueError`` is raised otherwise. With
        generic (non-uniform) marginals a plan needs about
        ``max_nnz * m >= n + m - 1``.
    max_iter : int, default=1000
        Maximum number of Newton iterations of each solve (quadratic OT,
        then the restricted problem).
    tol : float, default=1e-9
        Stop when the marginal error ``||P 1 - a||_1 + ||P^T 1 - b||_1`` is
        at most ``tol * sum(a)``.

    Returns
    -------
    result : OTResult
        ``plan``, ``cost``, ``value`` (cost plus the quadratic term),
        ``n_iter`` (Newton iterations in all), ``marginal_error``,
        ``converged``, the dual potentials ``f``, ``g`` (of the restricted
        problem), and in ``info``: ``method`` (``"quadratic"``: the
        quadratic plan was sparse enough; ``"restricted"``: restricted
        solve; ``"relaxed"``: fallback, marginals not met), ``dual_value``
        (the largest relaxed dual value found, a lower bound on the value of
        any feasible plan), ``gap = value - dual_value``, ``n_lp`` (LP
        solves of the support search) and ``support_size``.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before the tolerance, or when no
        support meeting the marginals was found (then the plan is the top-k
        plan of the relaxed dual and misses the marginals).

    References
    ----------
    T. Liu, J. Puigcerver, M. Blondel. Sparsity-constrained optimal
    transport. ICLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.ot import sparsity_constrained_ot
    >>> M = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    >>> res = sparsity_constrained_ot(None, None, M, reg=10.0, max_nnz=1)
    >>> int((res.plan > 0).sum(axis=0).max())
    1
    >>> bool(res.converged), res.info["method"]
    (True, 'restricted')
    """
    reg = check_reg(reg)
    max_nnz = check_max_nnz(max_nnz)
    max_iter = check_max_iter(max_iter)
    tol = check_tol(tol)
    a, b, M = check_ot_problem(a, b, M)
    a_s, b_s, M_s, rows, cols = restrict_to_support(a, b, M)
    M_s = np.ascontiguousarray(M_s)
    n, m = M_s.shape
    k = max_nnz
    if k * m < n:
        # Every source point with mass needs a non-zero, each column offers
        # at most k of them: no plan satisfies the constraints.
        raise ValueError(
            f"max_nnz={k} is too small: {m} target points with mass can hold "
            f"at most {k * m} non-zeros, fewer than the {n} source points "
            f"with mass. Use max_nnz >= {-(-n // m)}.")
    top_a = float(np.sort(a_s)[-k:].sum())
    if b_s.max() > top_a * (1.0 + 1e-12):
        raise ValueError(
            f"max_nnz={k} is too small: target point {int(cols[np.argmax(b_s)])} has "
            f"mass {float(b_s.max())!r}, more than the {k} largest source masses "
            f"together ({top_a!r}); no plan has at most {k} non-zeros in its column.")
    mass = float(a.sum())
    threshold = tol * mass

    state, n_iter, qinfo = solve_quadratic_dual(a_s, b_s, M_s, reg, max_iter, threshold)
    quad_converged = state.error <= threshold
    counts = np.bincount(state.indices, minlength=m)
    info = {"n_lp": 0, "quadratic_newton": n_iter}
    if counts.max() <= k:
        # The quadratic plan is feasible here and optimal for a relaxation.
        method = "quadratic"
        plan_s = state.plan(M_s.shape)
        f, g = state.f, state.g
        dual_value = state.value
        converged = quad_converged
    else:
        scores = state.f[:, None] + state.g[None, :] - M_s
        dual_value = max(state.value, topk_dual(state.f, state.g, a_s, b_s, M_s, reg, k)[0])
        support, info["n_lp"] = select_support(a_s, b_s, M_s, scores, k)
        if support is not None:
            method = "restricted"
            counters = {"n_cg": 0, "n_backtracks": 0, "n_line_fixes": 0}
            # Same continuation as the quadratic solve (small reg): the
            # restricted problem at 10x, 100x, ... reg first, warm-started.
            n_stages = qinfo["n_stages"]
            f, g, its = state.f, state.g, 0
            for stage in range(n_stages):
                last = stage == n_stages - 1
                r_reg = reg * _CONTINUATION_FACTOR ** (n_stages - 1 - stage)
                rstate, it = _solve_restricted(
                    a_s, b_s, M_s, support, r_reg, f, g, max_iter - its,
                    threshold if last else max(threshold, 1e-6 * mass), counters)
                its += it
                f, g = rstate.f, rstate.g
            n_iter += its
            info.update(restricted_newton=its, support_size=int(support.sum()), **counters)
            plan_s = rstate.plan(M_s.shape)
            f, g = rstate.f, rstate.g
            dual_value = max(dual_value, topk_dual(f, g, a_s, b_s, M_s, reg, k)[0])
            converged = rstate.error <= threshold
        else:
            method = "relaxed"
            f, g, nit = _relaxed_fallback(a_s, b_s, M_s, reg, k, state.f, state.g,
                                          min(max_iter, _FALLBACK_ITER))
            info["lbfgs_iter"] = nit
            value_k, _, _, plan_s = topk_dual(f, g, a_s, b_s, M_s, reg, k, return_plan=True)
            dual_value = max(dual_value, value_k)
            converged = False
    plan = expand_plan(plan_s, rows, cols, M.shape)
    marginal_error = float(np.abs(plan.sum(axis=1) - a).sum()
                           + np.abs(plan.sum(axis=0) - b).sum())
    converged = bool(converged and marginal_error <= threshold)
    if method == "relaxed":
        warnings.warn(
            f"sparsity_constrained_ot found no support with at most max_nnz={k} "
            "non-zeros per column that meets the marginals (one need not exist: "
            "with generic marginals a plan needs about max_nnz * m >= n + m - 1 "
            f"non-zeros); returning the top-k plan of the relaxed dual, marginal "
            f"error {marginal_error:.2e}. Increase max_nnz.",
            ConvergenceWarning, stacklevel=2)
    elif not converged:
        warnings.warn(
            f"sparsity_constrained_ot did not converge in max_iter={max_iter} Newton "
            f"iterations (marginal error {marginal_error:.2e} > tol * mass = "
            f"{threshold:.2e}). Increase max_iter or tol.",
            ConvergenceWarning, stacklevel=2)
    cost = float(np.sum(M * plan))
    value = cost + 0.5 * reg * float(np.sum(plan * plan))
    info.update(method=method, dual_value=float(dual_value), gap=value - float(dual_value),
                quadratic_stages=qinfo["n_stages"])
    return OTResult(
        plan=plan,
        cost=cost,
        value=value,
        n_iter=int(n_iter),
        marginal_error=marginal_error,
        converged=converged,
        f=expand_potential(np.array(f, dtype=float), rows, a.shape[0]),
        g=expand_potential(np.array(g, dtype=float), cols, b.shape[0]),
        info=info,
    )
