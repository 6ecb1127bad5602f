"""The result object every optimal-transport solver in :mod:`skreg.ot` returns."""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OTResult:
    """Solution of a (regularised) discrete optimal-transport problem.

    One object for every solver, so that callers never branch on a ``log``
    flag or on the solver used.

    Attributes
    ----------
    plan : ndarray of shape (n, m)
        The transport plan P (rows: source points, columns: target points).
        Rows or columns of zero mass are all zeros.
    cost : float
        The transport cost ``<M, P>``.
    value : float
        The regularised objective at ``plan`` (``cost`` plus the regulariser).
    n_iter : int
        Iterations of the solver's main loop (for Sinkhorn-Newton-Sparse the
        Sinkhorn warm-up plus the Newton steps; see ``info``).
    marginal_error : float
        ``||P 1 - a||_1 + ||P^T 1 - b||_1`` at the returned plan.
    converged : bool
        Whether the stopping criterion was met before ``max_iter``.
    f, g : ndarray of shape (n,) and (m,), or None
        Dual potentials, where the problem has them (entropic and quadratic
        OT). Entries for zero-mass points are ``-inf``.
    info : dict
        Solver-specific diagnostics (e.g. iteration counts per stage).
    """

    plan: np.ndarray
    cost: float
    value: float
    n_iter: int
    marginal_error: float
    converged: bool
    f: np.ndarray | None = None
    g: np.ndarray | None = None
    info: dict = field(default_factory=dict)
