"""Square-root Lasso: ``skreg.SqrtLasso`` against the cvxpy model of the tests.

The full benchmark designs take Clarabel minutes, so this compares on the
correlated design at n = 500, p = 2000 (``_data.correlated``), centred
``y``, no intercept, ``alpha = alpha_max / 5``: skreg at ``tol=1e-8`` (best
of 3, after compilation) against one cvxpy solve with Clarabel at 1e-10
tolerances (``tests/reference_models.sqrt_lasso_cvxpy``). Both objectives
are recomputed here from the returned coefficients.

Run ``python benchmarks/bench_sqrt_lasso_cvxpy.py``.
"""

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import _data
from reference_models import sqrt_lasso_cvxpy, sqrt_lasso_objective

from skreg import SqrtLasso


def main():
    X, y = _data.correlated(n_samples=500, n_features=2000)[:2]
    y = y - y.mean()
    n = X.shape[0]
    alpha = np.abs(X.T @ y).max() / (np.sqrt(n) * np.linalg.norm(y)) / 5
    SqrtLasso(alpha=alpha, fit_intercept=False).fit(X[:50, :100], y[:50])  # compile
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        model = SqrtLasso(alpha=alpha, fit_intercept=False, tol=1e-8).fit(X, y)
        times.append(time.perf_counter() - t0)
    f_skreg = sqrt_lasso_objective(X, y, model.coef_, 0.0, alpha)
    t0 = time.perf_counter()
    coef, _, _ = sqrt_lasso_cvxpy(X, y, alpha, fit_intercept=False)
    t_cvxpy = time.perf_counter() - t0
    f_cvxpy = sqrt_lasso_objective(X, y, coef, 0.0, alpha)
    print(f"n = {n}, p = {X.shape[1]}, alpha = alpha_max / 5, "
          f"{np.count_nonzero(model.coef_)} non-zeros")
    print(f"skreg  {min(times):8.3f} s  objective {f_skreg:.12f}")
    print(f"cvxpy  {t_cvxpy:8.3f} s  objective {f_cvxpy:.12f}")
    print(f"cvxpy / skreg = {t_cvxpy / min(times):.0f}x; "
          f"skreg - cvxpy objective = {f_skreg - f_cvxpy:.1e}")


if __name__ == "__main__":
    main()
