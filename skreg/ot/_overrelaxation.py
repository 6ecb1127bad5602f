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

import collections
import math

# Plain Sinkhorn iterations, the last _PLAIN_WINDOW of which measure rho;
# then the windows over which the over-relaxed rate is measured (over-relaxed
# errors are not monotone from one iteration to the next). In an ad-hoc
# sweep (session 5), measuring rho after 5, 10, 15 or 20 plain iterations
# gave omegas within 0.05 on the point clouds of bench_sinkhorn.py (1.38 to
# 1.51 on the paper's problem); every plain iteration spent measuring is one
# not spent at the faster rate (bench_sinkhorn.py, 2-D clouds at reg 1e-3:
# 83 iterations in all with 10 plain ones, 97 with 20).
_PLAIN = 10
_PLAIN_WINDOW = 5
_WINDOW = 10
# Over-relaxation beyond this gains little and oscillates more.
_OMEGA_MAX = 1.9
# A plain rate above this is measured again (up to _REMEASURE more windows):
# on integer costs with ties the first plain iterations can stall for a while
# and then converge fast, and omega = _OMEGA_MAX from the stall made the
# scaling method up to 2.8x slower than plain iterations on such problems.
_RHO_UNSURE = 0.99
_REMEASURE = 3
# Newton takes over when the iterations would need more than this many more
# to reach tol at their current rate, and that rate is not improving (a
# sparse Newton step costs a few dozen scaling iterations on dense plans).
_NEWTON_AFTER = 40


def newton_pays(rate, err, previous_rate, tol_abs):
    """The hand-over rule: at ``rate`` (in ``(0, 1)``) reaching ``tol_abs`` from ``err``
    takes more than ``_NEWTON_AFTER`` iterations, and ``rate`` is no better than
    ``previous_rate``."""
    remaining = math.log(tol_abs / err) / math.log(rate)
    return remaining > _NEWTON_AFTER and rate >= previous_rate


class PlainSinkhorn:
    """``omega = 1`` for at most ``n_iter`` iterations (the paper's warm-up)."""

    def __init__(self, n_iter):
        self.n_iter = n_iter
        self.omega = 1.0
        self.diverged = False
        self._done = 0

    def window(self):
        return self.omega, max(1, self.n_iter - self._done)

    def record(self, errs):
        self._done += len(errs)
        return self._done >= self.n_iter


class Overrelaxation:
    """``omega`` from the measured rate of plain Sinkhorn, and when to stop.

    ``_PLAIN`` plain iterations measure ``rho`` over their last
    ``_PLAIN_WINDOW`` iterations (if ``rho > _RHO_UNSURE``, again after up
    to ``_REMEASURE`` more windows) and set
    ``omega = min(_OMEGA_MAX, 2 / (1 + sqrt(1 - rho)))``. From then on every
    window of ``_WINDOW`` iterations measures the rate ``r``, except the
    first over-relaxed one (a transient: the error jumps up for a few
    iterations after the switch). Two verdicts:

    - diverged: the error grew over a window. Far from the optimum, where
      the local theory does not hold, over-relaxation can do that;
      ``diverged`` is set for the solver (which restarts from its best
      point) and, without ``hand_over``, ``omega`` goes back to 1 for good.
    - stalled: ``r`` is no better than over the previous window and
      reaching ``tol_abs`` at rate ``r`` would take more than
      ``_NEWTON_AFTER`` iterations.

    With ``hand_over`` (the ``sns`` warm-up), :meth:`record` returns True
    (stop here, Newton takes over) on either verdict; without it (the
    ``scaling`` method) the iterations go on to ``tol_abs``, and plainly
    from the first window that is no faster than the plain rate ``rho``.
    """

    def __init__(self, tol_abs, hand_over=True):
        self.tol_abs = tol_abs
        self.hand_over = hand_over
        self.omega = 1.0
        self.diverged = False
        self.rates = []
        # Only the last window's errors are read: a bounded history, however
        # long the iterations run.
        self._errs = collections.deque(maxlen=_WINDOW + 1)
        self._count = 0
        self._next = _PLAIN
        self._remeasured = 0

    def window(self):
        return self.omega, self._next - self._count

    def record(self, errs):
        self.diverged = False
        self._errs.extend(errs)
        self._count += len(errs)
        if self._count < self._next:
            return False
        self._next = self._count + _WINDOW
        width = _WINDOW if self.rates else _PLAIN_WINDOW
        last, first = self._errs[-1], self._errs[-1 - width]
        rate = (last / first) ** (1.0 / width)
        if not self.rates and rate > _RHO_UNSURE and self._remeasured < _REMEASURE:
            # A plateau of the plain iterations (on degenerate costs), not
            # their rate: measure again after another window.
            self._remeasured += 1
            return False
        self.rates.append(rate)
        if len(self.rates) == 1:
            if rate < 1.0:
                self.omega = min(_OMEGA_MAX, 2.0 / (1.0 + math.sqrt(1.0 - rate)))
            return False
        relaxed = self.omega > 1.0
        if (len(self.rates) == 2 and relaxed) or not (relaxed or self.hand_over):
            return False
        if rate >= 1.0:
            self.diverged = relaxed
            self.omega = self.omega if self.hand_over else 1.0
            return self.hand_over
        if rate <= 0.0:
            return False
        if not self.hand_over and rate >= self.rates[0]:
            # No faster than plain Sinkhorn (degenerate problems, where the
            # plain rate measured early is not the asymptotic one).
            self.omega = 1.0
            return False
        return bool(self.hand_over and newton_pays(rate, last, self.rates[-2], self.tol_abs))
