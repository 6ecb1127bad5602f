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
   active at the previous solution (the strong set when there are none).
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

import functools
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._base import FitResult
from ._design import LinearDesign, vdot
from ._group_slope_groups import GroupPartition, check_groups
from ._group_slope_prox import group_norms, sorted_dual_ratio
from ._group_slope_solver import fista_group_slope, lipschitz_constant
from ._slope import check_screening
from ._slope_sequences import check_lambdas
from ._sorted_l1 import _prox_sorted_l1, strong_set_size


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


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
        self.n_samples, self.n_features = X.shape
        self.partition = (groups if isinstance(groups, GroupPartition)
                          else check_groups(groups, self.n_features))
        self.screening = check_screening(screening)
        self.sqrt_q = np.sqrt(q)
        self.y_scaled = self.sqrt_q * self.design.y
        self.scale = 0.5 * vdot(q, self.design.y * self.design.y)
        self._cache = {}
        self._state = {}
        self._alpha_max = None
        self.stats = []

    # -- data of a set of groups ----------------------------------------
    def _sub(self, groups):
        key = groups.tobytes()
        if key not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(next(iter(self._cache)))
            part, idx = self.partition.restrict(groups)
            A = self.design.columns(idx) * self.sqrt_q[:, None]
            A = self._scale_columns(A, idx)
            A = np.asfortranarray(A)
            self._cache[key] = (A, part, idx, lipschitz_constant(A))
        return self._cache[key]

    def _scale_columns(self, A, idx):
        return A

    def _full_corr(self, b):
        r = self.design.y - self.design.matvec(b)
        return r, self.design.corr(r)

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
            self._alpha_max = self._compute_alpha_max(self.design.corr(self.design.y))
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
            c = self.design.corr(self.design.y)
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

    _strong_size = staticmethod(strong_set_size)

    def solve(self, alpha, coef_init, tol, max_iter, warn=True):
        # Single-threaded BLAS: the products here take about a millisecond,
        # and waking OpenBLAS threads on a busy machine costs ten times that.
        with _blas_controller().limit(limits=1, user_api="blas"):
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
        # set (Tibshirani et al. 2012, sec. 7).
        work = self._active_groups(b)
        if self.screening is None or not work.any():
            work = strong.copy()
        n_iter = n_refits = n_violations = 0
        tol_sub = tol_abs
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
            elif not work.all() and tol_sub > 1e-4 * tol_abs:
                # No violator yet no certificate: the sub-problem needs accuracy.
                tol_sub *= 0.1
            else:
                work[:] = True
                tol_sub = tol_abs
        self.stats.append((n_first, n_violations, n_refits))
        self._state = {"coef": b.copy(), "alpha": alpha, "corr": c}
        if warn and not converged:
            warnings.warn(
                f"Objective did not converge: duality gap {gap:.3e} > tol * scale "
                f"{tol_abs:.3e} after {n_iter} iterations. Increase max_iter or tol.",
                ConvergenceWarning,
            )
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

    def _scale_columns(self, A, idx):
        return A / self.partition.feature_weights()[idx]

    def _compute_alpha_max(self, c0):
        return sorted_dual_ratio(self._group_stat(c0), self.lambdas)

    def _screen_stat(self, c, alpha):
        return self._group_stat(c)

    def _fit_sub(self, groups, alpha, b, tol, max_iter):
        if groups.size == 0:
            return 0
        A, part, idx, lips = self._sub(groups)
        wf = self.partition.feature_weights()[idx]
        x = b[idx] * wf
        n_iter, _ = fista_group_slope(A, self.y_scaled, x, alpha * self.lambdas[:part.n_groups],
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
