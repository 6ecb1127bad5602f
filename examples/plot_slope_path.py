"""
====================================================
SLOPE: clusters of coefficients and strong screening
====================================================

SLOPE (:class:`skreg.SLOPE`) penalises the *sorted* magnitudes of the
coefficients with a non-increasing sequence :math:`\\lambda`:

.. math::

    \\frac{1}{2n} \\|y - Xb - b_0\\|_2^2 + \\alpha \\sum_j \\lambda_j |b|_{(j)}.

Because the largest coefficients pay the largest weights, strongly
correlated features with similar effects get *exactly equal* magnitudes:
SLOPE selects clusters, where the Lasso (constant :math:`\\lambda`) picks
one feature of a correlated block at random. We fit both on a design with
three blocks of five almost collinear features (plus 200 independent noise
features) and compare their paths, then look at what the strong screening
rule of :func:`skreg.slope_path` does along a path with many more features
than samples.
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

from skreg import slope_path

rng = np.random.default_rng(0)
n_samples, n_blocks, block_size, n_noise = 100, 3, 5, 200
latent = rng.standard_normal((n_samples, n_blocks))
blocks = np.repeat(latent, block_size, axis=1)
blocks += 0.1 * rng.standard_normal(blocks.shape)  # correlation about 0.99
X = np.hstack([blocks, rng.standard_normal((n_samples, n_noise))])
n_features = X.shape[1]
true_coef = np.zeros(n_features)
true_coef[:n_blocks * block_size] = np.repeat([2.0, -1.5, 1.0], block_size)
y = X @ true_coef + rng.standard_normal(n_samples)

# %%
# Paths: SLOPE (BH sequence, q = 0.1) against the Lasso
# ------------------------------------------------------
#
# The Lasso is SLOPE with a constant sequence. Both paths use the same
# relative grid, from each model's own ``alpha_max`` down to 1% of it.

paths = {
    "SLOPE (BH, q=0.1)": slope_path(X, y, lambdas="bh", q=0.1, alphas=60, eps=1e-2,
                                    fit_intercept=True),
    "Lasso (constant lambdas)": slope_path(X, y, lambdas=np.ones(n_features), alphas=60,
                                           eps=1e-2, fit_intercept=True),
}
colors = ["tab:blue", "tab:orange", "tab:green"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, (name, (alphas, coefs, gaps, info)) in zip(axes, paths.items()):
    t = alphas / alphas[0]
    ax.plot(t, coefs[n_blocks * block_size:].T, color="0.8", lw=0.6)
    for b in range(n_blocks):
        ax.plot(t, coefs[b * block_size:(b + 1) * block_size].T, color=colors[b], lw=1.2)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel(r"$\alpha / \alpha_{max}$")
    ax.set_title(name)
    last = coefs[:n_blocks * block_size, -1].reshape(n_blocks, block_size)
    n_distinct = [np.unique(np.round(np.abs(row), 8)).size for row in last]
    print(f"{name}: distinct magnitudes within each block at the end of the path: "
          f"{n_distinct}; max duality gap {gaps.max():.1e}")
axes[0].set_ylabel("coefficient (grey: noise features)")
fig.tight_layout()
# sphinx_gallery_start_ignore
save(fig, "plot_slope_path_clusters.png")
# sphinx_gallery_end_ignore

# %%
# Each colour is one block of five correlated features. SLOPE moves each
# block as one cluster (a single line per colour over most of the path),
# while the Lasso spreads each block's effect over a few arbitrary members
# and zeroes the others.
#
# Strong screening along a path with p >> n
# -----------------------------------------
#
# With 5000 features and 100 samples, each step of the screened path
# starts from the strong set of Larsson, Bogdan and Wallin (2020): the
# features the unit-slope bound predicts active at the next ``alpha``, plus
# the previous support. The full optimality conditions are then checked and
# violators, if any, are added before refitting; the returned path is the
# same as without screening (both stop on the duality gap of the full
# problem).

X_wide = np.hstack([X, rng.standard_normal((n_samples, 5000 - n_features))])
alphas, coefs, gaps, info = slope_path(X_wide, y, alphas=100, eps=1e-2, fit_intercept=True)
n_active = (coefs != 0).sum(axis=0)
print(f"strong set: median {np.median(info['n_screened']):.0f} of {X_wide.shape[1]} "
      f"features; KKT violations over the path: {info['n_violations'].sum()}, "
      f"refits: {info['n_refits'].sum()}")

fig, ax = plt.subplots(figsize=(6.5, 4.3))
t = alphas / alphas[0]
ax.plot(t, info["n_screened"], "o-", ms=3, label="screened (strong set + support)")
ax.plot(t, n_active, "s-", ms=3, label="non-zero coefficients")
ax.axhline(X_wide.shape[1], color="k", ls="--", lw=0.8, label="all features")
ax.set_xscale("log")
ax.set_yscale("log")
ax.invert_xaxis()
ax.set_xlabel(r"$\alpha / \alpha_{max}$")
ax.set_ylabel("number of features")
ax.set_title(f"Strong screening (n={n_samples}, p={X_wide.shape[1]})")
ax.legend()
fig.tight_layout()
# sphinx_gallery_start_ignore
save(fig, "plot_slope_path_screening.png")
if not IN_GALLERY:
    plt.close("all")
# sphinx_gallery_end_ignore
