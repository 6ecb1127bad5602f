"""Input checks shared by every skreg estimator and solver.

Every check raises a ``ValueError`` or ``TypeError`` whose message names the
offending parameter, so that a user never sees a numba traceback instead.
"""

import numbers

import numpy as np
from sklearn.utils import check_scalar


def check_alpha(alpha, name="alpha"):
    """Return ``alpha`` as a float after checking it is finite and >= 0."""
    check_scalar(alpha, name, numbers.Real, min_val=0.0)
    alpha = float(alpha)
    if not np.isfinite(alpha):
        raise ValueError(f"{name} must be finite, got {alpha}.")
    return alpha


def check_tol(tol):
    check_scalar(tol, "tol", numbers.Real, min_val=0.0, include_boundaries="neither")
    return float(tol)


def check_max_iter(max_iter):
    check_scalar(max_iter, "max_iter", numbers.Integral, min_val=1)
    return int(max_iter)


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}.")
    return bool(value)


def check_feature_weights(weights, n_features, name="weights"):
    """Validate per-feature penalty weights.

    ``None`` means all ones. Returns a new float64 array (the user's array is
    never modified). Zero entries mark unpenalised features; at least one
    feature must be penalised, otherwise the penalty (and ``alpha``) has no
    effect and the problem is an unregularised regression.
    """
    if weights is None:
        return np.ones(n_features)
    try:
        w = np.array(weights, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {weights!r}.") from exc
    if w.ndim != 1 or w.shape[0] != n_features:
        raise ValueError(
            f"{name} must be a 1-D array with one entry per feature "
            f"(n_features={n_features}), got shape {w.shape}."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, got min(weights)={w.min()}.")
    if not np.any(w > 0):
        raise ValueError(
            f"{name} are all zero: no feature is penalised. Give at least one "
            "positive weight (use scikit-learn's LinearRegression for an "
            "unpenalised fit)."
        )
    return w
