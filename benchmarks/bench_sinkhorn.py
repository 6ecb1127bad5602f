"""Entropic OT: ``skreg.ot.sinkhorn`` against POT's ``ot.sinkhorn`` and ``regot``.

Problem: point clouds ``X ~ N(0, I)``, ``Y ~ N(0.5, I)`` with n = m = 2000
points in 2-D and in 10-D, squared Euclidean cost divided by its maximum
(so in [0, 1]), uniform weights. Cases:

* ``reg = 1e-2``: skreg's default (``method="scaling"``, over-relaxed), the
  same without over-relaxation (plain Sinkhorn iterations, like POT's) and
  ``method="log"`` against POT's ``method="sinkhorn"`` (plain scaling, its
  fastest there) and ``method="sinkhorn_log"``;
* ``reg = 1e-3``: skreg's ``method="sns"`` (and its default) against POT's
  ``"sinkhorn"``, ``"sinkhorn_stabilized"`` and ``"sinkhorn_log"`` and
  regot's C++ ``sinkhorn_ssns``;
* the random assignment problem of Tang et al. (2024) (n = 500, uniform
  [0, 1] costs, reg = 1/1200): iteration counts of ``"sns"`` and ``"log"``.

Matched precision: every run is judged by the l1 marginal error
``||P 1 - a||_1 + ||P^T 1 - b||_1`` of the plan it returns, computed here; it
must be at most 1e-9. skreg's ``tol`` is that quantity. POT stops on the l2
norm of the column error and regot on its own gradient norm, so their
tolerance walks down a ladder (1e-10, 3e-11, ...) until the plan meets 1e-9.
Anchor runs are capped at ``--budget`` seconds through their iteration limit
(estimated from a short run); a capped run is reported as ``>time``.

Every solver runs in this process after a warm-up on a tiny problem (numba
compilation and cache loading are not timed). Times are the best of
``--repeats`` runs (one for runs longer than 30 s, five for runs shorter
than 2 s, the noisiest on a shared machine; the same rule for every
solver). The machine is shared:
timings are noisy, ratios within a run are more reliable than absolute times.

Run ``python benchmarks/bench_sinkhorn.py`` (``--quick``: n = 500, one
repeat, a short budget).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import ot
import regot

from skreg.ot import sinkhorn

TARGET = 1e-9
LADDER = [1e-10, 3e-11, 1e-11, 3e-12, 1e-12, 3e-13, 1e-13]


def point_clouds(n, dim, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim))
    Y = rng.normal(size=(n, dim)) + 0.5
    M = ((X**2).sum(1)[:, None] + (Y**2).sum(1)[None, :] - 2 * X @ Y.T).clip(min=0)
    M /= M.max()
    return np.full(n, 1 / n), np.full(n, 1 / n), M


def random_assignment(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.full(n, 1 / n), np.full(n, 1 / n), rng.uniform(size=(n, n))


def l1_error(P, a, b):
    if not np.all(np.isfinite(P)):
        return np.inf
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


# ---------------------------------------------------------------- solvers
def run_skreg(method, **options):
    def run(a, b, M, reg, tol, max_iter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sinkhorn(a, b, M, reg, method=method, tol=TARGET, max_iter=max_iter,
                           **options)
        return res.plan, res.n_iter
    return run


def run_pot(method):
    def run(a, b, M, reg, tol, max_iter):
        P, log = ot.sinkhorn(a, b, M, reg, method=method, stopThr=tol,
                             numItermax=max_iter, log=True)
        return P, log.get("niter", log.get("n_iter"))
    return run


def run_regot(a, b, M, reg, tol, max_iter):
    res = regot.sinkhorn_ssns(np.asfortranarray(M), a, b, reg, tol=tol, max_iter=max_iter)
    return res.plan, res.niter


def measure(name, fn, a, b, M, reg, args, log, ladder=True):
    """Loosest tolerance of the ladder that meets the target; best-of time."""
    # Iteration cap from a short run, so that one run stays within budget.
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(a, b, M, reg, 1e-300, 10)
    per_iter = (time.perf_counter() - t0) / 10
    max_iter = max(20, int(args.budget / per_iter))
    tols = LADDER if ladder else [TARGET]
    trace = []
    for tol in tols:
        run = C.timed(fn, a, b, M, reg, tol, max_iter)
        P, n_iter = run.result
        err = l1_error(P, a, b)
        trace.append((tol, run.seconds, err))
        log(f"    {name}: tol={tol:.0e} {run.seconds:8.3f}s n_iter={n_iter} l1={err:.2e}")
        if err <= TARGET:
            best = run.seconds
            # Short runs are the noisiest on a shared machine: best of 5.
            repeats = max(args.repeats, 5) if best < 2 else args.repeats if best < 30 else 1
            for _ in range(repeats - 1):
                best = min(best, C.timed(fn, a, b, M, reg, tol, max_iter).seconds)
            return {"name": name, "matched": True, "seconds": best, "n_iter": n_iter, "err": err,
                        "tol": tol, "warnings": run.warnings}
        # A tighter tolerance cannot help a run stopped by its iteration cap.
        if n_iter is not None and n_iter >= max_iter - 10 or not np.isfinite(err):
            break
    return {"name": name, "matched": False, "seconds": run.seconds, "n_iter": n_iter, "err": err,
                "tol": tol, "warnings": run.warnings}


def fmt(res):
    if res is None:
        return "n/a"
    if res["matched"]:
        return f"{res['seconds']:.2f}"
    return f">{res['seconds']:.1f} (l1 {res['err']:.0e})"


def ratio(anchor, ours):
    """``anchor / ours``: how many times faster skreg is (a lower bound if capped)."""
    if anchor is None or ours is None or not ours["matched"]:
        return "n/a"
    r = anchor["seconds"] / ours["seconds"]
    return f"{r:.1f}x" if anchor["matched"] else f">{r:.1f}x"


def warm_up():
    a, b, M = point_clouds(20, 2, seed=1)
    for method in ("scaling", "log", "sns"):
        sinkhorn(a, b, M, 1e-2, method=method)


def sns_2d_runs(n, args, log):
    """The 2-D ``sns`` row alone, ``args.sns_2d_runs`` times: how much it varies."""
    a, b, M = point_clouds(n, 2)
    ratios = []
    for k in range(args.sns_2d_runs):
        sns = measure("skreg sns", run_skreg("sns"), a, b, M, 1e-3, args, log, False)
        pot = measure("POT sinkhorn", run_pot("sinkhorn"), a, b, M, 1e-3, args, log)
        ratios.append(pot["seconds"] / sns["seconds"])
        log(f"run {k + 1}: sns {sns['seconds']:.3f} s, POT sinkhorn {pot['seconds']:.3f} s, "
            f"{ratio(pot, sns)}")
    log(f"POT / sns over {len(ratios)} runs: " + ", ".join(f"{r:.1f}x" for r in ratios))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--budget", type=float, default=None,
                        help="cap (seconds) on one anchor run")
    parser.add_argument("--skip-regot", action="store_true")
    parser.add_argument("--skip-paper", action="store_true")
    parser.add_argument("--sns-2d-runs", type=int, default=0, metavar="K",
                        help="only time 2-D sns against POT sinkhorn at reg 1e-3, K times")
    args = parser.parse_args()
    n = args.n or (500 if args.quick else 2000)
    args.repeats = args.repeats or (1 if args.quick else 2)
    args.budget = args.budget or (20.0 if args.quick else 150.0)

    def log(msg):
        print(msg, flush=True)

    log(f"n = {n}, repeats = {args.repeats}, anchor budget = {args.budget:.0f}s, "
        f"POT {ot.__version__}, BLAS {C.blas_summary()}")
    warm_up()
    if args.sns_2d_runs:
        sns_2d_runs(n, args, log)
        return
    rows = []
    for dim in (2, 10):
        a, b, M = point_clouds(n, dim)
        log(f"\n{dim}-D, reg = 1e-2")
        sk = measure("skreg default", run_skreg("scaling"), a, b, M, 1e-2, args, log, False)
        sk_plain = measure("skreg scaling, plain", run_skreg("scaling", acceleration=False),
                           a, b, M, 1e-2, args, log, False)
        sk_log = measure("skreg log", run_skreg("log"), a, b, M, 1e-2, args, log, False)
        pot = measure("POT sinkhorn", run_pot("sinkhorn"), a, b, M, 1e-2, args, log)
        pot_log = measure("POT sinkhorn_log", run_pot("sinkhorn_log"), a, b, M, 1e-2,
                          args, log)
        rows.append((f"{dim}-D", "1e-2", "default (scaling)", fmt(sk), sk["n_iter"],
                     "POT sinkhorn", fmt(pot), pot["n_iter"], ratio(pot, sk), ">= 1x"))
        rows.append((f"{dim}-D", "1e-2", "scaling, acceleration=False", fmt(sk_plain),
                     sk_plain["n_iter"], "POT sinkhorn", fmt(pot), pot["n_iter"],
                     ratio(pot, sk_plain), ""))
        rows.append((f"{dim}-D", "1e-2", "log", fmt(sk_log), sk_log["n_iter"],
                     "POT sinkhorn_log", fmt(pot_log), pot_log["n_iter"],
                     ratio(pot_log, sk_log), ">= 3x"))

        log(f"\n{dim}-D, reg = 1e-3")
        sns = measure("skreg sns", run_skreg("sns"), a, b, M, 1e-3, args, log, False)
        sk = measure("skreg default", run_skreg("scaling"), a, b, M, 1e-3, args, log, False)
        anchors = [measure(f"POT {m}", run_pot(m), a, b, M, 1e-3, args, log)
                   for m in ("sinkhorn", "sinkhorn_stabilized", "sinkhorn_log")]
        matched = [r for r in anchors if r["matched"]]
        fastest = min(matched or anchors, key=lambda r: r["seconds"])
        rows.append((f"{dim}-D", "1e-3", "sns", fmt(sns), sns["n_iter"],
                     fastest["name"] + " (fastest POT)", fmt(fastest), fastest["n_iter"],
                     ratio(fastest, sns), ">= 10x"))
        for r in anchors:
            if r is not fastest:
                rows.append((f"{dim}-D", "1e-3", "sns", fmt(sns), sns["n_iter"], r["name"],
                             fmt(r), r["n_iter"], ratio(r, sns), ""))
        rows.append((f"{dim}-D", "1e-3", "default (scaling)", fmt(sk), sk["n_iter"],
                     fastest["name"], fmt(fastest), fastest["n_iter"], ratio(fastest, sk),
                     ""))
        if not args.skip_regot:
            rg = measure("regot sinkhorn_ssns", run_regot, a, b, M, 1e-3, args, log)
            rows.append((f"{dim}-D", "1e-3", "sns", fmt(sns), sns["n_iter"],
                         "regot sinkhorn_ssns", fmt(rg), rg["n_iter"], ratio(rg, sns),
                         "> 1x"))

    header = ("data", "reg", "skreg method", "skreg s", "iters", "anchor", "anchor s",
              "iters", "speed-up", "target")
    print()
    C.print_table(header, rows)

    if not args.skip_paper:
        a, b, M = random_assignment(500)
        log("\nRandom assignment, n = 500, reg = 1/1200 (l1 marginal error 1e-9)")
        counts = []
        for method in ("sns", "log"):
            t0 = time.perf_counter()
            res = sinkhorn(a, b, M, 1 / 1200, method=method, tol=TARGET, max_iter=10**6)
            counts.append((method, res.n_iter, res.info.get("n_sinkhorn", res.n_iter),
                           res.info.get("n_newton", 0), f"{time.perf_counter() - t0:.2f}",
                           f"{res.marginal_error:.1e}"))
        counts.append(("paper: SNS", 29, 20, 9, "", ""))
        counts.append(("paper: Sinkhorn", 56199, 56199, 0, "", ""))
        C.print_table(("solver", "iterations", "Sinkhorn", "Newton", "seconds", "l1 error"),
                      counts)


if __name__ == "__main__":
    main()
