"""Square-root Lasso by a safeguarded root search over the noise level.

Problem, on a ``LinearDesign``: ``min_b ||r||_q + sum_j pen_j |b_j|`` with
``||r||_q = sqrt(sum_i q_i r_i^2)`` and ``r = y - X b`` (centred).

Since ``||r||_q = min_{sigma > 0} ||r||_q^2 / (2 sigma) + sigma / 2``, the
problem is the joint minimisation of a convex function of ``(b, sigma)``;
for fixed ``sigma`` the minimiser in ``b`` is the Lasso with penalties
``sigma * pen``. With ``h(sigma)`` the residual norm of that Lasso,
``phi(sigma) = min_b J(b, sigma)`` is convex with
``phi'(sigma) = (1 - (h / sigma)^2) / 2``, so the optimal noise level solves
``h(sigma) = sigma`` and ``h(sigma) / sigma`` is non-increasing. We find that
root by secant steps on ``log sigma`` inside a bracket, each evaluation a
warm-started working-set Lasso solve (a few evaluations suffice: the
objective error is quadratic in the error on ``sigma``). Convergence is
certified by the duality gap of the square-root problem itself.

When ``h(sigma) < sigma`` for every ``sigma`` the optimum interpolates the
data (``r = 0``, possible when ``n_features >= n_samples`` and ``alpha`` is
small) and ``sigma -> 0``: the solution is then the weighted basis pursuit
``min sum_j pen_j |b_j| s.t. X b = y``. When the search sees sigma shrink,
it solves that linear program exactly (a LAD Lasso with a data weight large
enough for the l1 exact-penalty property) and keeps it if a dual point
certifies it.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

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
    r0, corr = projector(design.y, design.corr(design.y))
    norm = _qnorm(design.q, r0)
    if norm == 0.0:
        return 0.0
    mask = weights > 0
    return float(np.max(np.abs(corr[mask]) / weights[mask])) / norm


def solve_sqrt_lasso(design, pen, *, coef_init=None, tol=1e-4, max_iter=1000,
                     projector=None, warn=True):
    """Minimise the square-root Lasso; returns ``(coef, gap, n_epochs, converged)``.

    Stops when the duality gap is at most ``tol * ||y||_q``; ``max_iter``
    caps the total number of coordinate-descent epochs.
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
    tried_bp = False
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
        warnings.warn(
            f"Objective did not converge: duality gap {gap:.3e} > tol * scale "
            f"{tol * scale:.3e} after {n_epochs} epochs. Increase max_iter or tol.",
            ConvergenceWarning,
        )
    return b, gap, n_epochs, converged


def _basis_pursuit(design, pen, projector):
    """Weighted basis pursuit, the zero-residual candidate optimum, certified.

    ``min M ||r||_{q,1} + sum_j pen_j |b_j|`` has the basis-pursuit solution
    once ``M`` exceeds the sup-norm of a basis-pursuit dual solution in the
    ``q``-weighted l1 dual; a dual of the square-root problem has
    ``||theta||_q <= 1`` hence ``|theta_i| <= 1 / sqrt(q_i)``, so ``M`` above
    that bound is enough when the optimum interpolates. The certificate is the
    minimum-norm ``theta`` with ``X_S^T Q theta = pen_S sign(b_S)`` on the
    support ``S``, scaled into the dual feasible set.

    Returns ``(coef, gap)``, or ``None`` when the data cannot be interpolated.
    """
    q = design.q
    big = 10.0 / np.sqrt(q[q > 0].min())
    y_raw = design.y + design.y_mean
    coef, intercept, _, _, _ = solve_lad(design.X_input, y_raw, q, pen / big, design.center,
                                         tol=1e-12, max_iter=200)
    r = y_raw - np.asarray(design.X_input @ coef).ravel() - intercept
    scale = _qnorm(q, design.y)
    if _qnorm(q, r) > 1e-9 * scale:
        return None
    support = np.flatnonzero((coef != 0) | (pen == 0))
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
    primal = _qnorm(q, r) + float(pen @ np.abs(coef))
    return coef, max(primal - dual, 0.0)
