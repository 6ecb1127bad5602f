"""Anderson acceleration of Sinkhorn's iterations.

One Sinkhorn iteration is a fixed-point map ``g -> G(g)`` of the column
potentials (row update ``u = a / K v``, then column update ``v = b / K^T u``,
with ``g = beta + reg log v`` on the absorbed kernel of :mod:`._scaling`).
Anderson acceleration (type II, Walker & Ni 2011) keeps the last
``_DEPTH`` pairs ``(g_k, G(g_k))`` and steps to the combination of the images
whose residuals ``G(g) - g`` combine to the smallest one (least squares).
Near the optimum ``G`` is affine and this is a Krylov method (GMRES on the
linearised map, Walker & Ni); it needs far fewer iterations than Sinkhorn's
linear rate, and fewer than over-relaxation, where the spectrum of the
linearised map is spread (2-D point clouds at small ``reg``,
``benchmarks/bench_sinkhorn.py``).

Far from the optimum the map is not affine and Anderson steps can wander:
an unguarded prototype (session 6, ad hoc) left the error near its starting
level for 20,000 iterations on 17 of the 300 small problems of
``benchmarks/bench_overrelaxation.py`` where plain Sinkhorn converges,
mostly integer costs with ties. The iterations here are therefore watched:

- an error more than ``_RESTART`` times the best one so far drops the
  history and resumes from the Sinkhorn image of the best point;
- after ``_STALL`` iterations without a new best error, or more than
  ``_MAX_RESTARTS`` restarts, over-relaxed iterations (:mod:`._overrelaxation`)
  take over from the best point (and hand over to Newton when they stall);
- they also stop (and Newton takes over) once reaching
  ``tol`` at the rate of the last window would take too many iterations
  and that rate is not improving (:func:`._overrelaxation.newton_pays`,
  the rule of :class:`._overrelaxation.Overrelaxation` too).

The differences stored in the history do not depend on the kernel's
absorbed potentials (the map commutes with them), so an absorption keeps
the history.
"""

import numpy as np

from . import _sinkhorn_kernels as kern
from ._overrelaxation import Overrelaxation, newton_pays
from ._scaling import ScalingState, solve_scaling

# Depth of the history: 10, 20 and 40 took 73, 56 and 66 iterations on the
# 2-D clouds at reg 1e-3 and 1022, 390 and 168 on the paper's problem (ad-hoc
# sweep, session 6); 20 is the best on the 2-D clouds that sns is for.
_DEPTH = 20
# Plain iterations recorded into the history before the first Anderson step
# (the first iterations move far, where the map is least affine).
_PLAIN = 3
_RESTART = 10.0
_STALL = 10
_MAX_RESTARTS = 3
_WINDOW = 10
# Tikhonov term of the least-squares problem, relative to the mean diagonal
# of its Gram matrix (the residual differences become nearly dependent as
# the iterations converge).
_RIDGE = 1e-10


class AndersonMixing:
    """Type-II Anderson mixing of a fixed-point map ``x -> G(x)`` of depth ``depth``.

    :meth:`step` takes a point ``x`` and its image ``gx`` and returns the
    next point ``gx - dG @ gamma``, where ``gamma`` fits the residual
    ``gx - x`` by the last ``depth`` residual differences ``dF`` (ridge
    least squares on their Gram matrix, updated by one row per step).
    :meth:`record` stores a pair without stepping.
    """

    def __init__(self, size, depth, ridge=_RIDGE):
        self.depth = depth
        self.ridge = ridge
        self.dF = np.empty((depth, size))
        self.dG = np.empty((depth, size))
        self.gram = np.empty((depth, depth))
        self.reset()

    def reset(self):
        """Forget the history."""
        self.k = 0
        self._pos = 0
        self._prev = None

    def record(self, x, gx):
        """Store ``(x, gx)``; returns the residual ``gx - x``."""
        f = gx - x
        if self._prev is not None:
            i = self._pos
            np.subtract(f, self._prev[0], out=self.dF[i])
            np.subtract(gx, self._prev[1], out=self.dG[i])
            self._pos = (i + 1) % self.depth
            self.k = min(self.k + 1, self.depth)
            col = self.dF[:self.k] @ self.dF[i]
            self.gram[i, :self.k] = col
            self.gram[:self.k, i] = col
        self._prev = (f, gx.copy())
        return f

    def step(self, x, gx):
        """Store ``(x, gx)`` and return the next point."""
        f = self.record(x, gx)
        k = self.k
        if k == 0:
            return gx.copy()
        gram = self.gram[:k, :k]
        ridge = self.ridge * np.trace(gram) / k
        if not ridge > 0.0:
            # Residual differences all zero: nothing to fit.
            return gx.copy()
        try:
            gamma = np.linalg.solve(gram + ridge * np.eye(k), self.dF[:k] @ f)
        except np.linalg.LinAlgError:
            self.reset()
            return gx.copy()
        return gx - gamma @ self.dG[:k]


class _Best:
    """The point of least error so far: potentials and the Sinkhorn image of ``g``."""

    def __init__(self):
        self.err = np.inf
        self.at = 0

    def update(self, err, at, f, g, image):
        self.err, self.at = err, at
        self.f, self.g, self.image = f, g, image


def solve_anderson(M, a, b, reg, g, tol_abs, max_iter, ws):
    """Anderson-accelerated scaling iterations, the warm-up of ``sns``.

    Same signature and return value as :func:`._scaling.solve_scaling`
    (``(f, g, n_iter, info, P)`` with ``P`` the plan at ``(f, g)``). Stops
    at ``tol_abs``, or when slow at the best point so far (Newton takes
    over), or, when Anderson steps do not help, goes on as over-relaxed
    scaling iterations from the best point (see the module docstring).
    """
    state = ScalingState(M, a, b, reg, g, ws)
    n_iter, n_absorb, n_restart, n_eval = 1, 0, 0, 0
    mixing = AndersonMixing(M.shape[1], _DEPTH)
    best = _Best()
    window_start, rates = np.inf, []
    converged, failed = False, False
    while n_iter < max_iter:
        x = state.g
        it, err, status = state.iterate(1.0, tol_abs, 1)
        n_iter += it
        if status == 0:
            converged = True
            break
        if status == 2:
            # A scaling left the range: rebuild the kernel around x (the
            # absorption is itself a log-domain iteration).
            state.absorb(x)
            n_iter += 1
            n_absorb += 1
            continue
        n_eval += 1
        image = state.g
        if err < best.err:
            best.update(err, n_eval, state.f, x, image)
        if n_eval - best.at >= _STALL:
            failed = True
            break
        if n_eval % _WINDOW == 0:
            if window_start < np.inf:
                rate = (best.err / window_start) ** (1.0 / _WINDOW)
                if _too_slow(rate, best.err, rates, tol_abs):
                    break
                rates.append(rate)
            window_start = best.err
        if err > _RESTART * best.err:
            n_restart += 1
            if n_restart > _MAX_RESTARTS:
                failed = True
                break
            mixing.reset()
            x_next = best.image
        elif n_eval <= _PLAIN:
            mixing.record(x, image)
            continue
        else:
            x_next = mixing.step(x, image)
            # The map commutes with constant shifts, G(g + t) = G(g) + t, and
            # Anderson combinations drift along them until the potentials lose
            # their digits (plans off by 4e-4 at a marginal error of 1e-9 were
            # seen before this): centre the next point.
            x_next -= x_next.mean()
        if not np.all(np.isfinite(x_next)):
            # A least-squares fit gone singular: start the history afresh.
            mixing.reset()
            x_next = image
        if state.move_to(x_next):
            n_iter += 1
            n_absorb += 1
    info = {"n_absorb": n_absorb, "n_anderson": n_iter, "n_restart": n_restart}
    if converged or best.err == np.inf:
        return state.f, state.g, n_iter, info, state.plan()
    if failed and n_iter < max_iter:
        # Anderson steps did not help (far from the optimum, on a degenerate
        # problem): over-relaxed iterations from the best point, which hand
        # over to Newton in turn when they stall.
        del state  # its kernel: the iterations build their own
        schedule = Overrelaxation(tol_abs)
        f, g, it, more, P = solve_scaling(M, a, b, reg, best.g, tol_abs, max_iter - n_iter,
                                          ws, schedule)
        info.update(more)
        return f, g, n_iter + it, info, P
    kern.plan_kernel(M, best.f, best.g, reg, state.K, ws.rows, ws.parts)
    return best.f, best.g, n_iter, info, state.K


def _too_slow(rate, err, rates, tol_abs):
    """Whether the window's ``rate`` makes Newton's turn: no progress, or the hand-over
    rule of :func:`._overrelaxation.newton_pays` against the previous window (the
    last entry of ``rates``)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0 or not rates:
        return False
    return newton_pays(rate, err, rates[-1], tol_abs)
