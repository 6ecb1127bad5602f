"""Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) for entropic optimal transport.

The dual of the entropic problem,

.. math::

    D(f, g) = a^\\top f + b^\\top g - \\mathrm{reg} \\sum_{ij} P_{ij},
    \\qquad P_{ij} = e^{(f_i + g_j - M_{ij}) / \\mathrm{reg}},

is concave with gradient ``(a - P 1, b - P^T 1)`` and Hessian
``-(1/reg) H``, ``H = [[diag(P 1), P], [P^T, diag(P^T 1)]]``. After a few
Sinkhorn iterations the plan is concentrated on about ``c (n + m)`` entries,
so ``P`` is replaced in the off-diagonal blocks of ``H`` by its largest
entries; the diagonals keep the exact marginals, which keeps the sparse
``H`` diagonally dominant, hence positive semi-definite. The Newton system
``H (df, dg) = reg * gradient`` is reduced to the Schur complement in ``dg``,

.. math::

    (\\mathrm{diag}(c) - S^\\top \\mathrm{diag}(r)^{-1} S)\\, dg
    = \\mathrm{reg}\\,(\\nabla_g - S^\\top \\mathrm{diag}(r)^{-1} \\nabla_f),

solved by Jacobi-preconditioned conjugate gradient. Its null direction
(the constant vector, the ``(f + t, g - t)`` invariance of ``D``) is removed
by running conjugate gradient on the zero-sum vectors. A backtracking
(Armijo) line search on ``D`` makes every step an ascent step.

Departures from the paper, each for a measured reason: the warm-up is
Anderson-accelerated Sinkhorn (:mod:`._anderson`) and runs as long as it
converges fast, handing over to Newton when its rate stalls; on the 2-D
point clouds of ``benchmarks/bench_sinkhorn.py`` it reaches the tolerance
before a Newton step would pay, on the 10-D ones and on the paper's problem
Newton finishes (``benchmarks/bench_sns_sparsity.py`` compares it with
over-relaxed Sinkhorn, :mod:`._overrelaxation`, and with the paper's fixed
plain warm-up). A Newton step whose line search fails hands back to
over-relaxed iterations. The kept entries
also depend on the marginal error (the dropped mass limits the local
convergence rate), the first trial step is capped, and a step that is
accepted at once but gains little is extended (see the loop). Each step aims
at the tolerance and no further: the dropped mass and the conjugate-gradient
residual only need to be small next to ``tol``, so the last step, which
starts a few times above ``tol``, keeps fewer entries and stops conjugate
gradient early.
"""

import functools

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from . import _sinkhorn_kernels as kern

# The sparsified Hessian keeps at least _DENSITY * max(n, m) entries of the
# plan, and enough that the mass it drops is at most _DROP * marginal error.
_DENSITY = 4
_DROP = 1e-2
# ... but never less than _AIM * tol: a step needs to reach tol, not beyond.
_AIM = 0.25
_ARMIJO = 1e-4
_MAX_BACKTRACK = 30
_SLOW = 0.2
_MAX_LOG_STEP = 8.0
_MAX_EXTRAPOLATE = 6
# A float64 >= 0 is ordered like its bit pattern; bucketing the bits keeps
# the sign-free exponent and 3 mantissa bits (8 buckets per power of two).
_BUCKET_SHIFT = 49
_N_BUCKETS = 1 << (63 - _BUCKET_SHIFT)


@intrinsic
def _float_bits_as_int(typingctx, x):
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@njit(cache=True, nogil=True, parallel=True)
def _threshold(P, keep, max_dropped, n_blocks):
    """Bucket edge ``t`` for the entries ``P_ij >= t`` that the Hessian keeps.

    The largest edge such that at least ``keep`` entries are kept and the
    mass of the dropped ones is at most ``max_dropped``.
    """
    n, m = P.shape
    count = np.zeros((n_blocks, _N_BUCKETS), dtype=np.int64)
    mass = np.zeros((n_blocks, _N_BUCKETS))
    for c in prange(n_blocks):
        h = count[c]
        w = mass[c]
        for i in range(c * n // n_blocks, (c + 1) * n // n_blocks):
            for j in range(m):
                p = P[i, j]
                k = _float_bits_as_int(p) >> _BUCKET_SHIFT
                h[k] += 1
                w[k] += p
    # By count, from the top.
    total = 0
    top = _N_BUCKETS - 1
    while top > 1:
        for c in range(n_blocks):
            total += count[c, top]
        if total >= keep:
            break
        top -= 1
    # By dropped mass, from the bottom.
    dropped = 0.0
    bottom = 1
    while bottom < top:
        for c in range(n_blocks):
            dropped += mass[c, bottom]
        if dropped > max_dropped:
            break
        bottom += 1
    return kern._int_bits_as_float(np.int64(min(top, bottom)) << _BUCKET_SHIFT)


@njit(cache=True, nogil=True, parallel=True)
def _sparsify(P, thr):
    """CSR arrays of the entries ``P_ij >= thr`` (and > 0), column indices int32."""
    n, m = P.shape
    counts = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        cnt = 0
        for j in range(m):
            p = P[i, j]
            if p >= thr and p > 0:
                cnt += 1
        counts[i] = cnt
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        indptr[i + 1] = indptr[i] + counts[i]
    indices = np.empty(indptr[n], dtype=np.int32)
    data = np.empty(indptr[n])
    for i in prange(n):
        k = indptr[i]
        for j in range(m):
            p = P[i, j]
            if p >= thr and p > 0:
                indices[k] = j
                data[k] = p
                k += 1
    return indptr, indices, data


@njit(cache=True, nogil=True, parallel=True)
def _schur_matvec(indptr, indices, data, inv_r, c, x, parts, out):
    """``out = (diag(c) - S^T diag(1/r) S) x``, in one pass over ``S``.

    Each block of rows computes ``s_i = (S x)_i / r_i`` and scatters
    ``S_i^T s_i`` into its own row of ``parts`` while row ``i`` is in cache.
    """
    n = indptr.shape[0] - 1
    n_blocks, m = parts.shape
    for blk in prange(n_blocks):
        acc = parts[blk]
        for j in range(m):
            acc[j] = 0.0
        for i in range(blk * n // n_blocks, (blk + 1) * n // n_blocks):
            s = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                s += data[k] * x[indices[k]]
            s *= inv_r[i]
            for k in range(indptr[i], indptr[i + 1]):
                acc[indices[k]] += data[k] * s
    for j in range(m):
        t = c[j] * x[j]
        for blk in range(n_blocks):
            t -= parts[blk, j]
        out[j] = t


@njit(cache=True, nogil=True, inline="always")
def _center(x):
    """Project onto the vectors of zero sum (removes the null direction)."""
    x -= x.mean()


@njit(cache=True, nogil=True)
def newton_direction(indptr, indices, data, r, c, grad_f, grad_g, reg, cg_rtol, cg_max_iter,
                     n_blocks):
    """Solve the sparsified Newton system; return ``(df, dg, n_cg)``.

    Conjugate gradient runs on the zero-sum vectors, where the Schur
    complement is positive definite: the constant direction of ``dg`` (with
    ``df`` shifted the opposite way) does not change the plan, and with the
    dropped entries it is only nearly null, so leaving it in would let the
    solution drift along it by an amount unrelated to the problem.
    ``n_blocks`` row blocks share the Schur products in parallel, each with
    its own column accumulator.
    """
    n, m = r.shape[0], c.shape[0]
    inv_r = 1.0 / r
    # Right-hand side of the Schur system and its Jacobi preconditioner.
    rhs = reg * grad_g.copy()
    diag = c.copy()
    for i in range(n):
        w = reg * grad_f[i] * inv_r[i]
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            rhs[j] -= data[k] * w
            diag[j] -= data[k] * data[k] * inv_r[i]
    floor = 1e-12 * c.max()
    for j in range(m):
        diag[j] = max(diag[j], floor)
    _center(rhs)
    # Projected, preconditioned conjugate gradient from dg = 0.
    dg = np.zeros(m)
    res = rhs.copy()
    z = res / diag
    _center(z)
    p = z.copy()
    Ap = np.empty(m)
    parts = np.empty((max(1, min(n_blocks, n)), m))
    rz = res @ z
    target = cg_rtol * np.sqrt(rhs @ rhs)
    it = 0
    while it < cg_max_iter and np.sqrt(res @ res) > target:
        _schur_matvec(indptr, indices, data, inv_r, c, p, parts, Ap)
        _center(Ap)
        pAp = p @ Ap
        if not pAp > 0:
            break
        alpha = rz / pAp
        dg += alpha * p
        res -= alpha * Ap
        z = res / diag
        _center(z)
        rz_new = res @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
        it += 1
    df = np.empty(n)
    for i in range(n):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * dg[indices[k]]
        df[i] = (reg * grad_f[i] - s) * inv_r[i]
    return df, dg, it


def _evaluate(M, a, b, f, g, reg, P, ws):
    """Dual value, marginals and l1 marginal error at ``(f, g)``; fills ``P``."""
    kern.plan_kernel(M, f, g, reg, P, ws.rows, ws.parts)
    r = ws.rows.copy()
    c = np.empty(M.shape[1])
    kern.reduce_parts(ws.parts, c)
    # A trial step may overshoot until the mass overflows; it is then
    # rejected by the line search (value -inf).
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(a @ f + b @ g - reg * r.sum())
        err = float(np.abs(r - a).sum() + np.abs(c - b).sum())
    if not (np.isfinite(value) and np.isfinite(err)):
        return -np.inf, r, c, np.inf
    return value, r, c, err


def _trial(M, a, b, reg, ws, info, f, g, df, dg, step, buf):
    """``(step,) + _evaluate(...)`` at ``(f, g) + step * (df, dg)``, counted in ``info``."""
    info["n_evaluations"] += 1
    return (step,) + _evaluate(M, a, b, f + step * df, g + step * dg, reg, buf, ws)


def _better(new, old, min_gain=0.0):
    """Whether the point ``new`` improves on ``old`` (both ``(value, err)``).

    Near the optimum the change of the dual value is at rounding level; a
    step is then judged by the marginal error instead.
    """
    if abs(new[0] - old[0]) <= 1e-13 * max(1.0, abs(old[0])):
        return new[1] < old[1]
    return new[0] >= old[0] + min_gain


def _restart(P, a, b, f, g, reg, ws):
    """Dual value, marginals and l1 marginal error of the plan ``P`` at ``(f, g)``
    that a Sinkhorn solver returned (with its marginals in ``ws``)."""
    r, c = ws.rows.copy(), np.empty(P.shape[1])
    kern.reduce_parts(ws.parts, c)
    value = float(a @ f + b @ g - reg * r.sum())
    err = float(np.abs(r - a).sum() + np.abs(c - b).sum())
    return value, r, c, err


def sinkhorn_newton_sparse(M, a, b, reg, g, tol_abs, max_iter, ws, warm_up, fallback=None):
    """Sinkhorn warm-up then sparse Newton steps.

    ``warm_up`` is a Sinkhorn solver with the signature of
    :func:`._scaling.solve_scaling` that returns the plan at its potentials
    and decides itself when to hand over (within ``max_iter``). ``fallback`` (a solver
    of the same kind, default ``warm_up``) takes over from a Newton step
    whose line search fails, and hands back in turn. Returns
    ``(f, g, n_iter, info, P)`` with ``P`` the plan at ``(f, g)``.
    """
    n, m = M.shape
    fallback = warm_up if fallback is None else fallback
    f, g, n_warm, warm_info, P = warm_up(M, a, b, reg, g, tol_abs, max_iter, ws)
    info = {"n_sinkhorn": int(n_warm), "n_newton": 0, "n_cg": 0, "n_evaluations": 0}
    if "omega" in warm_info:
        info["omega"] = float(warm_info["omega"])
    value, r, c, err = _restart(P, a, b, f, g, reg, ws)
    if err <= tol_abs or n_warm >= max_iter:
        return f, g, n_warm, info, P
    # Current point, trial point and best extrapolated point share 3 buffers.
    P_try, P_ext = np.empty((n, m)), np.empty((n, m))
    keep = _DENSITY * max(n, m)
    n_iter = n_warm
    while err > tol_abs and n_iter < max_iter:
        n_iter += 1
        # The Newton step is as accurate as the sparse Hessian: the mass left
        # out must shrink with the marginal error for fast local convergence.
        thr = _threshold(P, keep, max(_DROP * err, _AIM * tol_abs), ws.parts.shape[0])
        indptr, indices, data = _sparsify(P, thr)
        grad_f, grad_g = a - r, b - c
        # Inexact Newton: solve more accurately as the gradient shrinks.
        cg_rtol = min(1e-2, max(1e-10, err, _AIM * tol_abs / err))
        df, dg, n_cg = newton_direction(indptr, indices, data, r, c, grad_f, grad_g, reg,
                                        cg_rtol, 10 * m, ws.parts.shape[0])
        info["n_cg"] += int(n_cg)
        slope = float(grad_f @ df + grad_g @ dg)

        trial = functools.partial(_trial, M, a, b, reg, ws, info, f, g, df, dg)

        # Armijo backtracking from the Newton step, shortened first so that no
        # entry of the plan changes by more than a factor exp(_MAX_LOG_STEP):
        # far from the optimum the full step overshoots by hundreds of orders
        # of magnitude and halving alone would take many evaluations.
        largest = (np.abs(df).max() + np.abs(dg).max()) / reg
        t0 = min(1.0, _MAX_LOG_STEP / largest) if largest > 0 else 1.0
        t = trial(t0, P_try)
        while not _better((t[1], t[4]), (value, err), _ARMIJO * t[0] * slope):
            if t[0] < 2.0**-_MAX_BACKTRACK:
                break
            t = trial(0.5 * t[0], P_try)
        else:
            # Newton's step on exp-type terms is at most about reg where a
            # block of the plan must lose orders of magnitude of mass: it
            # converges only linearly there (error / e per step), and capped
            # steps may be too short. Then longer steps along the same
            # direction are tried while they improve.
            if t[0] == t0 and t[4] > _SLOW * err:
                for _ in range(_MAX_EXTRAPOLATE):
                    t2 = trial(2.0 * t[0], P_ext)
                    if not _better((t2[1], t2[4]), (t[1], t[4])):
                        break
                    t = t2
                    P_try, P_ext = P_ext, P_try
            f, g = f + t[0] * df, g + t[0] * dg
            value, r, c, err = t[1:]
            P, P_try = P_try, P
            info["n_newton"] += 1
            continue
        # The line search failed: the direction is not an ascent direction
        # at this precision (rounding-level, or a sparsified Hessian too far
        # from the true one on a degenerate problem). Sinkhorn iterations,
        # which always make progress, take over until they stall again
        # (each warm-up makes at least one iteration, so this ends).
        n_iter -= 1
        f, g, it, more, P = fallback(M, a, b, reg, g, tol_abs, max_iter - n_iter, ws)
        if "omega" in more:
            info["omega"] = float(more["omega"])
        n_iter += it
        info["n_sinkhorn"] += int(it)
        info["n_fallback"] = info.get("n_fallback", 0) + int(it)
        value, r, c, err = _restart(P, a, b, f, g, reg, ws)
    return f, g, n_iter, info, P
