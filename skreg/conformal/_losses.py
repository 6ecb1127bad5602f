r"""Losses for conformal risk control, with a string registry.

A loss knows its bound ``B`` and is non-increasing in :math:`\lambda` by
construction. Interval losses act on nonconformity scores :math:`r_i`, the
prediction at :math:`\lambda` being :math:`\{y : r(x, y) \le \lambda\}`; set
losses act on per-class scores :math:`s_{ik}` (``1 - p_k(x)``) and an
indicator matrix of true labels :math:`Y`, the set being
:math:`\{k : s_k \le \lambda\}`.

Built-in losses describe their exact shape in :math:`\lambda` as
breakpoint *events* for :class:`~skreg.conformal._risk.RiskProfile`
(calibration by sorting, no grid); :class:`CustomLoss` wraps a user
function and is calibrated on a grid.
"""

import numbers

import numpy as np

from ._risk import check_bound


def check_scores(scores, Y=None):
    """Validate scores (1-D, or 2-D with an indicator ``Y`` of the same shape)."""
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError("scores must be an array of numbers.") from exc
    if s.ndim not in (1, 2):
        raise ValueError(f"scores must be 1-D or 2-D, got shape {s.shape}.")
    if s.shape[0] < 1:
        raise ValueError("scores is empty: at least one calibration sample is needed.")
    if np.any(np.isnan(s)):
        raise ValueError("scores contain NaN.")
    if Y is not None:
        Y = np.asarray(Y)
        if Y.shape != s.shape or s.ndim != 2:
            raise ValueError(
                f"Y must be an indicator matrix of the same shape as 2-D scores, got "
                f"Y {Y.shape} and scores {s.shape}.")
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("Y must be a 0/1 (or boolean) indicator matrix.")
        Y = Y.astype(bool)
    elif s.ndim == 2:
        raise ValueError("2-D (per-class) scores need the indicator matrix Y.")
    return s, Y


class MiscoverageLoss:
    r"""Miscoverage :math:`1\{y \notin C_\lambda(x)\}`, bound ``B = 1``.

    For an interval it is :math:`1\{r > \lambda\}`; for a set,
    :math:`1\{Y \not\subseteq C_\lambda(x)\} = 1\{\max_{k \in Y} s_k > \lambda\}`
    (one label: the usual coverage; a multilabel ``Y``: all labels covered).
    """

    name = "miscoverage"
    B = 1.0
    kinds = ("interval", "set")

    def _reduce(self, scores, Y):
        if Y is None:
            return scores
        return np.where(Y, scores, -np.inf).max(axis=1)

    def events(self, scores, Y, lambda_min):
        r = self._reduce(scores, Y)
        late = r > lambda_min
        idx = np.flatnonzero(late)
        return late.astype(np.float64), (r[idx], idx, -np.ones(idx.size), np.zeros(idx.size))

    def values(self, scores, Y, lam):
        return (self._reduce(scores, Y) > lam).astype(np.float64)


class RelativeMissLoss:
    r"""Distance of ``y`` outside the interval relative to its half-width, capped at 1.

    .. math::

        L(\lambda) = \min\Big(1, \max\Big(0, \frac{r}{\lambda} - 1\Big)\Big),

    for a symmetric interval of half-width :math:`\lambda` (in score units)
    and a residual score :math:`r \ge 0`: zero when covered, growing with how
    far ``y`` misses relative to the interval's size, 1 beyond twice the
    half-width. Bound ``B = 1``; needs :math:`\lambda \ge 0`. Its risk is
    piecewise :math:`c_0 + c_1/\lambda`, so the threshold is still exact.
    """

    name = "relative_miss"
    B = 1.0
    kinds = ("interval",)

    def events(self, scores, Y, lambda_min):
        if lambda_min < 0:
            raise ValueError("loss='relative_miss' needs lambda >= 0 (a residual score such "
                             "as 'absolute' or 'normalized', not 'cqr').")
        r = scores
        idx = np.flatnonzero(r > lambda_min)
        start = np.zeros(r.size)
        # Starting at lambda_min = 0, L = 1; crossing r/2 it becomes r/lambda - 1,
        # crossing r it becomes 0. lambda_min > 0 is handled by clipping the
        # breakpoints, whose events then all apply at lambda_min.
        start[idx] = 1.0
        ri = r[idx]
        b = np.concatenate([np.maximum(ri / 2, lambda_min), ri])
        owner = np.concatenate([idx, idx])
        d0 = np.concatenate([-2.0 * np.ones(idx.size), np.ones(idx.size)])
        d1 = np.concatenate([ri, -ri])
        return start, (b, owner, d0, d1)

    def values(self, scores, Y, lam):
        lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), scores.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(scores > lam, scores / lam - 1.0, 0.0)
        return np.clip(np.nan_to_num(v, nan=0.0, posinf=1.0), 0.0, 1.0)


class FalseNegativeRateLoss:
    r"""Multilabel false-negative rate :math:`|Y \setminus C_\lambda(x)| / |Y|`, ``B = 1``.

    With sets :math:`\{k : p_k(x) \ge 1 - \lambda\}` (scores
    :math:`s_k = 1 - p_k`) it is :math:`\frac{1}{|Y|}\sum_{k \in Y}
    1\{s_k > \lambda\}`, a step function with one breakpoint per true label
    (0 for a point without labels).
    """

    name = "fnr"
    B = 1.0
    kinds = ("set",)

    def events(self, scores, Y, lambda_min):
        if Y is None:
            raise ValueError("loss='fnr' needs per-class scores and an indicator matrix Y.")
        size = np.maximum(Y.sum(axis=1), 1)
        late = Y & (scores > lambda_min)
        rows, cols = np.nonzero(late)
        start = late.sum(axis=1) / size
        return start, (scores[rows, cols], rows, -1.0 / size[rows], np.zeros(rows.size))

    def values(self, scores, Y, lam):
        lam = np.asarray(lam, dtype=np.float64).reshape(-1, 1)
        size = np.maximum(Y.sum(axis=1), 1)
        return (Y & (scores > lam)).sum(axis=1) / size


LOSSES = {cls.name: cls for cls in (MiscoverageLoss, RelativeMissLoss, FalseNegativeRateLoss)}


class CustomLoss:
    r"""A user loss, calibrated on a grid of :math:`\lambda` values.

    Parameters
    ----------
    func : callable
        For :class:`ConformalRiskRegressor`, ``func(y, lower, upper)``; for
        :class:`ConformalRiskClassifier`, ``func(Y, sets)`` with ``Y`` and
        ``sets`` boolean (n_samples, n_classes) arrays. It returns the
        (n_samples,) losses, which must lie in :math:`(-\infty, B]` and be
        non-increasing in :math:`\lambda` (the intervals or sets grow with
        :math:`\lambda`).
    B : float, default=1.0
        Upper bound of the loss.
    lambdas : array-like, default=None
        Increasing grid of candidate thresholds. ``None``: the distinct
        calibration scores (and 1, the full set, for classification), the
        values of :math:`\lambda` at which the calibration intervals or sets
        change. That grid is exact for any loss that depends on the
        prediction only through which calibration labels it covers (up to
        the rounding of ``f(x) + lambda`` against ``y``), and costs one call
        of ``func`` per distinct score: give a coarser grid for large
        calibration sets. When no grid value controls the risk,
        ``lambdas[-1]`` is used, with a warning.
    monotonize : bool, default=False
        If a loss increases with :math:`\lambda`, raise (``False``) or use
        :math:`\sup_{\lambda' \ge \lambda} L(\lambda')` with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import CustomLoss
    >>> def width_miss(y, lower, upper):   # miss, counted twice above the band
    ...     return np.where(y > upper, 1.0, np.where(y < lower, 0.5, 0.0))
    >>> loss = CustomLoss(width_miss, B=1.0)
    >>> loss.B
    1.0
    """

    name = "custom"
    kinds = ("interval", "set")

    def __init__(self, func, *, B=1.0, lambdas=None, monotonize=False):
        self.func = func
        self.B = B
        self.lambdas = lambdas
        self.monotonize = monotonize

    def check(self):
        if not callable(self.func):
            raise TypeError(f"CustomLoss func must be callable, got {self.func!r}.")
        check_bound(self.B, "CustomLoss B")
        if not isinstance(self.monotonize, (bool, np.bool_)):
            raise TypeError("CustomLoss monotonize must be a bool.")

    def grid(self, scores, lambda_max):
        if self.lambdas is not None:
            lam = np.array(self.lambdas, dtype=np.float64, copy=True)
            if lam.ndim != 1 or lam.size < 1:
                raise ValueError("CustomLoss lambdas must be a non-empty 1-D array.")
            return lam
        lam = np.unique(np.r_[np.ravel(scores), lambda_max])
        lam = lam[np.isfinite(lam) & (lam <= lambda_max)]
        if lam.size == 0:
            raise ValueError("CustomLoss: no finite calibration score to use as a grid; "
                             "give lambdas.")
        return lam

    def values(self, truth, prediction):
        """``func`` on one prediction, checked: shape, finiteness and bound."""
        v = np.asarray(self.func(truth, *prediction), dtype=np.float64)
        n = truth.shape[0]
        if v.shape != (n,):
            raise ValueError(f"CustomLoss func must return an array of shape ({n},), "
                             f"got {v.shape}.")
        if not np.all(np.isfinite(v)):
            raise ValueError("CustomLoss func returned NaN or infinite losses.")
        if np.any(v > self.B):
            raise ValueError(f"CustomLoss func returned {v.max()} > B={self.B}: losses must "
                             "lie in (-inf, B]; give the loss's true bound B.")
        return v

    def table(self, truth, predict_at, lambdas):
        """(n_samples, n_lambdas) losses, ``predict_at(lam)`` giving func's arguments."""
        return np.column_stack([self.values(truth, predict_at(lam)) for lam in lambdas])


def get_loss(loss, kind):
    """Resolve ``loss`` (a registry name or a :class:`CustomLoss`) for ``kind``."""
    if isinstance(loss, CustomLoss):
        loss.check()
        return loss
    if isinstance(loss, str) and loss in LOSSES and kind in LOSSES[loss].kinds:
        return LOSSES[loss]()
    valid = sorted(name for name, cls in LOSSES.items() if kind in cls.kinds)
    if isinstance(loss, (str, numbers.Number)) or loss is None or callable(loss):
        hint = (" Wrap a function in CustomLoss(func, B=...) to give its bound."
                if callable(loss) else "")
        raise ValueError(f"loss must be one of {valid} or a CustomLoss, got {loss!r}.{hint}")
    raise TypeError(f"loss must be a string or a CustomLoss, got {type(loss).__name__}.")
