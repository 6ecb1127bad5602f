"""
=====================================================
Greedy sparse recovery with loss-based weighted OMP
=====================================================

:class:`skreg.WeightedOMP` is the greedy counterpart of the convex estimators
:class:`skreg.WeightedLasso`, :class:`skreg.SqrtLasso` and
:class:`skreg.LADLasso`. At each step it adds the feature whose coefficient,
moved alone, decreases the objective

.. math::

    \\mathrm{loss}(y - Xb) + \\alpha \\sum_j w_j |b_j|
    \\quad\\text{(or } \\alpha \\sum_{j : b_j \\ne 0} w_j^2 \\text{)}

the most, then refits the selected coefficients without penalty. The loss
is the one of the convex estimator: :math:`\\frac{1}{2n}\\|r\\|_2^2`,
:math:`\\frac{1}{\\sqrt n}\\|r\\|_2` or :math:`\\frac1n \\|r\\|_1`.

We reproduce two experiments of the paper that introduced these methods
(Gaussian design, :math:`m = 150` measurements, :math:`N = 300` unknowns,
10 non-zero coefficients, at most 30 steps): the square-root loss makes the
best ``alpha`` independent of the noise level, and the absolute loss makes
the recovery robust to gross outliers.
"""

# sphinx_gallery_thumbnail_number = 1
# sphinx_gallery_start_ignore
import sys
from pathlib import Path

import matplotlib

IN_GALLERY = "sphinx_gallery" in sys.modules
if not IN_GALLERY:
    matplotlib.use("Agg")  # no display needed when run as a script


def save(fig, name):
    """Write ``fig`` next to this script when the script is run directly."""
    if __name__ == "__main__" and not IN_GALLERY:
        fig.savefig(Path(__file__).with_name(name), dpi=100)


# sphinx_gallery_end_ignore
import matplotlib.pyplot as plt
import numpy as np

from skreg import WeightedOMP

m, N, s = 150, 300, 10


def make_problem(seed, eta, outliers=0.0):
    """Gaussian measurements of a 10-sparse vector, noise of norm ``eta``."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, N)) / np.sqrt(m)
    x = np.zeros(N)
    x[rng.choice(N, s, replace=False)] = rng.standard_normal(s)
    e = rng.standard_normal(m)
    y = A @ x + eta * e / np.linalg.norm(e)
    n_out = int(outliers * m)
    if n_out:
        idx = rng.choice(m, n_out, replace=False)
        y[idx] += 100 * np.abs(y).max() * rng.standard_normal(n_out)
    return A, y, x


def relative_error(model, x):
    return np.linalg.norm(model.coef_ - x) / np.linalg.norm(x)


# %%
# Noise-blind tuning of the square-root loss
# ------------------------------------------
#
# For three noise levels we sweep ``alpha`` and record the relative error
# :math:`\|\hat x - x\| / \|x\|`, averaged over 5 random problems, for the
# square-root loss (``"sqrt_lasso"``) and the squared loss (``"lasso"``), both
# with the l1 penalty.

alphas = np.logspace(-5, 0, 21)
etas = [1e-3, 1e-2, 1e-1]
n_reps = 5
errors = {loss: np.zeros((len(etas), alphas.size)) for loss in ["sqrt_lasso", "lasso"]}
for loss, err in errors.items():
    for i, eta in enumerate(etas):
        for seed in range(n_reps):
            A, y, x = make_problem(seed, eta)
            for k, alpha in enumerate(alphas):
                model = WeightedOMP(loss=loss, penalty="l1", alpha=alpha,
                                    n_nonzero_coefs=30, fit_intercept=False).fit(A, y)
                err[i, k] += relative_error(model, x) / n_reps
    best = [f"{alphas[np.argmin(e)]:.1e}" for e in err]
    print(f"{loss:>10}: best alpha for noise {etas}: {best}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (loss, err) in zip(axes, errors.items()):
    for eta, e in zip(etas, err):
        line, = ax.loglog(alphas, e, "o-", ms=3, label=f"noise {eta:g}")
        ax.axvline(alphas[np.argmin(e)], color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("alpha")
    ax.set_title(f'loss="{loss}", penalty="l1"')
axes[0].set_ylabel("mean relative error")
axes[0].legend()
fig.tight_layout()
# sphinx_gallery_start_ignore
save(fig, "plot_weighted_omp_noise_blind.png")
# sphinx_gallery_end_ignore

# %%
# With the square-root loss the error at every noise level is smallest in
# the same window of ``alpha``, around :math:`10^{-2}` (dotted lines; at
# noise 0.1 the two grid points of the window are within a few percent of
# each other): a feature enters when its correlation with the residual
# exceeds ``alpha`` times the residual norm, a scale-free test, so one
# ``alpha`` serves every noise level. With the squared loss the test
# compares the correlation itself with ``alpha``: the best ``alpha`` at
# noise 0.1 (:math:`10^{-4}`) gives an error more than 20 times the optimum at
# noise :math:`10^{-3}`, where only ``alpha`` below :math:`10^{-4}` recovers
# to the noise level, so ``alpha`` has to follow the noise.

# %%
# Robustness to outliers: the absolute loss
# -----------------------------------------
#
# Now 10% of the measurements are corrupted by errors 100 times larger than
# the largest clean measurement. Plain OMP (``loss="lasso"``, ``alpha=0``)
# follows the outliers; the absolute-loss variant selects by a weighted
# median and refits by least absolute deviations.

A, y, x = make_problem(0, 1e-3, outliers=0.10)
omp = WeightedOMP(n_nonzero_coefs=30, fit_intercept=False).fit(A, y)
lad = WeightedOMP(loss="lad_lasso", alpha=1e-4, n_nonzero_coefs=30,
                  fit_intercept=False).fit(A, y)
print(f"plain OMP: relative error {relative_error(omp, x):.2e}, "
      f"{omp.n_iter_} features selected")
print(f"lad_lasso: relative error {relative_error(lad, x):.2e}, "
      f"{lad.n_iter_} features selected")

fig, ax = plt.subplots(figsize=(10, 3.5))
for coef, style, label in [
        (x, {"marker": "o", "color": "0.6", "ms": 9}, "true"),
        (lad.coef_, {"marker": "x", "color": "tab:red", "mew": 2}, 'WeightedOMP(loss="lad_lasso")'),
        (omp.coef_, {"marker": ".", "color": "tab:blue"}, "plain OMP (clipped to the axes)")]:
    nz = np.flatnonzero(coef)   # non-zero coefficients only
    ax.plot(nz, np.clip(coef[nz], 1.5 * x.min() - 0.5, 1.5 * x.max() + 0.5), ls="none",
            label=label, **style)
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("coefficient index")
ax.set_title("Recovery with 10% gross outliers")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
# sphinx_gallery_start_ignore
save(fig, "plot_weighted_omp_outliers.png")
if not IN_GALLERY:
    plt.close("all")
# sphinx_gallery_end_ignore

# %%
# The absolute-loss variant stops by itself once the ten coefficients are
# found (no other feature decreases the objective by more than
# ``alpha``) and recovers them to the noise level; plain OMP's coefficients
# are off by orders of magnitude.
