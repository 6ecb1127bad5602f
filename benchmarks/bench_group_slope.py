"""Group SLOPE and Sparse-group SLOPE: screened against unscreened paths.

No Python library implements Group SLOPE or Sparse-group SLOPE (the R package
``sgs`` does), so the comparison is internal: the same solver along the same
50-step path, with the group strong rule and KKT checks
(``screening="strong"``) and without (``screening=None``, every group in
every iteration). Both stop on the duality gap of the full problem at the
same ``tol``, so both reach the same certified accuracy; the table reports
the largest coefficient difference between the two paths and the largest
duality gap.

Data: ``n = 200`` samples, ``p = 5000`` standard Gaussian features in 500
groups of unequal sizes (a random partition: sizes 2 to 21), 5 active groups
with Gaussian coefficients, Gaussian noise (``--noise``, default 0.5); the
same with a sparse ``X`` (CSC, density 0.1), on which both paths run the
same solver on the CSC columns of the fitted groups (centred and scaled on
the fly, never densified). Path: 50 alphas from
``alpha_max`` to ``eps * alpha_max`` (``--eps``, default 0.1), intercept
fitted, ``tol=1e-8`` (relative duality gap), which makes the two paths agree
to about 1e-5 in every coefficient. Sparse-group SLOPE runs with its default
``l1_ratio=0.95`` and with 0.5.

Screening here means: fit the groups active at the previous step, add the
groups that violate the optimality conditions of the full problem, refit;
the group strong rule (Feser and Evangelou 2024) gives the "strong set",
and "violations" counts groups it discarded that the checks had to add.

The machine is shared (two cores, several jobs): times are the minimum over
``--repeats`` runs after a warm-up on a tiny problem (numba compilation and
cache loading are not timed), and are noisy.

Run ``python benchmarks/bench_group_slope.py`` (``--quick`` for a smoke run).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C

from skreg import group_slope_path, sparse_group_slope_path


def make_data(n, p, n_groups, n_active, noise, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    # Every group gets one feature, the rest fall at random: unequal sizes.
    labels = np.sort(np.concatenate([np.arange(n_groups),
                                     rng.integers(0, n_groups, p - n_groups)]))
    if sparse:
        X = sp.random(n, p, density=0.1, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
        Xd = X.toarray()
    else:
        X = rng.standard_normal((n, p))
        Xd = X
    beta = np.zeros(p)
    active = np.isin(labels, rng.choice(n_groups, n_active, replace=False))
    beta[active] = rng.standard_normal(active.sum())
    y = Xd @ beta + noise * rng.standard_normal(n)
    return X, y, labels


def run(path, X, y, labels, screening, args, extra):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-converged step would void the timing
        t0 = time.perf_counter()
        out = path(X, y, groups=labels, alphas=args.n_alphas, eps=args.eps,
                   fit_intercept=True, screening=screening, tol=args.tol,
                   max_iter=args.max_iter, **extra)
    return time.perf_counter() - t0, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--max-iter", type=int, default=100_000)
    parser.add_argument("--n-alphas", type=int, default=50)
    parser.add_argument("--design", choices=("both", "dense", "sparse"), default="both",
                        help="run the dense X cases, the sparse ones, or both")
    parser.add_argument("--models", default="0,1,2",
                        help="comma-separated rows of the table to run: 0 GroupSLOPE, "
                             "1 and 2 SparseGroupSLOPE (l1_ratio 0.95 and 0.5)")
    args = parser.parse_args()
    if args.quick:
        n, p, m, args.repeats = 60, 600, 60, 1
    else:
        n, p, m = 200, 5000, 500

    Xw, yw, lw = make_data(30, 40, 8, 2, 0.5, seed=1)
    for path, extra in ((group_slope_path, {}), (sparse_group_slope_path, {})):
        for screening in ("strong", None):
            for Xwarm in (Xw, sp.csc_matrix(Xw)):  # compiles the sparse kernels too
                path(Xwarm, yw, groups=lw, alphas=3, screening=screening, **extra)

    print(f"n={n}, p={p}, {m} groups; {args.n_alphas} alphas down to "
          f"{args.eps} alpha_max; tol={args.tol}; best of {args.repeats}")
    print(C.blas_summary())
    header = ["model", "X", "screened (s)", "unscreened (s)", "speed-up",
              "max coef diff", "max abs. gap", "mean strong set (groups)",
              "violations", "refits"]
    rows = []
    cases = (("GroupSLOPE", group_slope_path, {}),
             ("SparseGroupSLOPE (l1_ratio=0.95)", sparse_group_slope_path, {}),
             ("SparseGroupSLOPE (l1_ratio=0.5)", sparse_group_slope_path,
              {"l1_ratio": 0.5}))
    designs = {"both": (False, True), "dense": (False,), "sparse": (True,)}[args.design]
    for sparse in designs:
        X, y, labels = make_data(n, p, m, 5, args.noise, sparse=sparse)
        for name, path, extra in [cases[int(k)] for k in args.models.split(",")]:
            times = {}
            outs = {}
            for screening in ("strong", None):
                best = np.inf
                for _ in range(args.repeats):
                    t, out = run(path, X, y, labels, screening, args, extra)
                    best = min(best, t)
                times[screening], outs[screening] = best, out
            _, c_s, g_s, info = outs["strong"]
            _, c_u, g_u, _ = outs[None]
            rows.append([
                name, "sparse" if sparse else "dense",
                f"{times['strong']:.2f}", f"{times[None]:.2f}",
                f"{times[None] / times['strong']:.1f}x",
                f"{np.max(np.abs(c_s - c_u)):.1e}",
                f"{max(g_s.max(), g_u.max()):.1e}",
                f"{info['n_screened'].mean():.0f}",
                f"{info['n_violations'].sum()}", f"{info['n_refits'].sum()}",
            ])
            C.print_table(header, rows[-1:])
    print()
    print(C.markdown_table(header, rows))


if __name__ == "__main__":
    main()
