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



def sqrt_lasso_objective(X, y, coef, intercept, alpha):
    """``(1/sqrt(n)) ||y - X coef - intercept||_2 + alpha ||coef||_1``."""
    r = y - np.asarray(X @ coef).ravel() - intercept
    return float(np.linalg.norm(r)) / np.sqrt(X.shape[0]) + alpha * float(np.abs(coef).sum())


def sqrt_lasso_dual(X, y, coef, alpha, fit_intercept):
    """Dual objective at the normalised residual of ``coef``, rescaled to be feasible.

    The dual of the square-root Lasso (on centred data when there is an
    intercept) is ``max u^T y_c / sqrt(n)`` over ``||u||_2 <= 1``,
    ``||X^T u||_inf <= sqrt(n) alpha`` (and ``sum(u) = 0`` with an intercept).
    ``u = r / ||r||`` with the centred residual ``r`` has zero mean, so
    ``X_c^T u = X^T u`` and sparse ``X`` is never centred.
    """
    n = X.shape[0]
    yc = y - y.mean() if fit_intercept else y
    Xb = np.asarray(X @ coef).ravel()
    if fit_intercept:
        Xb = Xb - Xb.mean()
    r = yc - Xb
    norm = float(np.linalg.norm(r))
    if norm > 1e-9 * float(np.linalg.norm(yc)):
        u = r / norm
    else:
        # Interpolation (zero residual): the optimum is the basis pursuit, whose
        # dual point is the minimum-norm u with X_S^T u = sqrt(n) alpha sign(b_S)
        # on the support S (centred columns with an intercept: u has zero mean).
        support = np.flatnonzero(coef)
        if support.size == 0:
            return 0.0  # the objective is non-negative
        XS = X[:, support]
        XS = XS.toarray() if sp.issparse(XS) else np.array(XS)
        if fit_intercept:
            XS -= XS.mean(axis=0)
        u = np.linalg.lstsq(XS.T, np.sqrt(n) * alpha * np.sign(coef[support]),
                            rcond=None)[0]
        u /= max(1.0, float(np.linalg.norm(u)))
    dual_norm = float(np.max(np.abs(X.T @ u))) / (np.sqrt(n) * alpha)
    return float(u @ yc) / (np.sqrt(n) * max(1.0, dual_norm))


def lad_objective(X, y, coef, intercept, alpha):
    """``(1/n) ||y - X coef - intercept||_1 + alpha ||coef||_1``."""
    r = y - np.asarray(X @ coef).ravel() - intercept
    return float(np.abs(r).mean()) + alpha * float(np.abs(coef).sum())


def lad_dual(X, y, coef, intercept, alpha, fit_intercept, zero_tol=1e-9):
    """Dual value of the LAD Lasso built from a (vertex) solution, with its defect.

    The dual is ``max u^T y / n`` over ``|u_i| <= 1``,
    ``||X^T u||_inf <= n alpha`` (and ``sum(u) = 0`` with an intercept). We
    take ``u_i = sign(r_i)`` where the residual is not zero and solve, in the
    least-squares sense, for ``u`` on the zero residuals ``Z`` so that the
    optimality conditions hold with equality on the support ``S``
    (``x_j^T u = n alpha sign(b_j)``, and ``sum(u) = 0``). Then ``u`` is
    clipped to ``[-1, 1]`` and scaled into ``||X^T u||_inf <= n alpha``.

    Returns ``(dual, defect)``: ``defect`` is ``|sum(u)|`` (zero without an
    intercept), the only constraint the construction may miss; the dual value
    is a valid lower bound only when it is at rounding level. ``zero_tol`` is
    relative to ``max|y|``.
    """
    n = X.shape[0]
    r = y - np.asarray(X @ coef).ravel() - intercept
    zero = np.abs(r) <= zero_tol * max(float(np.max(np.abs(y))), 1.0)
    u = np.sign(r)
    u[zero] = 0.0
    support = np.flatnonzero(coef)
    if zero.any():
        XZ = X[np.flatnonzero(zero)]
        XZ = XZ.toarray() if sp.issparse(XZ) else np.asarray(XZ)
        rows = [XZ[:, support].T]
        rhs = [n * alpha * np.sign(coef[support]) - np.asarray(X[:, support].T @ u).ravel()]
        if fit_intercept:
            rows.append(np.ones((1, XZ.shape[0])))
            rhs.append(np.array([-u.sum()]))
        A, c = np.vstack(rows), np.concatenate(rhs)
        if A.shape[0]:
            u[zero] = np.clip(np.linalg.lstsq(A, c, rcond=None)[0], -1.0, 1.0)
    dual_norm = float(np.max(np.abs(X.T @ u))) / (n * alpha)
    u /= max(1.0, dual_norm)
    defect = abs(float(u.sum())) if fit_intercept else 0.0
    return float(u @ y) / n, defect

# ---------------------------------------------------------------- tol ladders
def ladder(start, stop):
    """Half-decade ``tol`` values from ``start`` down to ``stop`` (inclusive)."""
    k0, k1 = np.log10(start), np.log10(stop)
    n = round(2 * (k0 - k1)) + 1
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
                _run_up, exc_up = attempt(i - 1)
                if exc_up <= REL_TOL:
                    chosen = i - 1
            break
        if run.seconds > budget:
            break
        i += 1 if i + 2 >= len(tols) else 2
    if chosen is None:
        last = max(runs)
        run, exc = runs[last]
        return {"matched": False, "tol": tols[last], "seconds": run.seconds, "excess": exc,
                    "warnings": run.warnings, "trace": trace, "result": run.result, "n_timed": 1}
    run, exc = runs[chosen]
    times = [run.seconds]
    warns = set(run.warnings)
    # Cheap runs get the full best-of-repeats; expensive ones fewer.
    n_more = repeats - 1 if run.seconds * (repeats - 1) < budget else 0
    for _ in range(n_more):
        again = timed(fit, tols[chosen])
        times.append(again.seconds)
        warns.update(again.warnings)
    return {"matched": True, "tol": tols[chosen], "seconds": min(times), "excess": exc,
            "warnings": sorted(warns), "trace": trace, "result": run.result,
            "n_timed": len(times)}


def run_once(fit, tol, excess, log=None):
    """One timed run (no ladder, no repeats), in ``match_and_time``'s format.

    For solvers too slow for a ladder and best-of-3 (an exact LP or conic
    solver at its default settings): ``matched`` says whether its objective
    came within ``REL_TOL`` of the reference.
    """
    run = timed(fit, tol)
    exc = excess(run.result)
    if log is not None:
        log(f"    one run  {run.seconds:8.3f}s  excess={exc:.2e}"
            + (f"  [{'; '.join(run.warnings)}]" if run.warnings else ""))
    return {"matched": exc <= REL_TOL, "tol": tol, "seconds": run.seconds, "excess": exc,
                "warnings": run.warnings, "trace": [(tol, run.seconds, exc)], "result": run.result,
                "n_timed": 1}


class Recorder:
    """Wraps ``fit(X, y, alpha, tol) -> (coef, intercept, info)`` of one solver.

    Each call returns ``(coef, intercept, info, f)`` with ``f`` the objective
    recomputed here, and is remembered in ``calls`` as
    ``(tol, f, coef, intercept, info)`` so that every run can be re-checked.
    """

    def __init__(self, fit, objective, X, y, alpha):
        self.fit, self.objective = fit, objective
        self.X, self.y, self.alpha = X, y, alpha
        self.calls = []

    def __call__(self, tol):
        coef, b0, info = self.fit(self.X, self.y, self.alpha, tol)
        f = self.objective(self.X, self.y, coef, b0, self.alpha)
        self.calls.append((tol, f, coef, b0, info))
        return coef, b0, info, f


def relative_excess(f_ref):
    return lambda result: (result[3] - f_ref) / abs(f_ref)


def ladder_all(label, solvers, f_ref, args, log, issues):
    """``match_and_time`` for each of ``solvers`` = ``{name: (recorder, tols)}``.

    Warnings and unmatched ladders are added to ``issues``.
    """
    out = {}
    for name, (rec, tols) in solvers.items():
        log(f"  {name}:")
        res = match_and_time(rec, tols, relative_excess(f_ref), repeats=args.repeats,
                             budget=args.budget, log=log)
        res["info"] = res["result"][2]
        out[name] = res
        for w in res["warnings"]:
            issues.append(f"{label}: {name} at tol={res['tol']:.1e}: {w}")
        if not res["matched"]:
            issues.append(f"{label}: {name} did not reach {REL_TOL:.0e} relative "
                          f"(best excess {res['excess']:.1e})")
    return out


def check_reported_gap(label, f, f_best, gap, tol, scale, issues, recomputed=None):
    """A solver's reported duality gap must bound its true excess and meet ``tol``.

    ``f`` is the objective of its coefficients, ``f_best`` the best objective
    known, ``scale`` what ``tol`` is relative to, ``recomputed`` (optional) the
    gap computed here from the same coefficients.
    """
    slack = 1e-13 * max(abs(f), scale)
    if f - f_best > gap + slack:
        issues.append(f"{label}: reported dual gap {gap:.3e} < true excess "
                      f"{f - f_best:.3e} (tol={tol:.1e})")
    if gap > tol * scale * (1 + 1e-9):
        issues.append(f"{label}: reported gap {gap:.3e} > tol*scale {tol * scale:.3e} "
                      f"(tol={tol:.1e}, not converged)")
    if recomputed is not None and abs(recomputed - gap) > 1e-6 * max(recomputed, gap) + slack:
        issues.append(f"{label}: reported gap {gap:.3e} differs from recomputed gap "
                      f"{recomputed:.3e} (tol={tol:.1e})")


def blas_summary():
    from threadpoolctl import threadpool_info
    return ", ".join(f"{d['internal_api']}:{d['num_threads']}" for d in threadpool_info()
                     if d["user_api"] == "blas")


def with_blas_threads(n, fn, *args):
    """Run ``fn(*args)`` with BLAS limited to ``n`` threads (``n <= 0``: defaults)."""
    if n > 0:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=n):
            return fn(*args)
    return fn(*args)


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


def print_tables(header, rows):
    """The table as aligned text, then as markdown (for benchmarks/README.md)."""
    print_table(header, rows)
    print()
    print(markdown_table(header, rows))


def report(title, header, rows, t_start, issues):
    """Print the results table (plain and markdown), the total time and the issues."""
    print(f"\n== Results ({title})")
    print_tables(header, rows)
    print(f"\ntotal benchmark time {time.perf_counter() - t_start:.1f}s")
    if issues:
        print("\n== Issues")
        for msg in issues:
            print(" -", msg)
    else:
        print("\nno issues")


def is_sparse(X):
    return sp.issparse(X)
