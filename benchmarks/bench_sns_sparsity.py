"""Why ``sinkhorn(method="sns")`` gains less on 2-D clouds: plan density and Hessian size.

On the point clouds of ``bench_sinkhorn.py`` (n = m = 2000, reg = 1e-3,
l1 marginal error 1e-9) this prints, for 2-D and 10-D: the share of plan
entries at least 1e-17 at the solution (the mass a sparse Newton step can
not drop), and the number of entries the sparsified Hessian keeps at each
Newton step, with the step's conjugate-gradient iterations. It also times
``sns`` against POT's plain ``ot.sinkhorn`` on the same problem (their ratio
is the one of ``bench_sinkhorn.py``). Last, it compares the warm-up
schedules (best of 2 runs each): skreg's Anderson-accelerated warm-up (the
default since session 6) and its over-relaxed one (session 5), which both
hand over to Newton when their rate stalls, against the paper's plain
Sinkhorn warm-up of a fixed length (20 in Tang et al., 100 in skreg before
the over-relaxation), to show what each phase contributes. First of all it
times ``sns`` and POT's ``sinkhorn`` on the 2-D problem in alternating
rounds (``head_to_head``), the fairest ratio on a shared machine. Every
timed run starts on quiet cores (``QUIET``).

Run ``python benchmarks/bench_sns_sparsity.py`` (about two minutes).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ot
from bench_sinkhorn import l1_error, point_clouds

import skreg.ot._sinkhorn as sk
import skreg.ot._sns as sns
from skreg.ot import sinkhorn
from skreg.ot._overrelaxation import Overrelaxation, PlainSinkhorn

REG = 1e-3


# Seconds to wait before a timed run. OpenBLAS's worker threads busy-wait
# for about 0.1 s after a multi-threaded call before they sleep, and POT's
# iterations are BLAS products: an sns run started at once after POT's
# shares the two cores with them (session 7: its sweeps took up to 4x as
# long). The pause gives every timed run quiet cores.
QUIET = 0.2


def timed(fn, *args, quiet=True, **kwargs):
    if quiet:
        time.sleep(QUIET)
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def head_to_head(rounds=7):
    """2-D ``sns`` against POT's ``sinkhorn``, alternating, ``rounds`` times each.

    ``bench_sinkhorn.py`` times all repeats of one solver, then the next,
    so a slow spell of the shared machine can land on one of them; here
    each round runs both, one after the other, each on quiet cores (see
    ``QUIET``), and ``sns`` once more straight after POT, where POT's BLAS
    threads still spin (what a user gets who calls ``sns`` right after a
    multi-threaded BLAS call). POT runs at the ``stopThr`` (1e-11) where its
    plan first meets the l1 error 1e-9 in ``bench_sinkhorn.py``.
    """
    a, b, M = point_clouds(2000, 2)
    t_sns, t_pot, t_after = [], [], []
    for _ in range(rounds):
        res, t = timed(sinkhorn, a, b, M, REG, method="sns", tol=1e-9)
        t_sns.append(t)
        P_pot, t = timed(ot.sinkhorn, a, b, M, REG, method="sinkhorn", stopThr=1e-11,
                         numItermax=20000)
        t_pot.append(t)
        t_after.append(timed(sinkhorn, a, b, M, REG, method="sns", tol=1e-9, quiet=False)[1])
    print(f"2-D head to head, {rounds} alternating rounds (l1 error: sns "
          f"{res.marginal_error:.1e}, POT {l1_error(P_pot, a, b):.1e}):")
    for name, times in (("sns", t_sns), ("POT", t_pot), ("sns right after POT", t_after)):
        print(f"  {name} s:", " ".join(f"{t:.3f}" for t in times))
    for name, times in (("sns", t_sns), ("sns right after POT", t_after)):
        paired = np.array(t_pot) / np.array(times)
        print(f"  {name}: best POT / best = {min(t_pot) / min(times):.1f}x; per round: "
              f"median {np.median(paired):.1f}x, range {paired.min():.1f}x - {paired.max():.1f}x")


def main():
    a, b, M = point_clouds(50, 2, seed=1)
    sinkhorn(a, b, M, REG, method="sns")  # compile / load the cache
    head_to_head()
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
        res, t_sns = timed(sinkhorn, a, b, M, REG, method="sns", tol=1e-9)
        P_pot, t_pot = timed(ot.sinkhorn, a, b, M, REG, method="sinkhorn", stopThr=1e-11,
                             numItermax=20000)
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

    default = sk._sns_warm_up
    schedules = [("Anderson (default)", default),
                 ("over-relaxed", sk._scheduled(Overrelaxation))] + [
        # k - 1 scaling iterations after the log-domain one that builds the kernel.
        (f"plain {k}", sk._scheduled(lambda tol_abs, k=k: PlainSinkhorn(k - 1)))
        for k in (20, 50, 100, 150)]
    for dim in (2, 10):
        a, b, M = point_clouds(2000, dim)
        print(f"{dim}-D, warm-up schedules:")
        for name, schedule in schedules:
            sk._sns_warm_up = schedule
            best = np.inf
            for _ in range(2):
                res, t = timed(sinkhorn, a, b, M, REG, method="sns", tol=1e-9)
                best = min(best, t)
            print(f"  {name:24s} {best:.2f} s: {res.info['n_sinkhorn']} Sinkhorn + "
                  f"{res.info['n_newton']} Newton, l1 error {res.marginal_error:.1e}")
    sk._sns_warm_up = default


if __name__ == "__main__":
    main()
