"""Property-based checks: on random problems, every estimator's solution is
optimal (cvxpy) and its reported duality gap is a valid certificate."""

import numpy as np
from families import FAMILIES, alpha_max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@st.composite
def problems(draw):
    n = draw(st.integers(5, 30))
    p = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 10.0, p)  # unequal column norms
    y = X @ (rng.standard_normal(p) * (rng.uniform(size=p) < 0.3)) + rng.standard_normal(n)
    weights = rng.uniform(0.0, 2.0, p) * (rng.uniform(size=p) < 0.8)
    if not np.any(weights > 0):
        weights[0] = 1.0
    sample_weight = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    fit_intercept = draw(st.booleans())
    frac = draw(st.sampled_from([0.9, 0.5, 0.2]))
    return X, y, weights, sample_weight, fit_intercept, frac


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), family_index=st.integers(0, len(FAMILIES) - 1))
def test_solution_is_optimal_and_gap_is_a_certificate(problem, family_index):
    family = FAMILIES[family_index]
    X, y, weights, sample_weight, fit_intercept, frac = problem
    kwargs = {"weights": weights, "sample_weight": sample_weight, "fit_intercept": fit_intercept}
    alpha = frac * alpha_max(family, X, y, **kwargs)
    if alpha <= 0:
        return
    est = family.estimator(alpha=alpha, weights=weights, fit_intercept=fit_intercept,
                           tol=1e-9, max_iter=100_000).fit(X, y, sample_weight=sample_weight)
    _, _, obj_ref = family.cvxpy(X, y, alpha, **kwargs)
    obj = family.objective(X, y, est.coef_, est.intercept_, alpha, weights, sample_weight)
    # Tolerances relative to the problem's scale (the objective of the zero
    # model), not to the optimum, which can be ~0 when p >= n.
    scale = family.objective(X, y, np.zeros(X.shape[1]), 0.0, alpha, weights, sample_weight)
    assert obj <= obj_ref + 1e-6 * scale
    # The certificate: nothing can be better than obj - dual_gap.
    assert obj - est.dual_gap_ <= obj_ref + 1e-7 * scale
