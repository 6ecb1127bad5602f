"""Synthetic data sets shared by the benchmark scripts.

Every data set has a 20-sparse true coefficient vector (support drawn at
random, standard-normal values) and noise scaled so that the signal-to-noise
ratio ``||X beta|| / ||noise||`` is ``snr`` (5 by default): Gaussian noise for
``correlated`` and ``sparse``; Student-t noise plus gross outliers for
``heavy_tailed`` (the LAD Lasso data). Everything is drawn from a fixed seed,
so every script and every run sees the same data.
"""

import numpy as np
import scipy.sparse as sp

SEED = 0


def _response(X, rng, n_nonzero, snr):
    p = X.shape[1]
    beta = np.zeros(p)
    support = rng.choice(p, size=n_nonzero, replace=False)
    beta[support] = rng.standard_normal(n_nonzero)
    signal = np.asarray(X @ beta).ravel()
    noise = rng.standard_normal(X.shape[0])
    noise *= np.linalg.norm(signal) / (snr * np.linalg.norm(noise))
    return signal + noise, beta


def correlated(n_samples=1000, n_features=5000, rho=0.6, n_nonzero=20, snr=5.0,
               seed=SEED):
    """Dense Gaussian design with AR(1) column correlation ``rho^|j-k|``.

    Columns are built by the recursion
    ``x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j`` (unit variance, ``corr(x_j, x_k)
    = rho^|j-k|``). ``X`` is returned in Fortran order (what every solver
    here wants, so no solver pays for a copy).
    """
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    X = np.empty((n_samples, n_features), order="F")
    X[:, 0] = Z[:, 0]
    c = np.sqrt(1.0 - rho * rho)
    for j in range(1, n_features):
        np.multiply(X[:, j - 1], rho, out=X[:, j])
        X[:, j] += c * Z[:, j]
    y, beta = _response(X, rng, n_nonzero, snr)
    return X, y, beta


def sparse(n_samples=5000, n_features=20000, density=1e-3, n_nonzero=20, snr=5.0,
           seed=SEED):
    """scipy.sparse CSC design with standard-normal non-zeros at ``density``.

    Some columns are empty (about ``exp(-n * density)`` of them), which the
    solvers must cope with.
    """
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, format="csc",
                  random_state=rng, data_rvs=rng.standard_normal)
    X.sort_indices()
    # Put the truth on non-empty columns so the signal is never zero.
    nonempty = np.flatnonzero(np.diff(X.indptr) > 0)
    beta = np.zeros(n_features)
    support = rng.choice(nonempty, size=n_nonzero, replace=False)
    beta[support] = rng.standard_normal(n_nonzero)
    signal = X @ beta
    noise = rng.standard_normal(n_samples)
    noise *= np.linalg.norm(signal) / (snr * np.linalg.norm(noise))
    return X, signal + noise, beta


def heavy_tailed(n_samples=5000, n_features=500, n_nonzero=20, snr=5.0, df=3.0,
                 outlier_fraction=0.05, outlier_scale=20.0, seed=SEED):
    """Dense Gaussian design, heavy-tailed noise and gross outliers (for LAD).

    ``X`` has i.i.d. standard-normal entries (Fortran order). The noise is
    Student-t with ``df`` degrees of freedom, scaled so that
    ``||X beta|| / ||noise|| = snr``; then a fraction ``outlier_fraction`` of
    the responses, chosen at random, get ``+-outlier_scale`` times the noise
    standard deviation added (random signs).
    """
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n_samples, n_features)))
    beta = np.zeros(n_features)
    support = rng.choice(n_features, size=n_nonzero, replace=False)
    beta[support] = rng.standard_normal(n_nonzero)
    signal = X @ beta
    noise = rng.standard_t(df, size=n_samples)
    noise *= np.linalg.norm(signal) / (snr * np.linalg.norm(noise))
    y = signal + noise
    n_out = round(outlier_fraction * n_samples)
    idx = rng.choice(n_samples, size=n_out, replace=False)
    y[idx] += outlier_scale * noise.std() * rng.choice([-1.0, 1.0], size=n_out)
    return X, y, beta


DATASETS = {"correlated": correlated, "sparse": sparse}

# Not in DATASETS (the Lasso scripts loop over those): LAD Lasso data.
EXTRA = {"heavy_tailed": heavy_tailed}

# Smaller versions for smoke runs (``--quick``).
QUICK = {
    "correlated": {"n_samples": 200, "n_features": 1000},
    "sparse": {"n_samples": 1000, "n_features": 4000, "density": 5e-3},
    "heavy_tailed": {"n_samples": 1000, "n_features": 100},
}


def load(name, quick=False):
    """``(X, y, beta)`` of the named data set (smaller with ``quick``)."""
    kwargs = QUICK[name] if quick else {}
    return {**DATASETS, **EXTRA}[name](**kwargs)


def alpha_max(X, y):
    """``||X^T (y - mean(y))||_inf / n``: the smallest alpha with an all-zero Lasso."""
    yc = y - y.mean()
    return float(np.max(np.abs(X.T @ yc))) / X.shape[0]
