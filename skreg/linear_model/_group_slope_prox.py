r"""Exact proximal operator and dual norm of the group sorted-L1 norm.

For a partition of the coordinates into groups and a non-increasing
sequence :math:`\lambda`, the *unweighted* group SLOPE norm is

.. math::

    J(t) = \sum_k \lambda_k \|t\|_{(k)}, \qquad \|t\|_{(1)} \ge \|t\|_{(2)} \ge \dots

the sorted-L1 norm of the vector of group norms :math:`(\|t_g\|_2)_g`.
Its proximal operator keeps each group's direction and replaces its norm by
the sorted-L1 prox of the group norms (Brzyski et al. 2019, prop. 2.1):

.. math::

    \operatorname{prox}_J(t)_g = \frac{s_g}{\|t_g\|} t_g, \qquad
    s = \operatorname{prox}_{J_\lambda}\big((\|t_g\|)_g\big),

because for fixed norms the quadratic term is smallest when every block
points along :math:`t_g`. The dual norm is
:math:`J^*(c) = \max_k \sum_{i \le k} \|c\|_{(i)} / \sum_{i\le k} \lambda_i`.

The penalty of :class:`GroupSLOPE` weights each group norm by
:math:`\sqrt{p_g}`; that weighted norm is :math:`J(Wb)` with
:math:`W = \mathrm{diag}(\sqrt{p_g})`, and its prox is *not* the formula
above applied to the weighted norms (it is a weighted sorted-L1 prox with
no closed form). The solvers therefore work in the coordinates
:math:`t = Wb`, where only the unweighted prox is needed.
"""

import numpy as np
from numba import njit

from ._sorted_l1 import _prox_sorted_l1


@njit(cache=True, nogil=True)
def group_norms(x, order, starts, out):
    """``out[g] = ||x[order[starts[g]:starts[g + 1]]]||_2``."""
    for g in range(starts.shape[0] - 1):
        acc = 0.0
        for k in range(starts[g], starts[g + 1]):
            v = x[order[k]]
            acc += v * v
        out[g] = np.sqrt(acc)


@njit(cache=True, nogil=True)
def prox_group_slope(t, lam, order, starts, out):
    """``out = prox_J(t)`` for the unweighted group sorted-L1 norm ``J`` with ``lam``.

    ``out`` may be ``t`` itself.
    """
    m = starts.shape[0] - 1
    norms = np.empty(m)
    group_norms(t, order, starts, norms)
    shrunk = np.empty(m)
    _prox_sorted_l1(norms, lam, shrunk)
    for g in range(m):
        scale = shrunk[g] / norms[g] if norms[g] > 0.0 else 0.0
        for k in range(starts[g], starts[g + 1]):
            j = order[k]
            out[j] = t[j] * scale


@njit(cache=True, nogil=True)
def sorted_dual_ratio(values, lam):
    """``max_k sum_{i<=k} values_(i) / sum_{i<=k} lam_i`` for non-negative ``values``.

    Entries of ``lam`` past a zero partial sum would make the ratio
    infinite; ``lam[0] > 0`` is checked when the sequence is validated.
    """
    m = values.shape[0]
    if m == 0:
        return 0.0
    srt = np.sort(values)[::-1]
    num = 0.0
    den = 0.0
    best = 0.0
    for i in range(m):
        num += srt[i]
        den += lam[i]
        if num > 0.0:
            best = max(best, num / den)
    return best


@njit(cache=True, nogil=True)
def group_dual_ratio(c, lam, order, starts):
    """``J^*(c)`` for the unweighted group sorted-L1 norm with ``lam``."""
    norms = np.empty(starts.shape[0] - 1)
    group_norms(c, order, starts, norms)
    return sorted_dual_ratio(norms, lam)


@njit(cache=True, nogil=True)
def group_penalty(t, lam, order, starts):
    """``J(t) = sum_k lam_k ||t||_(k)``."""
    norms = np.empty(starts.shape[0] - 1)
    group_norms(t, order, starts, norms)
    srt = np.sort(norms)[::-1]
    acc = 0.0
    for k in range(srt.shape[0]):
        acc += lam[k] * srt[k]
    return acc


@njit(cache=True, nogil=True)
def project_group_dual_ball(u, lam, order, starts, out):
    """Projection of ``u`` onto ``{y : J^*(y) <= 1}`` (Moreau: ``u - prox_J(u)``)."""
    prox_group_slope(u, lam, order, starts, out)
    for j in range(u.shape[0]):
        out[j] = u[j] - out[j]
