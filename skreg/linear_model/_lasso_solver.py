"""Working-set coordinate descent for the weighted Lasso.

Problem, on a ``LinearDesign`` (centred, weights ``q`` summing to one)::

    min_b  (1/2) sum_i q_i (y_i - x_i b)^2 + sum_j pen_j |b_j|,   pen = alpha * w

Outer loop (Python, a handful of iterations): full correlation ``X^T q r``,
duality gap, working set = current support plus the features that violate the
optimality conditions most. Inner loop (numba): coordinate descent epochs with
Anderson extrapolation on the working set, stopped at a fraction of the outer
violation. This is the scheme of skglm and celer; the kernels are plain
``@njit(cache=True)`` functions so a new process compiles nothing.

``solve_weighted_lasso`` (used by ``WeightedLasso`` and its path) runs the
same outer loop compiled (``_kernels.lasso_solve_ws``) whenever no column is
unpenalised, with lazy optimality checks that skip the correlations a
Cauchy-Schwarz bound shows cannot matter; ``solve_lasso`` stays the general
loop (unpenalised columns, and the square-root Lasso's inner solves).
``solve_weighted_lasso_path`` runs a whole warm-started path in one compiled
call (``_kernels.lasso_path_ws``), each solve starting from the working set
of the sequential strong rule, so that one optimality check per alpha
usually certifies it.
"""

import numpy as np

from ._base import warn_not_converged
from ._design import vdot

_ANDERSON_K = 5
_WS_START = 10


class _UnpenalisedProjector:
    """Projects residuals onto the orthogonal complement of the unpenalised columns.

    A dual point of the weighted Lasso must be orthogonal (for ``q``) to every
    column with ``pen_j = 0``; projecting the residual makes the duality gap a
    rigorous bound even when some features are unpenalised.
    """

    def __init__(self, design, pen):
        self.idx = np.flatnonzero(pen == 0)
        if self.idx.size == 0:
            return
        self.XU = design.columns(self.idx)
        gram = self.XU.T @ (design.q[:, None] * self.XU)
        self.gram_pinv = np.linalg.pinv(gram)
        # X_c^T Q X_U, to update every correlation after the projection.
        self.cross = np.column_stack([design.corr(self.XU[:, k]) for k in range(self.idx.size)])

    def __call__(self, r, corr):
        if self.idx.size == 0:
            return r, corr
        z = self.gram_pinv @ corr[self.idx]
        return r - self.XU @ z, corr - self.cross @ z


def _dual_value(design, theta, ratio):
    """Lasso dual objective at ``theta`` scaled into the feasible set."""
    y, q = design.y, design.q
    diff = y - (theta if ratio <= 1.0 else theta / ratio)
    return 0.5 * (vdot(q, y * y) - vdot(q, diff * diff))


def lasso_dual_gap(design, r_true, corr, b, pen, positive, projector):
    """Primal value and duality gap at ``b`` (``r_true``: its centred residual)."""
    primal = 0.5 * vdot(design.q, r_true * r_true) + vdot(pen, np.abs(b))
    theta, c = projector(r_true, corr)
    mask = pen > 0
    viol = np.maximum(c[mask], 0.0) if positive else np.abs(c[mask])
    ratio = float(np.max(viol / pen[mask])) if viol.size else 0.0
    return primal, max(primal - _dual_value(design, theta, ratio), 0.0)


def solve_lasso(design, pen, *, positive=False, coef_init=None, tol=1e-4,
                max_iter=1000, projector=None, warn=True, kkt_tol=np.inf, state=None):
    """Minimise the weighted Lasso on ``design``.

    Returns ``(coef, dual_gap, n_epochs, converged)``; the gap is absolute and
    the stopping rule is ``gap <= tol * (1/2) sum_i q_i y_i^2``, together with
    ``max_j violation_j <= kkt_tol`` (a first-order accuracy on the
    coefficients, which a small objective gap only gives to its square root).

    ``state``, a dict, carries the residual and correlations of ``coef_init``
    in (when they match it) and those of the solution out, so that a path
    does not recompute ``X^T r`` for the same coefficients at each alpha.
    """
    from ._kernels import kkt_scan, lasso_cd_ws  # numba is imported on first use

    p = design.n_features
    b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    if positive:
        np.maximum(b, 0.0, out=b)
    if projector is None:
        projector = _UnpenalisedProjector(design, pen)
    scale = 0.5 * vdot(design.q, design.y * design.y)
    corr = None
    if state and np.array_equal(state.get("coef"), b):
        r, shift, corr = state["r"].copy(), state["shift"].copy(), state["corr"]
    else:
        r, shift = design.residual(b)
    lips = design.lipschitz
    always = (pen == 0) & (lips > 0)
    n_epochs = 0
    ws_size = min(_WS_START, p)
    converged = False
    gap = np.inf
    ws = None
    viol = np.empty(p)
    args = design.kernel_args()
    while True:
        r_true = r + shift[0]
        if corr is None:
            corr = design.corr(r_true)
        worst, ratio, pen_sum = kkt_scan(corr, b, pen, lips, positive, viol)
        primal = 0.5 * vdot(design.q, r_true * r_true) + pen_sum
        if projector.idx.size:
            _, gap = lasso_dual_gap(design, r_true, corr, b, pen, positive, projector)
        else:
            gap = max(primal - _dual_value(design, r_true, ratio), 0.0)
        if gap <= tol * scale and worst <= kkt_tol:
            converged = True
            break
        if n_epochs >= max_iter:
            break
        keep = (b != 0) | always
        n_keep = int(keep.sum())
        # Double the working set while it fills up with non-zeros (fewer
        # full-gradient passes while the support grows), never shrink it.
        grow = 2 * ws_size if 2 * n_keep >= ws_size else ws_size
        ws_size = min(p, max(grow, 2 * n_keep))
        if ws_size < p:
            # Candidates: the kept features and the violators (usually few).
            cand = np.flatnonzero(keep | (viol > 0))
            if cand.size > ws_size:
                score = np.where(keep[cand], np.inf, viol[cand])
                cand = cand[np.argpartition(-score, ws_size - 1)[:ws_size]]
            new_ws = np.sort(cand).astype(np.int64)
        else:
            new_ws = np.arange(p, dtype=np.int64)
        tol_in = 0.3 * worst
        if ws is not None and np.array_equal(ws, new_ws):
            # Same working set as last time: only accuracy is missing.
            tol_in *= 0.03
        # Below this, rounding in the correlations dominates the violations.
        tol_in = max(tol_in, 1e-13 * max(float(pen.max()), float(np.abs(corr).max())))
        ws = new_ws
        n_epochs += lasso_cd_ws(*args, design.y, r, shift, b, ws, lips, pen,
                                positive, max_iter - n_epochs, tol_in, _ANDERSON_K)
        corr = None
    if state is not None:
        state.update(coef=b.copy(), r=r, shift=shift, corr=corr)
    if warn and not converged:
        warn_not_converged(gap, tol * scale, n_epochs)
    return b, gap, n_epochs, converged


def lasso_alpha_max(design, weights, positive=False, projector=None):
    """Smallest ``alpha`` for which every penalised coefficient is zero."""
    if projector is None:
        projector = _UnpenalisedProjector(design, weights)
    corr = design.corr(design.y)
    _, corr = projector(design.y, corr)
    mask = weights > 0
    c = np.maximum(corr[mask], 0.0) if positive else np.abs(corr[mask])
    return float(np.max(c / weights[mask]))


def solve_weighted_lasso(design, pen, *, positive=False, coef_init=None, tol=1e-4,
                         max_iter=1000, projector=None, warn=True, state=None):
    """``solve_lasso`` with its outer loop compiled when every penalty is positive.

    Same problem, stopping rule, duality gap and return values as
    :func:`solve_lasso` (which it calls when a column is unpenalised: the dual
    point then needs the projection of ``_UnpenalisedProjector``). Running the
    working-set loop in numba removes the Python work per outer iteration,
    which dominates a warm-started path on a sparse design.
    """
    if projector is None:
        projector = _UnpenalisedProjector(design, pen)
    if projector.idx.size:
        if state and "corr" not in state:
            state.clear()  # filled by the compiled loop below, not by solve_lasso
        return solve_lasso(design, pen, positive=positive, coef_init=coef_init, tol=tol,
                           max_iter=max_iter, projector=projector, warn=warn, state=state)
    from ._kernels import lasso_solve_ws  # numba is imported on first use

    b, r, shift, r_a, shift_a, corr_a, have_anchor, bnd, work, scale = _compiled_setup(
        design, coef_init, positive, state)
    gap, n_epochs, converged = lasso_solve_ws(
        *design.kernel_args(), design.y, r, shift, b, corr_a, r_a, shift_a, have_anchor,
        bnd, design.lipschitz, pen, positive, tol * scale, max_iter, _WS_START, _ANDERSON_K,
        *work)
    if state is not None:
        # solve_lasso's entries are left out: it would recompute them.
        state.clear()
        state.update(coef=b.copy(), r=r, shift=shift, r_a=r_a, shift_a=shift_a,
                     corr_a=corr_a)
    if warn and not converged:
        warn_not_converged(gap, tol * scale, n_epochs)
    return b, gap, n_epochs, converged


def _compiled_setup(design, coef_init, positive, state):
    """Starting point, anchor and workspace of the compiled loops.

    Returns ``(b, r, shift, r_a, shift_a, corr_a, have_anchor, bnd, work,
    scale)`` (see ``_kernels.lasso_solve_ws``).
    """
    p = design.n_features
    b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    if positive:
        np.maximum(b, 0.0, out=b)
    # Anchor of the lazy optimality checks (see ``lasso_solve_ws``): a
    # residual and its exact correlations, carried along a path in ``state``.
    if state and np.array_equal(state.get("coef"), b) and "r_a" in state:
        r, shift = state["r"].copy(), state["shift"].copy()
        r_a, shift_a, corr_a = state["r_a"], state["shift_a"], state["corr_a"]
        have_anchor = True
    elif coef_init is None and getattr(design, "corr_y", None) is not None:
        # Start from zero: the residual is y, whose correlations are known.
        r, shift = design.y.copy(), np.zeros(1)
        r_a, shift_a, corr_a = design.y.copy(), np.zeros(1), design.corr_y.copy()
        have_anchor = True
    else:
        r, shift = design.residual(b)
        r_a, shift_a, corr_a = np.empty(design.n_samples), np.zeros(1), np.empty(p)
        have_anchor = False
    bnd = getattr(design, "_corr_bound", None)
    if bnd is None:
        # sqrt(L_j), inflated to cover the rounding of L_j (for sparse
        # columns L_j = sum q x^2 - m^2 may lose digits to cancellation).
        lips = design.lipschitz
        bnd = np.sqrt(lips + 1e-12 * (lips + design.X_mean ** 2)) * (1.0 + 1e-12)
        design._corr_bound = bnd
    work = getattr(design, "_lasso_work", None)
    if work is None:
        work = (np.empty((7, p)), np.empty((3, p), dtype=np.int64),
                np.zeros((1, p), dtype=bool))
        design._lasso_work = work
    scale = getattr(design, "_lasso_scale", None)
    if scale is None:
        scale = design._lasso_scale = 0.5 * vdot(design.q, design.y * design.y)
    return b, r, shift, r_a, shift_a, corr_a, have_anchor, bnd, work, scale


def solve_weighted_lasso_path(design, weights, alphas, *, positive=False, coef_init=None,
                              tol=1e-4, max_iter=1000, warn=True, state=None):
    """:func:`solve_weighted_lasso` along a decreasing grid, in one compiled call.

    Every ``alphas[k] * weights`` must be positive. Each solve is
    warm-started from the previous one and, beyond it, from a working set
    given by the sequential strong rule (see ``_kernels.lasso_path_ws``);
    stopping rule and duality gaps are those of ``solve_weighted_lasso``.
    Returns ``(coefs, dual_gaps, n_iters, converged)``, ``coefs`` of shape
    (n_features, n_alphas) in Fortran order.
    """
    from ._kernels import lasso_path_ws  # numba is imported on first use

    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    b, r, shift, r_a, shift_a, corr_a, have_anchor, bnd, work, scale = _compiled_setup(
        design, coef_init, positive, state)
    k = alphas.size
    coefs = np.zeros((design.n_features, k), order="F")  # the kernel writes non-zeros
    gaps = np.empty(k)
    n_iters = np.empty(k, dtype=np.int64)
    converged = np.empty(k, dtype=bool)
    lasso_path_ws(*design.kernel_args(), design.y, r, shift, b, corr_a, r_a, shift_a,
                  have_anchor, bnd, design.lipschitz, weights, alphas, positive,
                  tol * scale, max_iter, _WS_START, _ANDERSON_K, *work, coefs, gaps,
                  n_iters, converged)
    if state is not None:
        state.clear()
        state.update(coef=b.copy(), r=r, shift=shift, r_a=r_a, shift_a=shift_a,
                     corr_a=corr_a)
    if warn:
        for i in np.flatnonzero(~converged):
            warn_not_converged(gaps[i], tol * scale, n_iters[i])
    return coefs, gaps, n_iters, converged
