"""Group SLOPE solvers on sparse X: the CSC operator against the dense block."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skreg import group_slope_path, sparse_group_slope_path
from skreg.linear_model._group_slope_groups import check_groups
from skreg.linear_model._group_slope_solver import (
    _matvec,
    _rmatvec,
    dense_operator,
    fista_group_slope,
    lipschitz_constant,
    pd_sparse_group_slope,
    sparse_lipschitz,
    sparse_operator,
)


def _operators(n, m, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, m, density=0.3, format="csc", random_state=seed,
                  data_rvs=rng.standard_normal, dtype=dtype)
    mean = rng.standard_normal(m)
    sq = rng.uniform(0.5, 1.5, n)
    scale = rng.uniform(0.3, 1.0, m)
    A = np.asfortranarray(sq[:, None] * (X.toarray().astype(np.float64) - mean) * scale)
    return X, sparse_operator(X, mean, sq, scale), dense_operator(A), A, scale


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [12, 70], ids=["m<n", "m>n"])
def test_sparse_operator_matches_dense_block(dtype, m):
    n = 30
    X, op_s, op_d, A, scale = _operators(n, m, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(m)
    x[::3] = 0.0
    r = rng.standard_normal(n)
    work = np.empty(n)
    out_s, out_d = np.empty(n), np.empty(n)
    _matvec(op_s, x, out_s)
    _matvec(op_d, x, out_d)
    assert_allclose(out_s, A @ x, rtol=1e-10, atol=1e-12)
    assert_allclose(out_d, A @ x, rtol=1e-10, atol=1e-12)
    g_s, g_d = np.empty(m), np.empty(m)
    _rmatvec(op_s, r, g_s, work)
    _rmatvec(op_d, r, g_d, work)
    assert_allclose(g_s, A.T @ r, rtol=1e-10, atol=1e-12)
    assert_allclose(g_d, A.T @ r, rtol=1e-10, atol=1e-12)
    assert_allclose(sparse_lipschitz(op_s, X, scale), lipschitz_constant(A), rtol=1e-10)


def test_solvers_agree_on_sparse_and_dense_operators():
    n, m = 30, 70
    _, op_s, op_d, A, _ = _operators(n, m, np.float64, seed=2)
    rng = np.random.default_rng(3)
    y = A[:, :5] @ rng.standard_normal(5) + 0.1 * rng.standard_normal(n)
    part = check_groups(np.sort(np.arange(m) % 14), m)
    lips = lipschitz_constant(A)
    lam = 0.2 * np.linspace(1.0, 0.3, part.n_groups)
    xs, xd = np.zeros(m), np.zeros(m)
    _it_s, gap_s = fista_group_slope(op_s, y, xs, lam, part.order, part.starts, lips,
                                    1e-10, 100_000)
    _it_d, gap_d = fista_group_slope(op_d, y, xd, lam, part.order, part.starts, lips,
                                    1e-10, 100_000)
    assert gap_s <= 1e-10 and gap_d <= 1e-10
    assert np.any(xs != 0)
    assert_allclose(xs, xd, atol=1e-6)
    v = 0.1 * np.linspace(1.0, 0.2, m)
    wfeat = part.feature_weights().copy()
    bs, bd, us, ud = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
    _, gap_s = pd_sparse_group_slope(op_s, y, bs, us, v, lam, wfeat, part.order,
                                     part.starts, lips, 1e-10, 1_000_000)
    _, gap_d = pd_sparse_group_slope(op_d, y, bd, ud, v, lam, wfeat, part.order,
                                     part.starts, lips, 1e-10, 1_000_000)
    assert gap_s <= 1e-10 and gap_d <= 1e-10
    assert np.any(bs != 0)
    assert_allclose(bs, bd, atol=1e-6)


@pytest.mark.parametrize("path, extra", [(group_slope_path, {}),
                                         (sparse_group_slope_path, {"l1_ratio": 0.5})],
                         ids=["group", "sparse_group"])
def test_sparse_path_equals_dense_path(path, extra):
    # p >> n: the restricted problems (m > n) and the full one run on the CSC
    # columns; the dense input runs on dense blocks.
    rng = np.random.default_rng(4)
    n, p = 40, 200
    X = sp.random(n, p, density=0.2, format="csc", random_state=4,
                  data_rvs=rng.standard_normal)
    labels = np.sort(rng.integers(0, 40, p))
    y = X[:, :10] @ rng.standard_normal(10) + 0.3 * rng.standard_normal(n)
    kw = dict(groups=labels, alphas=10, eps=0.05, fit_intercept=True, tol=1e-12,
              max_iter=1_000_000, sample_weight=rng.uniform(0.5, 2.0, n), **extra)
    for screening in ("strong", None):
        with warnings.catch_warnings():
            # Regression: a screened step used to exhaust max_iter here (its
            # sub-problem tolerance was divided past reach).
            warnings.simplefilter("error", ConvergenceWarning)
            _, c_sp, _, _ = path(X, y, screening=screening, **kw)
            _, c_d, _, _ = path(X.toarray(), y, screening=screening, **kw)
        assert np.count_nonzero(c_sp[:, -1]) > n  # restricted problems with m > n
        assert_allclose(c_sp, c_d, atol=1e-6)


def test_fista_gap_recursion_matches_the_exact_gap():
    # The solver tracks the gradient at its iterate through the affine
    # recursion; the gap it returns must be the gap at the returned point.
    from skreg.linear_model._group_slope_prox import group_dual_ratio, group_penalty

    n, m = 30, 70
    _, op_s, _, A, _ = _operators(n, m, np.float64, seed=4)
    rng = np.random.default_rng(5)
    y = A[:, :6] @ rng.standard_normal(6) + 0.1 * rng.standard_normal(n)
    part = check_groups(np.sort(np.arange(m) % 14), m)
    lam = 0.1 * np.linspace(1.0, 0.3, part.n_groups)
    for max_iter, tol in ((7, 1e-30), (100_000, 1e-9)):
        x = np.zeros(m)
        it, gap = fista_group_slope(op_s, y, x, lam, part.order, part.starts,
                                    lipschitz_constant(A), tol, max_iter)
        r = y - A @ x
        primal = 0.5 * r @ r + group_penalty(x, lam, part.order, part.starts)
        s = max(1.0, group_dual_ratio(A.T @ r, lam, part.order, part.starts))
        dual = 0.5 * (y @ y - np.sum((y - r / s) ** 2))
        assert_allclose(gap, max(primal - dual, 0.0), rtol=1e-8, atol=1e-14)
        assert it <= max_iter
    assert gap <= 1e-9 and np.any(x != 0)


def test_restrict_matches_the_partition_of_the_groups():
    from skreg.linear_model._group_slope_groups import GroupPartition

    rng = np.random.default_rng(0)
    for _ in range(50):
        p = int(rng.integers(1, 40))
        part = check_groups(rng.integers(0, int(rng.integers(1, 8)), p), p)
        groups = rng.choice(part.n_groups, int(rng.integers(1, part.n_groups + 1)),
                            replace=False)
        sub, idx = part.restrict(groups)
        members = [part.order[part.starts[g]:part.starts[g + 1]] for g in groups]
        ref_idx = np.sort(np.concatenate(members))
        position = np.empty(p, dtype=np.int64)
        position[ref_idx] = np.arange(ref_idx.size)
        ref = GroupPartition([position[mem] for mem in members])
        assert np.array_equal(idx, ref_idx)
        assert np.array_equal(part.features(groups), ref_idx)
        for name in ("order", "starts", "sizes", "weights", "group_of"):
            assert np.array_equal(getattr(sub, name), getattr(ref, name))
        assert np.array_equal(sub.feature_weights(), ref.feature_weights())
