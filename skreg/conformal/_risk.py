r"""Conformal risk control as pure functions on loss tables and loss breakpoints.

Notation (Angelopoulos et al., 2024): ``n`` calibration points with losses
:math:`L_i(\lambda) \in (-\infty, B]`, non-increasing in :math:`\lambda`
(a larger :math:`\lambda` gives a more conservative set or interval). The
calibrated threshold is

.. math::

    \hat\lambda = \inf\Big\{\lambda : \frac{n}{n+1} \hat R_n(\lambda)
                  + \frac{B}{n+1} \le \alpha\Big\},
    \qquad \hat R_n(\lambda) = \frac{1}{n}\sum_{i=1}^n L_i(\lambda),

equivalently :math:`\sum_i L_i(\lambda) \le \alpha (n+1) - B`, and
:math:`\lambda_{\max}` when no :math:`\lambda` qualifies. With weights
:math:`w_i = w(X_i)` and a test point of weight :math:`w = w(x)` the
condition becomes :math:`\sum_i w_i L_i(\lambda) \le \alpha(\sum_i w_i + w) - wB`
(covariate shift), one threshold per test point. Both are solved here by
one kernel, :class:`RiskProfile`, which sorts the loss breakpoints once.
"""

import numbers
import warnings

import numpy as np

# Relative slack on the comparison ``sum of losses <= target``: the sum of
# integer-valued losses is exact in floating point while ``alpha * (n + 1)``
# carries a rounding error; without it a target that is an integer in exact
# arithmetic could fall one ulp short and move lambda_hat by one breakpoint.
_RTOL = 1e-10


def check_alpha(alpha, name="alpha"):
    """Return ``alpha`` as a float after checking it lies in (0, 1)."""
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {alpha!r}.")
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1), got {alpha}.")
    return alpha


def check_bound(B, name="B"):
    """Return the loss bound ``B`` as a positive finite float."""
    if isinstance(B, (bool, np.bool_)) or not isinstance(B, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {B!r}.")
    B = float(B)
    if not (np.isfinite(B) and B > 0):
        raise ValueError(f"{name} must be positive and finite, got {B}.")
    return B


def _warn_lambda_max(alpha, B, n, what):
    warnings.warn(
        f"The risk cannot be controlled at alpha={alpha} with n={n} calibration "
        f"points (B={B}): {what}. Returning lambda_max (the most conservative "
        "prediction).", UserWarning, stacklevel=3)


class RiskProfile:
    r"""Exact weighted empirical risk :math:`\sum_i w_i L_i(\lambda)` of a set of losses.

    Each loss is piecewise of the form :math:`c_0 + c_1/\lambda` in
    :math:`\lambda`, described by its value at ``lambda_min`` and by *events*:
    at breakpoint :math:`b` its coefficients change by :math:`(\Delta c_0,
    \Delta c_1)` (right-continuous). A step :math:`h\,1\{\lambda < b\}` is the
    event :math:`(b, -h, 0)`. The events are sorted once (:math:`O(N \log N)`
    for :math:`N` events); the threshold for any target is then found by a
    binary search and, inside the crossing segment, in closed form, so the
    result is exact rather than read off a grid.

    Parameters
    ----------
    start : ndarray of shape (n,)
        Loss of each calibration point at ``lambda_min``.
    events : tuple of ndarrays ``(b, owner, d0, d1)``
        Breakpoints, the index of the point each belongs to, and the
        coefficient changes.
    weights : ndarray of shape (n,) or None
        Non-negative weights :math:`w_i` (``None``: all one).
    lambda_min, lambda_max : float
        Range of :math:`\lambda`.
    """

    def __init__(self, start, events, weights, lambda_min, lambda_max):
        b, owner, d0, d1 = events
        w = np.ones(start.shape[0]) if weights is None else weights
        self.lambda_min, self.lambda_max = float(lambda_min), float(lambda_max)
        self.total_weight = float(w.sum())
        self.start = float(w @ start)
        # Ties are merged below (only the sums after the last event of a tie
        # matter), so an unstable sort is enough.
        order = np.argsort(b)
        b = np.asarray(b, dtype=np.float64)[order]
        d0 = d0[order] if weights is None else w[owner[order]] * d0[order]
        c0 = self.start + np.cumsum(d0)
        last = np.r_[b[1:] != b[:-1], True] if b.size else np.zeros(0, dtype=bool)
        self.b, self.c0 = b[last], c0[last]
        if np.any(d1):
            d1 = d1[order] if weights is None else w[owner[order]] * d1[order]
            self.c1 = np.cumsum(d1)[last]
            with np.errstate(divide="ignore", invalid="ignore"):
                total = self.c0 + np.where(self.c1 != 0, self.c1 / self.b, 0.0)
        else:  # step losses: the sum is constant between breakpoints
            self.c1 = np.zeros_like(self.c0)
            total = self.c0
        # The exact sum is non-increasing; enforce it against rounding so that
        # the binary search below is valid.
        self.total = np.minimum.accumulate(total) if total.size else total
        self.at_min = float(self.risk(self.lambda_min))

    def risk(self, lam):
        """Weighted sum of the losses at each value of ``lam`` (exact)."""
        lam = np.asarray(lam, dtype=np.float64)
        j = np.searchsorted(self.b, lam, side="right") - 1
        c0 = np.where(j >= 0, self.c0[np.maximum(j, 0)] if self.b.size else 0.0, self.start)
        c1 = np.where(j >= 0, self.c1[np.maximum(j, 0)] if self.b.size else 0.0, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return c0 + np.where(c1 != 0, c1 / lam, 0.0)

    def solve(self, target):
        """Smallest ``lambda`` in range whose weighted loss sum is <= ``target``.

        ``target`` is an array; returns ``(lambdas, reached)`` where
        ``reached`` is False where no ``lambda <= lambda_max`` qualifies (the
        threshold is then ``lambda_max``).
        """
        target = np.asarray(target, dtype=np.float64)
        scale = max(1.0, abs(self.start), self.total_weight)
        t = target + _RTOL * scale
        lam = np.full(target.shape, np.inf)
        at_min = self.at_min <= t
        lam[at_min] = self.lambda_min
        j = np.searchsorted(-self.total, -t, side="left")
        inside = ~at_min & (j < self.b.size)
        if np.any(inside):
            ji = j[inside]
            right = self.b[ji]
            prev = np.maximum(ji - 1, 0)
            has_prev = ji >= 1
            left = np.where(has_prev, self.b[prev], self.lambda_min)
            c0 = np.where(has_prev, self.c0[prev], self.start)
            c1 = np.where(has_prev, self.c1[prev], 0.0)
            # On [left, right) the sum is c0 + c1 / lambda: with c1 > 0 it
            # decreases and may cross the target inside the segment.
            with np.errstate(divide="ignore", invalid="ignore"):
                # The exact target, not the slackened one, so that the risk
                # at the root is <= alpha up to rounding.
                ti = np.maximum(target[inside], c0)
                root = np.where((c1 > 0) & (ti > c0), c1 / (ti - c0), right)
            lam[inside] = np.clip(root, left, right)
        reached = (at_min | inside) & (lam <= self.lambda_max)
        lam[~reached] = self.lambda_max
        return lam, reached


def _crc_target(alpha, B, total_weight, test_weight):
    """Right-hand side ``alpha (W + w) - w B`` of the weighted CRC condition."""
    return alpha * (total_weight + test_weight) - test_weight * B


# ---------------------------------------------------------------- loss tables
def check_loss_table(loss_table, lambdas, B, monotonize):
    """Validate a loss table against its grid; monotonise it on request (a copy)."""
    try:
        L = np.array(loss_table, dtype=np.float64, copy=True)
        lam = np.array(lambdas, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError("loss_table and lambdas must be arrays of numbers.") from exc
    if L.ndim != 2:
        raise ValueError(f"loss_table must be 2-D (n_samples, n_lambdas), got shape {L.shape}.")
    if lam.ndim != 1 or lam.shape[0] != L.shape[1]:
        raise ValueError(
            f"lambdas must be 1-D with one entry per column of loss_table "
            f"({L.shape[1]}), got shape {lam.shape}.")
    if L.shape[0] < 1:
        raise ValueError("loss_table has 0 rows: at least one calibration sample is needed.")
    if L.shape[1] < 1:
        raise ValueError("lambdas is empty: at least one candidate lambda is needed.")
    if np.any(np.isnan(lam)) or np.any(np.diff(lam) <= 0):
        raise ValueError("lambdas must be strictly increasing (and not NaN).")
    if not np.all(np.isfinite(L)):
        raise ValueError("loss_table must be finite (no NaN or inf).")
    if np.any(L > B):
        raise ValueError(
            f"loss_table must take values in (-inf, B] with B={B}, got a maximum of "
            f"{L.max()}: give the loss's true bound B.")
    drops = np.diff(L, axis=1) > 0
    if np.any(drops):
        i, j = np.argwhere(drops)[0]
        if not monotonize:
            raise ValueError(
                "loss_table must be non-increasing in lambda along each row (conformal "
                f"risk control needs monotone losses); row {i} increases between "
                f"lambdas[{j}] and lambdas[{j + 1}]. Pass monotonize=True to replace "
                "L_i(lambda) by sup_{lambda' >= lambda} L_i(lambda').")
        warnings.warn(
            f"loss_table is not non-increasing in lambda ({int(drops.any(axis=1).sum())} "
            "rows); it was monotonised as sup_{lambda' >= lambda} L_i(lambda'), which "
            "keeps the guarantee but makes the sets more conservative.",
            UserWarning, stacklevel=3)
        L = np.maximum.accumulate(L[:, ::-1], axis=1)[:, ::-1]
    return L, lam


class GridProfile:
    r"""Weighted risk :math:`\sum_i w_i L_i(\lambda_j)` of a loss table on its grid.

    Same ``solve`` interface as :class:`RiskProfile`; the sums are one
    matrix-vector product, :math:`O(nm)`, with no sorting.
    """

    def __init__(self, L, lambdas, weights):
        w = np.ones(L.shape[0]) if weights is None else weights
        self.lambdas = lambdas
        self.lambda_min, self.lambda_max = float(lambdas[0]), float(lambdas[-1])
        self.total_weight = float(w.sum())
        self.start = float(w @ L[:, 0])
        # Non-increasing in exact arithmetic; enforced against rounding.
        self.total = np.minimum.accumulate(w @ L)

    def solve(self, target):
        target = np.asarray(target, dtype=np.float64)
        scale = max(1.0, abs(self.start), self.total_weight)
        j = np.searchsorted(-self.total, -(target + _RTOL * scale), side="left")
        reached = j < self.total.size
        return self.lambdas[np.minimum(j, self.total.size - 1)].astype(np.float64), reached


def conformal_risk_control(loss_table, lambdas, alpha, *, B=1.0, monotonize=False):
    r"""Conformal risk control threshold on a grid of ``lambda`` values.

    .. math::

        \hat\lambda = \min\Big\{\lambda_j : \frac{n}{n+1}\hat R_n(\lambda_j)
                      + \frac{B}{n+1} \le \alpha\Big\},

    and ``lambdas[-1]`` (with a warning) when no grid value qualifies, in
    particular whenever :math:`\alpha < B/(n+1)`. If the losses are
    exchangeable, non-increasing in :math:`\lambda` and bounded by ``B``,
    :math:`E[L_{n+1}(\hat\lambda)] \le \alpha`.

    Parameters
    ----------
    loss_table : array-like of shape (n_samples, n_lambdas)
        ``loss_table[i, j]`` is :math:`L_i(\lambda_j)`, in :math:`(-\infty, B]`,
        non-increasing along each row.
    lambdas : array-like of shape (n_lambdas,)
        Strictly increasing grid; the last value plays :math:`\lambda_{\max}`.
    alpha : float in (0, 1)
        Target risk level.
    B : float, default=1.0
        Upper bound of the losses.
    monotonize : bool, default=False
        If the rows are not non-increasing, raise (``False``) or replace them
        by :math:`\sup_{\lambda' \ge \lambda} L_i(\lambda')` with a warning.

    Returns
    -------
    lambda_hat : float

    See Also
    --------
    conformal_risk_control_exact : Exact threshold from the loss breakpoints.

    References
    ----------
    A. N. Angelopoulos, S. Bates, A. Fisch, L. Lei, T. Schuster, "Conformal
    Risk Control", ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import conformal_risk_control
    >>> scores = np.array([0.3, 1.2, 0.7, 2.5, 0.1, 0.9, 1.8, 0.4, 1.1])
    >>> lambdas = np.linspace(0, 3, 31)
    >>> table = (scores[:, None] > lambdas).astype(float)   # miscoverage
    >>> float(conformal_risk_control(table, lambdas, alpha=0.2))
    1.8
    """
    alpha, B = check_alpha(alpha), check_bound(B)
    L, lam = check_loss_table(loss_table, lambdas, B, monotonize)
    n = L.shape[0]
    profile = GridProfile(L, lam, None)
    value, reached = profile.solve(np.array([_crc_target(alpha, B, n, 1.0)]))
    if not reached[0]:
        _warn_lambda_max(alpha, B, n, "alpha < B/(n+1)" if alpha * (n + 1) < B
                         else "no lambda on the grid qualifies")
    return float(value[0])


def _check_weights(weights, n, name):
    try:
        w = np.array(weights, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers.") from exc
    if w.ndim != 1 or (n is not None and w.shape[0] != n):
        raise ValueError(f"{name} must be 1-D of length {n}, got shape {w.shape}.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name} must be finite and non-negative (a likelihood ratio).")
    return w


def _weighted_solve(profile, n, alpha, B, test_weights):
    w_test = _check_weights(test_weights, None, "test_weights")
    if profile.total_weight <= 0:
        raise ValueError("weights are all zero: at least one must be positive.")
    target = _crc_target(alpha, B, profile.total_weight, w_test)
    lam, reached = profile.solve(target)
    if not np.all(reached):
        _warn_lambda_max(alpha, B, n, f"{int((~reached).sum())} of {w_test.size} test "
                         "points have a likelihood ratio too large for the calibration weights")
    return lam


def weighted_conformal_risk_control(loss_table, lambdas, alpha, weights, test_weights, *,
                                    B=1.0, monotonize=False):
    r"""Conformal risk control under covariate shift, one threshold per test point.

    With likelihood ratio :math:`w = dP_{\text{test}}/dP_{\text{train}}`
    (known up to a constant), calibration weights :math:`w_i = w(X_i)` and a
    test point of weight :math:`w(x)`,

    .. math::

        \hat\lambda(x) = \min\Big\{\lambda_j : \frac{\sum_i w_i L_i(\lambda_j)
        + w(x) B}{\sum_i w_i + w(x)} \le \alpha\Big\}.

    Parameters
    ----------
    loss_table, lambdas, alpha, B, monotonize
        As in :func:`conformal_risk_control`.
    weights : array-like of shape (n_samples,)
        :math:`w(X_i)` of the calibration points, non-negative.
    test_weights : array-like of shape (n_test,)
        :math:`w(x)` of the test points, non-negative.

    Returns
    -------
    lambda_hat : ndarray of shape (n_test,)

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import weighted_conformal_risk_control
    >>> scores = np.arange(1.0, 20.0)
    >>> table = (scores[:, None] > scores).astype(float)
    >>> weighted_conformal_risk_control(table, scores, 0.2, np.ones(19), [1.0, 3.0])
    array([16., 18.])
    """
    alpha, B = check_alpha(alpha), check_bound(B)
    L, lam = check_loss_table(loss_table, lambdas, B, monotonize)
    w = _check_weights(weights, L.shape[0], "weights")
    return _weighted_solve(GridProfile(L, lam, w), L.shape[0], alpha, B, test_weights)


def quantile_risk_control(loss_table, lambdas, alpha, beta, *, monotonize=False):
    r"""Control the ``beta``-quantile of the loss rather than its mean.

    Runs :func:`conformal_risk_control` on the indicator losses
    :math:`1\{L_i(\lambda) > \alpha\}` (bound 1, still non-increasing) at
    level :math:`1 - \beta`, so that
    :math:`P(L_{n+1}(\hat\lambda) > \alpha) \le 1 - \beta`: the
    :math:`\beta`-quantile of the test loss is at most :math:`\alpha`.

    Parameters
    ----------
    loss_table, lambdas, monotonize
        As in :func:`conformal_risk_control` (any upper bound).
    alpha : float
        Loss level whose exceedance is controlled (any real number).
    beta : float in (0, 1)
        Quantile level.

    Returns
    -------
    lambda_hat : float

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import quantile_risk_control
    >>> rng = np.random.default_rng(0)
    >>> lambdas = np.linspace(0, 1, 101)
    >>> table = np.clip(rng.uniform(size=(200, 1)) - lambdas, 0, None)
    >>> float(quantile_risk_control(table, lambdas, alpha=0.1, beta=0.9))
    0.84
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a real number, got {alpha!r}.")
    beta = check_alpha(beta, "beta")
    L, lam = check_loss_table(loss_table, lambdas, np.inf, monotonize)
    return conformal_risk_control((L > alpha).astype(np.float64), lam, 1.0 - beta, B=1.0)


def multi_risk_control(loss_tables, lambdas, alphas, *, B=1.0, monotonize=False):
    r"""Control several risks at once: :math:`\hat\lambda = \max_k \hat\lambda_k`.

    :math:`\hat\lambda_k` is the :func:`conformal_risk_control` threshold of
    risk :math:`k` at level :math:`\alpha_k`; as every loss is non-increasing,
    the largest one controls all of them:
    :math:`E[L^{(k)}_{n+1}(\hat\lambda)] \le E[L^{(k)}_{n+1}(\hat\lambda_k)] \le \alpha_k`.

    Parameters
    ----------
    loss_tables : sequence of array-likes of shape (n_samples, n_lambdas)
        One loss table per risk, on the same grid.
    lambdas : array-like of shape (n_lambdas,)
    alphas : sequence of floats in (0, 1)
        One level per risk.
    B : float or sequence of floats, default=1.0
        Bound of each loss.
    monotonize : bool, default=False

    Returns
    -------
    lambda_hat : float

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import multi_risk_control
    >>> scores = np.linspace(0.05, 1.0, 20)
    >>> lambdas = np.linspace(0, 1, 21)
    >>> miss = (scores[:, None] > lambdas).astype(float)
    >>> excess = np.clip(scores[:, None] - lambdas, 0, 1)
    >>> round(multi_risk_control([miss, excess], lambdas, [0.3, 0.05]), 6)
    0.95
    """
    tables = list(loss_tables)
    if not tables:
        raise ValueError("loss_tables is empty: give at least one loss table.")
    alphas = np.atleast_1d(np.asarray(alphas, dtype=object))
    Bs = np.broadcast_to(np.asarray(B, dtype=object), (len(tables),))
    if alphas.shape != (len(tables),):
        raise ValueError(f"alphas must have one level per loss table ({len(tables)}), "
                         f"got {alphas.shape[0]}.")
    return max(conformal_risk_control(t, lambdas, a, B=b, monotonize=monotonize)
               for t, a, b in zip(tables, alphas, Bs))
