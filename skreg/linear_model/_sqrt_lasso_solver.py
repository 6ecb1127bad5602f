"""Square-root Lasso by working-set coordinate descent on the objective itself.

Problem, on a ``LinearDesign``: ``min_b ||r||_q + sum_j pen_j |b_j|`` with
``||r||_q = sqrt(sum_i q_i r_i^2)`` and ``r = y - X b`` (centred).

Outer loop (Python, a few iterations): correlations ``X^T Q r`` of the
current residual, the duality gap of the square-root problem (the
certificate), and a working set made of the support and the features that
violate the optimality conditions ``|x_j^T Q r| <= pen_j ||r||_q`` most.
Inner loop (numba, ``_sqrt_lasso_kernels.sqrt_cd_ws``): exact coordinate
minimisation of the square-root objective on the working set, with Anderson
extrapolation, until the working-set duality gap is small. Away from
``r = 0`` the objective is smooth plus separable l1, so coordinate descent
converges; each inner epoch costs ``|W| / p`` of a full ``X^T r`` pass, which
is what the method saves: a fit at a sparse solution makes two or three full
passes.

The full correlations are recomputed lazily: ``corr_a``, the exact
correlations of an anchor residual ``r_a``, and Cauchy-Schwarz
(``|c_j(r) - c_j(r_a)| <= sqrt(L_j) ||r - r_a||_q``) show which zero
coefficients can neither violate their condition nor enter the dual scaling;
only the others are computed when they are few (the gap is then exactly the
one a full pass would give).

When the optimum interpolates the data (``r = 0``, possible when
``n_features >= n_samples`` and ``alpha`` is small) the objective is not
differentiable there and coordinate descent stalls as the residual
collapses. The solver then solves the weighted basis pursuit
``min sum_j pen_j |b_j| s.t. X b = y`` exactly (a LAD Lasso with a data
weight large enough for the l1 exact-penalty property) and keeps it if a
dual point certifies it; otherwise it hands over to the older noise-level
search (``_solve_sqrt_lasso_secant``: secant steps on ``sigma`` with a
Lasso solve each), which copes with that regime.
"""

import numpy as np

from ._base import warn_not_converged
from ._lad_solver import solve_lad
from ._lasso_solver import _UnpenalisedProjector, solve_lasso

_MAX_ROOT_STEPS = 100


def _qnorm(q, r):
    return float(np.sqrt(q @ (r * r)))


def sqrt_lasso_dual_gap(design, r_true, corr, b, pen, projector):
    """Primal value and duality gap of the square-root Lasso at ``b``."""
    q = design.q
    primal = _qnorm(q, r_true) + float(pen @ np.abs(b))
    theta, c = projector(r_true, corr)
    norm = _qnorm(q, theta)
    if norm == 0.0:
        return primal, primal
    mask = pen > 0
    ratio = max(1.0, float(np.max(np.abs(c[mask]) / (norm * pen[mask]))) if mask.any() else 1.0)
    dual = float(q @ (design.y * theta)) / (norm * ratio)
    return primal, max(primal - dual, 0.0)


def sqrt_lasso_alpha_max(design, weights, projector):
    """Smallest ``alpha`` for which every penalised coefficient is zero."""
    corr_y = getattr(design, "corr_y", None)  # known for dense designs
    r0, corr = projector(design.y, design.corr(design.y) if corr_y is None else corr_y)
    norm = _qnorm(design.q, r0)
    if norm == 0.0:
        return 0.0
    mask = weights > 0
    return float(np.max(np.abs(corr[mask]) / weights[mask])) / norm


_WS_START = 40
_ANDERSON_K = 5
_BP_FULL_SIZE = 2_000_000  # entries of X up to which a full basis pursuit is tried


def _bp_size(design, cols):
    """Entries of ``X`` (stored ones if sparse) in the columns ``cols`` (None: all)."""
    if design.sparse:
        if cols is None:
            return int(design.data.size)
        return int((design.indptr[cols + 1] - design.indptr[cols]).sum())
    return design.n_samples * (design.n_features if cols is None else cols.size)


def solve_sqrt_lasso(design, pen, *, coef_init=None, tol=1e-4, max_iter=1000,
                     projector=None, warn=True, state=None):
    """Minimise the square-root Lasso; returns ``(coef, gap, n_epochs, converged)``.

    Stops when the duality gap is at most ``tol * ||y||_q``; ``max_iter``
    caps the total number of coordinate-descent epochs. ``state``, a dict,
    carries the residual of ``coef_init`` and an anchor for the lazy
    optimality checks in (when they match it) and those of the solution out,
    so that a path reuses them at the next alpha.
    """
    from ._sqrt_lasso_kernels import corr_subset, sqrt_cd_ws  # numba on first use

    if projector is None:
        projector = _UnpenalisedProjector(design, pen)
    q = design.q
    y = design.y
    scale = _qnorm(q, y)
    p = design.n_features
    b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    if scale == 0.0:
        return np.zeros(p), 0.0, 0, True
    tol_abs = tol * scale
    lips = design.lipschitz
    unpen = projector.idx.size > 0
    always = (pen == 0) & (lips > 0)
    # sqrt(L_j), inflated to cover the rounding of L_j (for sparse columns
    # L_j = sum q x^2 - m^2 may lose digits to cancellation).
    bnd = np.sqrt(lips + 1e-12 * (lips + design.X_mean ** 2)) * (1.0 + 1e-12)
    args = design.kernel_args()
    anchor = None  # (a residual r + shift, its exact correlations)
    if state and np.array_equal(state.get("coef"), b):
        r, shift = state["r"].copy(), state["shift"].copy()
        anchor = state.get("anchor")
    elif not b.any() and getattr(design, "corr_y", None) is not None:
        # Start from zero: the residual is y, whose correlations are known.
        r, shift = y.copy(), np.zeros(1)
        anchor = (y, design.corr_y)
    else:
        r, shift = design.residual(b)
    # Interpolation needs as many usable columns as residual dimensions.
    can_interpolate = int(np.sum(lips > 0)) >= design.n_samples - int(design.center)
    # Below this the residual is collapsing towards an interpolation (the
    # column count is only a hint: repeated rows make fewer equations).
    collapse = (1e-3 if can_interpolate else 1e-9) * scale
    rr_floor = collapse ** 2
    n_epochs = 0
    ws = None
    ws_size = min(_WS_START, p)
    converged = False
    gap = np.inf
    # The updated residual carries a rounding drift (coordinate and Anderson
    # steps), about 1e-13 of ||y|| at most: a tolerance that tight is
    # certified on the residual recomputed from ``b``.
    fresh = tol >= 1e-9
    tried_bp = False
    zr_tried = None
    shrink = 1.0
    while True:
        r_true = r + shift[0]
        norm = _qnorm(q, r_true)
        idx = None     # None: ``corr`` holds every correlation; else those of ``idx``
        corr = None
        if anchor is not None and not unpen and norm > 0.0:
            dist = _qnorm(q, r_true - anchor[0]) * (1.0 + 1e-12)
            if dist == 0.0:
                corr = anchor[1]
            else:
                need = (b != 0) | (np.abs(anchor[1]) + bnd * dist
                                   >= pen * (norm * (1.0 - 1e-12)))
                cand = np.flatnonzero(need)
                if cand.size <= p // 8:
                    idx = cand
                    corr = np.empty(idx.size)
                    corr_subset(*args, r, shift[0], idx, corr)
        if corr is None:
            corr = design.corr(r_true)
            anchor = (r_true, corr)
        bs = b if idx is None else b[idx]
        ps = pen if idx is None else pen[idx]
        primal = norm + float(pen @ np.abs(b))
        if norm == 0.0:
            gap = primal  # no dual point from a zero residual
        elif unpen:
            _, gap = sqrt_lasso_dual_gap(design, r_true, corr, b, pen, projector)
        else:
            # Skipped features have |c_j| < pen_j ||r||: they cannot raise the
            # dual scaling above one, so this is the full gap.
            m = ps > 0
            ratio = float(np.max(np.abs(corr[m]) / ps[m])) if m.any() else 0.0
            sc = max(1.0, ratio / norm)
            gap = max(primal - float(q @ (y * r_true)) / (norm * sc), 0.0)
        if gap > tol_abs and norm <= 1e-9 * scale and not np.array_equal(b, zr_tried):
            # (Nearly) zero residual: r / ||r|| is no dual point; certify an
            # interpolating solution with the basis-pursuit dual point instead.
            zr_tried = b.copy()
            gap = min(gap, _zero_residual_gap(design, b, pen, projector, norm))
        if gap <= tol_abs and not fresh:
            r, shift = design.residual(b)
            fresh = True
            continue
        if gap <= tol_abs:
            converged = True
            break
        if n_epochs >= max_iter:
            break
        if norm <= collapse or (can_interpolate and shrink < 1e-4):
            # The residual collapses (or progress stalls where the data can be
            # interpolated) and r / ||r|| did not certify an interpolating
            # point above: the optimum may interpolate, where ||r|| is not
            # differentiable and coordinate descent stalls. Solve the basis
            # pursuit; if it is not certified, hand over to the noise-level
            # search, which copes (slowly) with that regime.
            if not tried_bp and pen.any():
                # On the working-set columns first (a full-size LAD solve can
                # take a minute on 1000 x 5000), then on all of them if the
                # design is small, warm-started: the support of the current
                # iterate seeds the LAD solver's working set.
                # Every solve is limited to _BP_FULL_SIZE entries of X: the
                # LAD solver's Newton systems grow with the columns, and on
                # 1000 x 5000 a full solve took about a minute per alpha
                # (and then failed to certify), where the search below takes
                # about a second.
                cols = None
                if ws is not None and ws.size < p:
                    cols = np.union1d(ws, np.flatnonzero(b)).astype(np.int64)
                tried_bp = cols is None  # else the search below may still try all
                size = _bp_size(design, None)
                bp = None
                if _bp_size(design, cols) <= _BP_FULL_SIZE:
                    bp = _basis_pursuit(design, pen, projector, coef_init=b, cols=cols)
                if (cols is not None and (bp is None or bp[1] > tol_abs)
                        and size <= _BP_FULL_SIZE):
                    tried_bp = True
                    bp = _basis_pursuit(design, pen, projector, coef_init=b)
                if bp is not None and bp[1] <= tol_abs:
                    b, gap = bp
                    converged = True
                    r, shift = design.residual(b)
                    anchor = None
                    break
            b, gap, ep, converged = _solve_sqrt_lasso_secant(
                design, pen, coef_init=b, tol=tol, max_iter=max(max_iter - n_epochs, 1),
                projector=projector, warn=False, tried_bp=tried_bp)
            n_epochs += ep
            r, shift = design.residual(b)
            anchor = None
            break
        # Optimality violations (the gradient of ||r||_q is -X^T Q r / ||r||_q).
        g = corr / norm
        viol = np.where(bs > 0, np.abs(g - ps),
                        np.where(bs < 0, np.abs(g + ps), np.maximum(np.abs(g) - ps, 0.0)))
        viol[(lips if idx is None else lips[idx]) == 0] = 0.0
        n_keep = int(np.count_nonzero((b != 0) | always))
        # Double the working set while it fills up with non-zeros, never
        # shrink it (as the Lasso solver does).
        grow = 2 * ws_size if 2 * n_keep >= ws_size else ws_size
        ws_size = min(p, max(grow, 2 * n_keep))
        if ws_size < p:
            # Candidates: the kept features and the violators.
            keep = (bs != 0) | (always if idx is None else always[idx])
            cm = keep | (viol > 0)
            cand = (np.arange(p) if idx is None else idx)[cm]
            if cand.size > ws_size:
                score = np.where(keep[cm], np.inf, viol[cm])
                cand = cand[np.argpartition(-score, ws_size - 1)[:ws_size]]
            if always.any():
                cand = np.union1d(cand, np.flatnonzero(always))
            new_ws = np.sort(cand).astype(np.int64)
        else:
            new_ws = np.arange(p, dtype=np.int64)
        if ws is not None and np.array_equal(ws, new_ws):
            shrink *= 0.1  # same working set: only accuracy is missing
        ws = new_ws
        # Inner accuracy: a fraction of the current gap (the working set may
        # still change), never looser than the target; the floor is the
        # rounding level of the working-set gap.
        tol_in = max(0.3 * max(tol_abs, gap) * shrink, 1e-13 * scale)
        ep, _ = sqrt_cd_ws(*args, y, r, shift, b, ws, lips, pen, max_iter - n_epochs,
                           tol_in, _ANDERSON_K, rr_floor)
        n_epochs += ep
    if state is not None:
        state.clear()
        state.update(coef=b.copy(), r=r, shift=shift, anchor=anchor)
    if warn and not converged:
        warn_not_converged(gap, tol * scale, n_epochs, scale_features=False)
    return b, gap, n_epochs, converged


def _solve_sqrt_lasso_secant(design, pen, *, coef_init=None, tol=1e-4, max_iter=1000,
                             projector=None, warn=True, tried_bp=False):
    """Square-root Lasso by a safeguarded root search over the noise level.

    The fallback of :func:`solve_sqrt_lasso` near interpolation. Since
    ``||r||_q = min_{sigma > 0} ||r||_q^2 / (2 sigma) + sigma / 2``, the
    problem is the joint minimisation of a convex function of
    ``(b, sigma)``; for fixed ``sigma`` the minimiser in ``b`` is the Lasso
    with penalties ``sigma * pen``. With ``h(sigma)`` the residual norm of
    that Lasso, ``phi(sigma) = min_b J(b, sigma)`` is convex with
    ``phi'(sigma) = (1 - (h / sigma)^2) / 2``, so the optimal noise level
    solves ``h(sigma) = sigma``, found by secant steps on ``log sigma``
    inside a bracket, each a warm-started Lasso solve. When ``sigma``
    collapses the basis pursuit is tried (unless ``tried_bp``).

    Returns ``(coef, gap, n_epochs, converged)``; stops when the duality gap
    is at most ``tol * ||y||_q``; ``max_iter`` caps the total number of
    coordinate-descent epochs.
    """
    if projector is None:
        projector = _UnpenalisedProjector(design, pen)
    q = design.q
    scale = _qnorm(q, design.y)
    p = design.n_features
    b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
    if scale == 0.0:
        return np.zeros(p), 0.0, 0, True
    r, shift = design.residual(b)
    sigma = _qnorm(q, r + shift[0])
    if sigma <= 1e-6 * scale:
        sigma = scale
    lo, hi = 0.0, np.inf          # g(lo) > 0 > g(hi), g = h / sigma - 1
    prev = None                   # (log sigma, g) of the previous evaluation
    n_epochs = 0
    converged = False
    # Interpolation needs as many usable columns as residual dimensions.
    can_interpolate = int(np.sum(design.lipschitz > 0)) >= design.n_samples - int(design.center)
    gap = np.inf
    factor = 0.25  # inner Lasso accuracy, relative to what the outer tol needs
    state = {}
    for _ in range(_MAX_ROOT_STEPS):
        lasso_tol = max(factor * tol * sigma / scale, 1e-16)
        # The square-root gap is first order in the Lasso's optimality
        # violation, hence the KKT tolerance on top of the Lasso gap.
        b, _, ep, _ = solve_lasso(design, sigma * pen, coef_init=b, tol=lasso_tol,
                                  max_iter=max(max_iter - n_epochs, 1),
                                  projector=projector, warn=False,
                                  kkt_tol=factor * tol * scale * sigma, state=state)
        n_epochs += ep
        # The Lasso hands over the residual and X^T r of its solution, which
        # the square-root gap and the next Lasso solve reuse.
        r_true = state["r"] + state["shift"][0]
        _, gap = sqrt_lasso_dual_gap(design, r_true, state["corr"], b, pen, projector)
        if gap <= tol * scale:
            converged = True
            break
        if n_epochs >= max_iter:
            break
        h = _qnorm(q, r_true)
        g = h / sigma - 1.0
        if abs(g) * (h + float(pen @ np.abs(b))) <= 0.1 * tol * scale:
            # The noise level is accurate enough; the inner solves are not.
            factor *= 0.1
            continue
        if g > 0:
            lo = max(lo, sigma)
        else:
            hi = min(hi, sigma)
        log_s = np.log(sigma)
        new = h  # fixed-point step: always moves towards the root
        if prev is not None and prev[1] != g:
            cand = np.exp(log_s - g * (log_s - prev[0]) / (g - prev[1]))
            if lo < cand < hi and np.isfinite(cand):
                new = cand
        if not lo < new < hi:
            new = np.sqrt(lo * hi) if (lo > 0 and np.isfinite(hi)) else 0.5 * (lo + min(hi, h))
        # Each step is a warm-started Lasso solve; long jumps to tiny sigma
        # would make it needlessly hard, so move at most a decade at a time.
        new = min(max(new, 0.1 * sigma), 10.0 * sigma)
        flat = prev is not None and abs(g - prev[1]) <= 0.25 * abs(g)
        if (lo == 0.0 and not tried_bp and pen.any() and can_interpolate
                and _bp_size(design, None) <= _BP_FULL_SIZE
                and (sigma < 1e-3 * scale or (sigma < 1e-2 * scale and flat))):
            # sigma has shrunk below 0.1% of ||y||, or below 1% while
            # h(sigma) / sigma stays flat below 1 (approaching a root, g would
            # tend to 0): the optimum may interpolate the data, where the
            # search only creeps towards sigma = 0. The basis-pursuit solve
            # is the expensive part, hence these guards.
            tried_bp = True
            bp = _basis_pursuit(design, pen, projector)
            if bp is not None and bp[1] <= tol * scale:
                b, gap = bp
                converged = True
                break
        prev = (log_s, g)
        sigma = new
    if warn and not converged:
        warn_not_converged(gap, tol * scale, n_epochs, scale_features=False)
    return b, gap, n_epochs, converged



def _basis_pursuit(design, pen, projector, coef_init=None, cols=None):
    """Weighted basis pursuit, the zero-residual candidate optimum, certified.

    ``min M ||r||_{q,1} + sum_j pen_j |b_j|`` has the basis-pursuit solution
    once ``M`` exceeds the sup-norm of a basis-pursuit dual solution in the
    ``q``-weighted l1 dual; a dual of the square-root problem has
    ``||theta||_q <= 1`` hence ``|theta_i| <= 1 / sqrt(q_i)``, so ``M`` above
    that bound is enough when the optimum interpolates. The certificate is the
    minimum-norm ``theta`` with ``X_S^T Q theta = pen_S sign(b_S)`` on the
    support ``S``, scaled into the dual feasible set
    (:func:`_zero_residual_gap`). ``cols``: solve on these columns only (the
    others at zero; the certificate still checks every feature).

    Returns ``(coef, gap)``, or ``None`` when the data cannot be interpolated.
    """
    q = design.q
    big = 10.0 / np.sqrt(q[q > 0].min())
    y_raw = design.y + design.y_mean
    X = design.X_input
    p = design.n_features
    if cols is not None:
        X = X[:, cols]
        X = X.tocsc() if hasattr(X, "tocsc") else np.asfortranarray(X)
        pen_c = pen[cols]
        init = None if coef_init is None else coef_init[cols]
    else:
        pen_c, init = pen, coef_init
    coef_c, intercept, _, _, _ = solve_lad(X, y_raw, q, pen_c / big, design.center,
                                           coef_init=init, tol=1e-12, max_iter=200)
    r = y_raw - np.asarray(X @ coef_c).ravel() - intercept
    if cols is not None:
        coef = np.zeros(p)
        coef[cols] = coef_c
    else:
        coef = coef_c
    scale = _qnorm(q, design.y)
    if _qnorm(q, r) > 1e-9 * scale:
        return None
    return coef, _zero_residual_gap(design, coef, pen, projector, _qnorm(q, r))


def _zero_residual_gap(design, coef, pen, projector, rnorm):
    """Duality gap at ``coef`` from a dual point made for a zero residual.

    The residual direction gives no dual point when ``r = 0`` (interpolation);
    the one used here is the minimum-norm ``theta`` with
    ``X_S^T Q theta = pen_S sign(b_S)`` on the support ``S`` (which makes the
    gap zero at an optimal interpolating ``coef``), scaled into the dual
    feasible set. ``rnorm``: ``||r||_q`` of ``coef`` (about zero).
    """
    q = design.q
    # Coefficients at rounding level (solvers leave some, e.g. 1e-150 in a
    # degenerate basis pursuit) would make the support equations inconsistent;
    # any support gives a valid bound, since feasibility is checked below.
    big = np.abs(coef) > 1e-10 * np.abs(coef).max(initial=0.0)
    support = np.flatnonzero(big | (pen == 0))
    primal = rnorm + float(pen @ np.abs(coef))
    if support.size == 0:
        return primal
    XS = design.columns(support)
    gram = XS.T @ (q[:, None] * XS)
    z = np.linalg.lstsq(gram, pen[support] * np.sign(coef[support]), rcond=None)[0]
    theta = XS @ z
    corr = design.corr(theta)
    theta, corr = projector(theta, corr)
    mask = pen > 0
    norm = _qnorm(q, theta)
    ratio = max(1.0, norm, float(np.max(np.abs(corr[mask]) / pen[mask])) if mask.any() else 1.0)
    dual = float(q @ (design.y * theta)) / ratio
    return max(primal - dual, 0.0)
