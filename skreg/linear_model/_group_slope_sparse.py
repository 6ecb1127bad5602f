r"""Problem object of Sparse-group SLOPE (screening driver in ``_group_slope_screening``).

The penalty :math:`\alpha[a J_v(b) + (1 - a) J_w(Wb)]` (:math:`a` = ``l1_ratio``)
is a sum of two norms, so its dual norm is an infimal convolution,

.. math::

    P^*(c) = \min_{c_1 + c_2 = c} \max\Big(\frac{J_v^*(c_1)}{\alpha a},
    \frac{J_w^*(W^{-1} c_2)}{\alpha (1 - a)}\Big),

and every split of the gradient gives an upper bound, hence a feasible dual
point and a rigorous duality gap. Two splits are tried and the better kept:

* the solver's own: on the fitted groups, :math:`c_2 = W u` with ``u`` the
  Condat-Vu dual iterate; outside them, :math:`c_1` is :math:`c` clipped at
  the largest level that keeps :math:`J_v^*(c_1)` within its bound;
* the *soft-thresholded gradient* of Feser and Evangelou (2024):
  :math:`c_1` the projection of :math:`c` on the dual ball of
  :math:`\alpha a J_v`, i.e. :math:`c_2 = \operatorname{prox}_{\alpha a J_v}(c)`.

On the fitted groups the first split is exact at the solution; a left-out
group that neither split certifies is added to the fit (a refit), so the
reported gap is never looser than the solver's own certificate on the
groups it fits. ``alpha_max`` is
the smallest alpha certified by the second split (found by bisection), so
the solution there is exactly zero; it can exceed the true threshold of the
infimal convolution when that split is not optimal at zero (by up to 0.5 per
cent in the tests, where cvxpy computes the exact threshold).
"""

import numpy as np

from ._design import vdot
from ._group_slope_groups import GroupPartition, check_groups, check_l1_ratio
from ._group_slope_prox import group_norms, sorted_dual_ratio
from ._group_slope_screening import (
    GroupSLOPEProblem,
    _GroupProblem,
    _prox_l1_sorted,
    _sorted_l1,
    _violators,
)
from ._group_slope_solver import pd_sparse_group_slope
from ._slope_sequences import check_lambdas

_BISECTION_STEPS = 20


class _SparseGroupSLOPEProblem(_GroupProblem):
    # Condat-Vu fits take hundreds to thousands of iterations: a loose first
    # fit of every working set costs little and saves refits at full accuracy.
    _always_loose = True

    def __init__(self, X, y, q, weights, fit_intercept, *, groups, l1_ratio,
                 var_lambdas, group_lambdas, screening):
        super().__init__(X, y, q, weights, fit_intercept, groups=groups,
                         screening=screening)
        self.l1_ratio = l1_ratio
        self.var_lambdas = var_lambdas
        self.group_lambdas = group_lambdas
        self._u = np.zeros(self.n_features)

    def _group_lambdas(self):
        return (1.0 - self.l1_ratio) * self.group_lambdas

    def _soft_threshold(self, c, alpha):
        return _prox_l1_sorted(c, alpha * self.l1_ratio * self.var_lambdas)

    def _screen_stat(self, c, alpha):
        return self._group_stat(self._soft_threshold(c, alpha))

    def _compute_alpha_max(self, c0):
        a = self.l1_ratio
        w_ratio = sorted_dual_ratio(self._group_stat(c0), self.group_lambdas)
        v_ratio = sorted_dual_ratio(np.abs(c0), self.var_lambdas)
        # Each penalty alone certifies zero at these alphas; bisect below.
        hi = min(w_ratio / (1.0 - a), v_ratio / a)
        lo = 0.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if mid <= 0.0 or hi - lo <= 1e-13 * hi:
                break
            if self._group_ratio_after_threshold(c0, mid) <= 1.0:
                hi = mid
            else:
                lo = mid
        return hi

    def _group_ratio_after_threshold(self, c, alpha):
        stat = self._screen_stat(c, alpha)
        return sorted_dual_ratio(stat, alpha * self._group_lambdas())

    def _fit_sub(self, groups, alpha, b, tol, max_iter):
        if groups.size == 0:
            return 0
        op, part, idx, lips = self._sub(groups)
        a = self.l1_ratio
        bs = b[idx].copy()
        us = self._u[idx].copy()
        n_iter, _ = pd_sparse_group_slope(
            op, self.y_scaled, bs, us, alpha * a * self.var_lambdas[:idx.size],
            alpha * (1.0 - a) * self.group_lambdas[:part.n_groups],
            self.partition.feature_weights()[idx], part.order, part.starts, lips, tol,
            max_iter)
        b[idx] = bs
        self._u[:] = 0.0
        self._u[idx] = us
        return n_iter

    def penalty(self, alpha, b):
        part = self.partition
        norms = np.empty(part.n_groups)
        group_norms(b, part.order, part.starts, norms)
        a = self.l1_ratio
        return alpha * (a * _sorted_l1(b, self.var_lambdas)
                        + (1.0 - a) * _sorted_l1(norms * part.weights, self.group_lambdas))

    def _split_ratios(self, c1, c2, alpha):
        v = alpha * self.l1_ratio * self.var_lambdas
        w = alpha * self._group_lambdas()
        stat = self._group_stat(c2)
        return max(sorted_dual_ratio(np.abs(c1), v), sorted_dual_ratio(stat, w)), stat

    def _solver_split(self, c, alpha, strong):
        """Split ``c`` with the solver's dual on the fitted groups, clipping elsewhere."""
        inside = np.isin(self.partition.group_of, np.flatnonzero(strong))
        c2 = np.zeros_like(c)
        c2[inside] = self.partition.feature_weights()[inside] * self._u[inside]
        c1 = c - c2
        out = ~inside
        if out.any():
            v = alpha * self.l1_ratio * self.var_lambdas
            c1_in = np.abs(c1[inside])
            c_out = np.abs(c[out])
            bound = max(1.0, sorted_dual_ratio(c1_in, v[:c1_in.size]))
            lo, hi = 0.0, float(c_out.max())

            def fits(tau):
                return sorted_dual_ratio(np.concatenate([c1_in, np.minimum(c_out, tau)]),
                                         v) <= bound

            if fits(hi):
                lo = hi
            else:
                for _ in range(_BISECTION_STEPS):
                    mid = 0.5 * (lo + hi)
                    lo, hi = (mid, hi) if fits(mid) else (lo, mid)
            c1[out] = np.clip(c[out], -lo, lo)
            c2[out] = c[out] - c1[out]
        return c1, c2

    def _check(self, alpha, b, r, c, strong):
        primal = 0.5 * vdot(self.design.q, r * r) + self.penalty(alpha, b)
        c2 = self._soft_threshold(c, alpha)
        ratio_st, stat_st = self._split_ratios(c - c2, c2, alpha)
        ratio_sv, stat_sv = self._split_ratios(*self._solver_split(c, alpha, strong), alpha)
        stat = stat_st if ratio_st <= ratio_sv else stat_sv
        gap = self._dual_gap(r, primal, min(ratio_st, ratio_sv))
        return gap, _violators(stat, alpha * self._group_lambdas(), strong)


def sparse_group_slope_problem(X, y, q, weights, fit_intercept, *, groups, l1_ratio=0.95,
                               var_lambdas="bh", group_lambdas="bh", q_level=0.1,
                               screening="strong"):
    """Problem object of Sparse-group SLOPE (``l1_ratio`` in {0, 1}: a Group SLOPE one).

    With ``l1_ratio == 0`` the penalty is Group SLOPE with ``group_lambdas``;
    with ``l1_ratio == 1`` it is SLOPE, i.e. Group SLOPE on singleton groups
    with ``var_lambdas``. Both are solved by the (faster) FISTA solver.
    """
    a = check_l1_ratio(l1_ratio)
    n_samples, n_features = X.shape
    part = groups if isinstance(groups, GroupPartition) else check_groups(groups, n_features)
    v = check_lambdas(var_lambdas, n_features, "var_lambdas", q=q_level, n_samples=n_samples)
    w = check_lambdas(group_lambdas, part.n_groups, "group_lambdas", q=q_level,
                      n_samples=n_samples)
    if a == 0.0:
        prob = GroupSLOPEProblem(X, y, q, weights, fit_intercept, groups=part, lambdas=w,
                                 screening=screening)
    elif a == 1.0:
        singletons = check_groups(1, n_features)
        prob = GroupSLOPEProblem(X, y, q, weights, fit_intercept, groups=singletons,
                                 lambdas=v, screening=screening)
    else:
        prob = _SparseGroupSLOPEProblem(X, y, q, weights, fit_intercept, groups=part,
                                        l1_ratio=a, var_lambdas=v, group_lambdas=w,
                                        screening=screening)
    prob.l1_ratio, prob.var_lambdas, prob.group_lambdas = a, v, w
    return prob
