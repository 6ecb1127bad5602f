"""Entropic optimal transport: :func:`sinkhorn` and its method dispatch."""

import functools
import math
import numbers
import warnings
from contextlib import contextmanager

import numba
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_scalar

from ..utils._threads import single_threaded_blas
from . import _sinkhorn_kernels as kern
from ._anderson import solve_anderson
from ._overrelaxation import Overrelaxation, PlainSinkhorn
from ._result import OTResult
from ._scaling import Workspace, solve_scaling
from ._sns import sinkhorn_newton_sparse
from ._validation import (
    check_ot_problem,
    check_reg,
    expand_plan,
    expand_potential,
    restrict_to_support,
)

_METHODS = ("scaling", "log", "sns")

# epsilon scaling: reg is divided by this factor from one stage to the next,
# and the intermediate stages are solved to this l1 marginal error (relative
# to the mass), which is enough for a warm start.
_EPS_FACTOR = 4.0
_EPS_STAGE_TOL = 1e-4


# Below this many cost entries a sweep takes well under a millisecond and
# waking the other threads at every half-iteration costs more than it saves
# (much more on a loaded machine).
_PARALLEL_MIN_SIZE = 1_000_000


@contextmanager
def _threads_for(size):
    """Run the kernels on all numba threads only for large problems; BLAS on one.

    The numba kernels are the parallel part. Between them the solvers make
    small BLAS calls (the least squares of the Anderson warm-up, conjugate
    gradient's dot products), after which multi-threaded BLAS leaves its
    threads spinning on the cores the next sweep needs: with two BLAS
    threads, 12 of the 56 sweeps of the 2-D ``sns`` problem of
    ``benchmarks/bench_sinkhorn.py`` took 5 ms instead of 1.2 ms (2-core
    machine, session 7, ad hoc).
    """
    old = numba.get_num_threads()
    numba.set_num_threads(old if size >= _PARALLEL_MIN_SIZE else 1)
    try:
        with single_threaded_blas():
            yield
    finally:
        numba.set_num_threads(old)


def _marginals_and_cost(M, P, ws):
    """Row and column sums of ``P`` and ``<M, P>``, in one parallel pass."""
    costs = np.empty(ws.parts.shape[0])
    kern.plan_stats(M, P, ws.rows, ws.parts, costs)
    kern.reduce_parts(ws.parts, ws.colsum)
    return ws.rows.copy(), ws.colsum.copy(), float(costs.sum())


def _solve_log(M, a, b, reg, g, tol_abs, max_iter, ws):
    f = np.empty(M.shape[0])
    n_iter, _err = kern.log_loop(M, f, g, a, b, reg, tol_abs, max_iter,
                                ws.parts, ws.work, ws.colsum)
    return f, g, n_iter, {}, None


def _solve_relaxed(M, a, b, reg, g, tol_abs, max_iter, ws):
    """Scaling iterations over-relaxed by the measured rate, to ``tol_abs``."""
    return solve_scaling(M, a, b, reg, g, tol_abs, max_iter, ws,
                         Overrelaxation(tol_abs, hand_over=False))


def _scheduled(schedule):
    """The scaling iterations under ``schedule(tol_abs)``, as an ``sns`` warm-up."""
    def warm_up(M, a, b, reg, g, tol_abs, max_iter, ws):
        return solve_scaling(M, a, b, reg, g, tol_abs, max_iter, ws, schedule(tol_abs))

    return warm_up


# The sns warm-up and the iterations that take over from a failed Newton
# step (module attributes, so that benchmarks can compare them with the
# paper's fixed number of plain iterations). Anderson-accelerated scaling
# iterations are the cheapest warm-up (no exp per iteration, the fewest
# iterations on the 2-D clouds of bench_sinkhorn.py) and return the plan the
# first Newton step needs. After a failed Newton step (a degenerate problem)
# the over-relaxed ones take over: on the small problems of
# bench_overrelaxation.py they converged wherever Anderson's had stalled.
# With acceleration=False both are plain: 100 iterations in all, the
# fastest of 20 to 150 on the point clouds of the benchmarks before any
# acceleration (bench_sns_sparsity.py).
_sns_warm_up = solve_anderson
_sns_fallback = _scheduled(Overrelaxation)
_PLAIN_WARM_UP = 99


def _solver(method, acceleration):
    if method == "log":
        return _solve_log
    if method == "scaling":
        return _solve_relaxed if acceleration else solve_scaling
    if acceleration:
        warm_up, fallback = _sns_warm_up, _sns_fallback
    else:
        warm_up = fallback = _scheduled(lambda tol_abs: PlainSinkhorn(_PLAIN_WARM_UP))
    return functools.partial(sinkhorn_newton_sparse, warm_up=warm_up, fallback=fallback)


def _check_method(method):
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    return method


def sinkhorn(a, b, M, reg, *, method="scaling", max_iter=10_000, tol=1e-9,
             epsilon_scaling=False, acceleration=True):
    r"""Entropic optimal transport between two discrete measures.

    Solves

    .. math::

        \min_{P \ge 0,\ P 1 = a,\ P^\top 1 = b}
        \langle M, P \rangle + \mathrm{reg} \sum_{ij} P_{ij} (\log P_{ij} - 1)

    (POT's ``ot.sinkhorn`` objective up to the constant ``reg * sum(a)``, so
    the plans are the same), through its dual

    .. math::

        \max_{f, g}\ a^\top f + b^\top g
        - \mathrm{reg} \sum_{ij} e^{(f_i + g_j - M_{ij}) / \mathrm{reg}},

    whose solution gives the plan ``P_ij = exp((f_i + g_j - M_ij) / reg)``.

    Parameters
    ----------
    a : array-like of shape (n,) or None
        Source weights (``None``: uniform). Non-negative; zero entries get a
        zero row in the plan and a ``-inf`` potential.
    b : array-like of shape (m,) or None
        Target weights, with the same total mass as ``a``.
    M : array-like of shape (n, m)
        Cost matrix, finite (negative entries are allowed). Computations are
        done in float64 whatever the input dtype.
    reg : float
        Entropic regularisation, > 0, in the units of ``M``; around
        ``1e-3 * M.max()`` the plans are close to unregularised OT.
    method : {"scaling", "log", "sns"}, default="scaling"
        - ``"scaling"``: Sinkhorn's matrix scaling ``u = a / K v``,
          ``v = b / K^T u`` on a kernel ``K`` rebuilt around the current
          log potentials whenever ``u`` or ``v`` leave ``[1e-50, 1e50]``
          (absorption, Schmitzer 2019), over-relaxed (see
          ``acceleration``). One pass over the kernel per iteration, and
          stable where ``exp(-M / reg)`` underflows.
        - ``"log"``: plain Sinkhorn iterations on the potentials with
          max-shifted log-sum-exp; one ``exp`` per entry and iteration,
          never under- or overflows. Slower than ``"scaling"``; a reference.
        - ``"sns"``: Sinkhorn-Newton-Sparse (Tang et al. 2024): the
          (Anderson-accelerated) scaling iterations as a warm-up, then,
          once their progress stalls, Newton steps on the dual with a
          sparsified Hessian, conjugate gradient and a backtracking line
          search. For small ``reg``: where the warm-up converges fast
          enough there are no Newton steps; each Newton step costs a few
          dense passes (an ``exp`` per entry), so they pay where the
          iterations' rate is slow. Should a Newton step fail (a degenerate
          problem), over-relaxed scaling iterations take over until they
          stall. ``info`` reports ``n_sinkhorn``, ``n_newton``, the
          relaxation factor ``omega`` when over-relaxed iterations ran and,
          after a failed Newton step, ``n_fallback`` (the scaling
          iterations that followed, counted in ``n_sinkhorn``).
    max_iter : int, default=10_000
        Maximum number of iterations (Sinkhorn iterations; for ``"sns"`` the
        Sinkhorn warm-up plus the Newton steps; summed over the stages of
        epsilon scaling).
    tol : float, default=1e-9
        Stop when the l1 marginal error ``||P 1 - a||_1 + ||P^T 1 - b||_1`` of
        the returned plan is at most ``tol * sum(a)``. The Sinkhorn methods
        return a plan whose rows are exact (to rounding), so this is the
        l1 column error that POT measures (in the l2 norm) with ``stopThr``.
    epsilon_scaling : bool, default=False
        Solve a sequence of problems with ``reg`` decreasing by a factor 4
        from ``max(M) - min(M)`` to ``reg``, each warm-started from the
        previous potentials, the intermediate ones to a loose tolerance.
        Reduces the number of iterations at small ``reg``.
    acceleration : bool, default=True
        Accelerate the scaling iterations of ``"scaling"`` and ``"sns"``.

        - ``"scaling"`` over-relaxes them: after 10 plain iterations, whose
          error decay measures Sinkhorn's contraction rate ``rho``, each
          half-iteration moves the log potentials
          ``omega = 2 / (1 + sqrt(1 - rho))`` times as far as Sinkhorn's
          (Young's factor for successive over-relaxation), which takes the
          rate to about ``omega - 1``. Should the error grow over a window
          of iterations (far from the optimum, where that theory does not
          hold), the iterations restart from their best point, plainly.
        - ``"sns"`` warms up with Anderson acceleration (depth 20) of
          Sinkhorn's map of the column potentials: each iteration steps to
          the combination of the last 20 iterates whose residuals combine
          to the smallest one. Should it stop making progress (far from
          the optimum, on degenerate problems), over-relaxed iterations
          take over from its best point.

        ``False``: plain Sinkhorn iterations, and for ``"sns"`` the paper's
        fixed warm-up (100 iterations). ``"log"`` always iterates plainly.

    Returns
    -------
    result : OTResult
        ``plan``, ``cost`` (``<M, P>``), ``value`` (the objective above),
        ``n_iter``, ``marginal_error`` (``||P 1 - a||_1 + ||P^T 1 - b||_1``,
        absolute), ``converged``, the potentials ``f`` and ``g`` (defined up
        to a constant shift ``(f + c, g - c)``) and ``info`` (``method``,
        ``n_stages`` and per-method counts).

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before ``tol``.

    References
    ----------
    M. Cuturi. Sinkhorn distances: lightspeed computation of optimal
    transport. NeurIPS 2013.
    B. Schmitzer. Stabilized sparse scaling algorithms for entropy
    regularized transport problems. SIAM J. Sci. Comput. 41(3), 2019.
    X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil,
    T. Xiao, L. Ying. Accelerating Sinkhorn algorithm with sparse Newton
    iterations. ICLR 2024.
    D. M. Young. Iterative methods for solving partial difference equations
    of elliptic type. Trans. Amer. Math. Soc. 76, 1954.
    A. Thibault, L. Chizat, C. Dossal, N. Papadakis. Overrelaxed
    Sinkhorn-Knopp algorithm for regularized optimal transport. Algorithms
    14(5), 2021.
    T. Lehmann, M.-K. von Renesse, A. Sambale, A. Uschmajew. A note on
    overrelaxation in the Sinkhorn algorithm. Optim. Lett. 16, 2022.
    H. F. Walker, P. Ni. Anderson acceleration for fixed-point iterations.
    SIAM J. Numer. Anal. 49(4), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.ot import sinkhorn
    >>> x = np.array([0.0, 1.0, 2.0])
    >>> M = (x[:, None] - x[None, :]) ** 2
    >>> res = sinkhorn(None, None, M, reg=0.1)
    >>> res.converged
    True
    >>> np.round(res.plan * 3, 3)
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    a, b, M = check_ot_problem(a, b, M)
    reg = check_reg(reg)
    method = _check_method(method)
    check_scalar(max_iter, "max_iter", numbers.Integral, min_val=1)
    check_scalar(tol, "tol", numbers.Real, min_val=0.0, include_boundaries="neither")
    for name, flag in (("epsilon_scaling", epsilon_scaling), ("acceleration", acceleration)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool, got {flag!r}.")

    shape = M.shape
    a_s, b_s, M_s, rows, cols = restrict_to_support(a, b, M)
    M_s = np.ascontiguousarray(M_s)
    mass = float(a_s.sum())
    solve = _solver(method, acceleration)

    regs = [reg]
    if epsilon_scaling:
        spread = float(M_s.max() - M_s.min())
        n_stages = max(0, math.ceil(math.log(spread / reg) / math.log(_EPS_FACTOR)))
        regs = [reg * _EPS_FACTOR**k for k in range(n_stages, 0, -1)] + [reg]

    with _threads_for(M_s.size):
        ws = Workspace(*M_s.shape)
        g = np.zeros(M_s.shape[1])
        n_iter, info = 0, {}
        for k, r in enumerate(regs):
            last = k == len(regs) - 1
            stage_tol = tol if last else max(tol, _EPS_STAGE_TOL)
            budget = max(1, max_iter - n_iter)
            f, g, it, info, P = solve(M_s, a_s, b_s, r, g, stage_tol * mass, budget, ws)
            n_iter += it
        if P is None:
            P = np.empty(M_s.shape)
            kern.plan_kernel(M_s, f, g, reg, P, ws.rows, ws.parts)
        row_sums, col_sums, cost = _marginals_and_cost(M_s, P, ws)
    err = float(np.abs(row_sums - a_s).sum() + np.abs(col_sums - b_s).sum())
    converged = err <= tol * mass * (1 + 1e-6)
    if not converged:
        warnings.warn(
            f"sinkhorn (method={method!r}) did not reach tol={tol:g} in "
            f"max_iter={max_iter} iterations (l1 marginal error {err:.2e}); "
            "increase max_iter or reg, or try method='sns' or epsilon_scaling=True.",
            ConvergenceWarning,
            stacklevel=2,
        )
    # With log P = (f_i + g_j - M_ij) / reg the entropy term needs no log
    # (and sum(P) is the sum of its row sums: no further pass over P).
    value = float(f @ row_sums + g @ col_sums - reg * row_sums.sum())
    info = dict(info, method=method, n_stages=len(regs))
    return OTResult(
        plan=expand_plan(P, rows, cols, shape),
        cost=cost,
        value=value,
        n_iter=int(n_iter),
        marginal_error=err,
        converged=bool(converged),
        f=expand_potential(f, rows, shape[0]),
        g=expand_potential(g, cols, shape[1]),
        info=info,
    )
