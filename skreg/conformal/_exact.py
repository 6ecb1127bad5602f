r"""Exact conformal risk control from the breakpoints of built-in losses.

For a step loss such as the miscoverage :math:`1\{r_i > \lambda\}` the
empirical risk :math:`\hat R_n(\lambda)` only changes at the calibration
scores, so the infimum defining :math:`\hat\lambda` is attained at one of
them: sorting the :math:`N` breakpoints (:math:`O(N \log N)`) gives the
exact threshold, with no grid. Losses of the form :math:`c_0 + c_1/\lambda`
between breakpoints (``"relative_miss"``) are solved in closed form on the
crossing segment.
"""

import numpy as np

from ._losses import CustomLoss, check_scores, get_loss
from ._risk import (
    RiskProfile,
    _check_weights,
    _crc_target,
    _warn_lambda_max,
    _weighted_solve,
    check_alpha,
)


def loss_profile(loss, scores, Y, weights, lambda_min, lambda_max):
    """:class:`RiskProfile` of a built-in loss on validated scores."""
    start, events = loss.events(scores, Y, lambda_min)
    return RiskProfile(start, events, weights, lambda_min, lambda_max)


def _resolve(loss, scores, Y, lambda_min, lambda_max):
    s, Y = check_scores(scores, Y)
    if isinstance(loss, CustomLoss):
        raise TypeError("A CustomLoss has no known breakpoints: evaluate it on a grid and "
                        "use conformal_risk_control.")
    loss = get_loss(loss, "set" if Y is not None else "interval")
    lambda_min, lambda_max = float(lambda_min), float(lambda_max)
    if not lambda_min < lambda_max or np.isnan(lambda_min) or np.isnan(lambda_max):
        raise ValueError(f"lambda_min must be smaller than lambda_max, got {lambda_min} "
                         f"and {lambda_max}.")
    return loss, s, Y, lambda_min, lambda_max


def conformal_risk_control_exact(scores, alpha, *, loss="miscoverage", Y=None,
                                 lambda_min=0.0, lambda_max=np.inf):
    r"""Exact conformal risk control threshold of a built-in loss.

    .. math::

        \hat\lambda = \inf\Big\{\lambda \in [\lambda_{\min}, \lambda_{\max}] :
        \frac{n}{n+1}\hat R_n(\lambda) + \frac{B}{n+1} \le \alpha\Big\},

    computed from the loss's breakpoints (the scores) by sorting. With
    ``loss="miscoverage"`` and 1-D scores this is split conformal: the
    :math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest score.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or (n_samples, n_classes)
        Nonconformity scores: 1-D for intervals :math:`\{y : r(x, y) \le
        \lambda\}`, 2-D per-class scores (e.g. ``1 - predict_proba``) for
        sets :math:`\{k : s_k \le \lambda\}`, with ``Y``.
    alpha : float in (0, 1)
        Target risk level.
    loss : {"miscoverage", "relative_miss", "fnr"}, default="miscoverage"
        See :class:`MiscoverageLoss`, :class:`RelativeMissLoss`,
        :class:`FalseNegativeRateLoss`.
    Y : array-like of shape (n_samples, n_classes), default=None
        0/1 indicator of the true labels (set losses only).
    lambda_min, lambda_max : float, default=0.0, inf
        Range of :math:`\lambda`; ``lambda_max`` is returned, with a warning,
        when the risk cannot be controlled (e.g. :math:`\alpha < B/(n+1)`).

    Returns
    -------
    lambda_hat : float

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import conformal_risk_control_exact
    >>> scores = np.array([0.3, 1.2, 0.7, 2.5, 0.1, 0.9, 1.8, 0.4, 1.1])
    >>> float(conformal_risk_control_exact(scores, alpha=0.2))  # the 8th smallest
    1.8
    >>> P = np.array([[0.9, 0.6, 0.1], [0.2, 0.7, 0.8], [0.5, 0.4, 0.3]])
    >>> Y = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]])
    >>> float(conformal_risk_control_exact(1 - P, 0.5, loss="fnr", Y=Y, lambda_max=1.0))
    0.4
    """
    alpha = check_alpha(alpha)
    loss, s, Y, lambda_min, lambda_max = _resolve(loss, scores, Y, lambda_min, lambda_max)
    n = s.shape[0]
    profile = loss_profile(loss, s, Y, None, lambda_min, lambda_max)
    value, reached = profile.solve(np.array([_crc_target(alpha, loss.B, n, 1.0)]))
    if not reached[0]:
        _warn_lambda_max(alpha, loss.B, n, "alpha < B/(n+1)" if alpha * (n + 1) < loss.B
                         else "the loss at lambda_max is too large")
    return float(value[0])


def weighted_conformal_risk_control_exact(scores, alpha, weights, test_weights, *,
                                          loss="miscoverage", Y=None, lambda_min=0.0,
                                          lambda_max=np.inf):
    r"""Exact weighted (covariate-shift) thresholds, one per test point.

    .. math::

        \hat\lambda(x) = \inf\Big\{\lambda : \frac{\sum_i w_i L_i(\lambda)
        + w(x) B}{\sum_i w_i + w(x)} \le \alpha\Big\},

    with :math:`w_i = w(X_i)` the likelihood ratio
    :math:`dP_{\text{test}}/dP_{\text{train}}` (up to a constant) at the
    calibration points. The breakpoints are sorted once; each test point
    then costs a binary search.

    Parameters
    ----------
    scores, alpha, loss, Y, lambda_min, lambda_max
        As in :func:`conformal_risk_control_exact`.
    weights : array-like of shape (n_samples,)
        Likelihood ratio at the calibration points, non-negative.
    test_weights : array-like of shape (n_test,)
        Likelihood ratio at the test points, non-negative.

    Returns
    -------
    lambda_hat : ndarray of shape (n_test,)

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.conformal import weighted_conformal_risk_control_exact
    >>> scores = np.arange(1.0, 20.0)
    >>> weighted_conformal_risk_control_exact(scores, 0.2, np.ones(19), [1.0, 3.0])
    array([16., 18.])
    """
    alpha = check_alpha(alpha)
    loss, s, Y, lambda_min, lambda_max = _resolve(loss, scores, Y, lambda_min, lambda_max)
    w = _check_weights(weights, s.shape[0], "weights")
    profile = loss_profile(loss, s, Y, w, lambda_min, lambda_max)
    return _weighted_solve(profile, s.shape[0], alpha, loss.B, test_weights)
