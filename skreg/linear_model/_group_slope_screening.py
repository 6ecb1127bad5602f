r"""Problem objects of Group SLOPE and Sparse-group SLOPE, with strong screening.

A problem object (the interface of ``_base``: ``alpha_max()`` and
``solve(alpha, coef_init, tol, max_iter, warn)``) fits on the columns of a
*screened* set of groups and checks the optimality conditions on all of
them, following Feser and Evangelou (2024), "Strong screening rules for
group-based SLOPE models":

1. **Strong rule.** With :math:`c` the gradient at the previous solution
   (``alpha_prev``), the group statistic :math:`\nu_g = \|c_g\| / \sqrt{p_g}`
   (Sparse-group SLOPE: the same on the gradient soft-thresholded by the
   sorted-L1 term at the new alpha) is sorted and scanned with the sequential
   rule of Larsson et al. (2020); the strong set is its top groups plus the
   groups active at the previous solution.
2. **Fit** on a working set (numba, ``_group_slope_solver``): the groups
   active at the previous solution, the previous working set and the
   groups whose KKT statistic, extrapolated linearly from the last two
   solutions of the path, reaches the threshold at the new alpha
   (``_predicted``; the strong set when there are none), to 100 times the
   target duality gap
   while the checks below keep adding groups, then to the target. On
   sparse ``X`` the solvers run on the CSC columns of these groups, never
   on a dense copy.
3. **KKT check** on every group, from the full gradient; the groups outside
   the working set that violate it are added and the fit is repeated (a
   *refit*). Checking the strong set first and everything else next, as
   glmnet does (Tibshirani et al. 2012, sec. 7), costs nothing more here
   because the full gradient is one matrix-vector product; the strong set
   is then what tells expected additions from failures of the rule.

The reported duality gap is computed on the full problem, so screening can
only cost refits, never accuracy. ``stats`` holds, for every ``solve``,
``(n_screened, n_violations, n_refits)`` counted in groups: the size of the
strong set, the groups the KKT checks added although the strong rule had
discarded them, and the number of refits.
"""

import numpy as np
import scipy.sparse as sp

from ..utils._threads import single_threaded_blas
from ._base import FitResult, warn_not_converged
from ._design import LinearDesign, vdot
from ._group_slope_groups import GroupPartition, check_groups
from ._group_slope_prox import group_norms, sorted_dual_ratio
from ._group_slope_solver import (
    _matvec,
    _rmatvec,
    dense_operator,
    fista_group_slope,
    lipschitz_constant,
    sparse_lipschitz,
    sparse_operator,
    sparse_row_gram,
    top_eigenvalue,
)
from ._path import ScreeningStats
from ._slope import check_screening
from ._slope_sequences import check_lambdas
from ._sorted_l1 import _prox_sorted_l1, strong_set_size

# Largest side of a Gram matrix formed for a Lipschitz constant (as in
# ``lipschitz_constant``; power iterations beyond).
_GRAM_MAX = 2000
# Tolerance of the first fits of a working set, in units of the target.
_LOOSE = 100.0
# Sub-problem tolerance divisions by 10 before a fit on every group.
_MAX_TIGHTENINGS = 3
# Relative margin below the KKT threshold at which a group is predicted to
# enter (``_predicted``).
_PREDICT_MARGIN = 0.005


def _sorted_l1(values, lam):
    return float(np.sort(np.abs(values))[::-1] @ lam)


def _prox_l1_sorted(c, lam):
    out = np.empty_like(c)
    if c.size:
        _prox_sorted_l1(np.ascontiguousarray(c, dtype=np.float64), lam, out)
    return out


class _GroupProblem:
    """Shared screening driver; subclasses define the penalty-specific parts."""

    def __init__(self, X, y, q, weights, fit_intercept, *, groups, screening="strong"):
        self.design = LinearDesign(X, y, q, center=fit_intercept)
        self._X_csc = sp.csc_matrix(X) if sp.issparse(X) else None
        self.n_samples, self.n_features = X.shape
        self.partition = (groups if isinstance(groups, GroupPartition)
                          else check_groups(groups, self.n_features))
        self.screening = check_screening(screening)
        self.sqrt_q = np.sqrt(q)
        self.y_scaled = self.sqrt_q * self.design.y
        self.scale = 0.5 * vdot(q, self.design.y * self.design.y)
        self._cache = {}
        self._gram = None
        self._full_op = None
        self._state = {}
        self._alpha_max = None
        self.stats = []

    # -- data of a set of groups ----------------------------------------
    def _sub(self, groups):
        """Operator, sub-partition, feature indices and Lipschitz constant of ``groups``.

        The operator is ``diag(sqrt(q)) X_c`` on the columns of the groups,
        times the column scaling of the subclass. Dense ``X``: a dense
        copy of the block; sparse ``X``: its CSC columns, centred and scaled
        on the fly by the kernels (no densification).
        """
        key = groups.tobytes()
        if key not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(next(iter(self._cache)))
            part, idx = self.partition.restrict(groups)
            scale = self._column_scale(idx)
            A = None
            if self._X_csc is not None:
                cols = self._X_csc[:, idx]
                op = sparse_operator(cols, self.design.X_mean[idx], self.sqrt_q, scale)
            else:
                A = self.design.columns(idx) * self.sqrt_q[:, None]
                A = np.asfortranarray(A * scale)
                op = dense_operator(A)
            if self.n_samples < idx.size and self.n_samples <= _GRAM_MAX:
                lips = self._row_gram_lipschitz(idx, op, A)
            elif A is not None:
                lips = lipschitz_constant(A)
            else:
                lips = sparse_lipschitz(op, cols, scale)
            self._cache[key] = (op, part, idx, lips)
        return self._cache[key]

    def _row_gram_lipschitz(self, idx, op, A):
        """``||A||^2`` through ``A A^T``, updated from the last one by the columns that changed.

        Along a path the working sets of successive fits differ by a few
        groups: adding and removing their rank-``p_g`` terms costs far less
        than forming the Gram matrix again.
        """
        feats = np.zeros(self.n_features, dtype=bool)
        feats[idx] = True
        gram = None
        if self._gram is not None:
            old, old_gram = self._gram
            added = np.flatnonzero(feats & ~old)
            removed = np.flatnonzero(old & ~feats)
            if added.size + removed.size < idx.size:
                gram = old_gram.copy()
                for cols, sign in ((added, 1.0), (removed, -1.0)):
                    if cols.size:
                        B = self.design.columns(cols) * self.sqrt_q[:, None]
                        B *= self._column_scale(cols)
                        gram += sign * (B @ B.T)
        if gram is None:
            gram = A @ A.T if A is not None else sparse_row_gram(op, self.n_samples)
        self._gram = (feats, gram)
        return top_eigenvalue(gram)

    def _column_scale(self, idx):
        return np.ones(idx.size)

    def _corr(self, r):
        """``X_c^T (q * r)``; on sparse ``X`` with the solvers' kernel over all columns."""
        if self._X_csc is None:
            return self.design.corr(r)
        out = np.empty(self.n_features)
        _rmatvec(self._full_operator(), self.sqrt_q * r, out, np.empty(self.n_samples))
        return out

    def _full_operator(self):
        if self._full_op is None:
            self._full_op = sparse_operator(self._X_csc, self.design.X_mean, self.sqrt_q,
                                            np.ones(self.n_features))
        return self._full_op

    def _full_corr(self, b):
        if self._X_csc is None:
            r = self.design.y - self.design.matvec(b)
        else:
            # ``X_c b`` with the kernel, which skips the zero coefficients.
            op = self._full_operator()
            op = op[:5] + (np.ones(self.n_samples), True)
            Xb = np.empty(self.n_samples)
            _matvec(op, b, Xb)
            r = self.design.y - Xb
        return r, self._corr(r)

    def _group_stat(self, c):
        """``||c_g|| / sqrt(p_g)`` for every group."""
        part = self.partition
        norms = np.empty(part.n_groups)
        group_norms(np.ascontiguousarray(c, dtype=np.float64), part.order, part.starts, norms)
        return norms / part.weights

    def _dual_gap(self, r, primal, ratio):
        s = max(1.0, ratio)
        diff = self.design.y - r / s
        dual = 0.5 * (vdot(self.design.q, self.design.y ** 2)
                      - vdot(self.design.q, diff * diff))
        return max(primal - dual, 0.0)

    def _active_groups(self, b):
        nz = np.zeros(self.partition.n_groups, dtype=bool)
        nz[self.partition.group_of[b != 0]] = True
        return nz

    # -- the driver ------------------------------------------------------
    def alpha_max(self):
        if self._alpha_max is None:
            self._alpha_max = self._compute_alpha_max(self._corr(self.design.y))
        return self._alpha_max

    def _strong_set(self, alpha, b):
        """Strong-rule groups plus the active ones (every group without screening)."""
        part = self.partition
        if self.screening is None or part.n_groups == 1:
            return np.ones(part.n_groups, dtype=bool)
        st = self._state
        if st and np.array_equal(st["coef"], b):
            alpha_prev, c = st["alpha"], st["corr"]
        elif not np.any(b):
            alpha_prev = max(self.alpha_max(), alpha)
            c = self._corr(self.design.y)
        else:
            alpha_prev, c = alpha, self._full_corr(b)[1]
        # Sparse-group SLOPE: the gradient soft-thresholded at the new alpha
        # (the part the group term must absorb there).
        stat = self._screen_stat(c, alpha)
        lam = self._group_lambdas()
        order = np.argsort(-stat, kind="stable")
        k = self._strong_size(stat[order], alpha_prev * lam, alpha * lam)
        strong = self._active_groups(b)
        strong[order[:k]] = True
        return strong

    def _predicted(self, alpha, work):
        """Groups outside ``work`` predicted to violate the KKT checks at ``alpha``.

        The gradient is extrapolated linearly in alpha from the last two
        solutions of the path, and the groups outside ``work`` are scanned,
        largest statistic first, against the penalty sequence past the
        ``work`` groups (slightly lowered by ``_PREDICT_MARGIN``), with the
        sequential rule of the strong set. A heuristic: the KKT checks
        still decide, it only saves refits (on the sparse benchmark of
        Group SLOPE, 21 refits fall to none).
        """
        st = self._state
        if st.get("prev") is None:
            return np.empty(0, dtype=np.int64)
        c0, a0 = st["prev"]
        c1, a1 = st["corr"], st["alpha"]
        if not a0 > a1 > alpha:
            return np.empty(0, dtype=np.int64)
        c_ext = c1 + (c1 - c0) * ((a1 - alpha) / (a0 - a1))
        stat = self._screen_stat(c_ext, alpha)
        outside = np.flatnonzero(~work)
        k = work.size - outside.size
        order = outside[np.argsort(-stat[outside], kind="stable")]
        lam = (alpha * (1.0 - _PREDICT_MARGIN)) * self._group_lambdas()[k:]
        kk = strong_set_size(stat[order], lam, lam)
        return order[:kk]

    _strong_size = staticmethod(strong_set_size)
    _always_loose = False

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        # Single-threaded BLAS: the products here take about a millisecond,
        # and waking OpenBLAS threads on a busy machine costs ten times that.
        with single_threaded_blas():
            return self._solve(alpha, coef_init, tol, max_iter, warn)

    def _solve(self, alpha, coef_init, tol, max_iter, warn):
        if alpha <= 0 < self.alpha_max():
            raise ValueError(f"alpha must be positive for the group SLOPE models, got "
                             f"{alpha} (use LinearRegression for an unpenalised fit).")
        p = self.n_features
        b = np.zeros(p) if coef_init is None else np.array(coef_init, dtype=np.float64)
        tol_abs = tol * self.scale
        if alpha >= self.alpha_max():
            b[:] = 0.0  # the exact solution; the check below certifies it
        strong = self._strong_set(alpha, b)
        n_first = int(strong.sum())
        # Fit first on the active groups (the strong set when there are none)
        # and let the KKT checks add the rest, as glmnet does with its strong
        # set (Tibshirani et al. 2012, sec. 7). Along a path, the working set
        # of the previous step is kept too: its groups that ended at zero sit
        # on the KKT boundary and often enter at the next alpha (Sparse-group
        # SLOPE, l1_ratio=0.5, on the sparse benchmark: a fifth fewer fits).
        work = self._active_groups(b)
        st = self._state
        predicted = np.empty(0, dtype=np.int64)
        if (self.screening is not None and st and np.array_equal(st["coef"], b)
                and not st["work"].all()):
            work |= st["work"]
            # Groups whose KKT statistic, extrapolated along the path, reaches
            # the threshold at this alpha: fitting them now saves the refit.
            predicted = self._predicted(alpha, work)
            work[predicted] = True
            # Those the strong rule discarded count as its violations if
            # they enter the model (as the KKT checks would have added them).
            predicted = predicted[~strong[predicted]]
        if self.screening is None or not work.any():
            work = strong.copy()
        n_iter = n_refits = n_violations = n_tightened = 0
        # A working set that misses groups is a different problem: fit it
        # loosely first, and to the target accuracy once no group is missing.
        # Group SLOPE (short FISTA fits) does so only after a step that needed
        # refits: when the working set is usually complete, the loose fit
        # costs an extra check per step, which is not small next to its fits.
        loose = not work.all() and (self._always_loose or st.get("n_refits", 0) > 0)
        tol_sub = _LOOSE * tol_abs if loose else tol_abs
        converged = False
        gap = np.inf
        while True:
            if not b.any() and alpha >= self.alpha_max():
                r, c = self._full_corr(b)
                gap, _ = self._check(alpha, b, r, c, work)
                converged = True
                break
            groups = np.flatnonzero(work)
            b[np.isin(self.partition.group_of, groups, invert=True)] = 0.0
            n_iter += self._fit_sub(groups, alpha, b, tol_sub, max(max_iter - n_iter, 1))
            r, c = self._full_corr(b)
            gap, violators = self._check(alpha, b, r, c, work)
            if gap <= tol_abs:
                converged = True
                break
            if n_iter >= max_iter:
                break
            if violators.size:
                work[violators] = True
                n_refits += 1
                # Violations of the strong rule itself: groups it discarded.
                n_violations += int(np.count_nonzero(~strong[violators]))
                strong[violators] = True
            elif tol_sub > tol_abs:
                tol_sub = tol_abs
            elif not work.all() and n_tightened < _MAX_TIGHTENINGS:
                # No violator yet no certificate: the sub-problem needs accuracy.
                # (Counted, not compared with a floor: a float comparison let
                # the tolerance fall out of reach and exhaust max_iter.)
                tol_sub *= 0.1
                n_tightened += 1
            else:
                work[:] = True
                tol_sub = tol_abs
        if predicted.size:
            n_violations += int(np.count_nonzero(self._active_groups(b)[predicted]))
        self.stats.append(ScreeningStats(n_first, n_violations, n_refits))
        self._state = {"coef": b.copy(), "alpha": alpha, "corr": c, "work": work,
                       "n_refits": n_refits,
                       "prev": (st["corr"], st["alpha"]) if st else None}
        if warn and not converged:
            warn_not_converged(gap, tol_abs, n_iter, unit="iterations",
                               scale_features=False)
        # A solve that only certifies its starting point counts as one iteration.
        return FitResult(b, self.design.intercept(b), gap, max(n_iter, 1), converged)


class GroupSLOPEProblem(_GroupProblem):
    r"""``(1/2) sum_i q_i r_i^2 + alpha sum_k lambda_k (sqrt(p_g) ||b_g||)_(k)``."""

    def __init__(self, X, y, q, weights, fit_intercept, *, groups, lambdas="bh",
                 q_level=0.1, screening="strong"):
        super().__init__(X, y, q, weights, fit_intercept, groups=groups,
                         screening=screening)
        self.lambdas = check_lambdas(lambdas, self.partition.n_groups, "lambdas",
                                     q=q_level, n_samples=self.n_samples)

    def _group_lambdas(self):
        return self.lambdas

    def _column_scale(self, idx):
        return 1.0 / self.partition.feature_weights()[idx]

    def _compute_alpha_max(self, c0):
        return sorted_dual_ratio(self._group_stat(c0), self.lambdas)

    def _screen_stat(self, c, alpha):
        return self._group_stat(c)

    def _fit_sub(self, groups, alpha, b, tol, max_iter):
        if groups.size == 0:
            return 0
        op, part, idx, lips = self._sub(groups)
        wf = self.partition.feature_weights()[idx]
        x = b[idx] * wf
        n_iter, _ = fista_group_slope(op, self.y_scaled, x, alpha * self.lambdas[:part.n_groups],
                                      part.order, part.starts, lips, tol, max_iter)
        b[idx] = x / wf
        return n_iter

    def penalty(self, alpha, b):
        part = self.partition
        norms = np.empty(part.n_groups)
        group_norms(b, part.order, part.starts, norms)
        return alpha * _sorted_l1(norms * part.weights, self.lambdas)

    def _check(self, alpha, b, r, c, strong):
        primal = 0.5 * vdot(self.design.q, r * r) + self.penalty(alpha, b)
        stat = self._group_stat(c)
        lam = alpha * self.lambdas
        gap = self._dual_gap(r, primal, sorted_dual_ratio(stat, lam))
        return gap, _violators(stat, lam, strong)


def _violators(stat, lam, strong):
    """Groups outside ``strong`` in the prefix of ``stat`` that breaks the KKT check."""
    order = np.argsort(-stat, kind="stable")
    k = strong_set_size(stat[order], lam, lam)
    top = order[:k]
    return top[~strong[top]]
