"""The exact LAD-Lasso solver (``skreg.linear_model._lad_solver``).

Problem: ``min_{b, b0} sum_i q_i |y_i - x_i b - b0| + sum_j pen_j |b_j|``.
References: a cvxpy model of the same objective (Clarabel, tight tolerances)
and scikit-learn's ``QuantileRegressor(quantile=0.5, solver="highs")``.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import QuantileRegressor

from skreg.linear_model._lad_solver import lad_alpha_max, solve_lad


def _dense(X):
    return X.toarray().astype(np.float64) if sp.issparse(X) else np.asarray(X, np.float64)


def objective(X, y, q, pen, coef, intercept):
    r = y - _dense(X) @ coef - intercept
    return float(q @ np.abs(r) + pen @ np.abs(coef))


def cvxpy_lad(X, y, q, pen, fit_intercept):
    Xd = _dense(X)
    b = cp.Variable(Xd.shape[1])
    b0 = cp.Variable() if fit_intercept else 0.0
    r = y - Xd @ b - b0
    prob = cp.Problem(cp.Minimize(q @ cp.abs(r) + pen @ cp.abs(b)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11,
               tol_feas=1e-11, max_iter=500)
    return np.asarray(b.value), float(b0.value) if fit_intercept else 0.0, prob.value


def make_problem(n, p, *, sparse=False, density=0.3, seed=0, n_informative=3):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=density, format="csc", random_state=seed,
                      data_rvs=rng.standard_normal)
    else:
        X = np.asfortranarray(rng.standard_normal((n, p)))
    coef = np.zeros(p)
    coef[:n_informative] = rng.uniform(1.0, 3.0, n_informative) * rng.choice([-1, 1], n_informative)
    y = X @ coef + 0.5 + rng.laplace(size=n)
    return X, y


def solve(X, y, q, pen, fit_intercept, **kw):
    """``solve_lad`` with warnings turned into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return solve_lad(X, y, q, pen, fit_intercept, **kw)


def null_objective(y, q, fit_intercept):
    if not fit_intercept:
        return float(q @ np.abs(y))
    return min(float(q @ np.abs(y - t)) for t in y)   # a weighted median is a y_i


# --------------------------------------------------------------------------
# Against references
# --------------------------------------------------------------------------

@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("case", ["uniform", "weighted_unpenalised"])
def test_matches_cvxpy(sparse, fit_intercept, case):
    n, p = 60, 15
    X, y = make_problem(n, p, sparse=sparse, seed=p + fit_intercept)
    rng = np.random.default_rng(2)
    w = np.ones(p)
    q = np.full(n, 1.0 / n)
    if case == "weighted_unpenalised":
        q = rng.uniform(0.2, 2.0, n)
        q /= q.sum()
        w = rng.uniform(0.5, 2.0, p)
        w[[1, 6]] = 0.0
    pen = 0.2 * lad_alpha_max(X, y, q, w, fit_intercept) * w
    coef, intercept, gap, n_iter, converged = solve(X, y, q, pen, fit_intercept)
    coef_ref, intercept_ref, obj_ref = cvxpy_lad(X, y, q, pen, fit_intercept)
    obj = objective(X, y, q, pen, coef, intercept)
    assert converged and n_iter > 0
    assert coef.dtype == np.float64 and coef.shape == (p,)
    assert isinstance(intercept, float)
    assert_allclose(obj, obj_ref, rtol=1e-6)
    assert_allclose(coef, coef_ref, atol=1e-4)
    assert_allclose(intercept, intercept_ref, atol=1e-4)
    if not fit_intercept:
        assert intercept == 0.0
    # the gap is a certificate: non-negative, small, and bounds the sub-optimality
    assert 0.0 <= gap <= 1e-8 * null_objective(y, q, fit_intercept)
    assert obj - gap <= obj_ref + 1e-9


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_quantile_regressor(fit_intercept):
    n, p = 150, 20
    X, y = make_problem(n, p, seed=5)
    q = np.full(n, 1.0 / n)
    a = 0.1 * lad_alpha_max(X, y, q, np.ones(p), fit_intercept)
    coef, intercept, _, _, converged = solve(X, y, q, np.full(p, a), fit_intercept)
    qr = QuantileRegressor(quantile=0.5, alpha=a / 2, solver="highs",
                           fit_intercept=fit_intercept).fit(X, y)
    assert converged
    assert np.count_nonzero(coef) > 3
    # both are exact LP vertices
    assert_allclose(coef, qr.coef_, atol=1e-6)
    assert_allclose(intercept, qr.intercept_, atol=1e-6)
    obj = objective(X, y, q, np.full(p, a), coef, intercept)
    obj_qr = objective(X, y, q, np.full(p, a), qr.coef_, qr.intercept_)
    assert obj <= obj_qr * (1 + 1e-10)
    assert_allclose(obj, obj_qr, rtol=1e-9)


def test_working_set_rounds_sparse_vs_dense():
    # p >> support: several working-set rounds; the sparse path (sparse
    # normal matrices) and the dense one must find the same vertex.
    n, p = 300, 1500
    X, y = make_problem(n, p, sparse=True, density=0.01, seed=7, n_informative=5)
    rng = np.random.default_rng(0)
    q = rng.uniform(0.5, 1.5, n)
    q /= q.sum()
    w = np.ones(p)
    w[:2] = 0.0
    pen = 0.5 * lad_alpha_max(X, y, q, w, True) * w
    res_sp = solve(X, y, q, pen, True)
    res_de = solve(np.asfortranarray(X.toarray()), y, q, pen, True)
    assert res_sp[4] and res_de[4]
    assert 5 < np.count_nonzero(res_sp[0]) < 200
    obj_sp = objective(X, y, q, pen, res_sp[0], res_sp[1])
    obj_de = objective(X, y, q, pen, res_de[0], res_de[1])
    assert_allclose(obj_sp, obj_de, rtol=1e-9)
    assert_allclose(res_sp[0], res_de[0], atol=1e-7)
    _, _, obj_ref = cvxpy_lad(X, y, q, pen, True)
    assert_allclose(obj_sp, obj_ref, rtol=1e-6)


def test_warm_start_gives_same_solution():
    n, p = 80, 30
    X, y = make_problem(n, p, seed=11)
    q = np.full(n, 1.0 / n)
    am = lad_alpha_max(X, y, q, np.ones(p), True)
    c1, b1, *_ = solve(X, y, q, np.full(p, 0.3 * am), True)
    cold = solve(X, y, q, np.full(p, 0.1 * am), True)
    warm = solve(X, y, q, np.full(p, 0.1 * am), True, coef_init=c1, intercept_init=b1)
    assert cold[4] and warm[4]
    assert_allclose(warm[0], cold[0], atol=1e-8)
    assert_allclose(warm[1], cold[1], atol=1e-8)


# --------------------------------------------------------------------------
# alpha_max
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["plain", "no_intercept", "weighted_unpenalised",
                                  "sparse", "ties"])
def test_alpha_max(case):
    n, p = 50, 12
    fit_intercept = case != "no_intercept"
    X, y = make_problem(n, p, sparse=case == "sparse", seed=3)
    rng = np.random.default_rng(4)
    q = np.full(n, 1.0 / n)
    w = np.ones(p)
    if case == "weighted_unpenalised":
        q = rng.uniform(0.2, 2.0, n)
        q /= q.sum()
        w = rng.uniform(0.5, 2.0, p)
        w[[0, 4]] = 0.0
    if case == "ties":
        y = np.round(y)     # many zero residuals at the null model
        w[0] = 0.0
    pos = w > 0
    am = lad_alpha_max(X, y, q, w, fit_intercept)
    assert am > 0
    coef, intercept, _, _, converged = solve(X, y, q, am * w, fit_intercept)
    assert converged
    assert_array_equal(coef[pos], 0.0)
    null_obj = objective(X, y, q, am * w, coef, intercept)
    # at 0.99 alpha_max the null model is no longer optimal
    coef2, intercept2, _, _, converged2 = solve(X, y, q, 0.99 * am * w, fit_intercept)
    assert converged2
    assert np.any(coef2[pos] != 0)
    obj2 = objective(X, y, q, 0.99 * am * w, coef2, intercept2)
    assert obj2 < null_obj - 1e-9
    # and the null model (same for every alpha >= alpha_max) is the cvxpy optimum
    _, _, obj_ref = cvxpy_lad(X, y, q, am * w, fit_intercept)
    assert_allclose(null_obj, obj_ref, rtol=1e-7)


def test_alpha_max_edge_cases():
    X, y = make_problem(20, 4, seed=0)
    q = np.full(20, 0.05)
    assert lad_alpha_max(X, y, q, np.zeros(4), True) == 0.0
    assert lad_alpha_max(np.zeros((20, 4)), y, q, np.ones(4), True) == 0.0
    # constant y with an intercept: the null model is exact, alpha_max = 0
    assert lad_alpha_max(X, np.full(20, 2.0), q, np.ones(4), True) == 0.0


# --------------------------------------------------------------------------
# Certificate, dtypes, inputs
# --------------------------------------------------------------------------

def test_gap_is_a_certificate_even_when_stopped_early():
    n, p = 80, 25
    X, y = make_problem(n, p, seed=9)
    q = np.full(n, 1.0 / n)
    pen = np.full(p, 0.1 * lad_alpha_max(X, y, q, np.ones(p), True))
    _, _, obj_ref = cvxpy_lad(X, y, q, pen, True)
    for max_iter in (1, 2, 4):
        coef, intercept, gap, _, _ = solve(X, y, q, pen, True, max_iter=max_iter)
        obj = objective(X, y, q, pen, coef, intercept)
        assert gap >= 0.0
        assert obj - obj_ref <= gap + 1e-12
    coef, intercept, gap, _, converged = solve(X, y, q, pen, True, tol=1e-12)
    assert converged and gap <= 1e-12 * null_objective(y, q, True)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_float32(sparse):
    n, p = 60, 20
    X, y = make_problem(n, p, sparse=sparse, seed=13)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)          # the same numbers, in float64
    q = np.full(n, 1.0 / n)
    pen = np.full(p, 0.2 * lad_alpha_max(X64, y, q, np.ones(p), True))
    c32, b32, gap32, _, conv32 = solve(X32, y, q, pen, True)
    c64, b64, _, _, conv64 = solve(X64, y, q, pen, True)
    assert conv32 and conv64 and c32.dtype == np.float64
    assert_allclose(c32, c64, atol=1e-9)
    assert_allclose(b32, b64, atol=1e-9)
    assert gap32 <= 1e-8 * null_objective(y, q, True)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_inputs_not_modified(sparse):
    n, p = 40, 10
    X, y = make_problem(n, p, sparse=sparse, seed=17)
    rng = np.random.default_rng(0)
    q = rng.uniform(0.0, 1.0, n)
    q[:3] = 0.0
    q /= q.sum()
    pen = np.full(p, 0.05)
    pen[0] = 0.0
    coef_init = rng.standard_normal(p)
    copies = [a.copy() for a in (X, y, q, pen, coef_init)]
    solve(X, y, q, pen, True, coef_init=coef_init, intercept_init=0.1)
    lad_alpha_max(X, y, q, pen, True)
    for a, c in zip((X, y, q, pen, coef_init), copies):
        if sp.issparse(a):
            assert_array_equal(a.toarray(), c.toarray())
            assert a.format == c.format
        else:
            assert_array_equal(a, c)


# --------------------------------------------------------------------------
# Degenerate data: correct answers, no tracebacks, no warnings
# --------------------------------------------------------------------------

def _degenerate_cases():
    rng = np.random.default_rng(21)
    n, p = 30, 6
    X = np.asfortranarray(rng.standard_normal((n, p)))
    y = rng.standard_normal(n)
    q = np.full(n, 1.0 / n)
    pen = np.full(p, 0.03)
    X_dup = X.copy()
    X_dup[:, 1] = X_dup[:, 0]
    pen_unpen = pen.copy()
    pen_unpen[:2] = 0.0
    X_zero = X.copy()
    X_zero[:, 2] = 0.0
    q_zero = q.copy()
    q_zero[::3] = 0.0
    q_zero /= q_zero.sum()
    Xb = np.asfortranarray(rng.integers(0, 2, (n, p)).astype(float))
    return {
        "constant_y": (X, np.full(n, 3.0), q, pen, True),
        "constant_y_no_intercept": (X, np.full(n, 3.0), q, pen, False),
        "duplicate_columns": (X_dup, y, q, pen, True),
        "duplicate_unpenalised_columns": (X_dup, y, q, pen_unpen, True),
        "zero_column": (X_zero, y, q, pen, True),
        "all_zero_X": (np.zeros((n, p)), y, q, pen, True),
        "all_unpenalised": (X, y, q, np.zeros(p), True),
        "zero_sample_weights": (X, y, q_zero, pen, True),
        "zero_sample_weights_sparse": (sp.csc_matrix(X), y, q_zero, pen, False),
        "binary_X_integer_y": (Xb, np.round(2 * y), q, pen_unpen, True),
        "wide": (np.asfortranarray(rng.standard_normal((12, 40))),
                 rng.standard_normal(12), np.full(12, 1 / 12), np.full(40, 0.02), True),
        "n_equals_1": (X[:1], y[:1], np.ones(1), pen, True),
        "n_equals_1_no_intercept": (X[:1], y[:1], np.ones(1), pen * 0.01, False),
        "tiny_penalty": (X, y, q, np.full(p, 1e-14), True),
        "huge_penalty": (X, y, q, np.full(p, 1e6), True),
        "badly_scaled": (X * 1e5, y * 1e-4, q, pen * 1e1, True),
    }


_DEGENERATE = _degenerate_cases()


@pytest.mark.parametrize("name", list(_DEGENERATE))
def test_degenerate(name):
    X, y, q, pen, fit_intercept = _DEGENERATE[name]
    coef, intercept, gap, _, converged = solve(X, y, q, pen, fit_intercept)
    assert converged
    assert np.all(np.isfinite(coef)) and np.isfinite(intercept)
    obj = objective(X, y, q, pen, coef, intercept)
    p0 = null_objective(y, q, fit_intercept)
    assert 0.0 <= gap <= 1e-8 * max(p0, np.finfo(float).tiny)
    if name == "badly_scaled":
        # b = b' * s_y / s_x maps it to a well-scaled problem
        s_x, s_y = 1e5, 1e-4
        obj_ref = s_y * cvxpy_lad(X / s_x, y / s_y, q, pen / s_x, fit_intercept)[2]
    else:
        obj_ref = cvxpy_lad(X, y, q, pen, fit_intercept)[2]
    assert obj <= obj_ref + 1e-7 * max(p0, 1e-12)
    if np.all(pen > 0) and "zero" in name:
        assert_array_equal(coef[~np.any(_dense(X) != 0, axis=0)], 0.0)


def test_no_features():
    y = np.array([3.0, -1.0, 2.0, 7.0])
    q = np.full(4, 0.25)
    coef, intercept, gap, _, converged = solve(np.zeros((4, 0)), y, q, np.zeros(0), True)
    assert coef.shape == (0,) and converged and gap == pytest.approx(0.0, abs=1e-15)
    assert intercept in (2.0, 3.0)        # a median


def test_invalid_inputs():
    X, y = make_problem(10, 3)
    q = np.full(10, 0.1)
    with pytest.raises(ValueError):
        solve_lad(X, y, q, np.array([0.1, -1.0, 0.1]), True)
    with pytest.raises(ValueError):
        solve_lad(X, y[:5], q, np.full(3, 0.1), True)
    y_nan = y.copy()
    y_nan[0] = np.nan
    with pytest.raises(ValueError):
        solve_lad(X, y_nan, q, np.full(3, 0.1), True)
