"""Stabilised scaling iterations (Schmitzer 2019) and the state they share.

The plan ``P_ij = exp((f_i + g_j - M_ij) / reg)`` is kept as
``diag(u) K diag(v)`` with a kernel ``K_ij = exp((alpha_i + beta_j - M_ij) / reg)``
built around log potentials ``(alpha, beta)``: Sinkhorn's iterations then
only rescale ``u`` and ``v`` (one pass over ``K``, no ``exp``), and whenever
a scaling leaves ``[1 / BOUND, BOUND]`` it is absorbed into the potentials
and the kernel rebuilt (an ``exp`` per entry). :class:`ScalingState` holds
this; :func:`solve_scaling` runs the iterations under a relaxation schedule
(:mod:`._overrelaxation`) and the Anderson warm-up of ``sns``
(:mod:`._anderson`) steps them one at a time.
"""

import numba
import numpy as np

from . import _sinkhorn_kernels as kern

# Scalings are absorbed into the log potentials once they leave
# [1/BOUND, BOUND]: far from overflow, and the kernel entries they
# multiply stay representable.
BOUND = 1e50

# Length of the buffer of per-iteration errors that a schedule reads.
_ERRS_BUFFER = 1024

# An over-relaxed warm-up that stops with an error this many times its best
# (at the end of a window) restarts from the best potentials.
_RESTORE = 10.0


class Workspace:
    """Buffers shared by the kernels: per-block column sums and row scratch.

    A solver that returns a plan leaves its row sums in ``rows`` and its
    column-sum blocks in ``parts`` (the kernels that write a plan sum it in
    the same pass), so that ``sns`` needs no pass of its own after one.
    """

    def __init__(self, n, m):
        n_blocks = max(1, min(numba.get_num_threads(), n))
        self.parts = np.empty((n_blocks, m))
        self.work = np.empty((n_blocks, m))
        self.colsum = np.empty(m)
        self.rows = np.empty(n)


class ScalingState:
    """Scalings ``u``, ``v`` on a kernel absorbed around potentials ``alpha``, ``beta``.

    Built from column potentials ``g`` by a first absorption, which is the
    first (log-domain) Sinkhorn iteration. ``n_errs`` is the length of the
    buffer ``errs`` of per-iteration errors that :meth:`iterate` fills.
    """

    def __init__(self, M, a, b, reg, g, ws, n_errs=1):
        n, m = M.shape
        self.M, self.a, self.b, self.reg, self.ws = M, a, b, reg, ws
        self.loga, self.logb = np.log(a), np.log(b)
        self.K = np.empty((n, m))
        self.ktu, self.u_new = np.empty(m), np.empty(n)
        self.row_err = np.empty(ws.parts.shape[0])
        self.errs = np.empty(n_errs)
        self.absorb(g)

    def absorb(self, beta):
        """One log-domain iteration that rebuilds the kernel around ``beta``.

        On return ``K_ij = exp((alpha_i + beta_j - M_ij) / reg)`` has row sums
        ``a`` (so ``u = 1``) and ``v = b / K^T 1``. Columns whose mass
        underflows get their potential from an exact log-sum-exp instead
        (then ``v_j = 1``; ``beta`` is updated in place).
        """
        M, reg, K, ws = self.M, self.reg, self.K, self.ws
        alpha = np.empty(M.shape[0])
        kern.log_row_sweep(M, beta, self.a, self.loga, reg, alpha, ws.parts, ws.work, K, True)
        kern.reduce_parts(ws.parts, ws.colsum)
        colsum = ws.colsum
        for j in np.flatnonzero(colsum <= kern._TINY):
            beta[j] = reg * (self.logb[j] - kern.column_lse(M, alpha, j, reg))
            K[:, j] = np.exp((alpha + beta[j] - M[:, j]) / reg)
            colsum[j] = K[:, j].sum()
        self.alpha, self.beta = alpha, beta
        self.u, self.v = np.ones(M.shape[0]), self.b / colsum

    def move_to(self, g):
        """Set the column potentials to ``g``: through ``v`` while it stays in
        ``[1 / BOUND, BOUND]``, else by an absorption around ``g`` (one
        log-domain iteration). Returns whether it absorbed."""
        with np.errstate(over="ignore", under="ignore"):
            v = np.exp((g - self.beta) / self.reg)
        if np.all((v > 1.0 / BOUND) & (v < BOUND)):
            self.v = v
            return False
        self.absorb(g)
        return True

    def absorb_scalings(self):
        """Absorb ``v`` into ``beta`` and rebuild the kernel (one iteration)."""
        self.absorb(self.g)

    def iterate(self, omega, tol_abs, max_iter):
        """Scaling iterations (see :func:`kern.scaling_loop`): ``(n_iter, err, status)``."""
        return kern.scaling_loop(self.K, self.u, self.v, self.a, self.b, omega, tol_abs,
                                 max_iter, BOUND, self.ws.parts, self.ktu, self.u_new,
                                 self.row_err, self.errs)

    @property
    def f(self):
        return self.alpha + self.reg * np.log(self.u)

    @property
    def g(self):
        return self.beta + self.reg * np.log(self.v)

    def plan(self):
        """The plan at ``(f, g)``, written over the kernel (the state is spent).

        ``diag(u) K diag(v)`` is that plan up to rounding, without an ``exp``;
        its marginals are left in the workspace.
        """
        kern.scale_plan(self.K, self.u, self.v, self.K, self.ws.rows, self.ws.parts)
        return self.K


def solve_scaling(M, a, b, reg, g, tol_abs, max_iter, ws, schedule=None):
    """Stabilised scaling iterations to ``tol_abs``, under ``schedule``.

    ``schedule`` (see :mod:`._overrelaxation`) sets the relaxation factor
    window by window and may stop the iterations before ``tol_abs``; without
    one these are plain Sinkhorn iterations until ``tol_abs`` or ``max_iter``.
    Returns ``(f, g, n_iter, info, P)`` with ``P`` the plan at ``(f, g)``.
    """
    # Errors are only read window by window: a short buffer, whatever max_iter.
    state = ScalingState(M, a, b, reg, g, ws, min(max_iter, _ERRS_BUFFER))
    errs = state.errs
    n_iter, n_absorb = 1, 0
    best_err, best_beta = np.inf, None
    while n_iter < max_iter:
        omega, length = (1.0, max_iter) if schedule is None else schedule.window()
        if schedule is not None:
            length = min(length, errs.shape[0])
        it, _err, status = state.iterate(omega, tol_abs, min(length, max_iter - n_iter))
        n_iter += it
        if status == 0:
            break
        if schedule is not None and it > 0:
            stop = schedule.record(errs[:it])
            if errs[it - 1] < best_err:
                best_err, best_beta = errs[it - 1], state.g
            elif schedule.diverged and errs[it - 1] > _RESTORE * best_err and n_iter < max_iter:
                # Over-relaxation diverged (far from the optimum, where its
                # theory does not hold): hand over the best point instead.
                state.absorb(best_beta)
                n_iter += 1
                if not stop:
                    continue
            if stop:
                break
        if status == 2:
            # Every absorption is itself a log-domain iteration, so this loop
            # makes progress even when the scalings leave the range at once.
            state.absorb_scalings()
            n_absorb += 1
            n_iter += 1
        elif schedule is None:
            break
    f, g = state.f, state.g
    info = {"n_absorb": n_absorb}
    if schedule is not None:
        info["omega"] = schedule.omega
    return f, g, n_iter, info, state.plan()
