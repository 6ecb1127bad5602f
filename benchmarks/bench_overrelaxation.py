"""Over-relaxed against plain Sinkhorn iterations on many small random problems.

``sinkhorn(method="scaling")`` over-relaxes its iterations by default
(``acceleration=True``). The theory behind the factor is local, so this
script checks the claim where it is weakest: 300 small problems (n, m from
2 to 79) of four kinds (uniform costs, 3-D point clouds, integer costs in
{-1, 0, 1} with many ties, heavy-tailed costs), marginals from flat to very
skewed, reg from 10^-2.5 to 1, tol 1e-9. For each it prints the ratio of
plain to over-relaxed iteration counts (> 1: over-relaxation needs fewer)
and checks that both return the same plan; the problems where
over-relaxation needs more iterations are listed. A second sweep runs
``method="sns"`` against ``method="log"`` at reg down to 5e-4 (where the
warm-up hands over to Newton, and a failed Newton step hands back to the scaling
iterations) and counts the problems where ``sns`` does not converge or its
plan differs; it also compares the iteration counts of ``sns`` with its
Anderson warm-up (the default) and with the over-relaxed one.

Counts, not times: every solve here takes milliseconds. Run
``python benchmarks/bench_overrelaxation.py`` (about a minute).
"""

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C

import skreg.ot._sinkhorn as sk
from skreg.ot import sinkhorn
from skreg.ot._overrelaxation import Overrelaxation

KINDS = ("uniform", "3-D clouds", "integer ties", "heavy-tailed")


def problems(n_problems, log_reg_range, seed):
    rng = np.random.default_rng(seed)
    for k in range(n_problems):
        n, m = rng.integers(2, 80, size=2)
        kind = k % 4
        if kind == 0:
            M = rng.uniform(size=(n, m))
        elif kind == 1:
            X, Y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3)) * 2 + 1
            M = ((X[:, None] - Y[None]) ** 2).sum(-1)
            M /= M.max()
        elif kind == 2:
            M = rng.integers(-1, 2, size=(n, m)).astype(float)
        else:
            M = rng.exponential(size=(n, m)) ** 3
            M /= M.max()
        a = rng.exponential(size=n) ** rng.uniform(0, 4)
        b = rng.exponential(size=m) ** rng.uniform(0, 4)
        reg = 10 ** rng.uniform(*log_reg_range)
        yield k, KINDS[kind], a / a.sum(), b / b.sum(), M, reg


def main():
    ratios, by_kind, slower, unconverged, differ = [], {}, [], 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, kind, a, b, M, reg in problems(300, (-2.5, 0.0), seed=1):
            relaxed = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=20_000)
            plain = sinkhorn(a, b, M, reg, tol=1e-9, max_iter=20_000, acceleration=False)
            if plain.converged and not relaxed.converged:
                unconverged += 1
            if not (relaxed.converged and plain.converged):
                continue
            if np.abs(relaxed.plan - plain.plan).max() > 1e-7:
                differ += 1
            r = plain.n_iter / relaxed.n_iter
            ratios.append(r)
            by_kind.setdefault(kind, []).append(r)
            if r < 1:
                slower.append((k, kind, f"{M.shape[0]} x {M.shape[1]}", f"{reg:.1e}",
                               relaxed.n_iter, plain.n_iter, f"{relaxed.info['omega']:.2f}"))
    print("scaling: plain / over-relaxed iterations, 300 problems "
          f"({len(ratios)} where both converged in 20,000 iterations)")
    rows = [(kind, len(rs), f"{np.median(rs):.2f}", f"{min(rs):.2f}", f"{max(rs):.2f}",
             sum(r < 1 for r in rs)) for kind, rs in sorted(by_kind.items())]
    rows.append(("all", len(ratios), f"{np.median(ratios):.2f}", f"{min(ratios):.2f}",
                 f"{max(ratios):.2f}", sum(r < 1 for r in ratios)))
    C.print_tables(("costs", "problems", "median", "min", "max", "over-relaxed slower"), rows)
    print(f"over-relaxed did not converge where plain did: {unconverged}; "
          f"plans differ by more than 1e-7: {differ}")
    if slower:
        print("\nproblems where over-relaxation needs more iterations:")
        C.print_table(("problem", "costs", "shape", "reg", "over-relaxed", "plain", "omega"),
                      slower)

    failed, differ, ref_failed, ratios, slower = 0, 0, 0, [], []
    relaxed_failed, default = 0, sk._sns_warm_up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, _, a, b, M, reg in problems(300, (-3.3, 0.0), seed=0):
            sns = sinkhorn(a, b, M, reg, method="sns", tol=1e-9, max_iter=5000)
            # The session-5 warm-up, over-relaxed iterations.
            sk._sns_warm_up = sk._scheduled(Overrelaxation)
            relaxed = sinkhorn(a, b, M, reg, method="sns", tol=1e-9, max_iter=5000)
            sk._sns_warm_up = default
            ref = sinkhorn(a, b, M, reg, method="log", tol=1e-10, max_iter=200_000)
            failed += not sns.converged
            relaxed_failed += not relaxed.converged
            if sns.converged and relaxed.converged:
                ratios.append(relaxed.n_iter / sns.n_iter)
                if ratios[-1] < 1:
                    slower.append(ratios[-1])
            if not ref.converged:
                ref_failed += 1
            elif np.abs(sns.plan - ref.plan).max() > 1e-7:
                differ += 1
    print("\nsns against log-domain Sinkhorn (tol 1e-10, 200,000 iterations), 300 problems, "
          f"reg 10^-3.3 to 1: sns did not converge in 5,000 iterations on {failed}; its plan "
          f"differs by more than 1e-7 on {differ}; log-domain Sinkhorn did not converge on "
          f"{ref_failed} (not compared)")
    print("sns iterations, over-relaxed warm-up / Anderson warm-up (the default): median "
          f"{np.median(ratios):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}; Anderson "
          f"needs more on {len(slower)} of {len(ratios)}; the over-relaxed warm-up did not "
          f"converge on {relaxed_failed}")


if __name__ == "__main__":
    main()
