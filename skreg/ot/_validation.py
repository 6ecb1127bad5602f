"""Input checks shared by the optimal-transport solvers.

Handling decided here, once, for every solver:

- ``a`` or ``b`` ``None`` means uniform weights (POT uses empty lists).
- Marginals must be finite and non-negative with positive mass; they may be
  given unnormalised but the two total masses must agree (relative
  difference below 1e-8, or 1e-5 when either marginal is given in float32,
  whose sums carry that much rounding; ``b`` is then rescaled to the mass
  of ``a``): balanced OT has no solution otherwise, and silently rescaling
  one side by more than rounding would hide a data error.
- Zero-mass entries are allowed: the solvers work on the support of ``a``
  and ``b`` and the plan gets zero rows/columns there (potentials ``-inf``).
- Costs may be negative (every solver here is invariant to adding a constant
  to ``M`` up to a shift of the potentials) but must be finite.
"""

import numbers

import numpy as np
from sklearn.utils import check_scalar


def check_marginal(x, n, name):
    """Return the marginal ``name`` as a new float64 array of length ``n``."""
    if x is None or (not isinstance(x, np.ndarray) and len(x) == 0):
        return np.full(n, 1.0 / n)
    try:
        x = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {x!r}.") from exc
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {x.shape}.")
    if x.shape[0] != n:
        raise ValueError(
            f"{name} has {x.shape[0]} entries but the cost matrix M has {n} "
            f"{'rows' if name == 'a' else 'columns'}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    if np.any(x < 0):
        raise ValueError(f"{name} must be non-negative, got min({name})={x.min()}.")
    if not x.sum() > 0:
        raise ValueError(f"{name} has zero total mass.")
    return x


def check_cost(M):
    """Return ``M`` as a float64 2-D array with finite entries (a copy if needed)."""
    try:
        M = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"M must be a 2-D array of numbers, got {M!r}.") from exc
    if M.ndim != 2:
        raise ValueError(f"M must be a 2-D cost matrix, got shape {M.shape}.")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"M must have at least one row and one column, got {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ValueError("M must be finite (no NaN or inf).")
    return M


def check_reg(reg, name="reg"):
    check_scalar(reg, name, numbers.Real, min_val=0.0, include_boundaries="neither")
    reg = float(reg)
    if not np.isfinite(reg):
        raise ValueError(f"{name} must be finite, got {reg}.")
    return reg


def _is_float32(x):
    return getattr(x, "dtype", None) == np.float32


def check_ot_problem(a, b, M, mass_rtol=None):
    """Validate an OT problem; return ``(a, b, M)`` as float64 arrays.

    ``a`` and ``b`` are new arrays; ``M`` is the caller's array when it is
    already float64 (solvers must not write into it). ``mass_rtol`` defaults
    to 1e-8, or 1e-5 when ``a`` or ``b`` is float32.
    """
    if mass_rtol is None:
        mass_rtol = 1e-5 if (_is_float32(a) or _is_float32(b)) else 1e-8
    M = check_cost(M)
    n, m = M.shape
    a = check_marginal(a, n, "a")
    b = check_marginal(b, m, "b")
    mass_a, mass_b = a.sum(), b.sum()
    if abs(mass_a - mass_b) > mass_rtol * max(mass_a, mass_b):
        raise ValueError(
            f"a and b must have the same total mass for balanced optimal "
            f"transport, got sum(a)={float(mass_a)!r} and sum(b)={float(mass_b)!r}. "
            "Normalise both to 1 (a / a.sum(), b / b.sum())."
        )
    # A difference within the tolerance is rounding: rescale b so that tight
    # marginal tolerances stay reachable.
    b *= mass_a / mass_b
    return a, b, M


def restrict_to_support(a, b, M):
    """Drop zero-mass rows and columns.

    Returns ``(a_s, b_s, M_s, rows, cols)`` where ``rows``/``cols`` are the kept
    indices; use :func:`expand_plan` and :func:`expand_potential` to put the
    solution back on the full index set.
    """
    rows = np.flatnonzero(a > 0)
    cols = np.flatnonzero(b > 0)
    if rows.size == a.size and cols.size == b.size:
        return a, b, M, rows, cols
    return a[rows], b[cols], np.ascontiguousarray(M[np.ix_(rows, cols)]), rows, cols


def expand_plan(plan, rows, cols, shape):
    if plan.shape == shape:
        return plan
    full = np.zeros(shape, dtype=plan.dtype)
    full[np.ix_(rows, cols)] = plan
    return full


def expand_potential(f, index, size):
    if f is None or f.shape[0] == size:
        return f
    full = np.full(size, -np.inf)
    full[index] = f
    return full
