"""SLOPE: skreg.SLOPE / slope_path against sortedl1 and skglm's FISTA.

Objective (BH sequence ``lam`` at q = 0.1)::

    (1/2n) ||y - X b||^2 + alpha sum_j lam_j |b|_(j)

on the "correlated" (dense 1000 x 5000, AR(1) rho = 0.6) and "sparse" (CSC
5000 x 20000, density 1e-3) data sets of ``_data.py``, centred (dense: ``X``
and ``y``; sparse: ``y`` only, ``X`` stays sparse) and fitted without an
intercept, since skglm's FISTA has none. Cases:

* ``fit alpha_max/10``: one fit;
* ``path``: 100 alphas from ``alpha_max`` to ``alpha_max/100`` (geometric),
  warm-started: ``skreg.slope_path`` (strong screening),
  ``sortedl1.Slope.path`` (its early-stopping rules switched off) and a
  warm-started loop of skglm's FISTA.

Every solver is matched on the *duality gap*, recomputed here for all of them
with the same dual point ``theta = r / max(1, J*_lam(X^T r / n) / alpha)``:
the relative gap ``(P(b) - D(theta)) / (||y||^2 / 2n)`` must be at most
``--target`` (default 1e-6), at every alpha for a path. Each solver walks its
own ``tol`` ladder (its ``tol`` means different things) from loose to tight and
is timed, best of ``--repeats``, at the loosest ``tol`` that meets the target.
A run longer than ``--budget`` seconds stops a ladder; an unmatched time is
printed as ``>t*`` (a lower bound, so the ratio against it is a bound too).

All solvers run in this process after a warm-up on a tiny problem (numba
compilation and cache loading are not timed). The machine may be shared:
times are the minimum over repeats, but still noisy.

Run ``python benchmarks/bench_slope.py`` (``--quick`` for a smoke run).
"""

import argparse
import os
import platform
import sys
import time

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import _data
import skglm
import sortedl1
from skglm.datafits import Quadratic
from skglm.penalties import SLOPE as SkglmSLOPE
from skglm.solvers import FISTA
from threadpoolctl import threadpool_limits

import skreg
from skreg.linear_model._slope_sequences import bh_sequence
from skreg.linear_model._sorted_l1 import sorted_l1_dual_norm

SOLVERS = ("skreg", "sortedl1", "skglm")
TOLS = {
    "skreg": C.ladder(1e-3, 1e-10),     # relative duality gap
    "sortedl1": C.ladder(1e-3, 1e-10),  # its own stopping rule
    "skglm": C.ladder(1e-3, 1e-10),     # max fixed-point violation of FISTA
}
MAX_ITER = 100_000


# ---------------------------------------------------------------- certificates
def relative_gap(X, y, coef, alpha, lam):
    """``(P - D) / (||y||^2 / 2n)`` at ``coef`` (no intercept, centred data)."""
    n = X.shape[0]
    r = y - np.asarray(X @ coef).ravel()
    primal = 0.5 * (r @ r) / n + alpha * (np.sort(np.abs(coef))[::-1] @ lam)
    corr = np.asarray(X.T @ r).ravel() / n
    theta = r / max(1.0, sorted_l1_dual_norm(corr, lam) / alpha)
    diff = y - theta
    dual = 0.5 * ((y @ y) - (diff @ diff)) / n
    return (primal - dual) / (0.5 * (y @ y) / n)


# ---------------------------------------------------------------- solvers
def fit_skreg(X, y, alpha, lam, tol):
    m = skreg.SLOPE(alpha, lambdas=lam, fit_intercept=False, tol=tol,
                    max_iter=MAX_ITER).fit(X, y)
    return m.coef_


def fit_sortedl1(X, y, alpha, lam, tol):
    m = sortedl1.Slope(lam=lam, alpha=alpha, fit_intercept=False, tol=tol,
                       max_iter=MAX_ITER).fit(X, y)
    return np.asarray(m.coef_, dtype=np.float64).ravel()


def fit_skglm(X, y, alpha, lam, tol, w_init=None):
    solver = FISTA(max_iter=MAX_ITER, tol=tol, opt_strategy="fixpoint")
    w, _, _ = solver.solve(X, y, Quadratic(), SkglmSLOPE(alpha * lam), w_init=w_init)
    return w


def path_skreg(X, y, grid, lam, tol):
    _, coefs, _, _ = skreg.slope_path(X, y, lambdas=lam, alphas=grid, tol=tol,
                                         max_iter=MAX_ITER)
    return coefs


def path_sortedl1(X, y, grid, lam, tol):
    est = sortedl1.Slope(lam=lam, fit_intercept=False, tol=tol, max_iter=MAX_ITER)
    res = est.path(X, y, alphas=grid, tol_dev_change=0.0, tol_dev_ratio=1.0,
                   max_clusters=10**9)
    coefs = np.asarray(res.coefs, dtype=np.float64)
    return coefs.reshape(X.shape[1], -1)


def path_skglm(X, y, grid, lam, tol, budget=np.inf):
    coefs = np.zeros((X.shape[1], grid.size))
    w = None
    t0 = time.perf_counter()
    for k, alpha in enumerate(grid):
        w = fit_skglm(X, y, alpha, lam, tol, w_init=w)
        coefs[:, k] = w
        if time.perf_counter() - t0 > budget:
            break  # the rest of the path stays zero: reported as unmatched
    return coefs


FIT = {"skreg": fit_skreg, "sortedl1": fit_sortedl1, "skglm": fit_skglm}
PATH = {"skreg": path_skreg, "sortedl1": path_sortedl1, "skglm": path_skglm}


def warm_up():
    t0 = time.perf_counter()
    for name in ("correlated", "sparse"):
        kw = {"correlated": {"n_samples": 30, "n_features": 60},
              "sparse": {"n_samples": 60, "n_features": 80, "density": 0.1}}[name]
        X, y, _ = _data.DATASETS[name](**kw)
        X, y = centre(X, y)
        lam = bh_sequence(X.shape[1], 0.1)
        amax = alpha_max(X, y, lam)
        grid = np.geomspace(amax, amax / 5, 3)
        for s in SOLVERS:
            FIT[s](X, y, amax / 5, lam, 1e-6)
            PATH[s](X, y, grid, lam, 1e-6)
    return time.perf_counter() - t0


def centre(X, y):
    if sp.issparse(X):
        return X, y - y.mean()
    return np.asfortranarray(X - X.mean(axis=0)), y - y.mean()


def alpha_max(X, y, lam):
    return sorted_l1_dual_norm(np.asarray(X.T @ y).ravel() / X.shape[0], lam)


# ---------------------------------------------------------------- matching
def match(run, gap_of, tols, target, repeats, budget, log):
    """Loosest ``tol`` whose result has relative gap <= target; best-of time."""
    last = None
    for tol in tols:
        t = C.timed(run, tol)
        gap = gap_of(t.result)
        log(f"    tol={tol:.0e}  {t.seconds:8.3f}s  rel. gap={gap:.2e}"
            + (f"  [{'; '.join(t.warnings)}]" if t.warnings else ""))
        last = {"matched": False, "tol": tol, "seconds": t.seconds, "gap": gap}
        if gap <= target:
            times = [t.seconds]
            for _ in range(repeats - 1 if t.seconds * (repeats - 1) < budget else 0):
                times.append(C.timed(run, tol).seconds)
            return {"matched": True, "tol": tol, "seconds": min(times), "gap": gap}
        if t.seconds > budget:
            break
    return last


def run_case(kind, X, y, lam, alpha_or_grid, args, log):
    out = {}
    for s in SOLVERS:
        log(f"  {s}:")
        if kind == "fit":
            alpha = alpha_or_grid

            def run(tol, s=s, alpha=alpha):
                return FIT[s](X, y, alpha, lam, tol)

            def gap_of(coef, alpha=alpha):
                return relative_gap(X, y, coef, alpha, lam)
        else:
            grid = alpha_or_grid

            def run(tol, s=s, grid=grid):
                if s == "skglm":
                    return path_skglm(X, y, grid, lam, tol, budget=args.budget)
                return PATH[s](X, y, grid, lam, tol)

            def gap_of(coefs, grid=grid):
                return max(relative_gap(X, y, coefs[:, k], a, lam)
                           for k, a in enumerate(grid))
        out[s] = match(run, gap_of, TOLS[s], args.target, args.repeats, args.budget, log)
    return out


def fmt(res):
    s = f"{res['seconds']:.3f}"
    return (s if res["matched"] else f">{s}*") + f" ({res['tol']:.0e})"


def ratio(a, b):
    flag = "" if a["matched"] and b["matched"] else "*"
    return f"{a['seconds'] / b['seconds']:.2f}{flag}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems (smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="stop a tol ladder once one run exceeds this many seconds")
    parser.add_argument("--target", type=float, default=1e-6,
                        help="relative duality gap every solver must reach")
    parser.add_argument("--datasets", nargs="+", default=list(_data.DATASETS),
                        choices=list(_data.DATASETS))
    parser.add_argument("--cases", nargs="+", default=["fit10", "path"],
                        choices=["fit10", "path"])
    parser.add_argument("--quiet", action="store_true", help="no per-tol trace")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (threadpoolctl); 0 = library default")
    args = parser.parse_args(argv)
    if args.blas_threads > 0:
        with threadpool_limits(limits=args.blas_threads):
            return _main(args)
    return _main(args)


def _main(args):
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, flush=True))
    print(f"skreg {skreg.__version__}, sortedl1 {sortedl1.__version__}, "
          f"skglm {skglm.__version__}, numpy {np.__version__}; "
          f"python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"BLAS threads: {C.blas_summary()}")
    print(f"warm-up (tiny problems, every solver): {warm_up():.2f}s")
    rows = []
    t_start = time.perf_counter()
    for name in args.datasets:
        X, y, _ = _data.load(name, quick=args.quick)
        X, y = centre(X, y)
        lam = bh_sequence(X.shape[1], 0.1)
        amax = alpha_max(X, y, lam)
        print(f"\n== {name}: {'sparse CSC' if sp.issparse(X) else 'dense'} X "
              f"{X.shape[0]} x {X.shape[1]}", flush=True)
        for case in args.cases:
            if case == "fit10":
                print(f"-- fit alpha_max/10 (alpha={amax / 10:.4g})", flush=True)
                out = run_case("fit", X, y, lam, amax / 10, args, log)
                desc = "fit a_max/10"
            else:
                print("-- path, 100 alphas down to alpha_max/100", flush=True)
                grid = np.geomspace(amax, amax / 100, 100)
                out = run_case("path", X, y, lam, grid, args, log)
                desc = "path 100 alphas"
            rows.append([name, desc] + [fmt(out[s]) for s in SOLVERS]
                        + [ratio(out["skreg"], out["sortedl1"]),
                           ratio(out["skglm"], out["skreg"])])
    header = ["data", "case", "skreg s (tol)", "sortedl1 s (tol)", "skglm FISTA s (tol)",
              "skreg/sortedl1", "skglm/skreg"]
    print(f"\n== Results (best of {args.repeats}, seconds; relative duality gap <= "
          f"{args.target:.0e}, recomputed here; * = not matched, a bound)")
    C.print_tables(header, rows)
    print(f"\ntotal benchmark time {time.perf_counter() - t_start:.1f}s")


if __name__ == "__main__":
    main()
