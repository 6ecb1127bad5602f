"""Helpers shared by the benchmark scripts: objectives, certificates, timing.

Matched precision
-----------------
Every solver has its own stopping rule (skreg: relative duality gap, skglm:
absolute KKT violation, scikit-learn: duality gap relative to ``||y||^2``), so
equal ``tol`` values mean different things. The scripts therefore compare
*objective values*, computed here from the returned coefficients:

1. a reference objective ``f*`` is computed by very tight runs, and certified
   by a dual point built here from the same coefficients (``f* - D <= gap``);
2. each solver walks down a ladder of ``tol`` values (half-decade steps) until
   its objective is within ``REL_TOL`` (1e-8) relative of ``f*``;
3. that run (and ``repeats - 1`` more with the same ``tol``) is timed.

Both solvers of a comparison are then within 1e-8 relative of the same
certified optimum, hence of each other.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp

REL_TOL = 1e-8


# ---------------------------------------------------------------- objectives
def lasso_objective(X, y, coef, intercept, alpha):
    """``(1/2n) ||y - X coef - intercept||^2 + alpha ||coef||_1``."""
    r = y - np.asarray(X @ coef).ravel() - intercept
    return 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(coef).sum())


def lasso_dual(X, y, coef, alpha, fit_intercept):
    """Dual objective at the point obtained by rescaling the residual of ``coef``.

    With an intercept the problem is the Lasso on centred data; the centred
    residual ``r`` has zero mean, so ``X_c^T r = X^T r`` and sparse ``X`` is
    never centred explicitly. Any dual value is a lower bound on the optimum.
    """
    n = X.shape[0]
    yc = y - y.mean() if fit_intercept else y
    Xb = np.asarray(X @ coef).ravel()
    if fit_intercept:
        Xb = Xb - Xb.mean()
    r = yc - Xb
    dual_norm = float(np.max(np.abs(X.T @ r))) / (n * alpha)
    theta = r / max(1.0, dual_norm)
    d = yc - theta
    return 0.5 * (float(yc @ yc) - float(d @ d)) / n


def path_objectives(X, y, coefs, alphas):
    """Objective of each column of ``coefs`` (no intercept), vectorised."""
    n = X.shape[0]
    R = y[:, None] - np.asarray(X @ coefs)
    return 0.5 * np.einsum("ij,ij->j", R, R) / n + alphas * np.abs(coefs).sum(axis=0)


def path_duals(X, y, coefs, alphas):
    n = X.shape[0]
    R = y[:, None] - np.asarray(X @ coefs)
    dual_norm = np.max(np.abs(np.asarray(X.T @ R)), axis=0) / (n * alphas)
    theta = R / np.maximum(1.0, dual_norm)
    D = y[:, None] - theta
    return 0.5 * (float(y @ y) - np.einsum("ij,ij->j", D, D)) / n


# ---------------------------------------------------------------- tol ladders
def ladder(start, stop):
    """Half-decade ``tol`` values from ``start`` down to ``stop`` (inclusive)."""
    k0, k1 = np.log10(start), np.log10(stop)
    n = int(round(2 * (k0 - k1))) + 1
    return [float(t) for t in np.logspace(k0, k1, n)]


# ---------------------------------------------------------------- timing
class Run:
    """One timed call: its result, wall time and the warnings it raised."""

    def __init__(self, result, seconds, caught):
        self.result = result
        self.seconds = seconds
        self.warnings = sorted({f"{w.category.__name__}: {str(w.message)[:120]}"
                                for w in caught})


def timed(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
    return Run(result, seconds, caught)


def match_and_time(fit, tols, excess, repeats=3, budget=60.0, log=None):
    """Loosest ``tol`` of ``tols`` whose objective matches the reference; time it.

    ``tols`` is a decreasing half-decade ladder. ``fit(tol)`` runs the solver
    and ``excess(result)`` returns the relative excess of its objective over
    the reference. The ladder is walked a decade at a time; once a ``tol``
    matches (excess <= REL_TOL) the half-decade above it is tried too, so the
    chosen ``tol`` is the loosest matching one up to half a decade. Stops early
    (unmatched) when a single run exceeds ``budget`` seconds.

    Returns a dict: ``matched``, the chosen ``tol``, ``seconds`` (best of
    ``repeats`` runs at that tol), its ``excess``, the ``warnings`` raised,
    the ladder ``trace`` [(tol, seconds, excess)] and the ``result``.
    """
    trace = []
    runs = {}

    def attempt(i):
        run = timed(fit, tols[i])
        exc = excess(run.result)
        runs[i] = (run, exc)
        trace.append((tols[i], run.seconds, exc))
        if log is not None:
            log(f"    tol={tols[i]:.1e}  {run.seconds:8.3f}s  excess={exc:.2e}"
                + (f"  [{'; '.join(run.warnings)}]" if run.warnings else ""))
        return run, exc

    chosen = None
    i = 0
    while i < len(tols):
        run, exc = attempt(i)
        if exc <= REL_TOL:
            chosen = i
            if i > 0 and (i - 1) not in runs:
                run_up, exc_up = attempt(i - 1)
                if exc_up <= REL_TOL:
                    chosen = i - 1
            break
        if run.seconds > budget:
            break
        i += 1 if i + 2 >= len(tols) else 2
    if chosen is None:
        last = max(runs)
        run, exc = runs[last]
        return dict(matched=False, tol=tols[last], seconds=run.seconds, excess=exc,
                    warnings=run.warnings, trace=trace, result=run.result, n_timed=1)
    run, exc = runs[chosen]
    times = [run.seconds]
    warns = set(run.warnings)
    # Cheap runs get the full best-of-repeats; expensive ones fewer.
    n_more = repeats - 1 if run.seconds * (repeats - 1) < budget else 0
    for _ in range(n_more):
        again = timed(fit, tols[chosen])
        times.append(again.seconds)
        warns.update(again.warnings)
    return dict(matched=True, tol=tols[chosen], seconds=min(times), excess=exc,
                warnings=sorted(warns), trace=trace, result=run.result, n_timed=len(times))


def fmt_time(res):
    if res is None:
        return "n/a"
    s = f"{res['seconds']:.3f}"
    return s if res["matched"] else f">{s}*"


def fmt_ratio(ours, anchor):
    if ours is None or anchor is None:
        return "n/a"
    r = ours["seconds"] / anchor["seconds"]
    flag = "" if ours["matched"] and anchor["matched"] else "*"
    return f"{r:.2f}{flag}"


def print_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def markdown_table(header, rows):
    out = ["| " + " | ".join(map(str, header)) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(out)


def is_sparse(X):
    return sp.issparse(X)
