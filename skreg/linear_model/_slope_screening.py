r"""Strong screening and KKT checks around the SLOPE solver.

The solver (``_slope_solver.slope_hybrid_cd``) works on a set of features and
holds the others at zero. This module chooses that set and certifies the
answer on the whole problem:

1. start from a restricted set: along a path, the strong set of Larsson,
   Bogdan and Wallin (2020) -- the features that the unit-slope bound
   predicts active at the next ``alpha`` (``strong_set_size``), united with
   the previous support; for a single fit, the support of the starting point
   plus the largest gradients (a working set); without screening, every
   feature;
2. solve the restricted problem;
3. compute the full gradient and check the optimality conditions of the
   zero coefficients: sorted by magnitude, the correlations of the zeros
   must have partial sums at most those of the tail of the penalty
   sequence (the ranks the zeros occupy). The leading features of a
   violating prefix that lie outside the set are added and the restricted
   problem is solved again (a *refit*);
4. stop when the duality gap of the *full* problem is at most the
   tolerance, so screening can change the cost but never the answer.
"""

import numpy as np

from ._base import warn_not_converged
from ._design import vdot
from ._path import ScreeningStats
from ._sorted_l1 import _dual_norm_sorted, strong_set_size

# Proximal-gradient step every this many cluster passes.
_PGD_EVERY = 5
# First working-set size of a single (non-path) fit.
_WS_START = 10
# Smallest inner tolerance, as a fraction of the outer one.
_TOL_FLOOR = 1e-4


def full_gap(design, r_true, corr, b, lam):
    """Primal value and duality gap of the whole problem (``lam`` times alpha)."""
    primal = 0.5 * vdot(design.q, r_true * r_true) + float(np.sort(np.abs(b))[::-1] @ lam)
    ratio = _dual_norm_sorted(np.sort(np.abs(corr))[::-1], lam)
    theta = r_true / max(1.0, ratio)
    diff = design.y - theta
    dual = 0.5 * (vdot(design.q, design.y * design.y) - vdot(design.q, diff * diff))
    return primal, max(primal - dual, 0.0)


def kkt_violators(corr, b, lam, inside):
    """Zero coefficients outside ``inside`` (a mask) in a violating prefix.

    Returned in decreasing order of ``|corr|``.
    """
    zero = np.flatnonzero(b == 0)
    n_nonzero = b.shape[0] - zero.size
    order = np.argsort(-np.abs(corr[zero]), kind="stable")
    c_sorted = np.abs(corr[zero[order]])
    tail = lam[n_nonzero:]
    k = strong_set_size(c_sorted, tail, tail)
    top = zero[order[:k]]
    return top[~inside[top]]


def strong_set(corr, b, lam_prev, lam_next):
    """Strong set at the next step: predicted active features plus the support."""
    order = np.argsort(-np.abs(corr), kind="stable")
    k = strong_set_size(np.abs(corr[order]), lam_prev, lam_next)
    keep = np.zeros(b.shape[0], dtype=bool)
    keep[order[:k]] = True
    keep |= b != 0
    return np.flatnonzero(keep)


def solve_slope(design, lam, *, coef_init=None, tol=1e-4, max_iter=1000, ws_init=None,
                grow=False, warn=True, state=None):
    """Minimise SLOPE (``lam``: the sequence times alpha) on ``design``.

    Parameters
    ----------
    ws_init : ndarray of int or None
        First restricted set; ``None`` means every feature (no screening).
        With ``grow=True`` it is enlarged to the working-set start size with
        the largest gradients, and KKT additions at most double it.
    state : dict, optional
        Carries ``r``, ``shift``, ``corr`` of ``coef_init`` in (when they
        match it) and those of the solution out, and the step constant.

    Returns
    -------
    coef, gap, n_epochs, converged, stats
        The gap is absolute; convergence means
        ``gap <= tol * (1/2) sum_i q_i y_i^2``.
    """
    from ._slope_solver import slope_hybrid_cd  # numba is imported on first use

    state = {} if state is None else state
    p = design.n_features
    b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    if np.array_equal(state.get("coef"), b):
        r, shift, corr = state["r"].copy(), state["shift"].copy(), state["corr"]
    else:
        r, shift = design.residual(b)
        corr = design.corr(r + shift[0])
    L = state.get("L", np.array([max(float(design.lipschitz.max()), 1e-300)]))
    scale = 0.5 * vdot(design.q, design.y * design.y)
    tol_abs = tol * scale
    inside = np.zeros(p, dtype=bool)
    if ws_init is None:
        inside[:] = True
    else:
        inside[ws_init] = True
        inside |= b != 0
        if grow and inside.sum() < min(_WS_START, p):
            score = np.where(inside, -1.0, np.abs(corr))
            inside[np.argsort(-score)[:_WS_START - int(inside.sum())]] = True
    stats = ScreeningStats(n_screened=int(inside.sum()))
    tol_in = tol_abs
    n_epochs = 0
    converged = False
    args = design.kernel_args()
    while True:
        ws = np.flatnonzero(inside).astype(np.int64)
        epochs, ws_gap = slope_hybrid_cd(*args, design.y, r, shift, b, ws, design.lipschitz,
                                         lam[:ws.size], L, max_iter - n_epochs, tol_in,
                                         _PGD_EVERY)
        n_epochs += epochs
        r_true = r + shift[0]
        corr = design.corr(r_true)
        _, gap = full_gap(design, r_true, corr, b, lam)
        if gap <= tol_abs:
            converged = True
            break
        if n_epochs >= max_iter:
            break
        add = kkt_violators(corr, b, lam, inside)
        if add.size:
            if grow:
                add = add[:max(ws.size, _WS_START)]
            inside[add] = True
            stats.n_violations += int(add.size)
            stats.n_refits += 1
        elif tol_in > _TOL_FLOOR * tol_abs:
            # Optimal on the set up to tol_in but not on the whole problem:
            # only accuracy is missing.
            tol_in = max(0.25 * min(tol_in, ws_gap), _TOL_FLOOR * tol_abs)
        else:
            break  # rounding, not the solver, separates the two gaps
    state.update(coef=b.copy(), r=r, shift=shift, corr=corr, L=L)
    if warn and not converged:
        warn_not_converged(gap, tol_abs, n_epochs)
    return b, gap, n_epochs, converged, stats
