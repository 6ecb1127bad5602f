"""Schedules for the relaxation factor of the scaling iterations.

Sinkhorn's iterations are block coordinate ascent on the entropic dual; near
the optimum they are the block Gauss-Seidel iterations of a linear system
whose matrix, the dual Hessian ``[[diag(P 1), P], [P^T, diag(P^T 1)]]``, is
2-cyclic. Young's theory of successive over-relaxation then applies: if plain
Sinkhorn contracts the error by ``rho`` per iteration, the over-relaxed
iterations (steps of ``omega`` times Sinkhorn's in the log potentials) with

.. math::

    \\omega^\\star = \\frac{2}{1 + \\sqrt{1 - \\rho}}

contract it by ``omega* - 1``, which is about ``1 - 2 sqrt(1 - rho)``
(Thibault, Chizat, Dossal, Papadakis, Algorithms 2021; Lehmann, von
Renesse, Sambale, Uschmajew, Optim. Lett. 2022, whose update
``u <- u^(1 - omega) (a / K v)^omega`` this is). At small ``reg``, where
``rho`` is close to 1, this is the difference between hundreds of
iterations and tens.

A schedule is asked, window after window, which ``omega`` to use and for how
many iterations (:meth:`window`), is told the l1 marginal errors of those
iterations (:meth:`record`), and answers whether the iterations should stop
and hand over to the Newton steps.
"""

import math

# Plain Sinkhorn iterations, the last _PLAIN_WINDOW of which measure rho;
# then the windows over which the over-relaxed rate is measured (over-relaxed
# errors are not monotone from one iteration to the next). Measuring rho
# after 5, 10, 15 or 20 plain iterations gave omegas within 0.05 on the
# point clouds of benchmarks/bench_sinkhorn.py (and 1.38 to 1.51 on the
# paper's problem); every plain iteration spent measuring is one not spent
# at the faster rate (2-D clouds at reg 1e-3: 83 iterations in all with 10
# plain ones, 97 with 20).
_PLAIN = 10
_PLAIN_WINDOW = 5
_WINDOW = 10
# Over-relaxation beyond this gains little and oscillates more.
_OMEGA_MAX = 1.9
# Newton takes over when the iterations would need more than this many more
# to reach tol at their current rate, and that rate is not improving (a
# sparse Newton step costs a few dozen scaling iterations on dense plans).
_NEWTON_AFTER = 40


class PlainSinkhorn:
    """``omega = 1`` for at most ``n_iter`` iterations (the paper's warm-up)."""

    def __init__(self, n_iter):
        self.n_iter = n_iter
        self.omega = 1.0
        self._done = 0

    def window(self):
        return self.omega, max(1, self.n_iter - self._done)

    def record(self, errs):
        self._done += len(errs)
        return self._done >= self.n_iter


class Overrelaxation:
    """``omega`` from the measured rate of plain Sinkhorn; stops when progress stalls.

    ``_PLAIN`` plain iterations measure ``rho`` over their last
    ``_PLAIN_WINDOW`` iterations and set ``omega = min(_OMEGA_MAX, 2 / (1 + sqrt(1 - rho)))``.
    From then on every window of ``_WINDOW`` iterations measures the rate
    ``r``; :meth:`record` returns True (stop here) when the error grew over
    a window, or when ``r`` is no better than over the previous window and
    reaching ``tol_abs`` at rate ``r`` would take more than ``_NEWTON_AFTER``
    iterations. The first over-relaxed window is not judged: the error jumps
    up for a few iterations after the switch. Far from the optimum, where the
    local theory does not hold, the first case hands over to the Newton steps
    and their line search.
    """

    def __init__(self, tol_abs):
        self.tol_abs = tol_abs
        self.omega = 1.0
        self.rates = []
        self._errs = []
        self._next = _PLAIN

    def window(self):
        return self.omega, self._next - len(self._errs)

    def record(self, errs):
        self._errs.extend(errs)
        if len(self._errs) < self._next:
            return False
        self._next = len(self._errs) + _WINDOW
        width = _WINDOW if self.rates else _PLAIN_WINDOW
        last, first = self._errs[-1], self._errs[-1 - width]
        rate = (last / first) ** (1.0 / width)
        self.rates.append(rate)
        if len(self.rates) == 1:
            if rate < 1.0:
                self.omega = min(_OMEGA_MAX, 2.0 / (1.0 + math.sqrt(1.0 - rate)))
            return False
        # The first over-relaxed window is a transient: the error jumps up
        # for a few iterations before it falls at the new rate.
        if len(self.rates) == 2:
            return False
        if rate >= 1.0:
            return True
        if rate <= 0.0:
            return False
        remaining = math.log(self.tol_abs / last) / math.log(rate)
        return bool(remaining > _NEWTON_AFTER and rate >= self.rates[-2])
