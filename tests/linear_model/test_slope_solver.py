"""The hybrid solver's two moves: exact cluster steps and proximal-gradient steps."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from skreg.linear_model._design import LinearDesign
from skreg.linear_model._slope_solver import _cd_clusters, _pgd_step, ws_correlations


def _setup(seed, sparse=False):
    rng = np.random.default_rng(seed)
    n, p = 30, 12
    X = np.asfortranarray(rng.standard_normal((n, p)) + 0.5 * rng.standard_normal((n, 1)))
    y = X[:, :4] @ [2.0, 2.0, -1.0, 0.5] + rng.standard_normal(n)
    if sparse:
        import scipy.sparse as sp

        X[rng.uniform(size=X.shape) < 0.5] = 0.0
        X = sp.csc_matrix(X)
    design = LinearDesign(X, y, np.full(n, 1.0 / n), center=True)
    lam = np.sort(rng.uniform(0.05, 0.6, p))[::-1]
    # A start with clusters of equal magnitudes (mixed signs) and zeros.
    b = np.array([1.0, -1.0, 0.7, 0.7, -0.3, 0.3, 0.3, 0.05, 0, 0, 0, 0])
    rng.shuffle(b)
    return design, lam, b


def _objective(design, b, lam):
    r = design.y - design.matvec(b)
    return 0.5 * design.q @ r**2 + np.sort(np.abs(b))[::-1] @ lam


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_moves_never_increase_the_objective(seed, sparse):
    design, lam, b = _setup(seed, sparse)
    p = b.size
    ws = np.arange(p)
    r, shift = design.residual(b)
    cum = np.concatenate([[0.0], np.cumsum(lam)])
    u = np.empty(design.n_samples)
    c = np.empty(p)
    L = np.array([design.lipschitz.max()])
    f = _objective(design, b, lam)
    for it in range(30):
        if it % 3 == 0:
            ws_correlations(*design.kernel_args(), r, shift, ws, c)
            _pgd_step(design.X, design.data, design.indices, design.indptr, design.sparse,
                      design.X_mean, design.q, r, shift, b, ws, c, lam, L, u)
        else:
            _cd_clusters(*design.kernel_args(), r, shift, b, ws, design.lipschitz, cum, u)
        # The stored residual stays that of b.
        np.testing.assert_allclose(r + shift[0], design.y - design.matvec(b), atol=1e-10)
        f_new = _objective(design, b, lam)
        assert f_new <= f + 1e-12
        f = f_new


@pytest.mark.parametrize("seed", range(6))
def test_cluster_step_is_the_exact_one_dimensional_minimiser(seed):
    design, lam, b = _setup(seed)
    p = b.size
    r, shift = design.residual(b)
    cum = np.concatenate([[0.0], np.cumsum(lam)])
    u = np.empty(design.n_samples)
    # Clusters are visited from the largest magnitude down, so the smallest
    # non-zero cluster moves last, with every other cluster already final.
    smallest = np.abs(b[b != 0]).min()
    members = np.flatnonzero(np.abs(b) == smallest)
    signs = np.sign(b[members])
    _cd_clusters(*design.kernel_args(), r, shift, b, np.arange(p), design.lipschitz, cum, u)

    def along(z):
        trial = b.copy()
        trial[members] = z * signs
        return _objective(design, trial, lam)

    z_solver = b[members[0]] * signs[0]
    best = minimize_scalar(along, bounds=(-5.0, 5.0), method="bounded",
                           options={"xatol": 1e-12})
    assert along(z_solver) <= best.fun + 1e-12
    # ... including at the kinks, where a bounded scalar search is weakest.
    kinks = np.concatenate([[0.0], np.abs(b[b != 0]), -np.abs(b[b != 0])])
    assert along(z_solver) <= min(along(z) for z in kinks) + 1e-12
