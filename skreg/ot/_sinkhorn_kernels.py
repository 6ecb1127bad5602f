"""Numba kernels for entropic optimal transport (Sinkhorn iterations).

Conventions: ``M`` is a C-contiguous float64 (n, m) cost matrix; potentials
``f`` (n,) and ``g`` (m,) define the plan ``P_ij = exp((f_i + g_j - M_ij) / reg)``.

Every sweep walks the matrix once, row by row, in parallel over blocks of
rows; the column sums that the next half-iteration needs are accumulated in
the same sweep into one buffer per block (``parts``, shape (n_blocks, m)),
so a full Sinkhorn iteration reads the matrix once instead of twice (the
iterations are memory-bound) and the column marginal error, which decides
convergence, comes for free at every iteration.
"""

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

# Re-association lets LLVM vectorise the row reductions; inputs are finite.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

# A column whose mass (in the linear domain) falls below this is recomputed
# with an exact log-sum-exp, so that no potential becomes -inf by underflow.
_TINY = 1e-280


_LOG2E = 1.4426950408889634
# ln 2 split so that k * _LN2_HI is exact for |k| < 2^11 (Cody-Waite).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@intrinsic
def _int_bits_as_float(typingctx, x):
    """Reinterpret the bits of an int64 as a float64 (builds ``2**k``)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@njit(cache=True, nogil=True, inline="always", fastmath=_FASTMATH)
def fast_exp(x):
    """``exp(x)`` that LLVM can vectorise (``math.exp`` is a scalar libm call).

    Range reduction ``x = k ln 2 + r``, ``|r| <= ln(2) / 2``, a degree-13
    Taylor polynomial for ``exp(r)`` and ``2**k`` from its bits. Relative
    error about 1e-15 for ``x`` in [-40, 0] (the range that carries the mass
    in Sinkhorn sums), growing like ``|x| * 1e-17`` beyond; 0 below -708
    (no subnormals), capped at ``exp(709)``.
    """
    xc = min(max(x, -708.0), 709.0)
    k = math.floor(xc * _LOG2E + 0.5)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    y = p * _int_bits_as_float((np.int64(k) + 1023) << 52)
    return y if x >= -708.0 else 0.0


@njit(cache=True, nogil=True, inline="always")
def _open_block(parts, c, n):
    """Block ``c`` of ``n`` rows: its zeroed column-sum buffer and its row range."""
    acc = parts[c]
    acc[:] = 0.0
    n_blocks = parts.shape[0]
    return acc, c * n // n_blocks, (c + 1) * n // n_blocks


@njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)
def log_row_sweep(M, g, a, loga, reg, f, parts, work, P, write):
    """Row half-iteration in the log domain, accumulating the new column sums.

    Sets ``f_i = reg log a_i - reg LSE_j((g_j - M_ij) / reg)`` (max-shifted) and
    adds ``P_ij`` (at the new ``f`` and the given ``g``) into ``parts``. The
    normalised row terms ``e_ij / s_i`` make ``P_ij = a_i e_ij / s_i``, so one
    ``exp`` per entry serves both the row update and the column sums. With
    ``write`` the plan is also stored in ``P``.
    """
    n, m = M.shape
    inv = 1.0 / reg
    for c in prange(parts.shape[0]):
        acc, start, stop = _open_block(parts, c, n)
        buf = work[c]
        for i in range(start, stop):
            mx = -np.inf
            for j in range(m):
                t = g[j] - M[i, j]
                buf[j] = t
                mx = max(mx, t)
            s = 0.0
            for j in range(m):
                e = fast_exp((buf[j] - mx) * inv)
                buf[j] = e
                s += e
            f[i] = reg * loga[i] - mx - reg * math.log(s)
            scale = a[i] / s
            if write:
                for j in range(m):
                    p = buf[j] * scale
                    P[i, j] = p
                    acc[j] += p
            else:
                for j in range(m):
                    acc[j] += buf[j] * scale


@njit(cache=True, nogil=True)
def column_lse(M, f, j, reg):
    """``LSE_i((f_i - M_ij) / reg)`` for one column, max-shifted."""
    n = M.shape[0]
    mx = -np.inf
    for i in range(n):
        mx = max(mx, f[i] - M[i, j])
    s = 0.0
    for i in range(n):
        s += math.exp((f[i] - M[i, j] - mx) / reg)
    return mx / reg + math.log(s)


@njit(cache=True, nogil=True)
def reduce_parts(parts, out):
    for j in range(out.shape[0]):
        out[j] = 0.0
    for c in range(parts.shape[0]):
        for j in range(out.shape[0]):
            out[j] += parts[c, j]


@njit(cache=True, nogil=True)
def log_loop(M, f, g, a, b, reg, tol_abs, max_iter, parts, work, colsum):
    """Log-domain Sinkhorn until the column error is below ``tol_abs``.

    Each iteration updates ``f`` (rows exact), measures the l1 column error
    ``||P^T 1 - b||_1`` of the plan at ``(f, g)``, and stops there if it is
    small enough (so the returned potentials give exactly the plan that was
    checked); otherwise it updates ``g``. Returns ``(n_iter, err)``.
    """
    m = M.shape[1]
    loga = np.log(a)
    logb = np.log(b)
    dummy = np.empty((0, 0))
    err = np.inf
    it = 0
    while it < max_iter:
        it += 1
        log_row_sweep(M, g, a, loga, reg, f, parts, work, dummy, False)
        reduce_parts(parts, colsum)
        err = 0.0
        for j in range(m):
            err += abs(colsum[j] - b[j])
        if err <= tol_abs:
            break
        for j in range(m):
            if colsum[j] > _TINY:
                g[j] += reg * (logb[j] - math.log(colsum[j]))
            else:
                g[j] = reg * (logb[j] - column_lse(M, f, j, reg))
    return it, err


@njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH, error_model="numpy")
def scaling_row_sweep(K, v, a, u, omega, parts, u_new, row_err):
    """Row half-iteration ``u_new = u (a / (u K v))^omega`` and ``K^T u_new`` blocks, one pass.

    ``omega = 1`` is Sinkhorn's ``u_new = a / K v``; ``1 < omega < 2`` is
    over-relaxation (a step of ``omega`` times Sinkhorn's in the log
    potentials). ``row_err[c]`` gets the l1 row error ``|u_new (K v) - a|``
    of block ``c`` (zero up to rounding when ``omega = 1``).
    """
    n, m = K.shape
    for c in prange(parts.shape[0]):
        acc, start, stop = _open_block(parts, c, n)
        e = 0.0
        for i in range(start, stop):
            kv = 0.0
            for j in range(m):
                kv += K[i, j] * v[j]
            if omega == 1.0:
                ui = a[i] / kv
            else:
                ui = u[i] * (a[i] / (u[i] * kv)) ** omega
            u_new[i] = ui
            e += abs(ui * kv - a[i])
            for j in range(m):
                acc[j] += K[i, j] * ui
        row_err[c] = e


# error_model="numpy": a sum that underflows to 0 gives an infinite scaling,
# which the range check turns into an absorption, not a ZeroDivisionError.
@njit(cache=True, nogil=True, error_model="numpy")
def scaling_loop(K, u, v, a, b, omega, tol_abs, max_iter, bound, parts, ktu, u_new, row_err,
                 errs):
    """Sinkhorn scaling ``u = a / K v``, ``v = b / K^T u`` on a stabilised kernel.

    With ``omega != 1`` both half-iterations are over-relaxed:
    ``u <- u (a / (u K v))^omega``, ``v <- v (b / (v K^T u))^omega``. After
    each row half-iteration the l1 marginal error of ``diag(u) K diag(v)`` is
    stored in ``errs[it]`` (while ``it < len(errs)``); the loop stops when it
    is below ``tol_abs`` (status 0), after ``max_iter`` iterations (status 1), or as soon as a
    scaling leaves ``[1 / bound, bound]`` or is not finite (status 2: the
    caller absorbs ``u``, ``v`` into the log potentials). ``u`` and ``v`` are
    only overwritten by in-range values. Returns ``(n_iter, err, status)``.
    """
    n, m = K.shape
    lo = 1.0 / bound
    err = np.inf
    it = 0
    while it < max_iter:
        scaling_row_sweep(K, v, a, u, omega, parts, u_new, row_err)
        reduce_parts(parts, ktu)
        ok = True
        for i in range(n):
            x = u_new[i]
            if not (lo < x < bound):
                ok = False
        if not ok:
            return it, err, 2
        for i in range(n):
            u[i] = u_new[i]
        err = 0.0
        for c in range(row_err.shape[0]):
            err += row_err[c]
        for j in range(m):
            err += abs(v[j] * ktu[j] - b[j])
        if it < errs.shape[0]:
            errs[it] = err
        it += 1
        if err <= tol_abs:
            return it, err, 0
        for j in range(m):
            if omega == 1.0:
                x = b[j] / ktu[j]
            else:
                x = v[j] * (b[j] / (v[j] * ktu[j])) ** omega
            if not (lo < x < bound):
                ok = False
            ktu[j] = x
        if not ok:
            return it, err, 2
        for j in range(m):
            v[j] = ktu[j]
    return it, err, 1


@njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)
def plan_kernel(M, f, g, reg, P, rows, parts):
    """``P_ij = exp((f_i + g_j - M_ij) / reg)`` with row sums and column-sum blocks."""
    n, m = M.shape
    inv = 1.0 / reg
    for c in prange(parts.shape[0]):
        acc, start, stop = _open_block(parts, c, n)
        for i in range(start, stop):
            fi = f[i]
            s = 0.0
            for j in range(m):
                p = fast_exp((fi + g[j] - M[i, j]) * inv)
                P[i, j] = p
                s += p
                acc[j] += p
            rows[i] = s


@njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)
def scale_plan(K, u, v, P, rows, parts):
    """``P = diag(u) K diag(v)`` with row sums and column-sum blocks."""
    n, m = K.shape
    for c in prange(parts.shape[0]):
        acc, start, stop = _open_block(parts, c, n)
        for i in range(start, stop):
            ui = u[i]
            s = 0.0
            for j in range(m):
                p = ui * K[i, j] * v[j]
                P[i, j] = p
                s += p
                acc[j] += p
            rows[i] = s


@njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)
def plan_stats(M, P, rows, parts, costs):
    """Row sums of ``P``, column-sum blocks and per-block ``<M, P>`` in ``costs``.

    One pass over ``M`` and ``P`` for the result's marginals and cost (a
    BLAS dot product would be a second pass over ``P``, and would leave
    multi-threaded BLAS spinning on the cores, see ``_sinkhorn._threads_for``).
    """
    n, m = P.shape
    for c in prange(parts.shape[0]):
        acc, start, stop = _open_block(parts, c, n)
        cost = 0.0
        for i in range(start, stop):
            s = 0.0
            for j in range(m):
                p = P[i, j]
                s += p
                acc[j] += p
                cost += M[i, j] * p
            rows[i] = s
        costs[c] = cost
