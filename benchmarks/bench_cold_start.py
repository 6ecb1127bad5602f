"""Cold start: import time and import + first fit, each in a fresh interpreter.

Measured in fresh subprocesses (``subprocess.run([sys.executable, "-c", ...])``),
median of ``--runs`` (5) runs each:

(a) ``import skreg`` against ``import sklearn.linear_model`` (and, for
    information, ``import skglm``): time of the import statement alone, timed
    inside the subprocess, plus the subprocess wall time;
(b) import + first fit of ``skreg.WeightedLasso`` against import + first fit of
    ``skglm.Lasso`` (and, for information, ``sklearn.linear_model.Lasso``) on
    a small problem, dense and sparse. The data are built with numpy/scipy
    before the clock starts; the clock covers ``import`` + ``fit``. Every
    snippet is run once untimed first, so numba's on-disk cache is warm
    (what a user sees from the second session on);
(c) with ``--cold-cache``, one run of (b) with an empty numba cache
    (``NUMBA_CACHE_DIR`` set to a new temporary directory): the first fit
    after installation, compilation included;
(d) the floor: ``import sklearn.base`` alone in the same setting (numpy and
    scipy.sparse already imported), which any scikit-learn estimator pays
    before its own code runs, as a ratio of skglm's import + first fit;
(e) where the import time goes: ``python -X importtime`` for ``import skreg``
    and ``import sklearn.linear_model``, summing the self time of the
    modules only one of them loads (one run each; the shared modules, most
    of both imports, vary by more than the difference between runs).

skreg's bytecode is compiled first (``compileall``), as an installation
does for scikit-learn and skglm: with ``PYTHONDONTWRITEBYTECODE`` set (this
machine sets it) an editable checkout would otherwise recompile every
skreg module in every fresh interpreter.

Target: skreg's import + first fit at most 0.1x skglm's. The floor row shows
the part of that ratio no scikit-learn-compatible estimator can avoid.

Run ``python benchmarks/bench_cold_start.py`` (``--quick``: 1 run per snippet, no (c);
``--cold-cache`` adds (c)).
"""

import argparse
import compileall
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _common as C

IMPORT_SNIPPET = """
import time
t0 = time.perf_counter()
import {module}
t1 = time.perf_counter()
print({{"import": t1 - t0, "total": t1 - t0}})
"""

# Small problems: dense 200 x 500 and sparse CSC 500 x 2000 (density 1%),
# alpha = alpha_max / 10, default tolerances.
DATA = """
import time
import numpy as np
import scipy.sparse as sp
rng = np.random.default_rng(0)
if {sparse}:
    X = sp.random(500, 2000, density=0.01, format="csc", random_state=rng,
                  data_rvs=rng.standard_normal)
else:
    X = np.asfortranarray(rng.standard_normal((200, 500)))
beta = np.zeros(X.shape[1]); beta[:10] = 1.0
y = np.asarray(X @ beta).ravel() + 0.5 * rng.standard_normal(X.shape[0])
alpha = float(np.max(np.abs(X.T @ (y - y.mean())))) / X.shape[0] / 10
"""

FIT_SNIPPETS = {
    "skreg": "import skreg\nt1 = time.perf_counter()\nm = skreg.WeightedLasso(alpha).fit(X, y)",
    "skglm": "import skglm\nt1 = time.perf_counter()\nm = skglm.Lasso(alpha).fit(X, y)",
    "sklearn": ("import sklearn.linear_model\nt1 = time.perf_counter()\n"
                "m = sklearn.linear_model.Lasso(alpha).fit(X, y)"),
}

# What any scikit-learn estimator costs before its own code runs: subclassing
# sklearn.base.BaseEstimator imports sklearn.base, which imports scipy.stats and,
# when it is installed, pandas (sklearn.utils.fixes).
FLOOR_SNIPPET = DATA + """
import sys
t0 = time.perf_counter()
import sklearn.base
t1 = time.perf_counter()
print({{"import": t1 - t0, "fit": 0.0, "total": t1 - t0,
        "pandas": float("pandas" in sys.modules)}})
"""

FIT_TEMPLATE = DATA + """
t0 = time.perf_counter()
{body}
t2 = time.perf_counter()
assert np.isfinite(m.coef_).all()
print({{"import": t1 - t0, "fit": t2 - t1, "total": t2 - t0}})
"""


def run_snippet(code, env=None):
    """Run ``code`` in a fresh interpreter; return its timing dict and wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=HERE, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"snippet failed:\n{code}\n{proc.stderr}")
    last = proc.stdout.strip().splitlines()[-1]
    out = json.loads(last.replace("'", '"'))
    out["wall"] = wall
    return out


def import_self_times(module):
    """Self time (seconds) of every module ``import module`` loads (``-X importtime``)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          capture_output=True, text=True, cwd=HERE, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    times = {}
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        try:
            times[parts[2].strip()] = int(parts[0].split(":")[1]) / 1e6
        except ValueError:  # the header line
            continue
    return times


def measure(code, runs, env=None, warm=True):
    """Median over ``runs`` fresh interpreters (after one untimed run)."""
    if warm:
        run_snippet(code, env)
    results = [run_snippet(code, env) for _ in range(runs)]
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    med["spread"] = (min(r["total"] for r in results), max(r["total"] for r in results))
    return med, results


def spread(med):
    lo, hi = med["spread"]
    return f"[{lo:.3f}-{hi:.3f}]"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per snippet (median)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 run per snippet, no cold-cache row")
    parser.add_argument("--cold-cache", action="store_true",
                        help="also time one first fit with an empty numba cache")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    package = os.path.dirname(importlib.util.find_spec("skreg").origin)
    compileall.compile_dir(package, quiet=1)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {runs} "
          "fresh interpreters per row (seconds)")

    rows = []

    # (a) import time
    imports = {}
    for module in ("skreg", "sklearn.linear_model", "skglm"):
        med, _ = measure(IMPORT_SNIPPET.format(module=module), runs)
        imports[module] = med
        print(f"  import {module:22s} import {med['import']:.3f}s {spread(med)}  "
              f"wall {med['wall']:.3f}s", flush=True)
    r = imports["skreg"]["import"] / imports["sklearn.linear_model"]["import"]
    rows.append(["import", "skreg vs sklearn.linear_model",
                 f"{imports['skreg']['import']:.3f}",
                 f"{imports['sklearn.linear_model']['import']:.3f}", f"{r:.2f}",
                 f"skglm {imports['skglm']['import']:.3f}"])

    # (e) import breakdown: the modules only one of the two imports loads
    ours, theirs = import_self_times("skreg"), import_self_times("sklearn.linear_model")
    only_ours = sum(v for k, v in ours.items() if k not in theirs)
    only_theirs = sum(v for k, v in theirs.items() if k not in ours)
    print(f"  -X importtime: skreg {sum(ours.values()):.3f}s, sklearn.linear_model "
          f"{sum(theirs.values()):.3f}s; modules only skreg loads {only_ours:.3f}s, only "
          f"sklearn.linear_model loads {only_theirs:.3f}s", flush=True)
    rows.append(["import breakdown (-X importtime)", "modules only skreg loads vs only "
                 "sklearn.linear_model loads", f"{only_ours:.3f}", f"{only_theirs:.3f}", "",
                 f"totals: skreg {sum(ours.values()):.3f}, sklearn.linear_model "
                 f"{sum(theirs.values()):.3f}"])

    # (b) import + first fit, numba cache warm
    for sparse in (False, True):
        kind = "sparse" if sparse else "dense"
        fits = {}
        for lib, body in FIT_SNIPPETS.items():
            code = FIT_TEMPLATE.format(sparse=sparse, body=body)
            med, _ = measure(code, runs)
            fits[lib] = med
            print(f"  {kind:6s} {lib:8s} import {med['import']:.3f}s  first fit "
                  f"{med['fit']:.3f}s  import+fit {med['total']:.3f}s {spread(med)}  wall "
                  f"{med['wall']:.3f}s", flush=True)
        floor, _ = measure(FLOOR_SNIPPET.format(sparse=sparse), runs)
        print(f"  {kind:6s} floor: import sklearn.base {floor['total']:.3f}s {spread(floor)}"
              f" (pandas imported: {bool(floor['pandas'])})", flush=True)
        r = fits["skreg"]["total"] / fits["skglm"]["total"]
        rows.append([f"floor ({kind})", "import sklearn.base vs skglm import + first fit",
                     f"{floor['total']:.3f}", f"{fits['skglm']['total']:.3f}",
                     f"{floor['total'] / fits['skglm']['total']:.2f}",
                     ("paid by every scikit-learn estimator; pandas imported: "
                      f"{'yes' if floor['pandas'] else 'no'}")])
        rows.append([f"import + first fit ({kind})", "skreg vs skglm (warm numba cache)",
                     f"{fits['skreg']['total']:.3f}", f"{fits['skglm']['total']:.3f}",
                     f"{r:.2f}",
                     (f"fit only: skreg {fits['skreg']['fit']:.3f}, skglm "
                      f"{fits['skglm']['fit']:.3f}; sklearn import+fit "
                      f"{fits['sklearn']['total']:.3f}")])

    # (c) empty numba cache: first fit after installation
    if args.cold_cache and not args.quick:
        for sparse in (False, True):
            kind = "sparse" if sparse else "dense"
            cold = {}
            for lib in ("skreg", "skglm"):
                with tempfile.TemporaryDirectory() as cache:
                    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
                    code = FIT_TEMPLATE.format(sparse=sparse, body=FIT_SNIPPETS[lib])
                    cold[lib] = run_snippet(code, env)
                print(f"  empty cache {kind:6s} {lib:8s} import+fit "
                      f"{cold[lib]['total']:.3f}s", flush=True)
            r = cold["skreg"]["total"] / cold["skglm"]["total"]
            rows.append([f"import + first fit ({kind}), empty cache", "skreg vs skglm (1 run)",
                         f"{cold['skreg']['total']:.3f}", f"{cold['skglm']['total']:.3f}",
                         f"{r:.2f}", "includes numba compilation"])

    header = ["measure", "compared", "ours s", "anchor s", "ours/anchor", "notes"]
    print()
    C.print_tables(header, rows)


if __name__ == "__main__":
    main()
