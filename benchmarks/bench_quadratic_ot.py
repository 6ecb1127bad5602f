"""Quadratically regularised OT: skreg.ot.quadratic_ot against POT's smooth_ot_dual.

Objective (both libraries, POT's ``SquaredL2`` regulariser is
``0.5 * gamma * ||T||^2``)::

    min_P <M, P> + (reg / 2) ||P||_F^2   s.t.  P >= 0, P 1 = a, P^T 1 = b

Data: point clouds with n = m (2000; ``--quick``: 300) in 2-D and 10-D,
source uniform on [0, 1]^d, target uniform on [0.3, 1.3]^d (seed 0), uniform
weights, squared Euclidean cost divided by its maximum (so in [0, 1]).

Matched accuracy. POT's ``smooth_ot_dual`` runs scipy's L-BFGS-B on the dual
(asked for ``stopThr=1e-14``, ``numItermax=10000``); it stops when the dual
stops decreasing in floating point, at an l1 marginal error
``||P 1 - a||_1 + ||P^T 1 - b||_1`` of about 1e-5 .. 1e-7, never near the
1e-9 of the issue. skreg is therefore timed twice: with ``tol`` equal to the
marginal error POT reached (the same accuracy: the ratio column), and at
``tol=1e-9``. The regularised objectives of all runs are printed; skreg's at
1e-9 is the reference.

Same process; numba compilation is excluded by a warm-up on a small problem.
Times are the best of ``--repeats`` runs (POT: ``--pot-repeats``, default 1
for the full run since one run takes about a minute). The machine is shared
with other jobs, so times are noisy; the minimum over repeats is reported.

Run ``python benchmarks/bench_quadratic_ot.py`` (``--quick`` for a small run).
"""

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import numba
import ot

from skreg.ot import quadratic_ot


def clouds(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    Y = rng.random((n, d)) + 0.3
    M = ot.dist(X, Y)
    return np.full(n, 1.0 / n), np.full(n, 1.0 / n), M / M.max()


def marginal_error(P, a, b):
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def objective(P, M, reg):
    return float(np.sum(M * P) + 0.5 * reg * np.sum(P * P))


def best_of(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    return min(times), result


def run_case(d, reg, n, args):
    a, b, M = clouds(n, d)
    t_pot, P_pot = best_of(lambda: ot.smooth.smooth_ot_dual(
        a, b, M, reg, reg_type="l2", stopThr=1e-14, numItermax=10_000), args.pot_repeats)
    err_pot = marginal_error(P_pot, a, b)
    t_same, res_same = best_of(lambda: quadratic_ot(a, b, M, reg, tol=err_pot),
                               args.repeats)
    t_tight, res_tight = best_of(lambda: quadratic_ot(a, b, M, reg, tol=1e-9),
                                 args.repeats)
    f_ref = res_tight.value
    row = {
        "case": f"{d}-D, reg={reg:g}", "nnz": np.count_nonzero(res_tight.plan) / n,
        "pot": t_pot, "err_pot": err_pot, "exc_pot": (objective(P_pot, M, reg) - f_ref) / f_ref,
        "same": t_same, "err_same": res_same.marginal_error,
        "exc_same": (res_same.value - f_ref) / f_ref,
        "tight": t_tight, "err_tight": res_tight.marginal_error, "it_tight": res_tight.n_iter,
        "stages": res_tight.info["n_stages"]}
    print(f"  {row['case']}: POT {t_pot:.2f}s (err {err_pot:.1e}), skreg same-accuracy "
          f"{t_same:.3f}s (err {res_same.marginal_error:.1e}, {res_same.n_iter} Newton), "
          f"skreg 1e-9 {t_tight:.3f}s ({res_tight.n_iter} Newton, "
          f"{res_tight.info['n_stages']} stage(s))", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pot-repeats", type=int, default=None)
    parser.add_argument("--regs", type=float, nargs="+", default=[1.0, 10.0])
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    if args.pot_repeats is None:
        args.pot_repeats = 3 if args.quick else 1
    print(f"python {platform.python_version()}, numpy {np.__version__}, POT {ot.__version__}, "
          f"numba threads {numba.get_num_threads()}, BLAS {C.blas_summary()}")
    print(f"n = m = {n}; warm-up ...", flush=True)
    a, b, M = clouds(60, 2)
    quadratic_ot(a, b, M, 1.0)
    quadratic_ot(*clouds(700, 2), 1.0)   # also compiles the parallel kernels
    rows = [run_case(d, reg, n, args) for d in (2, 10) for reg in args.regs]
    header = ["case", "nnz/row", "POT smooth_ot_dual (s)", "POT marg. err",
              "skreg same acc. (s)", "skreg err", "ratio POT/skreg", "target >= 3x",
              "skreg tol=1e-9 (s)", "Newton it. (stages)", "POT obj. excess"]
    table = [[r["case"], f"{r['nnz']:.1f}", f"{r['pot']:.2f}", f"{r['err_pot']:.1e}",
              f"{r['same']:.3f}", f"{r['err_same']:.1e}", f"{r['pot'] / r['same']:.0f}x",
              "met" if r["pot"] / r["same"] >= 3 else "NOT met", f"{r['tight']:.3f}",
              f"{r['it_tight']} ({r['stages']})", f"{r['exc_pot']:.1e}"] for r in rows]
    print()
    C.print_tables(header, table)


if __name__ == "__main__":
    main()
