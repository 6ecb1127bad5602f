"""Lasso: skreg.WeightedLasso against skglm.Lasso and sklearn.linear_model.Lasso.

Objective (all weights one)::

    (1/2n) ||y - X b - b0||^2 + alpha ||b||_1

Cases, on the "correlated" (dense) and "sparse" (CSC) data sets of
``_data.py``:

* ``fit alpha_max/10`` and ``fit alpha_max/100``: one fit with
  ``fit_intercept=True`` for every solver (all three support an intercept with
  sparse ``X``);
* ``path (100 alphas)``: 100 alphas from ``alpha_max`` to ``alpha_max/100``
  (geometric), ``fit_intercept=False`` on centred data (dense: ``X`` and ``y``
  centred; sparse: ``y`` centred, ``X`` left sparse), warm-started:
  ``skreg.weighted_lasso_path``, ``sklearn.linear_model.lasso_path`` and
  ``skglm.Lasso.path``.

Every solver runs in this process, after a warm-up fit on a tiny problem (so
numba compilation or cache loading is not timed), at matched precision: its
objective, recomputed here from the returned coefficients, must be within
1e-8 relative of a certified reference (see ``_common.py``); for the path,
at every alpha. Times are the best of ``--repeats`` runs at the loosest
``tol`` (half-decade ladder) that matches.

Run ``python benchmarks/bench_lasso.py`` (``--quick`` for a smoke run).
"""

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import _data
import skglm
import sklearn
from sklearn.linear_model import Lasso as SkLasso
from sklearn.linear_model import lasso_path
from threadpoolctl import threadpool_info, threadpool_limits

import skreg

MAX_ITER = 100_000
TOLS = C.ladder(1e-4, 1e-13)          # skreg, sklearn: relative duality gap
TOLS_SKGLM = C.ladder(1e-4, 1e-13)    # skglm: absolute KKT violation
REF_TOL = 1e-13
SOLVERS = ("skreg", "skglm", "sklearn")


class _Lazy:
    """A solver's outputs plus their objective, computed on first access.

    The timed call (``_common.timed``) returns this object, so recomputing
    the objective from the coefficients (a product with ``X``: for the
    sparse path about as long as the fastest solver's whole path) is not
    part of any solver's time.
    """

    def __init__(self, outputs, objective):
        self._outputs, self._objective, self._f = tuple(outputs), objective, None

    def _all(self):
        if self._f is None:
            self._f = self._objective()
        return self._outputs + (self._f,)

    def __getitem__(self, k):
        if isinstance(k, int) and 0 <= k < len(self._outputs):
            return self._outputs[k]
        return self._all()[k]

    def __len__(self):
        return len(self._outputs) + 1


# ---------------------------------------------------------------- single fits
def fit_skreg(X, y, alpha, tol):
    m = skreg.WeightedLasso(alpha, fit_intercept=True, tol=tol, max_iter=MAX_ITER).fit(X, y)
    return m.coef_, m.intercept_, {"gap": m.dual_gap_, "n_iter": m.n_iter_}


def fit_skglm(X, y, alpha, tol):
    m = skglm.Lasso(alpha, fit_intercept=True, tol=tol, max_iter=1000,
                    max_epochs=MAX_ITER).fit(X, y)
    return m.coef_, m.intercept_, {"n_iter": m.n_iter_}


def fit_sklearn(X, y, alpha, tol):
    m = SkLasso(alpha, fit_intercept=True, tol=tol, max_iter=MAX_ITER).fit(X, y)
    return m.coef_, m.intercept_, {"gap": m.dual_gap_, "n_iter": m.n_iter_}


FIT = {"skreg": fit_skreg, "skglm": fit_skglm, "sklearn": fit_sklearn}


# ---------------------------------------------------------------- paths
def path_skreg(X, y, grid, tol):
    _, coefs, gaps = skreg.weighted_lasso_path(X, y, alphas=grid, fit_intercept=False,
                                               tol=tol, max_iter=MAX_ITER)
    return coefs, {"gaps": gaps}


def path_skglm(X, y, grid, tol):
    est = skglm.Lasso(fit_intercept=False, tol=tol, max_iter=1000, max_epochs=MAX_ITER)
    _, coefs, _, _ = est.path(X, y, grid)
    return coefs, {}


def path_sklearn(X, y, grid, tol):
    _, coefs, gaps = lasso_path(X, y, alphas=grid, tol=tol, max_iter=MAX_ITER)
    return coefs, {"gaps": gaps}


PATH = {"skreg": path_skreg, "skglm": path_skglm, "sklearn": path_sklearn}


def warm_up():
    """One tiny fit of every solver, dense and sparse, fit and path."""
    t0 = time.perf_counter()
    for name in ("correlated", "sparse"):
        X, y, _ = _data.DATASETS[name](**{"correlated": {"n_samples": 30, "n_features": 60},
                                          "sparse": {"n_samples": 60, "n_features": 80,
                                                         "density": 0.1}}[name])
        a = _data.alpha_max(X, y) / 5
        grid = np.geomspace(_data.alpha_max(X, y), a, 3)
        for s in SOLVERS:
            FIT[s](X, y, a, 1e-6)
            PATH[s](X, y - y.mean(), grid, 1e-6)
    return time.perf_counter() - t0


def check_skreg_gap(label, X, y, coef, intercept, alpha, gap, tol, f_ref, issues, fi=True):
    """skreg's reported gap must bound the true excess and meet the tolerance."""
    n = X.shape[0]
    yc = y - y.mean() if fi else y
    scale = 0.5 * float(yc @ yc) / n
    f = C.lasso_objective(X, y, coef, intercept, alpha)
    d = C.lasso_dual(X, y, coef, alpha, fi)
    slack = 1e-13 * max(abs(f), scale)
    if f - f_ref > gap + slack:
        issues.append(f"{label}: reported dual gap {gap:.3e} < true excess "
                      f"{f - f_ref:.3e} (tol={tol:.1e})")
    if gap > tol * scale * (1 + 1e-9):
        issues.append(f"{label}: reported gap {gap:.3e} > tol*scale {tol * scale:.3e} "
                      f"(tol={tol:.1e}, not converged)")
    if abs((f - d) - gap) > 1e-6 * max(f - d, gap) + slack:
        issues.append(f"{label}: reported gap {gap:.3e} differs from recomputed gap "
                      f"{f - d:.3e} (tol={tol:.1e})")


def run_fit_case(X, y, alpha, args, log, issues, label):
    objective = {}

    def fitter(s):
        def fit(tol):
            coef, b0, info = FIT[s](X, y, alpha, tol)
            res = _Lazy((coef, b0, info), lambda: C.lasso_objective(X, y, coef, b0, alpha))
            objective.setdefault(s, []).append((tol, res, coef, b0, info))
            return res
        return fit

    # Reference: very tight runs, certified by a dual point.
    refs = []
    for s in ("skreg", "skglm"):
        run = C.timed(fitter(s), REF_TOL)
        coef, b0, info, f = run.result
        refs.append((f, C.lasso_dual(X, y, coef, alpha, True)))
        for w in run.warnings:
            issues.append(f"{label}: {s} reference run at tol={REF_TOL:.0e}: {w}")
    f_ref = min(f for f, _ in refs)
    d_ref = max(d for _, d in refs)
    cert = (f_ref - d_ref) / abs(f_ref)
    log(f"  reference objective {f_ref:.15g}  certified to {cert:.1e} relative")
    if cert > 0.01 * C.REL_TOL:
        issues.append(f"{label}: reference only certified to {cert:.1e}")

    out = {}
    for s in SOLVERS:
        log(f"  {s}:")
        tols = TOLS_SKGLM if s == "skglm" else TOLS
        res = C.match_and_time(fitter(s), tols,
                               lambda r: (r[3] - f_ref) / abs(f_ref),
                               repeats=args.repeats, budget=args.budget, log=log)
        res["n_iter"] = res["result"][2].get("n_iter")
        out[s] = res
        for w in res["warnings"]:
            issues.append(f"{label}: {s} at tol={res['tol']:.1e}: {w}")
        if not res["matched"]:
            issues.append(f"{label}: {s} did not reach 1e-8 relative "
                          f"(best excess {res['excess']:.1e})")

    # Re-check against the best objective seen anywhere.
    f_best = min(run[1][3] for runs in objective.values() for run in runs)
    if f_best < f_ref - C.REL_TOL * 1e-2 * abs(f_ref):
        issues.append(f"{label}: a ladder run beat the reference by "
                      f"{(f_ref - f_best) / abs(f_ref):.1e} relative")
    # skreg's own certificate, on every run it made (reference and ladder).
    for tol, res, coef, b0, info in objective["skreg"]:
        f = res[3]
        check_skreg_gap(f"{label} skreg", X, y, coef, b0, alpha, info["gap"],
                        tol, f_best, issues)
    return out, f_ref


def run_path_case(X, y, grid, args, log, issues, label):
    def fitter(s):
        def fit(tol):
            coefs, info = PATH[s](X, y, grid, tol)
            return _Lazy((coefs, info), lambda: C.path_objectives(X, y, coefs, grid))
        return fit

    refs = []
    for s in ("skreg", "skglm"):
        run = C.timed(fitter(s), REF_TOL)
        refs.append(run.result)
        for w in run.warnings:
            issues.append(f"{label}: {s} reference run at tol={REF_TOL:.0e}: {w}")
    f_ref = np.min([r[2] for r in refs], axis=0)
    d_ref = np.max([C.path_duals(X, y, r[0], grid) for r in refs], axis=0)
    cert = float(np.max((f_ref - d_ref) / np.abs(f_ref)))
    log(f"  reference objectives certified to {cert:.1e} relative (worst alpha)")
    if cert > 0.01 * C.REL_TOL:
        issues.append(f"{label}: reference only certified to {cert:.1e}")

    out = {}
    for s in SOLVERS:
        log(f"  {s}:")
        tols = TOLS_SKGLM if s == "skglm" else TOLS
        res = C.match_and_time(fitter(s), tols,
                               lambda r: float(np.max((r[2] - f_ref) / np.abs(f_ref))),
                               repeats=args.repeats, budget=args.budget, log=log)
        out[s] = res
        for w in res["warnings"]:
            issues.append(f"{label}: {s} at tol={res['tol']:.1e}: {w}")
        if not res["matched"]:
            issues.append(f"{label}: {s} did not reach 1e-8 relative at every alpha "
                          f"(worst excess {res['excess']:.1e})")

    # skreg's per-alpha gaps must bound the true excess and meet the tolerance.
    _coefs, info, f = out["skreg"]["result"][:3]
    tol = out["skreg"]["tol"]
    scale = 0.5 * float(y @ y) / X.shape[0]
    gaps = info["gaps"]
    bad = np.flatnonzero(f - f_ref > gaps + 1e-13 * scale)
    if bad.size:
        issues.append(f"{label}: skreg path gap below true excess at {bad.size} alphas "
                      f"(first index {bad[0]})")
    bad = np.flatnonzero(gaps > tol * scale * (1 + 1e-9))
    if bad.size:
        issues.append(f"{label}: skreg path gap above tol*scale at {bad.size} alphas "
                      f"(first index {bad[0]}, gap {gaps[bad[0]]:.2e})")
    return out, f_ref


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems (smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="stop a tol ladder once one run exceeds this many seconds")
    parser.add_argument("--datasets", nargs="+", default=list(_data.DATASETS),
                        choices=list(_data.DATASETS))
    parser.add_argument("--cases", nargs="+", default=["fit10", "fit100", "path"],
                        choices=["fit10", "fit100", "path"])
    parser.add_argument("--quiet", action="store_true", help="no per-tol trace")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (threadpoolctl); 0 = library default. "
                             "Default 1: on a loaded 2-core machine threaded OpenBLAS "
                             "calls stall for a scheduler tick (see README)")
    args = parser.parse_args(argv)
    if args.blas_threads > 0:
        with threadpool_limits(limits=args.blas_threads):
            return _main(args)
    return _main(args)


def _main(args):
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, flush=True))

    print(f"skreg {skreg.__version__}, skglm {skglm.__version__}, "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"python {platform.python_version()}, {os.cpu_count()} cores")
    blas = ", ".join(f"{d['internal_api']}:{d['num_threads']}" for d in threadpool_info()
                     if d["user_api"] == "blas")
    print(f"BLAS threads: {blas}")
    print(f"warm-up (tiny problems, every solver): {warm_up():.2f}s")

    rows, issues = [], []
    t_start = time.perf_counter()
    for name in args.datasets:
        X, y, _ = _data.load(name, quick=args.quick)
        kind = "sparse CSC" if C.is_sparse(X) else "dense"
        print(f"\n== {name}: {kind} X {X.shape[0]} x {X.shape[1]}"
              + (f", nnz {X.nnz}" if C.is_sparse(X) else ""), flush=True)
        am = _data.alpha_max(X, y)
        for case in args.cases:
            if case.startswith("fit"):
                div = int(case[3:])
                label = f"{name} fit alpha_max/{div}"
                print(f"-- {label} (alpha={am / div:.4g}, fit_intercept=True)", flush=True)
                out, _ = run_fit_case(X, y, am / div, args, log, issues, label)
                desc = f"fit a_max/{div}"
            else:
                label = f"{name} path"
                if C.is_sparse(X):
                    Xp, yp = X, y - y.mean()
                else:
                    Xp, yp = np.asfortranarray(X - X.mean(axis=0)), y - y.mean()
                amp = _data.alpha_max(Xp, yp)
                grid = np.geomspace(amp, amp / 100, 100)
                print(f"-- {label} (100 alphas, fit_intercept=False, centred data)",
                      flush=True)
                out, _ = run_path_case(Xp, yp, grid, args, log, issues, label)
                desc = "path 100 alphas"
            rows.append([name, desc]
                        + [f"{C.fmt_time(out[s])} ({out[s]['tol']:.0e})" for s in SOLVERS]
                        + [C.fmt_ratio(out["skreg"], out["skglm"]),
                           C.fmt_ratio(out["skreg"], out["sklearn"])])

    header = ["data", "case", "skreg s (tol)", "skglm s (tol)", "sklearn s (tol)",
              "skreg/skglm", "skreg/sklearn"]
    C.report(f"best of {args.repeats}, seconds; objective within "
             f"{C.REL_TOL:.0e} relative of the certified optimum; * = not matched",
             header, rows, t_start, issues)


if __name__ == "__main__":
    main()
