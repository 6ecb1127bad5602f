"""The ``sns`` warm-up: Anderson acceleration against over-relaxation, on many point clouds.

``sinkhorn(method="sns")`` warms up with Anderson-accelerated scaling
iterations (``skreg/ot/_anderson.py``; before session 6, with over-relaxed
ones, ``skreg/ot/_overrelaxation.py``). Both hand over to Newton steps
when they stall. This script runs ``sns`` with each warm-up on point clouds
like those of ``bench_sinkhorn.py`` (Gaussian, the target shifted by 0.5,
squared Euclidean cost normalised to [0, 1], uniform weights) over a grid of
sizes, dimensions and ``reg``, to tol 1e-9, in alternating rounds (best of
3 each), and prints for each problem the iterations (warm-up + Newton) and
the time ratio over-relaxed / Anderson (> 1: Anderson is faster).

Run ``python benchmarks/bench_sns_warm_up.py`` (about five minutes).
"""

import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
from bench_sinkhorn import point_clouds

import skreg.ot._sinkhorn as sk
from skreg.ot import sinkhorn
from skreg.ot._overrelaxation import Overrelaxation

WARM_UPS = {"anderson": sk._sns_warm_up, "over-relaxed": sk._scheduled(Overrelaxation)}


def solve(warm_up, a, b, M, reg):
    sk._sns_warm_up = WARM_UPS[warm_up]
    t0 = time.perf_counter()
    res = sinkhorn(a, b, M, reg, method="sns", tol=1e-9)
    return time.perf_counter() - t0, res


def main():
    default = sk._sns_warm_up
    rows, ratios = [], []
    a, b, M = point_clouds(100, 2)
    for name in WARM_UPS:
        solve(name, a, b, M, 1e-2)  # compile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in (500, 1000, 2000):
            for dim in (2, 3, 5, 10):
                a, b, M = point_clouds(n, dim, seed=n + dim)
                for reg in (1e-3, 3e-3, 1e-2):
                    best, res = {}, {}
                    for _ in range(3):
                        for name in WARM_UPS:
                            t, r = solve(name, a, b, M, reg)
                            best[name] = min(best.get(name, np.inf), t)
                            res[name] = r
                    ratio = best["over-relaxed"] / best["anderson"]
                    ratios.append(ratio)
                    cells = [f"{res[k].info['n_sinkhorn']} + {res[k].info['n_newton']}"
                             + ("" if res[k].converged else " (not converged)")
                             for k in WARM_UPS]
                    rows.append((n, dim, f"{reg:g}", *cells,
                                 f"{best['anderson']:.3f}", f"{best['over-relaxed']:.3f}",
                                 f"{ratio:.2f}x"))
                    print(*rows[-1], flush=True)
    sk._sns_warm_up = default
    C.print_table(("n", "dim", "reg", "its anderson", "its over-relaxed", "s anderson",
                   "s over-relaxed", "over-relaxed / anderson"), rows)
    print(f"time ratio over-relaxed / anderson: median {np.median(ratios):.2f}x, "
          f"min {min(ratios):.2f}x, max {max(ratios):.2f}x, "
          f"Anderson slower on {sum(r < 1 for r in ratios)} of {len(ratios)}")


if __name__ == "__main__":
    main()
