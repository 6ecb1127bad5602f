"""Conformal risk control: skreg's exact calibration against MAPIE's multilabel controller.

Task: multilabel false-negative-rate control (MAPIE's "recall" risk with
method "crc") at alpha = 0.1, on n calibration points with K = 10 labels.
The model's probabilities are simulated once (a logistic model with labels
drawn from it), so only the calibration step is timed:

* ``skreg exact``: :func:`skreg.conformal.conformal_risk_control_exact` with
  ``loss="fnr"``: the threshold over *every* breakpoint (the scores
  ``1 - p_k`` of the true labels), by sorting, O(N log N) in the number N of
  breakpoints;
* ``skreg grid``: :func:`skreg.conformal.conformal_risk_control` on the loss
  table of MAPIE's default grid of 100 thresholds (same rule, gridded);
* ``MAPIE``: ``MultiLabelClassificationController(predict_function=identity,
  risk="recall", method="crc").calibrate(P, Y)`` with its default grid
  ``np.arange(0, 1, 0.01)``; its ``predict_function`` receives the
  probabilities as ``X``.

The script checks that MAPIE's gridded threshold ``t`` (sets ``p > t``) is
the grid point just below skreg's exact threshold ``1 - lambda_hat`` (sets
``p >= 1 - lambda_hat``), i.e. that both solve the same problem.

A second table shows the O(N log N) scaling of the exact calibration for
regression miscoverage (N = n scores) and multilabel FNR (N = number of true
labels), at n = 1,000 / 10,000 / 100,000.

Times are the minimum over ``--repeats`` runs in this process (MAPIE: one
run when it takes over 10 s). The machine is shared (2 cores, several jobs),
so timings are noisy; minima are the most stable statistic.

Run ``python benchmarks/bench_conformal.py`` (``--quick`` for a smoke run).
"""

import argparse
import functools
import platform
import sys
import time
import warnings

import numpy as np

import skreg
from skreg.conformal import (
    conformal_risk_control,
    conformal_risk_control_exact,
)

ALPHA = 0.1
N_LABELS = 10
MAPIE_GRID = np.arange(0, 1, 0.01)


def multilabel_task(n, seed=0):
    """Probabilities of a logistic model and labels drawn from them (>= 1 per row)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 5)) @ rng.normal(size=(5, N_LABELS)) - 1.0
    P = 1 / (1 + np.exp(-logits))
    Y = rng.uniform(size=P.shape) < P
    empty = ~Y.any(axis=1)
    Y[empty, np.argmax(P[empty], axis=1)] = True
    return P, Y


def identity(P):
    return P


def best_of(fn, repeats, budget=10.0):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > budget:
            break
    return min(times), result


def skreg_exact(P, Y):
    return conformal_risk_control_exact(1 - P, ALPHA, loss="fnr", Y=Y, lambda_max=1.0)


def skreg_grid(P, Y):
    """Same rule on MAPIE's grid: sets {p > t}, lambda = -t to be non-increasing."""
    grid = MAPIE_GRID[::-1]
    table = np.empty((P.shape[0], grid.size))
    size = Y.sum(axis=1)
    for j, t in enumerate(grid):
        table[:, j] = ((P <= t) & Y).sum(axis=1) / size
    return -conformal_risk_control(table, -grid, ALPHA)


def mapie_crc(P, Y):
    from mapie.risk_control import MultiLabelClassificationController
    ctrl = MultiLabelClassificationController(
        predict_function=identity, risk="recall", method="crc", target_level=1 - ALPHA)
    ctrl.calibrate(P, Y.astype(int))
    return float(ctrl.best_predict_param[0])


def fmt(seconds):
    return "n/a" if seconds is None else f"{seconds:.4f}"


def print_table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def markdown(header, rows):
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def versus_mapie(sizes, mapie_max, repeats, issues):
    header = ["n", "breakpoints N", "skreg exact s", "skreg grid s", "MAPIE s",
              "MAPIE/skreg exact", "1 - lambda_hat (exact)", "MAPIE t", "same problem"]
    rows = []
    skreg_exact(*multilabel_task(50))  # warm-up (imports, caches)
    for n in sizes:
        P, Y = multilabel_task(n)
        t_exact, lam = best_of(functools.partial(skreg_exact, P, Y), repeats)
        t_grid, t_grid_hat = best_of(functools.partial(skreg_grid, P, Y), repeats)
        t_mapie = t_hat = None
        if n <= mapie_max:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_mapie, t_hat = best_of(functools.partial(mapie_crc, P, Y), repeats)
        tau = 1 - lam
        same = "n/a"
        if t_hat is not None:
            ok = (tau - 0.01 - 1e-12 <= t_hat < tau) and np.isclose(t_hat, t_grid_hat)
            same = "yes" if ok else "NO"
            if not ok:
                issues.append(f"n={n}: MAPIE t={t_hat} is not the grid point below "
                              f"1 - lambda_hat={tau} (skreg grid: {t_grid_hat})")
        ratio = f"{t_mapie / t_exact:.0f}x" if t_mapie else "n/a"
        rows.append([n, int(Y.sum()), fmt(t_exact), fmt(t_grid), fmt(t_mapie), ratio,
                     f"{tau:.5f}", "n/a" if t_hat is None else f"{t_hat:.2f}", same])
    return header, rows


def scaling(sizes, repeats):
    header = ["task", "n", "breakpoints N", "seconds", "ns per N log2 N"]
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        scores = np.abs(rng.standard_t(4, size=n))
        t, _ = best_of(functools.partial(conformal_risk_control_exact, scores, ALPHA), repeats)
        rows.append(["regression miscoverage", n, n, f"{t:.5f}",
                     f"{1e9 * t / (n * np.log2(n)):.1f}"])
    for n in sizes:
        P, Y = multilabel_task(n, seed=1)
        N = int(Y.sum())
        t, _ = best_of(functools.partial(skreg_exact, P, Y), repeats)
        rows.append(["multilabel FNR (K=10)", n, N, f"{t:.5f}",
                     f"{1e9 * t / (N * np.log2(N)):.1f}"])
    return header, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mapie-max", type=int, default=10_000,
                        help="largest n at which MAPIE is run (its cost is ~n x 100 "
                             "Python-level loss evaluations)")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    if args.quick:
        args.mapie_max = min(args.mapie_max, 1_000)
        args.repeats = min(args.repeats, 2)

    import mapie
    print(f"skreg {skreg.__version__}, mapie {mapie.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()} on {platform.machine()}")
    print(f"alpha={ALPHA}, K={N_LABELS} labels, min of {args.repeats} runs "
          "(shared machine: noisy timings)\n")
    issues = []
    header, rows = versus_mapie(sizes, args.mapie_max, args.repeats, issues)
    print("Multilabel FNR control, calibration time")
    print_table(header, rows)
    print()
    header2, rows2 = scaling(sizes, args.repeats)
    print("Exact calibration: O(N log N) in the number of breakpoints")
    print_table(header2, rows2)
    print("\nMarkdown:\n")
    print(markdown(header, rows))
    print()
    print(markdown(header2, rows2))
    if issues:
        print("\nISSUES:")
        for msg in issues:
            print("  " + msg)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
