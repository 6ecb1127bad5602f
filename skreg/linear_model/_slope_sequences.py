r"""Regularisation sequences of the sorted-L1 (SLOPE) penalties.

A sorted-L1 penalty :math:`J_\lambda(b) = \sum_j \lambda_j |b|_{(j)}` takes a
non-increasing, non-negative sequence :math:`\lambda`. Three standard choices
(``p`` entries, 1-based index ``j``):

* Benjamini-Hochberg (Bogdan et al. 2015, eq. 1.8):
  :math:`\lambda_j = \Phi^{-1}(1 - j q / (2 p))`, which controls the false
  discovery rate at level ``q`` for orthogonal designs;
* Gaussian (Bogdan et al. 2015, section 3.2.2): the BH sequence inflated
  for the shrinkage of the other selected variables,
  :math:`\lambda_j = \lambda^{BH}_j \sqrt{1 + \sum_{i<j} \lambda_i^2 / \max(1, n - j)}`
  (the sum runs over the already inflated values), then made non-increasing
  by a running minimum;
* OSCAR (Bondell and Reich 2008): :math:`\lambda_j = \theta_1 + \theta_2 (p - j)`,
  the sorted-L1 form of :math:`\theta_1 \|b\|_1 + \theta_2 \sum_{i<k} \max(|b_i|, |b_k|)`.

These match the definitions of ``sortedl1`` (libslope), so an estimator given
the same string builds the same penalty.
"""

import numbers

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_scalar

SEQUENCES = ("bh", "gaussian", "oscar")


def _check_q(q):
    check_scalar(q, "q", numbers.Real, min_val=0.0, max_val=1.0,
                 include_boundaries="neither")
    return float(q)


def _check_length(p, name="p"):
    check_scalar(p, name, numbers.Integral, min_val=1)
    return int(p)


def bh_sequence(p, q):
    r"""Benjamini-Hochberg sequence :math:`\Phi^{-1}(1 - j q / (2p))`, ``j = 1..p``.

    Parameters
    ----------
    p : int
        Length (number of features or groups).
    q : float
        Target false discovery rate, in (0, 1).

    Returns
    -------
    lambdas : ndarray of shape (p,)
        Positive and decreasing.

    Examples
    --------
    >>> bh_sequence(3, 0.1).round(4)
    array([2.128 , 1.8339, 1.6449])
    """
    p = _check_length(p)
    q = _check_q(q)
    return ndtri(1.0 - np.arange(1, p + 1) * q / (2.0 * p))


def gaussian_sequence(p, q, n):
    r"""Gaussian-design correction of the BH sequence (Bogdan et al. 2015).

    :math:`\lambda_1 = \lambda^{BH}_1` and
    :math:`\lambda_j = \lambda^{BH}_j \sqrt{1 + \sum_{i<j} \lambda_i^2 / \max(1, n - j)}`,
    followed by a running minimum so that the sequence is non-increasing
    (the recursion eventually increases; the paper keeps it constant from
    its minimum on).

    Parameters
    ----------
    p : int
        Length of the sequence.
    q : float
        Target false discovery rate, in (0, 1).
    n : int
        Number of samples.

    Returns
    -------
    lambdas : ndarray of shape (p,)

    Examples
    --------
    >>> gaussian_sequence(3, 0.1, 100).round(4)
    array([2.128 , 1.8758, 1.7117])
    """
    lam = bh_sequence(p, q)
    n = _check_length(n, "n")
    sum_sq = 0.0
    for j in range(1, p):  # 0-based j is the 1-based index j + 1
        sum_sq += lam[j - 1] ** 2
        lam[j] *= np.sqrt(1.0 + sum_sq / max(1.0, n - j - 1.0))
    return np.minimum.accumulate(lam)


def oscar_sequence(p, theta1, theta2):
    r"""OSCAR sequence :math:`\theta_1 + \theta_2 (p - j)`, ``j = 1..p``.

    Parameters
    ----------
    p : int
        Length of the sequence.
    theta1 : float
        Non-negative l1 weight (the last entry).
    theta2 : float
        Non-negative pairwise-max weight (the slope of the sequence).

    Returns
    -------
    lambdas : ndarray of shape (p,)

    Examples
    --------
    >>> oscar_sequence(4, 1.0, 0.5)
    array([2.5, 2. , 1.5, 1. ])
    """
    p = _check_length(p)
    check_scalar(theta1, "theta1", numbers.Real, min_val=0.0)
    check_scalar(theta2, "theta2", numbers.Real, min_val=0.0)
    return float(theta1) + float(theta2) * (p - np.arange(1, p + 1, dtype=np.float64))


def check_lambdas(lambdas, n, name="lambdas", *, q=0.1, n_samples=None,
                  theta1=1.0, theta2=1.0):
    """Validate a sorted-L1 sequence given by name or as an array.

    Parameters
    ----------
    lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n,)
        A sequence name (built with ``q``, ``n_samples``, ``theta1`` and
        ``theta2``) or the sequence itself, which must be finite,
        non-negative, non-increasing and not all zero.
    n : int
        Required length.
    name : str, default="lambdas"
        Parameter name used in error messages.
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences.
    n_samples : int, default=None
        Number of samples, required by "gaussian".
    theta1, theta2 : float, default=1.0
        Parameters of the "oscar" sequence.

    Returns
    -------
    lambdas : ndarray of shape (n,), float64
        A new array (a user's array is never modified).
    """
    if isinstance(lambdas, str):
        if lambdas == "bh":
            return bh_sequence(n, q)
        if lambdas == "gaussian":
            if n_samples is None:
                raise ValueError(f"{name}='gaussian' needs the number of samples.")
            return gaussian_sequence(n, q, n_samples)
        if lambdas == "oscar":
            return oscar_sequence(n, theta1, theta2)
        raise ValueError(
            f"{name} must be one of {SEQUENCES} or an array, got {lambdas!r}.")
    try:
        lam = np.array(lambdas, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be one of {SEQUENCES} or an array of numbers, "
            f"got {lambdas!r}.") from exc
    if lam.ndim != 1 or lam.shape[0] != n:
        raise ValueError(
            f"{name} must be a 1-D array of length {n}, got shape {lam.shape}.")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    if np.any(lam < 0):
        raise ValueError(f"{name} must be non-negative, got min {lam.min()}.")
    if np.any(np.diff(lam) > 0):
        raise ValueError(f"{name} must be non-increasing (sorted in decreasing order).")
    if lam[0] == 0:
        raise ValueError(f"{name} are all zero: the penalty would have no effect.")
    return lam
