"""
=======================================================
Group SLOPE and Sparse-group SLOPE on grouped features
=======================================================

When features come in groups (the dummy columns of a categorical variable,
the genes of a pathway, the lags of a time series), :class:`skreg.GroupSLOPE`
selects whole groups: it minimises

.. math::

    \\frac{1}{2n}\\|y - Xb - b_0\\|^2
    + \\alpha \\sum_k \\lambda_k \\big(\\sqrt{p_g}\\,\\|b_g\\|_2\\big)_{(k)},

a sorted-L1 penalty on the size-weighted group norms.
:class:`skreg.SparseGroupSLOPE` adds a sorted-L1 penalty on the single
coefficients (weight ``l1_ratio``), so that only some features of a selected
group enter. We simulate :math:`n = 150` samples of :math:`p = 300` features
in 60 groups of unequal sizes; 4 groups are active, and inside them only
half of the features.

The first figure shows the regularisation paths (one colour per active
group, grey for the others). The second shows what the group strong rule
does along the path: the number of groups it keeps (the strong set) against
the number of groups actually active, and the violations of the rule that
the optimality checks caught.
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

from skreg import group_slope_path, sparse_group_slope_path

rng = np.random.default_rng(0)
n_samples, n_features, n_groups = 150, 300, 60
# Every group gets one feature, the others fall at random: sizes from 1 to ~12.
groups = np.sort(np.concatenate([np.arange(n_groups),
                                 rng.integers(0, n_groups, n_features - n_groups)]))
active_groups = [3, 17, 30, 45]
coef = np.zeros(n_features)
for g in active_groups:
    members = np.flatnonzero(groups == g)
    keep = members[: max(1, members.size // 2)]
    coef[keep] = rng.choice([-2.0, 2.0], keep.size)
X = rng.standard_normal((n_samples, n_features))
y = X @ coef + rng.standard_normal(n_samples)

# %%
# Regularisation paths
# --------------------
# Fifty values of ``alpha`` from ``alpha_max`` (all coefficients zero) down
# to ``alpha_max / 20``, with the Benjamini-Hochberg sequences (``q = 0.1``).

paths = {
    "Group SLOPE": group_slope_path(X, y, groups=groups, alphas=50, eps=0.05,
                                    fit_intercept=True),
    "Sparse-group SLOPE (l1_ratio=0.5)": sparse_group_slope_path(
        X, y, groups=groups, l1_ratio=0.5, alphas=50, eps=0.05, fit_intercept=True),
}

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
colours = plt.cm.tab10(np.arange(len(active_groups)))
for ax, (title, (alphas, coefs, gaps, info)) in zip(axes, paths.items()):
    for j in range(n_features):
        g = groups[j]
        if g in active_groups:
            colour, lw = colours[active_groups.index(g)], 1.5
        else:
            colour, lw = "0.75", 0.7
        ax.plot(alphas / alphas[0], coefs[j], color=colour, lw=lw)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha / alpha_max")
    ax.set_title(title)
axes[0].set_ylabel("coefficient")
fig.tight_layout()
save(fig, "plot_group_slope_paths.png")

# %%
# Inside the active groups, Sparse-group SLOPE keeps the coefficients that are
# really non-zero and sets most of the others to zero, which Group SLOPE cannot
# do (a group is in or out as a whole).

for title, (alphas, coefs, gaps, info) in paths.items():
    k = 25  # the middle of the path
    selected = coefs[:, k] != 0
    in_active = np.isin(groups, active_groups)
    print(f"{title}: {selected.sum()} features selected, "
          f"{np.sum(selected & (coef != 0))} of {np.sum(coef != 0)} true ones, "
          f"{np.sum(selected & in_active & (coef == 0))} null features of active groups")

# %%
# Strong screening along the path
# -------------------------------
# At each step the strong rule predicts, from the gradient at the previous
# solution, which groups can become active; the solver fits only those (plus
# the active ones) and checks the optimality conditions on every group.

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (title, (alphas, coefs, gaps, info)) in zip(axes, paths.items()):
    n_active = [np.unique(groups[coefs[:, k] != 0]).size for k in range(alphas.size)]
    ax.plot(alphas / alphas[0], info["n_screened"], label="strong set (groups)")
    ax.plot(alphas / alphas[0], n_active, label="active groups")
    ax.plot(alphas / alphas[0], np.cumsum(info["n_violations"]), ls="--",
            label="rule violations (cumulative)")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha / alpha_max")
    ax.set_title(title)
axes[0].set_ylabel("number of groups")
axes[0].legend()
fig.tight_layout()
save(fig, "plot_group_slope_screening.png")
plt.show()
