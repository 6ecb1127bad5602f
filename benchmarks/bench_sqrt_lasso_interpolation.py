"""Square-root Lasso near and at interpolation: what each solver reaches.

On a wide Gaussian design (n = 1000, p = 5000, 20-sparse truth, noise 0.5)
the square-root Lasso's optimum has a tiny residual at alpha_max/10 and a
zero one (the basis-pursuit solution) at small enough alpha. Neither solver
certifies optimality there. As a reference, the basis-pursuit solution
``min ||b||_1 s.t. X_c b = y_c`` (HiGHS interior point, about two minutes
at full size) gives ``alpha ||b_BP||_1``: an upper bound on the optimal
objective at every alpha (zero residual is feasible), equal to it when the
optimum interpolates. This script reports, for
skreg's ``SqrtLasso`` and skglm's ``experimental.SqrtLasso`` at the default
settings of each (``tol=1e-8`` for skglm, whose default stops far earlier),
the time of one fit, whether it warned, its support size, residual norm and
objective ``(1/sqrt(n)) ||y - X b - b0|| + alpha ||b||_1`` recomputed here
(lower is better; the optimum is unknown). skglm minimises the same problem
with ``alpha * sqrt(n)``.

Not a speed comparison at matched precision (neither solver reaches it):
it documents the regime that ``bench_sqrt_lasso.py`` stays out of.

Run ``python benchmarks/bench_sqrt_lasso_interpolation.py`` (about three
minutes; ``--quick``: n = 200, p = 1000).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
from skglm.experimental import SqrtLasso as SkglmSqrtLasso

import skreg


def data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:20] = 1.0
    return X, X @ beta + 0.5 * rng.standard_normal(n)


def basis_pursuit_l1(X, y):
    """``min ||b||_1`` subject to ``X_c b = y_c`` (free intercept), by HiGHS."""
    Xc, yc = X - X.mean(0), y - y.mean()
    p = X.shape[1]
    res = linprog(np.ones(2 * p), A_eq=np.hstack([Xc, -Xc]), b_eq=yc, bounds=(0, None),
                  method="highs-ipm")
    if res.status != 0:
        raise RuntimeError(f"basis pursuit failed: {res.message}")
    b = res.x[:p] - res.x[p:]
    return float(np.abs(b).sum()), float(np.linalg.norm(Xc @ b - yc))


def fit_skreg(X, y, alpha):
    return skreg.SqrtLasso(alpha, fit_intercept=True).fit(X, y)


def fit_skglm(X, y, alpha):
    return SkglmSqrtLasso(alpha * np.sqrt(X.shape[0]), fit_intercept=True, tol=1e-8).fit(X, y)


def run(fit, X, y, alpha):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model = fit(X, y, alpha)
        seconds = time.perf_counter() - t0
    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    intercept = float(np.ravel(model.intercept_)[0]) if np.ndim(model.intercept_) else float(
        model.intercept_)
    resid = y - X @ coef - intercept
    names = sorted({type(w.message).__name__ for w in caught
                    if issubclass(w.category, UserWarning)})
    return {"seconds": seconds, "nnz": int(np.count_nonzero(coef)),
            "resid": float(np.linalg.norm(resid)),
            "obj": C.sqrt_lasso_objective(X, y, coef, intercept, alpha),
            "warned": ", ".join(names) or "no"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, p = (200, 1000) if args.quick else (1000, 5000)
    X, y = data(n, p)
    Xt, yt = data(30, 60, seed=1)
    fit_skreg(Xt, yt, 0.1)  # numba compilation / cache loading, not timed
    fit_skglm(Xt, yt, 0.1)
    alpha_max = skreg.sqrt_lasso_path(X, y, alphas=1, fit_intercept=True)[0][0]
    print(f"n = {n}, p = {p}, alpha_max = {alpha_max:.4g}, ||y - mean(y)|| = "
          f"{np.linalg.norm(y - y.mean()):.3g}")
    t0 = time.perf_counter()
    l1_bp, resid_bp = basis_pursuit_l1(X, y)
    print(f"basis pursuit: ||b||_1 = {l1_bp:.6g}, residual {resid_bp:.1e}, "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    rows = []
    for div in (10, 100):
        alpha = alpha_max / div
        for name, fit in (("skreg", fit_skreg), ("skglm", fit_skglm)):
            r = run(fit, X, y, alpha)
            print(f"  alpha_max/{div} {name}: {r}", flush=True)
            rows.append([f"a_max/{div}", name, f"{r['seconds']:.2f}", r["nnz"],
                         f"{r['resid']:.2e}", f"{r['obj']:.6f}", f"{alpha * l1_bp:.6f}",
                         r["warned"]])
    header = ["alpha", "solver", "seconds", "nnz", "residual norm", "objective",
              "BP bound", "warning"]
    print()
    C.print_tables(header, rows)


if __name__ == "__main__":
    main()
