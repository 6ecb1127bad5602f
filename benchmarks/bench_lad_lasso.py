"""LAD Lasso: skreg.LADLasso against sklearn.linear_model.QuantileRegressor (HiGHS).

Objective::

    (1/n) ||y - X b - b0||_1 + alpha ||b||_1

``QuantileRegressor(quantile=0.5, alpha=alpha/2, solver="highs")`` solves the
same problem (the pinball loss at 0.5 is ``|r|/2``) as a linear program.

Cases:

* "heavy_tailed" data of ``_data.py`` (dense Gaussian ``X``, n = 5000,
  p = 500, Student-t noise, 5% gross outliers), one fit at ``alpha_max/10``
  and at ``alpha_max/100``, ``fit_intercept=True``. ``alpha_max`` is skreg's
  exact value, ``skreg.lad_lasso_path(X, y, alphas=1, fit_intercept=True)[0][0]``.
  QuantileRegressor takes seconds to minutes here, so it is run once per
  case (no best-of). skreg is timed as in the other scripts: best of
  ``--repeats`` runs at the loosest ``tol`` (half-decade ladder) whose
  objective, recomputed here, is within 1e-8 relative of the better of the
  two solvers (HiGHS solves the LP to a vertex). The reference is certified by
  a dual point built here from the coefficients (``_common.lad_dual``).
* "sparse" data (CSC, n = 5000, p = 20000), ``alpha_max/10``: skreg's
  ``time``, ``n_iter_``, ``nnz`` and ``dual_gap_``, and one QuantileRegressor
  run on the sparse ``X``. Both first run once in a subprocess killed after
  ``--sparse-timeout`` (1200) and ``--qr-timeout`` (600) seconds. If skreg's
  run (default ``tol``) finishes within ``--budget``, skreg is then timed in
  this process like in the dense cases, matched against its own tight run.
  Whatever finished is compared on the recomputed objective.

Everything else runs in this process, after a warm-up fit on tiny problems.

Run ``python benchmarks/bench_lad_lasso.py`` (``--quick`` for a smoke run).
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _common as C
import _data
import scipy
import sklearn
from sklearn.linear_model import QuantileRegressor

import skreg

TOLS = C.ladder(1e-3, 1e-13)   # skreg: duality gap relative to the intercept-only objective
REF_TOL = 1e-12
MAX_ITER = 1000                # interior-point iterations per working set (skreg's default)


def fit_skreg(X, y, alpha, tol):
    m = skreg.LADLasso(alpha, fit_intercept=True, tol=tol, max_iter=MAX_ITER).fit(X, y)
    return m.coef_, m.intercept_, {"gap": m.dual_gap_, "n_iter": m.n_iter_}


def fit_qr(X, y, alpha, tol=None):
    m = QuantileRegressor(quantile=0.5, alpha=alpha / 2, fit_intercept=True,
                          solver="highs").fit(X, y)
    return m.coef_, m.intercept_, {"n_iter": getattr(m, "n_iter_", None)}


def scale_of(y):
    """What skreg's ``tol`` is relative to: the intercept-only objective."""
    return float(np.abs(y - np.median(y)).mean())


def lad_alpha_max(X, y):
    return skreg.lad_lasso_path(X, y, alphas=1, fit_intercept=True)[0][0]


def warm_up():
    t0 = time.perf_counter()
    for name, kw in (("heavy_tailed", {"n_samples": 60, "n_features": 20}),
                     ("sparse", {"n_samples": 60, "n_features": 80, "density": 0.1})):
        X, y, _ = {**_data.DATASETS, **_data.EXTRA}[name](**kw)
        a = lad_alpha_max(X, y) / 5
        fit_skreg(X, y, a, 1e-8)
        fit_qr(X, y, a)
    return time.perf_counter() - t0


def certify(X, y, alpha, candidates):
    """Best dual value over ``candidates`` (coef, intercept); ``None`` if none is valid."""
    best = None
    for coef, b0 in candidates:
        d, defect = C.lad_dual(X, y, coef, b0, alpha, True)
        if defect <= 1e-9 and (best is None or d > best):
            best = d
    return best


def check_skreg_runs(label, rec, f_best, scale, issues):
    for tol, f, _, _, info in rec.calls:
        C.check_reported_gap(f"{label} skreg", f, f_best, info["gap"], tol, scale, issues)


def run_dense_case(X, y, alpha, args, log, issues, label):
    rec = C.Recorder(fit_skreg, C.lad_objective, X, y, alpha)
    run = C.timed(rec, REF_TOL)
    f_skreg = run.result[3]
    log(f"  reference skreg tol={REF_TOL:.0e}: {run.seconds:.3f}s f={f_skreg:.15g}")
    for w in run.warnings:
        issues.append(f"{label}: skreg reference run at tol={REF_TOL:.0e}: {w}")

    log("  QuantileRegressor (highs, one run):")
    rec_qr = C.Recorder(fit_qr, C.lad_objective, X, y, alpha)
    qr = C.run_once(rec_qr, None, lambda r: r[3], log=None)
    f_qr = qr["result"][3]
    f_ref = min(f_skreg, f_qr)
    qr["excess"] = (f_qr - f_ref) / abs(f_ref)
    qr["matched"] = qr["excess"] <= C.REL_TOL
    log(f"    one run  {qr['seconds']:8.3f}s  f={f_qr:.15g}  excess={qr['excess']:.2e}"
        + (f"  [{'; '.join(qr['warnings'])}]" if qr["warnings"] else ""))
    for w in qr["warnings"]:
        issues.append(f"{label}: QuantileRegressor: {w}")
    if not qr["matched"]:
        issues.append(f"{label}: QuantileRegressor objective {qr['excess']:.1e} relative "
                      "above skreg's")

    d = certify(X, y, alpha, [run.result[:2], qr["result"][:2]])
    cert = (f_ref - d) / abs(f_ref) if d is not None else np.inf
    log(f"  reference objective {f_ref:.15g}  certified to {cert:.1e} relative")
    if cert > 0.01 * C.REL_TOL:
        issues.append(f"{label}: reference only certified to {cert:.1e}")

    out = C.ladder_all(label, {"skreg": (rec, TOLS)}, f_ref, args, log, issues)
    out["skreg"]["nnz"] = int(np.count_nonzero(out["skreg"]["result"][0]))
    out["qr"] = qr
    out["qr"]["nnz"] = int(np.count_nonzero(qr["result"][0]))

    f_best = min(f_ref, *(c[1] for c in rec.calls))
    if f_best < f_ref - C.REL_TOL * 1e-2 * abs(f_ref):
        issues.append(f"{label}: a ladder run beat the reference by "
                      f"{(f_ref - f_best) / abs(f_ref):.1e} relative")
    check_skreg_runs(label, rec, f_best, scale_of(y), issues)
    return out


# ---------------------------------------------------------------- subprocess runs
CHILD_FLAG = "--child"
CHILD_FIT = {"skreg": lambda X, y, a: fit_skreg(X, y, a, DEFAULT_TOL), "qr": fit_qr}
DEFAULT_TOL = 1e-6   # skreg.LADLasso's default


def child(argv):
    """In a subprocess: one fit of ``solver`` on a named data set; save the result.

    skreg first fits a tiny problem, so compilation is not timed; the clock
    covers the fit alone (not the data generation).
    """
    solver, name, alpha, path, blas = argv[0], argv[1], float(argv[2]), argv[3], int(argv[4])
    quick = len(argv) > 5 and argv[5] == "quick"
    X, y, _ = _data.load(name, quick=quick)

    def go():
        if solver == "skreg":
            Xw, yw, _ = _data.sparse(n_samples=60, n_features=80, density=0.1)
            fit_skreg(Xw, yw, lad_alpha_max(Xw, yw) / 5, 1e-8)
        t0 = time.perf_counter()
        coef, b0, info = CHILD_FIT[solver](X, y, alpha)
        return coef, b0, info, time.perf_counter() - t0

    coef, b0, info, seconds = C.with_blas_threads(blas, go)
    np.savez(path, coef=coef, intercept=b0, seconds=seconds,
             n_iter=-1 if info.get("n_iter") is None else info["n_iter"],
             gap=info.get("gap", np.nan))


def in_subprocess(solver, name, alpha, timeout, args):
    """One fit in a fresh interpreter killed after ``timeout`` seconds.

    Returns a dict with ``timeout`` (bool) and ``wall``; once finished also
    ``seconds`` (the fit alone), ``coef``, ``intercept``, ``n_iter``, ``gap``;
    ``error`` if the child failed.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fit.npz")
        cmd = [sys.executable, os.path.abspath(__file__), CHILD_FLAG, solver, name,
               repr(float(alpha)), path, str(args.blas_threads)]
        cmd += ["quick"] if args.quick else []
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            return {"timeout": True, "wall": time.perf_counter() - t0}
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            return {"timeout": False, "error": proc.stderr.strip().splitlines()[-1:], "wall": wall}
        data = np.load(path)
        return {"timeout": False, "wall": wall, "seconds": float(data["seconds"]),
                    "coef": data["coef"], "intercept": float(data["intercept"]),
                    "n_iter": int(data["n_iter"]), "gap": float(data["gap"]),
                    "warnings": [ln for ln in proc.stderr.splitlines() if "Warning" in ln]}


def describe_child(res, limit):
    if res.get("timeout"):
        return f"killed after {res['wall']:.0f}s (limit {limit:.0f}s)"
    if "error" in res:
        return f"failed: {res['error']}"
    return f"fit {res['seconds']:.2f}s (subprocess wall {res['wall']:.1f}s)"


def run_sparse_case(X, y, alpha, args, log, issues, label, name):
    """skreg alone (plus QuantileRegressor in a subprocess) on sparse ``X``.

    skreg's first run (default ``tol``) is made in a subprocess with a time
    limit, since it can take very long there. If it finishes within
    ``--budget``, skreg is then timed in process as in the dense cases (tight
    reference, ladder, best of ``--repeats``); otherwise that one run is
    reported.
    """
    scale = scale_of(y)
    out = {}
    log(f"  skreg, tol={DEFAULT_TOL:.0e}, one run in a subprocess "
        f"(limit {args.sparse_timeout:.0f}s):")
    first = in_subprocess("skreg", name, alpha, args.sparse_timeout, args)
    log(f"    {describe_child(first, args.sparse_timeout)}")
    if "error" in first:
        issues.append(f"{label}: skreg failed: {first['error']}")
    candidates = []   # (solver, coef, intercept, f)
    if "seconds" in first:
        f = C.lad_objective(X, y, first["coef"], first["intercept"], alpha)
        candidates.append(("skreg", first["coef"], first["intercept"], f))
        first["f"] = f
        for w in first["warnings"]:
            issues.append(f"{label}: skreg (subprocess) {w.strip()[:160]}")
    rec = C.Recorder(fit_skreg, C.lad_objective, X, y, alpha)
    if "seconds" in first and first["seconds"] <= args.budget:
        run = C.timed(rec, REF_TOL)
        f_ref = run.result[3]
        log(f"  reference skreg tol={REF_TOL:.0e}: {run.seconds:.3f}s f={f_ref:.15g}")
        for w in run.warnings:
            issues.append(f"{label}: skreg reference run at tol={REF_TOL:.0e}: {w}")
        candidates.append(("skreg", run.result[0], run.result[1], f_ref))
        out.update(C.ladder_all(label, {"skreg": (rec, TOLS)}, f_ref, args, log, issues))
        out["skreg"]["nnz"] = int(np.count_nonzero(out["skreg"]["result"][0]))
    elif "seconds" in first:
        out["skreg"] = {"matched": None, "tol": DEFAULT_TOL, "seconds": first["seconds"],
                            "n_timed": 1, "nnz": int(np.count_nonzero(first["coef"])),
                            "info": {"n_iter": first["n_iter"], "gap": first["gap"]},
                            "result": (first["coef"], first["intercept"], {}, first["f"])}
    else:
        out["skreg"] = dict(first, tol=DEFAULT_TOL)
        if first.get("timeout"):
            issues.append(f"{label}: skreg LADLasso (tol={DEFAULT_TOL:.0e}) did not finish "
                          f"within {args.sparse_timeout:.0f}s")

    if args.qr_timeout > 0:
        log(f"  QuantileRegressor (highs, sparse X), one run in a subprocess "
            f"(limit {args.qr_timeout:.0f}s):")
        qr = in_subprocess("qr", name, alpha, args.qr_timeout, args)
        log(f"    {describe_child(qr, args.qr_timeout)}")
        if "error" in qr:
            issues.append(f"{label}: QuantileRegressor (sparse) failed: {qr['error']}")
        if "seconds" in qr:
            qr["f"] = C.lad_objective(X, y, qr["coef"], qr["intercept"], alpha)
            qr["nnz"] = int(np.count_nonzero(qr["coef"]))
            candidates.append(("qr", qr["coef"], qr["intercept"], qr["f"]))
        out["qr"] = qr

    # Compare everything that finished against the best objective seen.
    if candidates:
        f_best = min(c[3] for c in candidates + [(None, None, None, c[1]) for c in rec.calls])
        d = certify(X, y, alpha, [(c[1], c[2]) for c in candidates])
        cert = (f_best - d) / abs(f_best) if d is not None else np.inf
        log(f"  best objective {f_best:.15g}, certified to {cert:.1e} relative")
        if cert > 0.01 * C.REL_TOL:
            issues.append(f"{label}: best objective only certified to {cert:.1e}")
        for key in ("skreg", "qr"):
            res = out.get(key)
            if res is None or "result" not in res and "f" not in res:
                continue
            f = res["result"][3] if "result" in res else res["f"]
            res["excess"] = (f - f_best) / abs(f_best)
            log(f"    {key}: excess {res['excess']:.1e}")
            if res["excess"] > C.REL_TOL:
                issues.append(f"{label}: {key} {res['excess']:.1e} relative above the best "
                              "objective")
        check_skreg_runs(label, rec, f_best, scale, issues)
        if "seconds" in first:
            C.check_reported_gap(f"{label} skreg (subprocess)", first["f"], f_best,
                                 first["gap"], DEFAULT_TOL, scale, issues)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == CHILD_FLAG:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems (smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="stop a tol ladder once one run exceeds this many seconds")
    parser.add_argument("--divisors", nargs="+", type=float, default=[10, 100],
                        help="alpha = alpha_max / divisor on the dense data")
    parser.add_argument("--no-sparse", dest="sparse", action="store_false",
                        help="skip the sparse data set")
    parser.add_argument("--qr-timeout", type=float, default=600.0,
                        help="time limit (s) of QuantileRegressor on sparse X; 0 skips it")
    parser.add_argument("--sparse-timeout", type=float, default=1200.0,
                        help="time limit (s) of skreg's first run on sparse X")
    parser.add_argument("--quiet", action="store_true", help="no per-tol trace")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (threadpoolctl); 0 = library default. "
                             "Default 1, as in bench_lasso.py (see README)")
    args = parser.parse_args(argv)
    return C.with_blas_threads(args.blas_threads, _main, args)


def _main(args):
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, flush=True))
    print(f"skreg {skreg.__version__}, scikit-learn {sklearn.__version__}, scipy "
          f"{scipy.__version__}, numpy {np.__version__}; python {platform.python_version()}, "
          f"{os.cpu_count()} cores")
    print(f"BLAS threads: {C.blas_summary()}")
    print(f"warm-up (tiny problems, every solver): {warm_up():.2f}s")

    rows, issues = [], []
    t_start = time.perf_counter()
    name = "heavy_tailed"
    X, y, _ = _data.load(name, quick=args.quick)
    print(f"\n== {name}: dense X {X.shape[0]} x {X.shape[1]}", flush=True)
    am = lad_alpha_max(X, y)
    for div in args.divisors:
        label = f"{name} alpha_max/{div:g}"
        print(f"-- {label} (alpha={am / div:.6g}, QuantileRegressor alpha={am / div / 2:.6g}, "
              "fit_intercept=True)", flush=True)
        out = run_dense_case(X, y, am / div, args, log, issues, label)
        sk, qr = out["skreg"], out["qr"]
        rows.append([name, f"a_max/{div:g}", sk["nnz"], qr["nnz"],
                     f"{C.fmt_time(sk)} ({sk['tol']:.0e})",
                     f"{qr['seconds']:.2f} ({qr['excess']:.0e})",
                     C.fmt_ratio(sk, qr), sk["info"]["n_iter"], f"{sk['info']['gap']:.1e}"])

    sparse_row = None
    if args.sparse:
        name = "sparse"
        X, y, _ = _data.load(name, quick=args.quick)
        print(f"\n== {name}: sparse CSC X {X.shape[0]} x {X.shape[1]}, nnz {X.nnz}", flush=True)
        a = lad_alpha_max(X, y) / 10
        label = f"{name} alpha_max/10"
        print(f"-- {label} (alpha={a:.6g}, fit_intercept=True)", flush=True)
        out = run_sparse_case(X, y, a, args, log, issues, label, name)
        sk, qr = out["skreg"], out.get("qr")
        if "seconds" not in sk:
            sk_cell = (f">{args.sparse_timeout:.0f} (killed)" if sk.get("timeout")
                       else "failed")
            sk_nnz = n_iter = gap = "n/a"
        else:
            if sk["matched"] is None:   # one subprocess run, too slow for the ladder
                sk_cell = f"{sk['seconds']:.1f} (1 run, tol {sk['tol']:.0e})"
            else:
                sk_cell = f"{C.fmt_time(sk)} ({sk['tol']:.0e})"
            sk_nnz, n_iter, gap = sk["nnz"], sk["info"]["n_iter"], f"{sk['info']['gap']:.1e}"
        if qr is None:
            qr_cell, qr_nnz = "not run", "n/a"
        elif qr.get("timeout"):
            qr_cell, qr_nnz = f">{args.qr_timeout:.0f} (killed)", "n/a"
        elif "error" in qr:
            qr_cell, qr_nnz = "failed", "n/a"
        else:
            qr_cell, qr_nnz = f"{qr['seconds']:.2f} ({qr.get('excess', np.nan):.0e})", qr["nnz"]
        sk_s, qr_s = sk.get("seconds"), (qr or {}).get("seconds")
        if sk_s is not None and qr_s is not None:
            ratio = f"{sk_s / qr_s:.4f}"
        elif sk_s is not None and (qr or {}).get("timeout"):
            ratio = f"<{sk_s / args.qr_timeout:.4f}"
        elif qr_s is not None and sk.get("timeout"):
            ratio = f">{args.sparse_timeout / qr_s:.2f}"
        else:
            ratio = "n/a"
        sparse_row = [name, "a_max/10", sk_nnz, qr_nnz, sk_cell, qr_cell, ratio, n_iter, gap]
        rows.append(sparse_row)

    header = ["data", "alpha", "skreg nnz", "QR nnz", "skreg s (tol)", "QR s (excess)",
              "skreg/QR", "skreg n_iter_", "skreg dual_gap_"]
    C.report(f"skreg: best of {args.repeats}, seconds, objective within "
             f"{C.REL_TOL:.0e} relative of the better solver, * = not matched; "
             "QR = QuantileRegressor(solver='highs'): one run, its relative excess in brackets",
             header, rows, t_start, issues)


if __name__ == "__main__":
    main()
