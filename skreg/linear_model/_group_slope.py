"""Group SLOPE and Sparse-group SLOPE: estimators and regularisation paths."""


from ..utils._validation import check_bool
from ._base import validate_path_data
from ._group_slope_groups import check_groups, check_l1_ratio
from ._path import screened_path, screened_path_doc
from ._slope import ScreenedSLOPERegressor, check_screening
from ._slope_sequences import check_lambdas


def group_slope_problem(*args, **kwargs):
    """``GroupSLOPEProblem(*args, **kwargs)``.

    The solver modules (numba) are imported here, on the first fit, so that
    ``import skreg`` does not load numba.
    """
    from ._group_slope_screening import GroupSLOPEProblem

    return GroupSLOPEProblem(*args, **kwargs)


def sparse_group_slope_problem(*args, **kwargs):
    """:func:`._group_slope_sparse.sparse_group_slope_problem`, imported on first use."""
    from ._group_slope_sparse import sparse_group_slope_problem as make

    return make(*args, **kwargs)


def _group_slope_problem(X, y, sw, fit_intercept, groups, lambdas, q, screening):
    part = check_groups(groups, X.shape[1])
    lam = check_lambdas(lambdas, part.n_groups, q=q, n_samples=X.shape[0])
    return group_slope_problem(X, y, sw, None, fit_intercept, groups=part, lambdas=lam,
                               screening=check_screening(screening))


class GroupSLOPE(ScreenedSLOPERegressor):
    r"""Group SLOPE: sorted-L1 penalty on the (size-weighted) group norms.

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{2 n} \|y - X b - b_0\|_2^2
        + \alpha \sum_{k=1}^{m} \lambda_k \big(\sqrt{p_g}\, \|b_g\|_2\big)_{(k)},

    where the :math:`m` groups :math:`g` (of :math:`p_g` features) are sorted
    by :math:`\sqrt{p_g}\|b_g\|_2`, largest first, and
    :math:`\lambda_1 \ge \dots \ge \lambda_m \ge 0` (Brzyski, Gossmann, Su and
    Bogdan 2019). Whole groups enter or leave the model, and groups with
    similar effects get equal weighted norms.

    The weighted penalty is :math:`J(Wb)` with :math:`J` the unweighted group
    sorted-L1 norm and :math:`W` the scaling of group :math:`g` by
    :math:`\sqrt{p_g}`; the solver works in :math:`t = Wb`, where the
    proximal operator is exact (sorted-L1 prox of the group norms), with
    FISTA and adaptive restart. With ``screening="strong"`` it fits a small
    working set (the active groups) and adds the groups that violate the
    optimality conditions, using the group strong rule of Feser and
    Evangelou (2024) to tell expected additions from rule failures. It stops when the
    duality gap of the full problem, with dual norm
    :math:`\max_k \sum_{i \le k} (\|c_g\|/\sqrt{p_g})_{(i)} / (\alpha\sum_{i\le k}\lambda_i)`,
    is at most ``tol`` times :math:`\frac{1}{2n}\|y - \bar y\|^2`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, positive.
    groups : int, array-like of shape (n_features,) or list of lists
        The groups: an integer label per feature, a list of lists of feature
        indices covering every feature exactly once, or an int ``g`` for
        contiguous groups of ``g`` features (the last one may be smaller).
    lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_groups,), default="bh"
        The sequence :math:`\lambda` over groups (the sequences of
        :class:`SLOPE` with the number of groups as length; "oscar" with
        :math:`\theta_1 = \theta_2 = 1`), or a non-increasing non-negative
        array.
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences, in (0, 1).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    screening : {"strong", None}, default="strong"
        Group strong rule with KKT checks, or every group in every iteration.
    max_iter : int, default=10000
        Maximum number of FISTA iterations (over all refits).
    tol : float, default=1e-4
        Tolerance on the relative duality gap.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients (in the dtype of ``X``).
    intercept_ : float
        Intercept (0 when ``fit_intercept=False``).
    lambdas_ : ndarray of shape (n_groups,)
        The scaled sequence :math:`\alpha\lambda`.
    dual_gap_ : float
        Duality gap of the solution.
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    group_slope_path : Solutions along a regularisation path.
    GroupSLOPECV : Cross-validated choice of ``alpha``.
    SparseGroupSLOPE : Adds a sorted-L1 penalty on the single coefficients.

    References
    ----------
    Brzyski, Gossmann, Su and Bogdan (2019). Group SLOPE -- adaptive selection
    of groups of predictors. J. Amer. Statist. Assoc. 114(525).

    Feser and Evangelou (2024). Strong screening rules for group-based SLOPE
    models. arXiv:2405.15357.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import GroupSLOPE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 6))
    >>> y = X[:, 0] + X[:, 1] + 0.1 * rng.standard_normal(50)
    >>> model = GroupSLOPE(alpha=0.1, groups=[0, 0, 1, 1, 1, 2]).fit(X, y)
    >>> bool(np.all(model.coef_[2:] == 0)), bool(np.all(model.coef_[:2] != 0))
    (True, True)
    """

    def __init__(self, alpha=1.0, *, groups, lambdas="bh", q=0.1, fit_intercept=True,
                 screening="strong", max_iter=10_000, tol=1e-4, warm_start=False):
        self.alpha = alpha
        self.groups = groups
        self.lambdas = lambdas
        self.q = q
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _make_problem(self, X, y, sw):
        return _group_slope_problem(X, y, sw, self.fit_intercept, self.groups,
                                    self.lambdas, self.q, self.screening)

    def _set_lambdas(self, problem, alpha):
        self.lambdas_ = alpha * problem.lambdas


class SparseGroupSLOPE(ScreenedSLOPERegressor):
    r"""Sparse-group SLOPE: sorted-L1 penalties on coefficients and on groups.

    Minimises, over ``coef_`` :math:`b` and ``intercept_`` :math:`b_0`,

    .. math::

        \frac{1}{2 n} \|y - X b - b_0\|_2^2
        + \alpha \Big[ a \sum_{j=1}^p v_j |b|_{(j)}
        + (1 - a) \sum_{k=1}^{m} w_k \big(\sqrt{p_g}\,\|b_g\|_2\big)_{(k)} \Big],

    with :math:`a` = ``l1_ratio`` (Feser and Evangelou 2023): sparsity both
    between and within groups. ``l1_ratio=1`` is :class:`SLOPE`,
    ``l1_ratio=0`` is :class:`GroupSLOPE`.

    The two penalties have exact proximal operators in different metrics
    (:math:`b` and :math:`t = Wb`), so the solver is the Condat-Vu
    primal-dual method (sorted-L1 prox on :math:`b`, projection onto the
    dual ball of the group term on :math:`Wb`). The stopping rule is the
    relative duality gap; the dual norm of the penalty is an infimal
    convolution, bounded above through an explicit split of the gradient
    (see the user guide), which makes the gap a valid certificate. Group
    screening follows Feser and Evangelou (2024), on the gradient
    soft-thresholded by the sorted-L1 term.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, positive.
    groups : int, array-like of shape (n_features,) or list of lists
        The groups (see :class:`GroupSLOPE`).
    l1_ratio : float, default=0.95
        Share :math:`a` of the variable-level penalty, in [0, 1].
    var_lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_features,), default="bh"
        Sequence :math:`v` over the coefficients.
    group_lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_groups,), default="bh"
        Sequence :math:`w` over the groups.
    q : float, default=0.1
        Level of the "bh" and "gaussian" sequences, in (0, 1).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    screening : {"strong", None}, default="strong"
        Group strong rule with KKT checks, or every group in every iteration.
    max_iter : int, default=10000
        Maximum number of primal-dual iterations (over all refits).
    tol : float, default=1e-4
        Tolerance on the relative duality gap.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients (in the dtype of ``X``).
    intercept_ : float
        Intercept (0 when ``fit_intercept=False``).
    var_lambdas_ : ndarray of shape (n_features,)
        :math:`\alpha a v`, the scaled variable sequence.
    group_lambdas_ : ndarray of shape (n_groups,)
        :math:`\alpha (1 - a) w`, the scaled group sequence.
    lambdas_ : tuple of two ndarrays
        ``(var_lambdas_, group_lambdas_)``.
    dual_gap_ : float
        Upper bound on the duality gap of the solution.
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    sparse_group_slope_path : Solutions along a regularisation path.
    SparseGroupSLOPECV : Cross-validated choice of ``alpha``.

    References
    ----------
    Feser and Evangelou (2023). Sparse-group SLOPE: adaptive bi-level
    selection with FDR-control. arXiv:2305.09467.

    Feser and Evangelou (2024). Strong screening rules for group-based SLOPE
    models. arXiv:2405.15357.

    Condat (2013). A primal-dual splitting method for convex optimization
    involving Lipschitzian, proximable and linear composite terms. JOTA 158.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import SparseGroupSLOPE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 6))
    >>> y = X[:, 0] + 0.1 * rng.standard_normal(50)
    >>> model = SparseGroupSLOPE(alpha=0.1, groups=[0, 0, 1, 1, 1, 2], l1_ratio=0.5).fit(X, y)
    >>> bool(model.coef_[0] > 0.5), bool(np.all(model.coef_[2:] == 0))
    (True, True)
    """

    def __init__(self, alpha=1.0, *, groups, l1_ratio=0.95, var_lambdas="bh",
                 group_lambdas="bh", q=0.1, fit_intercept=True, screening="strong",
                 max_iter=10_000, tol=1e-4, warm_start=False):
        self.alpha = alpha
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.var_lambdas = var_lambdas
        self.group_lambdas = group_lambdas
        self.q = q
        self.fit_intercept = fit_intercept
        self.screening = screening
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _check_params(self):
        super()._check_params()
        check_l1_ratio(self.l1_ratio)

    def _make_problem(self, X, y, sw):
        return sparse_group_slope_problem(
            X, y, sw, None, self.fit_intercept, groups=self.groups, l1_ratio=self.l1_ratio,
            var_lambdas=self.var_lambdas, group_lambdas=self.group_lambdas, q_level=self.q,
            screening=check_screening(self.screening))

    def _set_lambdas(self, problem, alpha):
        a = problem.l1_ratio
        self.var_lambdas_ = alpha * a * problem.var_lambdas
        self.group_lambdas_ = alpha * (1.0 - a) * problem.group_lambdas
        self.lambdas_ = (self.var_lambdas_, self.group_lambdas_)


def group_slope_path(X, y, *, groups, lambdas="bh", q=0.1, alphas=None, eps=1e-3,
                     fit_intercept=False, sample_weight=None, screening="strong",
                     tol=1e-4, max_iter=10_000, coef_init=None):
    r"""Group SLOPE solutions along a decreasing grid of ``alpha``, with strong screening.

    Solves the :class:`GroupSLOPE` problem at each ``alpha``, warm-started
    from the previous solution. The grid starts at the exact
    :math:`\alpha_{max} = \max_k \sum_{i\le k} (\|c_g\|/\sqrt{p_g})_{(i)} / \sum_{i \le k}\lambda_i`
    with :math:`c = X_c^\top y_c / n` (every coefficient is zero there).
    Each step fits the groups kept by the group strong rule (Feser and
    Evangelou 2024) and adds the groups violating the optimality conditions
    of the full problem; every solve stops on the duality gap of the full
    problem, so the path does not depend on ``screening``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    groups : int, array-like of shape (n_features,) or list of lists
        The groups (see :class:`GroupSLOPE`).
    lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_groups,), default="bh"
    q : float, default=0.1
    __PATH_DOC__

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import group_slope_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 8))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(30)
    >>> alphas, coefs, gaps, info = group_slope_path(X, y, groups=2, alphas=5)
    >>> coefs.shape, bool((coefs[:, 0] == 0).all())
    ((8, 5), True)
    >>> sorted(info)
    ['intercepts', 'n_iter', 'n_refits', 'n_screened', 'n_violations']
    """
    X, y, sw = validate_path_data(X, y, sample_weight)
    problem = _group_slope_problem(X, y, sw, check_bool(fit_intercept, "fit_intercept"),
                                   groups, lambdas, q, screening)
    return screened_path(problem, alphas, eps, tol, max_iter, coef_init)


def sparse_group_slope_path(X, y, *, groups, l1_ratio=0.95, var_lambdas="bh",
                            group_lambdas="bh", q=0.1, alphas=None, eps=1e-3,
                            fit_intercept=False, sample_weight=None, screening="strong",
                            tol=1e-4, max_iter=10_000, coef_init=None):
    r"""Sparse-group SLOPE solutions along a decreasing grid of ``alpha``.

    Solves the :class:`SparseGroupSLOPE` problem at each ``alpha``,
    warm-started from the previous solution, with the group strong rule of
    Feser and Evangelou (2024) applied to the gradient soft-thresholded by
    the sorted-L1 term, and KKT checks on every group. The grid starts at
    ``alpha_max``, the smallest alpha at which the soft-thresholded split of
    the gradient certifies that zero is optimal (found by bisection).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    groups : int, array-like of shape (n_features,) or list of lists
        The groups (see :class:`GroupSLOPE`).
    l1_ratio : float, default=0.95
    var_lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_features,), default="bh"
    group_lambdas : {"bh", "gaussian", "oscar"} or array-like of shape (n_groups,), default="bh"
    q : float, default=0.1
    __PATH_DOC__

    Examples
    --------
    >>> import numpy as np
    >>> from skreg import sparse_group_slope_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 8))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(30)
    >>> alphas, coefs, gaps, info = sparse_group_slope_path(X, y, groups=2, alphas=5)
    >>> coefs.shape, bool((coefs[:, 0] == 0).all())
    ((8, 5), True)
    """
    X, y, sw = validate_path_data(X, y, sample_weight)
    problem = sparse_group_slope_problem(
        X, y, sw, None, check_bool(fit_intercept, "fit_intercept"), groups=groups,
        l1_ratio=l1_ratio, var_lambdas=var_lambdas, group_lambdas=group_lambdas, q_level=q,
        screening=check_screening(screening))
    return screened_path(problem, alphas, eps, tol, max_iter, coef_init)


for _f in (group_slope_path, sparse_group_slope_path):
    _f.__doc__ = _f.__doc__.replace("__PATH_DOC__", screened_path_doc("group", "groups"))
