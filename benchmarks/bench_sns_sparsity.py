"""Why ``sinkhorn(method="sns")`` gains less on 2-D clouds: plan density and Hessian size.

On the point clouds of ``bench_sinkhorn.py`` (n = m = 2000, reg = 1e-3,
l1 marginal error 1e-9) this prints, for 2-D and 10-D: the share of plan
entries at least 1e-17 at the solution (the mass a sparse Newton step can
not drop), and the number of entries the sparsified Hessian keeps at each
Newton step, with the step's conjugate-gradient iterations. It also times
``sns`` against POT's plain ``ot.sinkhorn`` on the same problem (their ratio
is the one of ``bench_sinkhorn.py``). Last, it times ``sns`` with other
lengths of the Sinkhorn warm-up (best of 2 runs each), to show whether a
shorter or longer warm-up would pay.

Run ``python benchmarks/bench_sns_sparsity.py`` (about a minute).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ot
from bench_sinkhorn import l1_error, point_clouds

import skreg.ot._sns as sns
from skreg.ot import sinkhorn

REG = 1e-3


def main():
    a, b, M = point_clouds(50, 2, seed=1)
    sinkhorn(a, b, M, REG, method="sns")  # compile / load the cache
    steps = []
    sparsify, direction = sns._sparsify, sns.newton_direction

    def counting_sparsify(P, thr):
        out = sparsify(P, thr)
        steps.append([int(out[0][-1])])
        return out

    def counting_direction(*args):
        out = direction(*args)
        steps[-1].append(int(out[2]))
        return out

    for dim in (2, 10):
        a, b, M = point_clouds(2000, dim)
        sns._sparsify, sns.newton_direction = sparsify, direction
        t0 = time.perf_counter()
        res = sinkhorn(a, b, M, REG, method="sns", tol=1e-9)
        t_sns = time.perf_counter() - t0
        t0 = time.perf_counter()
        P_pot = ot.sinkhorn(a, b, M, REG, method="sinkhorn", stopThr=1e-11, numItermax=20000)
        t_pot = time.perf_counter() - t0
        share = float(np.mean(res.plan >= 1e-17))
        steps.clear()
        sns._sparsify, sns.newton_direction = counting_sparsify, counting_direction
        sinkhorn(a, b, M, REG, method="sns", tol=1e-9)
        print(f"{dim}-D: plan entries >= 1e-17: {share:.1%}; sns {t_sns:.2f} s, POT sinkhorn "
              f"{t_pot:.2f} s (l1 error {l1_error(P_pot, a, b):.1e}): POT / sns = "
              f"{t_pot / t_sns:.1f}x")
        for k, (nnz, n_cg) in enumerate(steps, 1):
            print(f"  Newton step {k:2d}: Hessian keeps {nnz:9,d} entries "
                  f"({nnz / M.size:.1%}), {n_cg} CG iterations")
    sns._sparsify, sns.newton_direction = sparsify, direction

    default = sns._WARMUP
    for dim in (2, 10):
        a, b, M = point_clouds(2000, dim)
        cells = []
        for warm_up in (20, 35, 50, 75, 100, 150):
            sns._WARMUP = warm_up
            best = np.inf
            for _ in range(2):
                t0 = time.perf_counter()
                res = sinkhorn(a, b, M, REG, method="sns", tol=1e-9)
                best = min(best, time.perf_counter() - t0)
            cells.append(f"{warm_up}: {best:.2f} s ({res.info['n_newton']} Newton)")
        print(f"{dim}-D, warm-up iterations: " + ", ".join(cells))
    sns._WARMUP = default


if __name__ == "__main__":
    main()
