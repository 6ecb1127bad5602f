"""
==========================================
The square-root Lasso is noise-blind
==========================================

The best ``alpha`` of the Lasso is proportional to the standard deviation
:math:`\\sigma` of the noise, which is rarely known. The square-root Lasso
(:class:`skreg.SqrtLasso`) replaces the squared loss by its square root,

.. math::

    \\frac{1}{\\sqrt{n}} \\|y - Xb - b_0\\|_2 + \\alpha \\sum_j w_j |b_j|,

and its best ``alpha`` does not depend on :math:`\\sigma`: theory suggests
:math:`\\alpha \\approx \\sqrt{2 \\log(p) / n}` whatever the noise level.

We check this on a sparse regression problem with :math:`n = 100` samples,
:math:`p = 200` features and 5 non-zero coefficients (all of magnitude 2),
at the noise levels :math:`\\sigma \\in \\{0.1, 0.5, 1, 2\\}`. For each
level we compute the estimation error :math:`\\|\\hat b - b^*\\|_2` along a
log grid of ``alpha`` with :func:`skreg.weighted_lasso_path` and
:func:`skreg.sqrt_lasso_path`, averaged over 10 random problems.
"""

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
from matplotlib.ticker import NullFormatter, ScalarFormatter

from skreg import sqrt_lasso_path, weighted_lasso_path

# %%
# Error curves
# ------------
#
# The grids are fixed in advance (the path functions sort them in
# decreasing order; we flip the results back). The square-root Lasso grid
# stays above about 0.08: below that, with :math:`p > n`, its solution
# interpolates the data (zero residual), which is useless for estimation.

n_samples, n_features, n_nonzero, n_reps = 100, 200, 5, 10
sigmas = [0.1, 0.5, 1.0, 2.0]
lasso_alphas = np.geomspace(2e-3, 3.0, 50)
sqrt_alphas = np.geomspace(0.1, 0.6, 30)
alpha_universal = np.sqrt(2 * np.log(n_features) / n_samples)

rng = np.random.default_rng(0)
lasso_err = np.zeros((len(sigmas), lasso_alphas.size))
sqrt_err = np.zeros((len(sigmas), sqrt_alphas.size))
for _ in range(n_reps):
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros(n_features)
    support = rng.choice(n_features, n_nonzero, replace=False)
    coef[support] = 2.0 * rng.choice([-1, 1], n_nonzero)
    for i, sigma in enumerate(sigmas):
        y = X @ coef + sigma * rng.standard_normal(n_samples)
        _, coefs, _ = weighted_lasso_path(X, y, alphas=lasso_alphas, fit_intercept=True)
        lasso_err[i] += np.linalg.norm(coefs - coef[:, None], axis=0)[::-1] / n_reps
        _, coefs, _ = sqrt_lasso_path(X, y, alphas=sqrt_alphas, fit_intercept=True)
        sqrt_err[i] += np.linalg.norm(coefs - coef[:, None], axis=0)[::-1] / n_reps

best_lasso = lasso_alphas[lasso_err.argmin(axis=1)]
best_sqrt = sqrt_alphas[sqrt_err.argmin(axis=1)]
k_universal = np.argmin(np.abs(sqrt_alphas - alpha_universal))
print(f"sqrt(2 log(p) / n) = {alpha_universal:.3f}")
print(" sigma | best alpha: Lasso  SqrtLasso | min error: Lasso  SqrtLasso "
      "| SqrtLasso error at sqrt(2 log(p)/n)")
for i, sigma in enumerate(sigmas):
    print(f"{sigma:6.1f} | {best_lasso[i]:17.3f} {best_sqrt[i]:10.3f} "
          f"| {lasso_err[i].min():16.3f} {sqrt_err[i].min():10.3f} "
          f"| {sqrt_err[i, k_universal]:.3f}")

# %%
# We plot the error divided by :math:`\sigma` so that the four noise levels
# share one scale. The Lasso curves slide to the right as the noise grows:
# the best ``alpha`` goes from about 0.01 at :math:`\sigma = 0.1` to about
# 0.27 at :math:`\sigma = 2`, proportional to :math:`\sigma`. The
# square-root Lasso curves lie on top of each other: the best ``alpha`` is
# about 0.17 at every noise level (half of :math:`\sqrt{2\log(p)/n} = 0.33`,
# which is the conservative value of the theory: at it the error is still
# proportional to :math:`\sigma`, about twice the best). At its best
# ``alpha`` each estimator reaches the same error: for a given data set, the
# square-root Lasso path is a reparametrisation of the Lasso path, and only
# the location of the good ``alpha`` differs.

colors = plt.cm.viridis(np.linspace(0, 0.85, len(sigmas)))
fig, axes = plt.subplots(1, 3, figsize=(14, 4.3),
                         gridspec_kw={"width_ratios": [1.2, 1.2, 0.9]})
for i, sigma in enumerate(sigmas):
    label = rf"$\sigma$ = {sigma:g}"
    for ax, alphas, err, best in [(axes[0], lasso_alphas, lasso_err, best_lasso),
                                  (axes[1], sqrt_alphas, sqrt_err, best_sqrt)]:
        ax.plot(alphas, err[i] / sigma, color=colors[i], lw=2, label=label)
        ax.plot(best[i], err[i].min() / sigma, "o", color=colors[i], ms=7, mec="k")
axes[1].axvline(alpha_universal, color="k", ls="--", lw=1,
                label=r"$\sqrt{2\log(p)/n}$")
axes[0].set_title("WeightedLasso (all weights one)")
axes[1].set_title("SqrtLasso")
for ax in axes[:2]:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel(r"$\|\hat b - b^*\|_2 \,/\, \sigma$")
    ax.legend(fontsize=9)
axes[0].set_ylim(0.3, 30)
axes[1].set_ylim(0.3, 30)
axes[1].xaxis.set_major_formatter(ScalarFormatter())
axes[1].xaxis.set_minor_formatter(NullFormatter())
axes[1].set_xticks([0.1, 0.2, 0.3, 0.4, 0.6])

ax = axes[2]
ax.loglog(sigmas, best_lasso, "o-", color="tab:blue", label="WeightedLasso")
ax.loglog(sigmas, best_sqrt, "s-", color="tab:red", label="SqrtLasso")
ax.axhline(alpha_universal, color="k", ls="--", lw=1, label=r"$\sqrt{2\log(p)/n}$")
ax.set_xlabel(r"noise level $\sigma$")
ax.set_ylabel(r"best $\alpha$")
ax.set_title(r"Best $\alpha$ against $\sigma$")
ax.legend(fontsize=9)
fig.suptitle(f"Estimation error along the path (n={n_samples}, p={n_features}, "
             f"{n_nonzero}-sparse, mean of {n_reps} problems)")
fig.tight_layout()
# sphinx_gallery_start_ignore
save(fig, "plot_sqrt_lasso_noise_blind.png")
if not IN_GALLERY:
    plt.close("all")
# sphinx_gallery_end_ignore
